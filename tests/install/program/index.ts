/**
 * A user's program, run in a Pulumi project outside the repository where the package was installed from its tarball
 * next to the project's own @pulumi/pulumi (the oldest of the peer range). Settings come from the project config.
 */
import * as pulumi from "@pulumi/pulumi";
import { IdentityOidcAuth, OidcSsoConfig, UnleashOidcSettings } from "pulumi-oidc-settings";

const config = new pulumi.Config();
const issuerUrl = config.require("issuerUrl");
const discovery = `${issuerUrl}/.well-known/openid-configuration`;

const sso = new OidcSsoConfig("sso", {
    organizationId: config.require("organizationId"),
    configurationType: "discoveryURL",
    discoveryURL: discovery,
    clientId: "infisical-web",
    clientSecret: config.requireSecret("ssoClientSecret"),
    allowedEmailDomains: ["example.com"],
});

const ci = new IdentityOidcAuth("github-actions", {
    identityId: config.require("identityId"),
    oidcDiscoveryUrl: issuerUrl,
    boundIssuer: issuerUrl,
    boundAudiences: ["https://github.com/example-org"],
    boundSubject: "repo:example-org/infra:ref:refs/heads/main",
    accessTokenTTL: config.getNumber("accessTokenTTL") ?? 3600,
    accessTokenMaxTTL: 7200,
});

const unleash = new UnleashOidcSettings("unleash", {
    enabled: true,
    discoverUrl: discovery,
    clientId: "unleash-web",
    secret: config.requireSecret("unleashSecret"),
    autoCreate: true,
    defaultRootRole: "Viewer",
    emailDomains: ["example.com"],
    adoptExisting: true,
});

export const ssoConfigId = sso.configId;
export const ssoAllowedEmailDomains = sso.allowedEmailDomains;
export const ciAccessTokenTTL = ci.accessTokenTTL;
export const unleashEnabled = unleash.enabled;
export const unleashSecret = unleash.secret;
