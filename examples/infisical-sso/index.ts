/**
 * OIDC single sign-on for one Infisical organization.
 *
 * An organization has exactly one SSO configuration, so one stack manages one organization. The stack config
 * `configurationType` picks how Infisical finds the identity provider's endpoints:
 *   - "discoveryURL" (default): from the provider's discovery document (Okta, Entra ID, Google, Keycloak, ...);
 *   - "custom": issuer and every endpoint given explicitly (a provider without a reachable discovery document).
 * See Pulumi.okta.yaml.example and Pulumi.entra-custom.yaml.example for one stack of each kind.
 *
 * Connection: `infisical:host` and `infisical:clientId`/`infisical:clientSecret` (or `infisical:token`) in the stack
 * config; set the credentials with `pulumi config set --secret`.
 */
import * as pulumi from "@pulumi/pulumi";
import { OidcSsoConfig, type OidcSsoConfigArgs } from "pulumi-oidc-settings";

const config = new pulumi.Config();
const configurationType = config.get("configurationType") ?? "discoveryURL";
if (configurationType !== "discoveryURL" && configurationType !== "custom") {
    throw new pulumi.RunError(`infisical-sso:configurationType must be "discoveryURL" or "custom", not "${configurationType}"`);
}

// Where Infisical finds the identity provider: one discovery URL, or the issuer and every endpoint.
const endpoints: Partial<OidcSsoConfigArgs> =
    configurationType === "discoveryURL"
        ? { discoveryURL: config.require("discoveryUrl") }
        : {
              issuer: config.require("issuer"),
              authorizationEndpoint: config.require("authorizationEndpoint"),
              tokenEndpoint: config.require("tokenEndpoint"),
              userinfoEndpoint: config.require("userinfoEndpoint"),
              jwksUri: config.require("jwksUri"),
          };

const sso = new OidcSsoConfig("org-sso", {
    organizationId: config.require("organizationId"),
    configurationType,
    ...endpoints,
    clientId: config.require("clientId"),
    // Stored encrypted; Infisical returns it, so a change made in the console shows (masked) in `pulumi refresh`.
    clientSecret: config.requireSecret("clientSecret"),
    // "example.com, example.org"; empty lets any verified email of the identity provider sign in.
    allowedEmailDomains: config.get("allowedEmailDomains") ?? "",
    manageGroupMemberships: config.getBoolean("manageGroupMemberships") ?? false,
    jwtSignatureAlgorithm: "RS256",
    isActive: config.getBoolean("isActive") ?? true,
    // The organization may already have an active SSO configuration (set up in the console, or by another stack).
    // Creating over it fails unless this is true, in which case Pulumi takes it over and applies these settings.
    adoptExisting: config.getBoolean("adoptExisting") ?? false,
    // At preview, fetch the discovery document (or, for "custom", the JWKS) and check the issuer and signing keys.
    verifyDiscovery: config.getBoolean("verifyDiscovery") ?? true,
});

export const organizationId = sso.organizationId;
export const configId = sso.configId;
export const ssoConfigurationType = sso.configurationType;
export const isActive = sso.isActive;
export const allowedEmailDomains = sso.allowedEmailDomains;
/** Register this as the sign-in redirect URI of the application at the identity provider. */
export const redirectUri = pulumi.interpolate`${sso.targetUrl}/api/v1/sso/oidc/callback`;
/** A secret output: `pulumi stack output` shows [secret]. */
export const clientSecret = sso.clientSecret;
