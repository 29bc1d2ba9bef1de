/**
 * Run by the infra repository's GitHub Actions workflow (.github/workflows/infra.yml): it gives each application
 * repository's CI its own Infisical login (OIDC auth of the app's machine identity), and it logs in to Infisical
 * itself the same way, with the job's GitHub OIDC token: no Infisical secret is stored in GitHub.
 *
 * The login: `auth: "oidc"` here; the workflow gives the pipeline identity's id (INFISICAL_MACHINE_IDENTITY_ID), the
 * audience (INFISICAL_OIDC_AUTH_AUDIENCE) and the host (INFISICAL_HOST); the provider asks GitHub for the token.
 */
import * as pulumi from "@pulumi/pulumi";
import { IdentityOidcAuth } from "pulumi-oidc-settings";

const GITHUB_ISSUER = "https://token.actions.githubusercontent.com";

const config = new pulumi.Config();
const owner = config.require("githubOwner"); // e.g. "example-org"
const apps = config.requireObject<Array<{ repository: string; identityId: string }>>("apps"); // [{ repository: "shop", identityId: "…" }]

export const appLogins = apps.map(({ repository, identityId }) => {
    const auth = new IdentityOidcAuth(`ci-${repository}`, {
        identityId,
        oidcDiscoveryUrl: GITHUB_ISSUER,
        boundIssuer: GITHUB_ISSUER,
        boundAudiences: [`https://github.com/${owner}`],
        boundSubject: `repo:${owner}/${repository}:ref:refs/heads/main`,
        boundClaims: { repository: `${owner}/${repository}`, ref: "refs/heads/main" },
        accessTokenTTL: 900,
        accessTokenMaxTTL: 3600,
        // This pipeline's own login: OIDC with the job's token (see the workflow for the identity and audience).
        connection: { auth: "oidc" },
    });
    return { repository, identityId: auth.identityId };
});
