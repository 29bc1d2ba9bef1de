/**
 * The end-to-end test program: the three resources, driven by stack config so that the tests can change one thing
 * at a time (a secret, an identity, an organization, invalid input, adoption, a static get).
 */
import * as pulumi from "@pulumi/pulumi";
import { IdentityOidcAuth, OidcSsoConfig, UnleashOidcSettings } from "pulumi-oidc-settings";

const config = new pulumi.Config("e2e");
const issuerUrl = config.require("issuerUrl");

// The SSO config may target another organization, with that organization's own credentials.
const ssoOrgToken = config.getSecret("ssoOrgToken");
const sso = new OidcSsoConfig("sso", {
    organizationId: config.require("organizationId"),
    configurationType: "discoveryURL",
    discoveryURL: `${issuerUrl}/.well-known/openid-configuration`,
    clientId: "infisical-e2e",
    clientSecret: config.requireSecret("ssoClientSecret"),
    allowedEmailDomains: "example.com, Example.org",
    jwtSignatureAlgorithm: "RS256",
    adoptExisting: config.getBoolean("adoptSso") ?? false,
    ...(ssoOrgToken ? { connection: { token: ssoOrgToken } } : {}),
});

const identityAuth = new IdentityOidcAuth("ci-identity", {
    identityId: config.require("identityId"),
    oidcDiscoveryUrl: issuerUrl,
    boundIssuer: issuerUrl,
    boundAudiences: ["https://github.com/example-org", "sts.example.com"],
    boundSubject: "repo:example-org/infra:ref:refs/heads/main",
    boundClaims: { repository: "example-org/infra" },
    accessTokenTrustedIps: ["10.0.0.0/8", { ipAddress: "192.168.1.1" }],
    accessTokenTTL: config.getNumber("accessTokenTTL") ?? 3600,
    accessTokenMaxTTL: 7200,
});

const unleash = new UnleashOidcSettings("unleash", {
    enabled: true,
    discoverUrl: `${issuerUrl}/.well-known/openid-configuration`,
    clientId: "unleash-e2e",
    secret: config.requireSecret("unleashSecret"),
    autoCreate: true,
    defaultRootRole: "Viewer",
    emailDomains: ["example.com", "example.org"],
    enablePkce: true,
    adoptExisting: true,
});

// A static get of an existing identity OIDC auth, when the test names one.
const existingId = config.get("existingIdentityAuthId");
const existing = existingId ? IdentityOidcAuth.get("existing", existingId) : undefined;

export const ssoConfigId = sso.configId;
export const ssoOrganizationId = sso.organizationId;
export const ssoAllowedEmailDomains = sso.allowedEmailDomains;
export const ssoIsActive = sso.isActive;
export const ssoClientSecret = sso.clientSecret;
export const identityId = identityAuth.identityId;
export const identityBoundAudiences = identityAuth.boundAudiences;
export const identityTrustedIps = identityAuth.accessTokenTrustedIps;
export const identityAccessTokenTTL = identityAuth.accessTokenTTL;
export const unleashEnabled = unleash.enabled;
export const unleashEmailDomains = unleash.emailDomains;
export const unleashSecret = unleash.secret;
export const existingBoundSubject = existing?.boundSubject;
