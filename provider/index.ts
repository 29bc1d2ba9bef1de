/**
 * pulumi-oidc-settings: the OIDC settings of Infisical and Unleash as Pulumi resources.
 *
 * ```ts
 * import { OidcSsoConfig, IdentityOidcAuth, UnleashOidcSettings } from "pulumi-oidc-settings";
 *
 * new OidcSsoConfig("sso", {
 *     organizationId: "…",
 *     configurationType: "discoveryURL",
 *     discoveryURL: "https://login.example.com/.well-known/openid-configuration",
 *     clientId: "infisical",
 *     clientSecret: config.requireSecret("ssoClientSecret"),
 *     allowedEmailDomains: ["example.com"],
 * });
 * ```
 *
 * Credentials come from each resource's `connection`, else the stack config (`infisical:host`, `infisical:token`,
 * `infisical:clientId`, `infisical:clientSecret`, `unleash:url`, `unleash:apiToken`), else the environment
 * (`INFISICAL_HOST`, `INFISICAL_TOKEN`, `INFISICAL_UNIVERSAL_AUTH_CLIENT_ID`, `INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET`,
 * `UNLEASH_URL`, `AUTH_TOKEN`). See docs/provider.md.
 */
import type * as pulumi from "@pulumi/pulumi";

export { CONFIG_KEYS, DEFAULT_INFISICAL_HOST, ENV_VARS } from "./connection";
export type { InfisicalConnection, UnleashConnection } from "./connection";
export { ApiError, NetworkError, ProviderError } from "./http/errors";

/** Where and how to reach Infisical, for one resource. Every field is optional; see the fallbacks in the package docs. */
export interface InfisicalConnectionArgs {
    /** Site URL of the Infisical instance (the API is under /api), e.g. https://app.infisical.com (the default). */
    host?: pulumi.Input<string>;
    /** Static access token (machine identity token auth, or a user token). Stored encrypted. */
    token?: pulumi.Input<string>;
    /** Universal auth client id of a machine identity (with clientSecret). */
    clientId?: pulumi.Input<string>;
    /** Universal auth client secret of a machine identity (with clientId). Stored encrypted. */
    clientSecret?: pulumi.Input<string>;
}

/** Where and how to reach Unleash, for one resource. */
export interface UnleashConnectionArgs {
    /** Base URL of the Unleash instance (everything before /api), e.g. https://unleash.example.com. */
    url?: pulumi.Input<string>;
    /** Admin API token or personal access token of an Admin. Stored encrypted. */
    apiToken?: pulumi.Input<string>;
}

/** A comma-separated list, written either as "a, b" or as ["a", "b"]. */
export type CommaList = string | pulumi.Input<string>[];

// The typed classes (OidcSsoConfig, IdentityOidcAuth, UnleashOidcSettings), their Args, State and Outputs types:
// generated from the resource descriptions in provider/resources by `npm run gen` (scripts/gen-sdk.ts).
export * from "./generated";
