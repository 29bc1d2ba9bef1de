/**
 * The one interface every Infisical login method implements (the shape of the Terraform provider's auth strategies,
 * Infisical/terraform-provider-infisical internal/client/client.go: one function per method, chosen by name).
 * Adding a method is one file beside its peers plus its line in methods.ts.
 */
import type { HttpClient } from "../http/client";
import type { Layer, Sourced } from "./settings";

/** Terraform's values of `INFISICAL_AUTH_METHOD` (internal/provider/provider.go authMethodToStrategy). */
export const AUTH_METHOD_NAMES = ["token", "universal", "oidc", "kubernetes", "aws_iam"] as const;
export type AuthMethodName = (typeof AUTH_METHOD_NAMES)[number];

/** The settings of a login, each with where it came from. */
export interface AuthSettings {
    token?: Sourced;
    clientId?: Sourced;
    clientSecret?: Sourced;
    identityId?: Sourced;
    organizationSlug?: Sourced;
    oidcTokenEnvVar?: Sourced;
    oidcAudience?: Sourced;
    serviceAccountToken?: Sourced;
    serviceAccountTokenPath?: Sourced;
}

/** What a login needs besides its settings. */
export interface LoginContext {
    settings: AuthSettings;
    /** Where the method was chosen or its credentials were found (for messages). */
    from: Layer;
    /** Site URL of the server. */
    url: string;
    /** An anonymous client for the server (no Authorization header), with the server's TLS and proxy settings. */
    client: HttpClient;
    env: NodeJS.ProcessEnv;
    /** Records a value that must never appear in any text (a JWT, a service-account token, an AWS secret). */
    secret(value: string | undefined): void;
}

export interface LoginResult {
    accessToken: string;
    /** Lifetime in seconds, as the server says (`expiresIn`); 0 or absent: unknown. */
    expiresIn?: number;
}

export interface AuthMethod {
    readonly name: AuthMethodName;
    /** One line for docs and messages. */
    readonly summary: string;
    /** Whether the method logs in (exchanges something for an access token) or sends a static token. */
    readonly logsIn: boolean;
    /** What is missing or wrong in the settings, found without I/O (shown by `pulumi preview`); undefined if fine. */
    problem(settings: AuthSettings, env: NodeJS.ProcessEnv): string | undefined;
    /** The access token: a static one, or one obtained by a login. */
    login(ctx: LoginContext): Promise<LoginResult>;
    /** What identifies the credential for the token cache (values are hashed, never kept in clear by the cache key). */
    cacheKey(settings: AuthSettings): string[];
    /** Credential values of the settings (redacted from every text). */
    secrets(settings: AuthSettings): Array<string | undefined>;
    /** How to fix a refused login, in this method's words. */
    refusedHint(settings: AuthSettings): string;
    /**
     * What a 500 answer to this method's login means, when Infisical is known to answer a refusal that way (its
     * service lets the error through to the error handler); absent: a 500 is the server's own failure.
     */
    serverErrorHint?(settings: AuthSettings, env: NodeJS.ProcessEnv): string;
}
