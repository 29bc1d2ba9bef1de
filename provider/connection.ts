/**
 * Where the provider finds each server and its credentials, and the HTTP clients that reach them.
 *
 * Every setting is looked up in the resource's `connection` argument, then the stack configuration (received in
 * `configure`), then the environment, with the Terraform providers' variable names (provider/auth/settings.ts has
 * the one table). The URL is resolved per field; an Infisical login method and its credentials are taken as a unit
 * from the first layer that has any (provider/auth/resolve.ts). Infisical's host defaults to https://app.infisical.com.
 *
 * Infisical logins are one module per method behind one interface (provider/auth/: token, universal, oidc, kubernetes,
 * aws_iam); their access tokens are cached per process and renewed before they expire, or at once after a 401
 * (provider/auth/session.ts). Unleash takes the raw token in `Authorization` (admin token or PAT).
 *
 * `credentialProblem` checks a connection's credentials once per process per server and credential: the login for
 * login methods, one cheap authenticated request for a static token (the check `pulumi preview` runs).
 *
 * Nothing here ever puts a credential into a message, an output or the serialized provider.
 */
import { createHash } from "crypto";
import { ApiError, NetworkError, ProviderError } from "./http/errors";
import { HttpClient, RetryPolicy, TlsSettings } from "./http/client";
import { HintFn, infisicalHint, unleashHint } from "./auth/hints";
import { decodeJwt } from "./auth/jwt";
import { AUTH_METHODS } from "./auth/methods";
import { authProblem, ResolvedAuth, resolveAuth } from "./auth/resolve";
import { LoginSession } from "./auth/session";
import { describePlace, firstValue, INFISICAL_SETTINGS, Layer, placesOf, SettingDef, UNLEASH_SETTINGS } from "./auth/settings";
import type { AuthMethodName } from "./auth/types";

export { setStackConfig } from "./auth/settings";
export type { ConfigSource, Layer } from "./auth/settings";
export { clearTokenCache, loginCounts, universalAuthLogins } from "./auth/session";
export type { HintFn } from "./auth/hints";
export { AUTH_METHOD_NAMES } from "./auth/types";
export type { AuthMethodName } from "./auth/types";

/** Connection settings of an Infisical resource (all optional; see the module documentation for the fallbacks). */
export interface InfisicalConnection {
    /** Site URL of the Infisical instance, e.g. https://app.infisical.com (the API is under /api). */
    host?: string;
    /** PEM bundle of the CA(s) that signed the server's certificate (a private CA), added to the default ones. */
    caCert?: string;
    /** Login method: token, universal, oidc, kubernetes or aws_iam (else inferred from the credentials given). */
    auth?: string;
    /** A static access token (machine identity token auth, or a user/service token). */
    token?: string;
    /** Universal auth client id of a machine identity. */
    clientId?: string;
    /** Universal auth client secret of a machine identity. */
    clientSecret?: string;
    /** Machine identity id (oidc, kubernetes, aws_iam). */
    identityId?: string;
    /** Scope the login to this sub-organization. */
    organizationSlug?: string;
    /** Name of the environment variable holding the OIDC JWT (default INFISICAL_AUTH_JWT). */
    oidcTokenEnvVar?: string;
    /** Audience asked of GitHub Actions' OIDC token endpoint. */
    oidcAudience?: string;
    /** Kubernetes service-account token (instead of the token file). */
    serviceAccountToken?: string;
    /** File of the Kubernetes service-account token (default /var/run/secrets/kubernetes.io/serviceaccount/token). */
    serviceAccountTokenPath?: string;
}

/** Connection settings of an Unleash resource. */
export interface UnleashConnection {
    /** Base URL of the Unleash instance (everything before /api), e.g. https://unleash.example.com. */
    url?: string;
    /** An admin API token or a personal access token of an admin. */
    apiToken?: string;
    /** PEM bundle of the CA(s) that signed the server's certificate (a private CA), added to the default ones. */
    caCert?: string;
}

/** Stack-config keys, by setting (`infisical:*`, `unleash:*`). */
export const CONFIG_KEYS = {
    infisicalHost: INFISICAL_SETTINGS.host.config,
    infisicalCaCert: INFISICAL_SETTINGS.caCert.config,
    infisicalAuth: INFISICAL_SETTINGS.auth.config,
    infisicalToken: INFISICAL_SETTINGS.token.config,
    infisicalClientId: INFISICAL_SETTINGS.clientId.config,
    infisicalClientSecret: INFISICAL_SETTINGS.clientSecret.config,
    infisicalIdentityId: INFISICAL_SETTINGS.identityId.config,
    infisicalOrganizationSlug: INFISICAL_SETTINGS.organizationSlug.config,
    infisicalOidcTokenEnvVar: INFISICAL_SETTINGS.oidcTokenEnvVar.config,
    infisicalOidcAudience: INFISICAL_SETTINGS.oidcAudience.config,
    infisicalServiceAccountToken: INFISICAL_SETTINGS.serviceAccountToken.config,
    infisicalServiceAccountTokenPath: INFISICAL_SETTINGS.serviceAccountTokenPath.config,
    unleashUrl: UNLEASH_SETTINGS.url.config,
    unleashApiToken: UNLEASH_SETTINGS.apiToken.config,
    unleashCaCert: UNLEASH_SETTINGS.caCert.config,
} as const;

/** Environment variables, by setting (the Terraform providers' names). */
export const ENV_VARS = {
    infisicalHost: "INFISICAL_HOST",
    infisicalAuth: "INFISICAL_AUTH_METHOD",
    infisicalToken: "INFISICAL_TOKEN",
    infisicalClientId: "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID",
    infisicalClientSecret: "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET",
    infisicalIdentityId: "INFISICAL_MACHINE_IDENTITY_ID",
    infisicalOrganizationSlug: "INFISICAL_AUTH_ORGANIZATION_SLUG",
    infisicalOidcTokenEnvVar: "INFISICAL_OIDC_AUTH_TOKEN_KEY_NAME",
    infisicalOidcJwt: "INFISICAL_AUTH_JWT",
    infisicalOidcAudience: "INFISICAL_OIDC_AUTH_AUDIENCE",
    infisicalServiceAccountToken: "INFISICAL_KUBERNETES_SERVICE_ACCOUNT_TOKEN",
    infisicalServiceAccountTokenPath: "INFISICAL_KUBERNETES_SERVICE_ACCOUNT_TOKEN_PATH",
    unleashUrl: "UNLEASH_URL",
    unleashApiToken: "AUTH_TOKEN",
} as const;

export const DEFAULT_INFISICAL_HOST = "https://app.infisical.com";

/** The settings a login used, as plain values (what tests and diagnostics compare; never print them). */
export type InfisicalAuth = { method: AuthMethodName } & Partial<Record<keyof ResolvedAuth["settings"], string>>;

export interface ResolvedInfisical {
    service: "infisical";
    /** Normalized site URL (no trailing slash, no /api). */
    url: string;
    urlFrom: Layer;
    /** Where the URL came from, in words ("stack config infisical:host"). */
    urlSource: string;
    caCert?: string;
    auth?: InfisicalAuth;
    authFrom?: Layer;
    /** The login with where each setting came from. */
    login?: ResolvedAuth;
}

export interface ResolvedUnleash {
    service: "unleash";
    url?: string;
    urlFrom?: Layer;
    urlSource?: string;
    caCert?: string;
    apiToken?: string;
    authFrom?: Layer;
    tokenSource?: string;
}

export type ResolvedConnection = ResolvedInfisical | ResolvedUnleash;

/**
 * The canonical form of an API base URL: lower-case scheme and host, no default port, no trailing slash, and
 * without a trailing "/api" (users often paste the API URL instead of the site URL).
 */
export function normalizeBaseUrl(raw: string): string {
    const parsed = new URL(raw.trim());
    let path = parsed.pathname.replace(/\/+$/, "");
    if (/\/api$/i.test(path)) path = path.slice(0, -4);
    return `${parsed.protocol}//${parsed.host}${path.replace(/\/+$/, "")}`;
}

/** Why a base URL is unusable, or undefined. */
export function baseUrlProblem(raw: string): string | undefined {
    let parsed: URL;
    try {
        parsed = new URL(raw.trim());
    } catch {
        return "must be an absolute URL such as https://app.example.com";
    }
    if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return "must be an http(s) URL";
    if (parsed.username || parsed.password) return "must not contain credentials (put them in the token settings)";
    if (parsed.search || parsed.hash) return "must not contain a query string or fragment";
    return undefined;
}

function caCertProblem(pem: string): string | undefined {
    return /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.test(pem) ? undefined : "must be a PEM bundle (-----BEGIN CERTIFICATE----- …)";
}

function asArg(arg: object | undefined): Record<string, unknown> | undefined {
    return arg as Record<string, unknown> | undefined;
}

export function resolveInfisical(arg: InfisicalConnection | undefined, env: NodeJS.ProcessEnv = process.env): ResolvedInfisical {
    const a = asArg(arg);
    const host = firstValue(INFISICAL_SETTINGS.host, a, env) ?? { value: DEFAULT_INFISICAL_HOST, from: "default" as Layer, source: "the default" };
    const problem = baseUrlProblem(host.value);
    if (problem) throw new ProviderError(`Infisical host (from ${host.source}) ${problem}`);
    const ca = firstValue(INFISICAL_SETTINGS.caCert, a, env);
    const caProblem = ca && caCertProblem(ca.value);
    if (caProblem) throw new ProviderError(`Infisical caCert (from ${ca.source}) ${caProblem}`);

    const login = resolveAuth(a, env);
    if (login) {
        const issue = authProblem(login, env);
        if (issue) throw new ProviderError(issue);
    }
    let auth: InfisicalAuth | undefined;
    if (login) {
        auth = { method: login.method };
        for (const [k, v] of Object.entries(login.settings)) if (v) (auth as Record<string, string>)[k] = v.value;
    }
    return { service: "infisical", url: normalizeBaseUrl(host.value), urlFrom: host.from, urlSource: host.source, caCert: ca?.value, auth, authFrom: login?.from, login };
}

export function resolveUnleash(arg: UnleashConnection | undefined, env: NodeJS.ProcessEnv = process.env): ResolvedUnleash {
    const a = asArg(arg);
    const url = firstValue(UNLEASH_SETTINGS.url, a, env);
    if (url) {
        const problem = baseUrlProblem(url.value);
        if (problem) throw new ProviderError(`Unleash URL (from ${url.source}) ${problem}`);
    }
    const ca = firstValue(UNLEASH_SETTINGS.caCert, a, env);
    const caProblem = ca && caCertProblem(ca.value);
    if (caProblem) throw new ProviderError(`Unleash caCert (from ${ca.source}) ${caProblem}`);
    const token = firstValue(UNLEASH_SETTINGS.apiToken, a, env);
    return {
        service: "unleash",
        url: url ? normalizeBaseUrl(url.value) : undefined,
        urlFrom: url?.from,
        urlSource: url?.source,
        caCert: ca?.value,
        apiToken: token?.value,
        authFrom: token?.from,
        tokenSource: token?.source,
    };
}

const LEGACY_NAMES: Record<keyof typeof CONFIG_KEYS, { def: SettingDef }> = {
    infisicalHost: { def: INFISICAL_SETTINGS.host },
    infisicalCaCert: { def: INFISICAL_SETTINGS.caCert },
    infisicalAuth: { def: INFISICAL_SETTINGS.auth },
    infisicalToken: { def: INFISICAL_SETTINGS.token },
    infisicalClientId: { def: INFISICAL_SETTINGS.clientId },
    infisicalClientSecret: { def: INFISICAL_SETTINGS.clientSecret },
    infisicalIdentityId: { def: INFISICAL_SETTINGS.identityId },
    infisicalOrganizationSlug: { def: INFISICAL_SETTINGS.organizationSlug },
    infisicalOidcTokenEnvVar: { def: INFISICAL_SETTINGS.oidcTokenEnvVar },
    infisicalOidcAudience: { def: INFISICAL_SETTINGS.oidcAudience },
    infisicalServiceAccountToken: { def: INFISICAL_SETTINGS.serviceAccountToken },
    infisicalServiceAccountTokenPath: { def: INFISICAL_SETTINGS.serviceAccountTokenPath },
    unleashUrl: { def: UNLEASH_SETTINGS.url },
    unleashApiToken: { def: UNLEASH_SETTINGS.apiToken },
    unleashCaCert: { def: UNLEASH_SETTINGS.caCert },
};

/** Human text for where a value came from, e.g. "stack config infisical:token". */
export function describeLayer(layer: Layer, name: keyof typeof CONFIG_KEYS): string {
    return describePlace(LEGACY_NAMES[name].def, layer);
}

/** Explains how to provide missing credentials. */
export function missingCredentialsMessage(service: "infisical" | "unleash"): string {
    if (service === "infisical") {
        return (
            "no Infisical credentials: set the resource's connection.token (or connection.clientId/clientSecret, or connection.auth with its settings), " +
            "or `pulumi config set --secret infisical:token <token>` (or infisical:clientId and infisical:clientSecret for universal auth, or infisical:auth " +
            "oidc/kubernetes/aws_iam with infisical:identityId), " +
            `or the environment variables ${ENV_VARS.infisicalToken} or ${ENV_VARS.infisicalClientId}/${ENV_VARS.infisicalClientSecret} or ${ENV_VARS.infisicalAuth} with ${ENV_VARS.infisicalIdentityId}`
        );
    }
    return (
        "no Unleash API token: set the resource's connection.apiToken, or `pulumi config set --secret unleash:apiToken <token>`, " +
        `or the environment variable ${ENV_VARS.unleashApiToken} (an admin API token or an admin's personal access token)`
    );
}

export function missingUrlMessage(): string {
    return `no Unleash URL: set the resource's connection.url, or \`pulumi config set unleash:url https://unleash.example.com\`, or the environment variable ${ENV_VARS.unleashUrl}`;
}

function tlsOf(conn: ResolvedConnection): TlsSettings {
    const source = conn.service === "infisical" ? placesOf(INFISICAL_SETTINGS.caCert) : placesOf(UNLEASH_SETTINGS.caCert);
    return { caCert: conn.caCert, caCertSetting: source };
}

function sessionOf(conn: ResolvedInfisical): LoginSession {
    if (!conn.login) throw new ProviderError(missingCredentialsMessage("infisical"));
    return LoginSession.for(conn.url, conn.login, tlsOf(conn), conn.urlSource);
}

export function infisicalClient(conn: ResolvedInfisical, options: { hint?: HintFn; retry?: Partial<RetryPolicy> } = {}): HttpClient {
    const session = sessionOf(conn);
    return new HttpClient({
        baseUrl: conn.url,
        service: "Infisical",
        urlSource: conn.urlSource,
        tls: tlsOf(conn),
        authorization: async () => `Bearer ${await session.accessToken()}`,
        // The cached token may have been revoked or expired early: log in again once.
        onUnauthorized: session.logsIn
            ? async () => {
                  session.invalidate();
                  return true;
              }
            : undefined,
        secrets: () => session.secrets(),
        hint: infisicalHint(conn.url, conn.login, options.hint),
        retry: options.retry,
    });
}

/** An HTTP client for the Unleash admin API with the resolved token. */
export function unleashClient(conn: ResolvedUnleash, options: { hint?: HintFn; retry?: Partial<RetryPolicy> } = {}): HttpClient {
    if (!conn.url) throw new ProviderError(missingUrlMessage());
    if (!conn.apiToken) throw new ProviderError(missingCredentialsMessage("unleash"));
    const token = conn.apiToken;
    return new HttpClient({
        baseUrl: conn.url,
        service: "Unleash",
        urlSource: conn.urlSource,
        tls: tlsOf(conn),
        authorization: async () => token,
        secrets: () => [token],
        hint: unleashHint(conn.url, conn.tokenSource, options.hint),
        retry: options.retry,
    });
}

/** Every credential value of a resolved connection (to redact them from any text). */
export function connectionSecrets(conn: ResolvedConnection): string[] {
    if (conn.service === "unleash") return conn.apiToken ? [conn.apiToken] : [];
    if (!conn.login) return [];
    return [...AUTH_METHODS[conn.login.method].secrets(conn.login.settings).filter((s): s is string => !!s), ...sessionOf(conn).secrets()];
}

// ---------------------------------------------------------------------------------------------------------------
// Credential check (once per process per server and credential).

const checked = new Map<string, Promise<string | undefined>>();

/** Forgets the credential checks done (tests). */
export function clearCredentialChecks(): void {
    checked.clear();
}

/** Credential checks sent by this process (tests). */
export let credentialChecks = 0;

/**
 * Infisical's cheapest authenticated route for a static token, by the kind of token (its unverified claims):
 * an identity access token: `GET /api/v1/identities/details` (backend/src/server/routes/v1/identity-router.ts,
 * IDENTITY_ACCESS_TOKEN only, the identity's organization); a user's token: `POST /api/v1/auth/checkAuth`
 * (backend/src/server/routes/v1/auth-router.ts, JWT only, answers {message: "Authenticated"}); a service token
 * (`st.…`): `GET /api/v2/service-token` (what Terraform's GetServiceTokenDetailsV2 calls).
 */
export function tokenCheckRoute(token: string): { method: "GET" | "POST"; path: string } {
    if (token.startsWith("st.")) return { method: "GET", path: "/api/v2/service-token" };
    try {
        const claims = decodeJwt(token) as { authTokenType?: unknown };
        if (claims.authTokenType === "identityAccessToken") return { method: "GET", path: "/api/v1/identities/details" };
    } catch {
        // not a JWT: try it as a user token
    }
    return { method: "POST", path: "/api/v1/auth/checkAuth" };
}

/** Unleash's check: the OIDC settings themselves (`GET /api/admin/auth/oidc/settings`, admin permission, a few hundred bytes). */
export const UNLEASH_CHECK_PATH = "/api/admin/auth/oidc/settings";

async function check(conn: ResolvedConnection): Promise<string | undefined> {
    credentialChecks++;
    // A preview must not wait long: a refused credential answers at once; an unreachable server is said by `up`.
    const retry = { maxAttempts: 2, budgetMs: 15_000 };
    try {
        if (conn.service === "unleash") {
            await unleashClient(conn, { retry }).request({ method: "GET", path: UNLEASH_CHECK_PATH });
            return undefined;
        }
        const login = conn.login;
        if (!login) return undefined;
        const method = AUTH_METHODS[login.method];
        if (method.logsIn) {
            // The login itself is the check (as Terraform's provider does when it configures); its token is kept.
            try {
                await sessionOf(conn).accessToken();
            } catch (err) {
                // A 500 this method is known to get for a refusal (aws_iam: STS refused the signed request) is certain.
                if (err instanceof ApiError && err.status === 500 && method.serverErrorHint) {
                    return `the credentials check on ${conn.url} failed: ${err.message}`;
                }
                throw err;
            }
            return undefined;
        }
        const route = tokenCheckRoute(login.settings.token?.value ?? "");
        try {
            await infisicalClient(conn, { retry }).request({ ...route, idempotent: true });
        } catch (err) {
            // A server without that route (older or another build) cannot be asked this way: nothing is known.
            if (err instanceof ApiError && (err.status === 404 || err.status === 405)) return undefined;
            throw err;
        }
        return undefined;
    } catch (err) {
        if (err instanceof NetworkError) return undefined;
        if (err instanceof ApiError && ![400, 401, 403, 404].includes(err.status)) return undefined;
        return `the credentials check on ${conn.url} failed: ${err instanceof Error ? err.message : String(err)}`;
    }
}

/**
 * Whether the connection's credentials work: undefined when they do (or cannot be checked: the server is unreachable,
 * or too old to say), else the error with its hint. One request (or login) per process per server and credential.
 */
export function credentialProblem(conn: ResolvedConnection): Promise<string | undefined> {
    const parts: string[] = [conn.service, conn.url ?? "", conn.caCert ?? ""];
    if (conn.service === "unleash") parts.push(conn.apiToken ?? "");
    else if (conn.login) parts.push(conn.login.method, JSON.stringify(Object.entries(conn.login.settings).map(([k, v]) => [k, v?.value])));
    const key = createHash("sha256").update(JSON.stringify(parts)).digest("hex");
    let pending = checked.get(key);
    if (!pending) {
        pending = check(conn);
        checked.set(key, pending);
    }
    return pending;
}
