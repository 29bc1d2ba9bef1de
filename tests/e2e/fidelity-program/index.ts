/**
 * The program of tests/e2e/fidelity.test.ts: each resource exists only when the stack config names its target, so
 * that the stacks of the suite can hold different subsets and change one thing at a time.
 */
import * as pulumi from "@pulumi/pulumi";
import { IdentityOidcAuth, OidcSsoConfig, UnleashOidcSettings } from "pulumi-oidc-settings";

const config = new pulumi.Config("fid");
const issuerUrl = config.require("issuerUrl");
// Moving to a server with other ids replaces the objects; retaining them leaves the old server's objects alone.
const opts: pulumi.CustomResourceOptions = { retainOnDelete: config.getBoolean("retainOnDelete") ?? false };

const ssoOrganizationId = config.get("ssoOrganizationId");
const sso = ssoOrganizationId
    ? new OidcSsoConfig(
          "sso",
          {
              organizationId: ssoOrganizationId,
              configurationType: "discoveryURL",
              discoveryURL: `${issuerUrl}/.well-known/openid-configuration`,
              clientId: "infisical-fidelity",
              clientSecret: config.requireSecret("ssoClientSecret"),
              allowedEmailDomains: config.get("ssoAllowedEmailDomains") ?? "example.com",
          },
          opts,
      )
    : undefined;

// SSO in an organization whose plan lacks OIDC SSO, with that organization's own token.
const restrictedOrganizationId = config.get("restrictedOrganizationId");
if (restrictedOrganizationId) {
    new OidcSsoConfig("restricted-sso", {
        organizationId: restrictedOrganizationId,
        configurationType: "discoveryURL",
        discoveryURL: `${issuerUrl}/.well-known/openid-configuration`,
        clientId: "infisical-restricted",
        clientSecret: config.requireSecret("ssoClientSecret"),
        connection: { token: config.requireSecret("restrictedOrganizationToken") },
    });
}

const identityId = config.get("identityId");
const identity = identityId
    ? new IdentityOidcAuth(
          "ci-identity",
          {
              identityId,
              oidcDiscoveryUrl: issuerUrl,
              boundIssuer: config.require("boundIssuer"),
              boundAudiences: ["fidelity-audience"],
              boundSubject: "repo:example-org/infra:ref:refs/heads/main",
              accessTokenTTL: 3600,
              accessTokenMaxTTL: 7200,
          },
          opts,
      )
    : undefined;

// Only what Unleash needs to log in: every other setting is left to its default or to the instance.
const unleash = config.getBoolean("unleash")
    ? new UnleashOidcSettings(
          "unleash",
          {
              clientId: "unleash-fidelity",
              secret: config.requireSecret("unleashSecret"),
              discoverUrl: `${issuerUrl}/.well-known/openid-configuration`,
              ...(config.get("unleashDefaultRootRole") ? { defaultRootRole: config.get("unleashDefaultRootRole") as "Admin" | "Editor" | "Viewer" } : {}),
          },
          opts,
      )
    : undefined;

// Another Unleash instance, reached through the resource's own connection, whose settings are already in use.
const legacyUnleashUrl = config.get("legacyUnleashUrl");
if (legacyUnleashUrl) {
    new UnleashOidcSettings("legacy-unleash", {
        clientId: "unleash-legacy",
        secret: config.requireSecret("legacyUnleashSecret"),
        discoverUrl: `${issuerUrl}/.well-known/openid-configuration`,
        ...(config.get("legacyGroupJsonPath") ? { enableGroupSyncing: true, groupJsonPath: config.get("legacyGroupJsonPath") } : {}),
        adoptExisting: true,
        connection: { url: legacyUnleashUrl, apiToken: config.requireSecret("legacyUnleashToken") },
    });
}

export const ssoConfigId = sso?.configId;
export const ssoAllowedEmailDomains = sso?.allowedEmailDomains;
export const ssoTargetUrl = sso?.targetUrl;
export const identityBoundIssuer = identity?.boundIssuer;
export const identityTargetUrl = identity?.targetUrl;
export const unleashDefaultRootRole = unleash?.defaultRootRole;
export const unleashExtraScopes = unleash?.extraScopes;
export const unleashTargetUrl = unleash?.targetUrl;
