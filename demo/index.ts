/**
 * The demo stack (`npm run demo`): one of each resource, against the reference backend.
 * Connection settings come from the stack config that scripts/demo.sh writes (infisical:*, unleash:*).
 */
import * as pulumi from "@pulumi/pulumi";
import { IdentityOidcAuth, OidcSsoConfig, UnleashOidcSettings } from "pulumi-oidc-settings";

const config = new pulumi.Config("demo");
// The reference backend's built-in OIDC issuer stands in for Okta, Entra ID or GitHub Actions.
const issuer = config.require("issuerUrl");
const discovery = `${issuer}/.well-known/openid-configuration`;

const sso = new OidcSsoConfig("org-sso", {
    organizationId: config.require("organizationId"),
    configurationType: "discoveryURL",
    discoveryURL: discovery,
    clientId: "infisical-web",
    clientSecret: config.requireSecret("ssoClientSecret"),
    allowedEmailDomains: ["example.com"],
    manageGroupMemberships: true,
    // The org may already have SSO set up (e.g. from an earlier run of the demo with a fresh state): take it over.
    adoptExisting: true,
    verifyDiscovery: true,
});

// The CI pipeline's machine identity logs in with OIDC from now on: `npm run demo` ends with an oidc-drift run that
// does so, with a token of the issuer standing in for a GitHub Actions job of example-org/infra on main.
const ci = new IdentityOidcAuth("ci-login", {
    identityId: config.require("identityId"),
    oidcDiscoveryUrl: issuer,
    boundIssuer: issuer,
    boundAudiences: ["https://github.com/example-org"],
    boundSubject: "repo:example-org/infra:ref:refs/heads/main",
    boundClaims: { repository: "example-org/infra", ref: "refs/heads/*" },
    accessTokenTrustedIps: ["0.0.0.0/0"],
    accessTokenTTL: 3600,
    accessTokenMaxTTL: 7200,
});

const unleash = new UnleashOidcSettings("unleash-login", {
    enabled: true,
    discoverUrl: discovery,
    clientId: "unleash-web",
    secret: config.requireSecret("unleashClientSecret"),
    autoCreate: true,
    defaultRootRole: "Viewer",
    emailDomains: ["example.com"],
    enablePkce: true,
    adoptExisting: true,
});

export const ssoConfigId = sso.configId;
export const ssoAllowedEmailDomains = sso.allowedEmailDomains;
export const ssoClientSecret = sso.clientSecret; // a secret output: shown as [secret]
export const ciIdentityId = ci.identityId;
export const ciBoundSubject = ci.boundSubject;
export const unleashEnabled = unleash.enabled;
export const unleashAutoCreate = unleash.autoCreate;
export const unleashDefaultRootRole = unleash.defaultRootRole;
export const unleashSecret = unleash.secret; // a secret output: shown as [secret]
