/**
 * The acceptance test program: one resource, chosen by `acc:kind`, written the way a user's infra repo writes it, with
 * the settings the scenarios change one at a time in stack config. Credentials come from the stack config
 * (infisical:* / unleash:*) that the suite sets.
 */
import * as pulumi from "@pulumi/pulumi";
import { IdentityOidcAuth, OidcSsoConfig, UnleashOidcSettings } from "pulumi-oidc-settings";

const config = new pulumi.Config("acc");
const kind = config.require("kind");
const issuerUrl = config.require("issuerUrl");
const discoveryUrl = `${issuerUrl}/.well-known/openid-configuration`;

if (kind === "identity") {
    const auth = new IdentityOidcAuth("identity", {
        identityId: config.require("identityId"),
        oidcDiscoveryUrl: issuerUrl,
        boundIssuer: issuerUrl,
        boundAudiences: config.get("audiences") ?? "pulumi-oidc-acceptance",
        boundSubject: config.get("subject") ?? "repo:acceptance/infra:ref:refs/heads/main",
        boundClaims: config.getObject<Record<string, string>>("boundClaims") ?? { repository: "acceptance/infra" },
        claimMetadataMapping: config.getObject<Record<string, string>>("claimMetadataMapping"),
        accessTokenTrustedIps: config.getObject<string[]>("trustedIps"),
        caCert: config.get("caCert"),
        accessTokenTTL: config.getNumber("ttl") ?? 3600,
        accessTokenMaxTTL: config.getNumber("maxTtl") ?? 7200,
    });
    exports.identityId = auth.identityId;
    exports.accessTokenTTL = auth.accessTokenTTL;
    exports.boundSubject = auth.boundSubject;
    exports.unsupportedSettings = auth.unsupportedSettings;
} else if (kind === "sso") {
    const sso = new OidcSsoConfig("sso", {
        organizationId: config.require("organizationId"),
        configurationType: "discoveryURL",
        discoveryURL: discoveryUrl,
        clientId: config.get("clientId") ?? "pulumi-oidc-acceptance",
        clientSecret: config.requireSecret("clientSecret"),
        allowedEmailDomains: config.get("emailDomains") ?? "example.com",
        isActive: config.getBoolean("active") ?? false,
        adoptExisting: config.getBoolean("adopt") ?? false,
    });
    exports.configId = sso.configId;
    exports.isActive = sso.isActive;
} else if (kind === "unleash") {
    const unleash = new UnleashOidcSettings("unleash", {
        enabled: true,
        discoverUrl: config.get("discoverUrl") ?? discoveryUrl,
        clientId: config.get("clientId") ?? "pulumi-oidc-acceptance",
        secret: config.requireSecret("secret"),
        autoCreate: true,
        defaultRootRole: (config.get("role") ?? "Viewer") as "Viewer" | "Editor" | "Admin",
        emailDomains: config.get("emailDomains") ?? "example.com",
        adoptExisting: config.getBoolean("adopt") ?? false,
    });
    exports.enabled = unleash.enabled;
    exports.clientId = unleash.clientId;
} else {
    throw new Error(`acc:kind must be identity, sso or unleash (got ${kind})`);
}
