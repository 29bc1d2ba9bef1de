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
 * Credentials come from each resource's `connection`, else the stack config (`infisical:host`, `infisical:auth`,
 * `infisical:token`, `infisical:clientId`, `infisical:clientSecret`, `infisical:identityId`, …, `unleash:url`,
 * `unleash:apiToken`), else the environment with the Terraform providers' names (`INFISICAL_HOST`,
 * `INFISICAL_AUTH_METHOD`, `INFISICAL_TOKEN`, `INFISICAL_UNIVERSAL_AUTH_CLIENT_ID`, `INFISICAL_MACHINE_IDENTITY_ID`,
 * `INFISICAL_AUTH_JWT`, …, `UNLEASH_URL`, `AUTH_TOKEN`). Infisical logins: token, universal, oidc, kubernetes,
 * aws_iam. See the README, "Connection and authentication".
 */
import type * as pulumi from "@pulumi/pulumi";

export { AUTH_METHOD_NAMES, CONFIG_KEYS, DEFAULT_INFISICAL_HOST, ENV_VARS } from "./connection";
export type { AuthMethodName } from "./connection";
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
    /**
     * Login method: "token", "universal", "oidc", "kubernetes" or "aws_iam" (Terraform's names). Default: universal
     * when a client id/secret is given, token when a token is.
     */
    auth?: pulumi.Input<string>;
    /** Machine identity id, for the oidc, kubernetes and aws_iam logins. */
    identityId?: pulumi.Input<string>;
    /** Scope the login to this sub-organization (Terraform's organization_slug). */
    organizationSlug?: pulumi.Input<string>;
    /** oidc: the environment variable holding the JWT (default INFISICAL_AUTH_JWT; in GitLab CI, your id_tokens name). */
    oidcTokenEnvVar?: pulumi.Input<string>;
    /** oidc in GitHub Actions: the audience asked of GitHub's token endpoint (default GitHub's, https://github.com/<owner>). */
    oidcAudience?: pulumi.Input<string>;
    /** kubernetes: the service-account token itself (default: read from serviceAccountTokenPath at each login). Stored encrypted. */
    serviceAccountToken?: pulumi.Input<string>;
    /** kubernetes: the token file (default /var/run/secrets/kubernetes.io/serviceaccount/token). */
    serviceAccountTokenPath?: pulumi.Input<string>;
    /** PEM bundle of the CA(s) of a server with a private CA (added to the default ones; or NODE_EXTRA_CA_CERTS). */
    caCert?: pulumi.Input<string>;
}

/** Where and how to reach Unleash, for one resource. */
export interface UnleashConnectionArgs {
    /** Base URL of the Unleash instance (everything before /api), e.g. https://unleash.example.com. */
    url?: pulumi.Input<string>;
    /** Admin API token or personal access token of an Admin. Stored encrypted. */
    apiToken?: pulumi.Input<string>;
    /** PEM bundle of the CA(s) of a server with a private CA (added to the default ones; or NODE_EXTRA_CA_CERTS). */
    caCert?: pulumi.Input<string>;
}

/** A comma-separated list, written either as "a, b" or as ["a", "b"]. */
export type CommaList = string | pulumi.Input<string>[];

// The typed classes (OidcSsoConfig, IdentityOidcAuth, UnleashOidcSettings), their Args, State and Outputs types:
// generated from the resource descriptions in provider/resources by `npm run gen` (scripts/gen-sdk.ts).
export * from "./generated";
