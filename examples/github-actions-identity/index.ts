/**
 * Lets GitHub Actions workflows of one repository's branch log in to Infisical as a machine identity, with the
 * short-lived OIDC token GitHub issues to each job: no long-lived Infisical secret stored in GitHub.
 *
 * Connection: `infisical:host` and `infisical:clientId`/`infisical:clientSecret` (or `infisical:token`) in the stack
 * config; set the credentials with `pulumi config set --secret`.
 */
import * as pulumi from "@pulumi/pulumi";
import { IdentityOidcAuth } from "pulumi-oidc-settings";

const GITHUB_ISSUER = "https://token.actions.githubusercontent.com";

const config = new pulumi.Config();
const owner = config.require("githubOwner"); // organization or user, e.g. "example-org"
const repository = `${owner}/${config.require("githubRepository")}`; // e.g. "example-org/infra"
const branch = config.get("branch") ?? "main";
// GitHub's default `aud` is the URL of the repository owner; a workflow may ask for another with `audience=`.
const audience = config.get("audience") ?? `https://github.com/${owner}`;

const ciLogin = new IdentityOidcAuth("github-actions", {
    identityId: config.require("identityId"),
    // Infisical reads <url>/.well-known/openid-configuration and the JWKS it points to.
    oidcDiscoveryUrl: GITHUB_ISSUER,
    boundIssuer: GITHUB_ISSUER,
    boundAudiences: [audience],
    // `sub` of a job on a branch push; jobs that use a GitHub environment get "repo:<owner>/<repo>:environment:<name>".
    boundSubject: config.get("boundSubject") ?? `repo:${repository}:ref:refs/heads/${branch}`,
    // Every listed claim must match; values may be globs, e.g. { ref: "refs/heads/release/*" }.
    boundClaims: {
        repository,
        ref: `refs/heads/${branch}`,
    },
    // Where the Infisical access tokens may be used from. GitHub-hosted runners have no fixed addresses, so the
    // default is anywhere; with self-hosted runners, list their egress ranges (e.g. ["203.0.113.0/24"]).
    accessTokenTrustedIps: config.getObject<string[]>("trustedIps") ?? ["0.0.0.0/0", "::/0"],
    // A job needs minutes, not the 30-day default.
    accessTokenTTL: config.getNumber("accessTokenTTL") ?? 900,
    accessTokenMaxTTL: config.getNumber("accessTokenMaxTTL") ?? 3600,
    accessTokenNumUsesLimit: 0,
    // At preview, check that GitHub's discovery document announces this issuer and that its JWKS has keys.
    verifyDiscovery: config.getBoolean("verifyDiscovery") ?? true,
    // The identity may already have OIDC auth attached (e.g. set up by hand): take it over instead of failing.
    adoptExisting: config.getBoolean("adoptExisting") ?? false,
});

/** Put this in the workflow (e.g. as the repository variable INFISICAL_IDENTITY_ID). */
export const identityId = ciLogin.identityId;
export const identityOidcAuthId = ciLogin.identityOidcAuthId;
/** The audience the workflow must request its token for. */
export const tokenAudience = audience;
export const boundSubject = ciLogin.boundSubject;
export const boundClaims = ciLogin.boundClaims;
export const trustedIps = ciLogin.accessTokenTrustedIps;
export const accessTokenTTL = ciLogin.accessTokenTTL;
/** Where the workflow exchanges its GitHub token for an Infisical access token. */
export const loginUrl = pulumi.interpolate`${ciLogin.targetUrl}/api/v1/auth/oidc-auth/login`;
