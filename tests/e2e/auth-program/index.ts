/**
 * The login tests' program: N machine identities' OIDC auth and, optionally, one organization's OIDC SSO config (e.g.
 * a sub-organization's, reached by a login scoped to it) and one Unleash instance's OIDC settings.
 * Nothing here says how to reach the servers: the stack config (`infisical:*`, `unleash:*`) and the environment of
 * the run do, as in a pipeline.
 */
import * as pulumi from "@pulumi/pulumi";
import { IdentityOidcAuth, OidcSsoConfig, UnleashOidcSettings } from "pulumi-oidc-settings";

const config = new pulumi.Config("e2e");
const issuerUrl = config.require("issuerUrl");
const identityIds = config.requireObject<string[]>("identityIds");

export const identities = identityIds.map(
    (identityId, i) =>
        new IdentityOidcAuth(`ci-${i}`, {
            identityId,
            oidcDiscoveryUrl: issuerUrl,
            boundIssuer: issuerUrl,
            boundAudiences: ["sts.example.com"],
            boundSubject: "repo:example-org/infra:ref:refs/heads/main",
            boundClaims: { repository: "example-org/infra" },
            accessTokenTTL: config.getNumber("accessTokenTTL") ?? 3600,
            accessTokenMaxTTL: 7200,
        }).identityId,
);

if (config.getBoolean("withUnleash")) {
    new UnleashOidcSettings("unleash", {
        enabled: true,
        discoverUrl: `${issuerUrl}/.well-known/openid-configuration`,
        clientId: "unleash-e2e-auth",
        secret: config.requireSecret("unleashSecret"),
        defaultRootRole: "Viewer",
        emailDomains: ["example.com"],
        adoptExisting: true,
    });
}

const ssoOrganizationId = config.get("ssoOrganizationId");
if (ssoOrganizationId) {
    new OidcSsoConfig("sso", {
        organizationId: ssoOrganizationId,
        configurationType: "discoveryURL",
        discoveryURL: `${issuerUrl}/.well-known/openid-configuration`,
        clientId: "infisical-e2e-auth",
        clientSecret: config.requireSecret("ssoClientSecret"),
        allowedEmailDomains: config.get("ssoEmailDomains") ?? "example.com",
        jwtSignatureAlgorithm: "RS256",
    });
}
