/**
 * Where the provider finds the API URL and credentials, in this order (the first layer that sets a value wins):
 *
 * 1. the resource's `connection` argument;
 * 2. the stack configuration, which the dynamic provider receives in `configure` (@pulumi/pulumi >= 3.139):
 *    `infisical:host`, `infisical:token`, `infisical:clientId`, `infisical:clientSecret`,
 *    `unleash:url`, `unleash:apiToken` (set credentials with `pulumi config set --secret ...`);
 * 3. environment variables with the names of the Terraform providers:
 *    `INFISICAL_HOST`, `INFISICAL_TOKEN`, `INFISICAL_UNIVERSAL_AUTH_CLIENT_ID`, `INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET`
 *    (Infisical/terraform-provider-infisical) and `UNLEASH_URL`, `AUTH_TOKEN` (Unleash/terraform-provider-unleash).
 *
 * The URL is resolved per field; credentials are taken as a unit from the first layer that has any, so a token from
 * one place is never mixed with a client id from another. Infisical's host defaults to https://app.infisical.com.
 *
 * Infisical accepts a static token (`Authorization: Bearer <token>`) or universal auth: the client id/secret are
 * exchanged for an access token at `POST /api/v1/auth/universal-auth/login`, cached per process and renewed before
 * it expires (or at once after a 401). Unleash takes the raw token in `Authorization` (admin token or PAT).
 *
 * Nothing here ever puts a credential into a message, an output or the serialized provider.
 */
import { createHash } from "crypto";
import { ProviderError } from "./http/errors";
import { ErrorInfo, HttpClient } from "./http/client";

/** Connection settings of an Infisical resource (all optional; see the module documentation for the fallbacks). */
export interface InfisicalConnection {
    /** Site URL of the Infisical instance, e.g. https://app.infisical.com (the API is under /api). */
    host?: string;
    /** A static access token (machine identity token auth, or a user/service token). */
    token?: string;
    /** Universal auth client id of a machine identity. */
    clientId?: string;
    /** Universal auth client secret of a machine identity. */
    clientSecret?: string;
}

/** Connection settings of an Unleash resource. */
export interface UnleashConnection {
    /** Base URL of the Unleash instance (everything before /api), e.g. https://unleash.example.com. */
    url?: string;
    /** An admin API token or a personal access token of an admin. */
    apiToken?: string;
}

/** What `configure` gives the dynamic provider: `get("infisical:host")` etc. */
export interface ConfigSource {
    get(key: string): string | undefined;
}

export const CONFIG_KEYS = {
    infisicalHost: "infisical:host",
    infisicalToken: "infisical:token",
    infisicalClientId: "infisical:clientId",
    infisicalClientSecret: "infisical:clientSecret",
    unleashUrl: "unleash:url",
    unleashApiToken: "unleash:apiToken",
} as const;

export const ENV_VARS = {
    infisicalHost: "INFISICAL_HOST",
    infisicalToken: "INFISICAL_TOKEN",
    infisicalClientId: "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID",
    infisicalClientSecret: "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET",
    unleashUrl: "UNLEASH_URL",
    unleashApiToken: "AUTH_TOKEN",
} as const;

export const DEFAULT_INFISICAL_HOST = "https://app.infisical.com";

let stackConfig: Partial<Record<keyof typeof CONFIG_KEYS, string>> = {};

/** Called from the dynamic provider's `configure` with the stack configuration. Keeps only the keys we use. */
export function setStackConfig(source: ConfigSource | undefined): void {
    const next: Partial<Record<keyof typeof CONFIG_KEYS, string>> = {};
    for (const [name, key] of Object.entries(CONFIG_KEYS) as Array<[keyof typeof CONFIG_KEYS, string]>) {
        let value: string | undefined;
        try {
            value = source?.get(key);
        } catch {
            value = undefined;
        }
        if (typeof value === "string" && value.trim() !== "") next[name] = value.trim();
    }
    stackConfig = next;
}

/** The stack configuration values in use (for tests and diagnostics; callers must not print credentials). */
export function getStackConfig(): Readonly<Partial<Record<keyof typeof CONFIG_KEYS, string>>> {
    return stackConfig;
}

export type Layer = "connection" | "config" | "env" | "default";

export type InfisicalAuth = { method: "token"; token: string } | { method: "universal"; clientId: string; clientSecret: string };

export interface ResolvedInfisical {
    service: "infisical";
    /** Normalized site URL (no trailing slash, no /api). */
    url: string;
    urlFrom: Layer;
    auth?: InfisicalAuth;
    authFrom?: Layer;
}

export interface ResolvedUnleash {
    service: "unleash";
    url?: string;
    urlFrom?: Layer;
    apiToken?: string;
    authFrom?: Layer;
}

export type ResolvedConnection = ResolvedInfisical | ResolvedUnleash;

function clean(value: unknown): string | undefined {
    return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

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

function firstOf<T>(...candidates: Array<[T | undefined, Layer]>): [T, Layer] | undefined {
    for (const [value, layer] of candidates) if (value !== undefined) return [value, layer];
    return undefined;
}

export function resolveInfisical(arg: InfisicalConnection | undefined, env: NodeJS.ProcessEnv = process.env): ResolvedInfisical {
    const host =
        firstOf<string>(
            [clean(arg?.host), "connection"],
            [stackConfig.infisicalHost, "config"],
            [clean(env[ENV_VARS.infisicalHost]), "env"],
        ) ?? ([DEFAULT_INFISICAL_HOST, "default"] as [string, Layer]);
    const problem = baseUrlProblem(host[0]);
    if (problem) {
        throw new ProviderError(`Infisical host (from ${describeLayer(host[1], "infisicalHost")}) ${problem}`);
    }

    const layers: Array<[Layer, { token?: string; clientId?: string; clientSecret?: string }]> = [
        ["connection", { token: clean(arg?.token), clientId: clean(arg?.clientId), clientSecret: clean(arg?.clientSecret) }],
        ["config", { token: stackConfig.infisicalToken, clientId: stackConfig.infisicalClientId, clientSecret: stackConfig.infisicalClientSecret }],
        [
            "env",
            {
                token: clean(env[ENV_VARS.infisicalToken]),
                clientId: clean(env[ENV_VARS.infisicalClientId]),
                clientSecret: clean(env[ENV_VARS.infisicalClientSecret]),
            },
        ],
    ];
    let auth: InfisicalAuth | undefined;
    let authFrom: Layer | undefined;
    for (const [layer, creds] of layers) {
        if (!creds.token && !creds.clientId && !creds.clientSecret) continue;
        authFrom = layer;
        if (creds.clientId || creds.clientSecret) {
            if (!creds.clientId || !creds.clientSecret) {
                const missing = creds.clientId ? "clientSecret" : "clientId";
                throw new ProviderError(
                    `Infisical universal auth (from ${describeLayer(layer, missing === "clientId" ? "infisicalClientId" : "infisicalClientSecret")}) needs both a client id and a client secret; ${missing} is missing`,
                );
            }
            auth = { method: "universal", clientId: creds.clientId, clientSecret: creds.clientSecret };
        } else if (creds.token) {
            auth = { method: "token", token: creds.token };
        }
        break;
    }
    return { service: "infisical", url: normalizeBaseUrl(host[0]), urlFrom: host[1], auth, authFrom };
}

export function resolveUnleash(arg: UnleashConnection | undefined, env: NodeJS.ProcessEnv = process.env): ResolvedUnleash {
    const url = firstOf<string>([clean(arg?.url), "connection"], [stackConfig.unleashUrl, "config"], [clean(env[ENV_VARS.unleashUrl]), "env"]);
    if (url) {
        const problem = baseUrlProblem(url[0]);
        if (problem) throw new ProviderError(`Unleash URL (from ${describeLayer(url[1], "unleashUrl")}) ${problem}`);
    }
    const token = firstOf<string>(
        [clean(arg?.apiToken), "connection"],
        [stackConfig.unleashApiToken, "config"],
        [clean(env[ENV_VARS.unleashApiToken]), "env"],
    );
    return {
        service: "unleash",
        url: url ? normalizeBaseUrl(url[0]) : undefined,
        urlFrom: url?.[1],
        apiToken: token?.[0],
        authFrom: token?.[1],
    };
}

/** Human text for where a value came from, e.g. "stack config infisical:token". */
export function describeLayer(layer: Layer, name: keyof typeof CONFIG_KEYS): string {
    switch (layer) {
        case "connection":
            return `the resource's connection.${connectionField(name)}`;
        case "config":
            return `stack config ${CONFIG_KEYS[name]}`;
        case "env":
            return `environment variable ${ENV_VARS[name]}`;
        default:
            return "the default";
    }
}

function connectionField(name: keyof typeof CONFIG_KEYS): string {
    return { infisicalHost: "host", infisicalToken: "token", infisicalClientId: "clientId", infisicalClientSecret: "clientSecret", unleashUrl: "url", unleashApiToken: "apiToken" }[name];
}

/** Explains how to provide missing credentials. */
export function missingCredentialsMessage(service: "infisical" | "unleash"): string {
    if (service === "infisical") {
        return (
            "no Infisical credentials: set the resource's connection.token (or connection.clientId/clientSecret), " +
            "or `pulumi config set --secret infisical:token <token>` (or infisical:clientId and infisical:clientSecret for universal auth), " +
            `or the environment variables ${ENV_VARS.infisicalToken} or ${ENV_VARS.infisicalClientId}/${ENV_VARS.infisicalClientSecret}`
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

// ---------------------------------------------------------------------------------------------------------------
// Universal auth: access tokens cached per process, renewed before expiry.

interface CachedToken {
    accessToken: string;
    /** Epoch ms after which the token must be renewed (a margin before its real expiry). */
    renewAt: number;
}

const tokenCache = new Map<string, CachedToken>();
const pendingLogins = new Map<string, Promise<CachedToken>>();

function cacheKey(host: string, clientId: string, clientSecret: string): string {
    return createHash("sha256").update(`${host}\0${clientId}\0${clientSecret}`).digest("hex");
}

/** Forget every cached access token (tests). */
export function clearTokenCache(): void {
    tokenCache.clear();
    pendingLogins.clear();
}

/** Number of universal-auth logins performed by this process (tests, benchmarks). */
export let universalAuthLogins = 0;

async function login(conn: ResolvedInfisical, auth: Extract<InfisicalAuth, { method: "universal" }>): Promise<CachedToken> {
    const client = new HttpClient({
        baseUrl: conn.url,
        service: "Infisical",
        secrets: () => [auth.clientId, auth.clientSecret],
        hint: ({ status }) =>
            status === 401 || status === 400 || status === 404
                ? `universal auth login was refused: check the client id and secret (from ${describeLayer(conn.authFrom ?? "env", "infisicalClientSecret")}) and that universal auth is attached to the machine identity`
                : undefined,
    });
    const res = await client.request({
        method: "POST",
        path: "/api/v1/auth/universal-auth/login",
        body: { clientId: auth.clientId, clientSecret: auth.clientSecret },
        // A repeated login only mints another short-lived token: safe to retry.
        idempotent: true,
        anonymous: true,
    });
    universalAuthLogins++;
    const body = res.body as { accessToken?: unknown; expiresIn?: unknown };
    if (typeof body?.accessToken !== "string" || body.accessToken === "") {
        throw new ProviderError("Infisical universal auth login answered without an access token");
    }
    const ttlMs = (typeof body.expiresIn === "number" && body.expiresIn > 0 ? body.expiresIn : 300) * 1000;
    // Renew at 80% of the lifetime, and at least a minute early for long-lived tokens.
    const margin = Math.min(60_000, ttlMs * 0.2);
    return { accessToken: body.accessToken, renewAt: Date.now() + ttlMs - margin };
}

async function universalToken(conn: ResolvedInfisical, auth: Extract<InfisicalAuth, { method: "universal" }>): Promise<string> {
    const key = cacheKey(conn.url, auth.clientId, auth.clientSecret);
    const cached = tokenCache.get(key);
    if (cached && Date.now() < cached.renewAt) return cached.accessToken;
    let pending = pendingLogins.get(key);
    if (!pending) {
        pending = login(conn, auth).finally(() => pendingLogins.delete(key));
        pendingLogins.set(key, pending);
    }
    const fresh = await pending;
    tokenCache.set(key, fresh);
    return fresh.accessToken;
}

function cachedTokenValue(conn: ResolvedInfisical): string | undefined {
    if (conn.auth?.method !== "universal") return undefined;
    return tokenCache.get(cacheKey(conn.url, conn.auth.clientId, conn.auth.clientSecret))?.accessToken;
}

export type HintFn = (info: ErrorInfo) => string | undefined;

/**
 * Infisical's service-wide hints: what the API said (its `error` name) first, then the status. The resource's own
 * hints (validation failures named by field, permissions named by object) come before these.
 */
function infisicalHint(conn: ResolvedInfisical, resourceHint?: HintFn): HintFn {
    return (info) => {
        const specific = resourceHint?.(info);
        if (specific) return specific;
        const from = conn.authFrom ? describeLayer(conn.authFrom, conn.auth?.method === "universal" ? "infisicalClientSecret" : "infisicalToken") : "nowhere";
        const universal = conn.auth?.method === "universal";
        switch (info.errorName) {
            case "TokenError":
                return universal
                    ? `the access token obtained with universal auth (credentials from ${from}) was refused as expired or malformed even after a new login: check that the machine identity still exists on ${conn.url}`
                    : `the token (from ${from}) is expired or malformed: set a valid one with \`pulumi config set --secret infisical:token\`, ${ENV_VARS.infisicalToken}, or use universal auth (infisical:clientId/clientSecret)`;
            case "ForbiddenError":
                return `the credentials (from ${from}) belong to another organization than the object this resource manages: use credentials of a user or machine identity of that organization`;
            default:
                break;
        }
        switch (info.status) {
            case 401:
                return universal
                    ? `the access token obtained with universal auth (credentials from ${from}) was rejected: check that the machine identity still exists and belongs to this Infisical instance (${conn.url})`
                    : `the token (from ${from}) is missing, invalid or expired: set a valid one with \`pulumi config set --secret infisical:token\`, ${ENV_VARS.infisicalToken}, or use universal auth (infisical:clientId/clientSecret)`;
            case 404:
                return `not found on ${conn.url}: check the id in the request and that infisical:host is the site URL of the right instance (e.g. https://app.infisical.com, without /api)`;
            default:
                return undefined;
        }
    };
}

/** Unleash's service-wide hints, by what the API said, then the status. */
function unleashHint(conn: ResolvedUnleash, resourceHint?: HintFn): HintFn {
    return (info) => {
        const specific = resourceHint?.(info);
        if (specific) return specific;
        const from = conn.authFrom ? describeLayer(conn.authFrom, "unleashApiToken") : "nowhere";
        if (info.errorName === "NotFoundError" && /path you were looking for/i.test(info.apiMessage ?? "")) {
            return `${conn.url} has no OIDC settings API: OIDC login is an Unleash Enterprise feature (open-source Unleash answers this 404); point unleash:url at an Enterprise instance`;
        }
        switch (info.status) {
            case 401:
                return `the API token (from ${from}) is missing or invalid: use an admin API token or an Admin's personal access token`;
            case 404:
                return `not found on ${conn.url}: check that unleash:url is the base URL (everything before /api) and that the instance runs Unleash Enterprise (OIDC is an Enterprise feature)`;
            case 415:
                return "the server refused the content type: this is a provider bug, please report it";
            default:
                return undefined;
        }
    };
}

export function infisicalClient(conn: ResolvedInfisical, options: { hint?: HintFn } = {}): HttpClient {
    const auth = conn.auth;
    if (!auth) throw new ProviderError(missingCredentialsMessage("infisical"));
    return new HttpClient({
        baseUrl: conn.url,
        service: "Infisical",
        authorization: async () => (auth.method === "token" ? `Bearer ${auth.token}` : `Bearer ${await universalToken(conn, auth)}`),
        onUnauthorized:
            auth.method === "universal"
                ? async () => {
                      // The cached token may have been revoked or expired early: log in again once.
                      tokenCache.delete(cacheKey(conn.url, auth.clientId, auth.clientSecret));
                      return true;
                  }
                : undefined,
        secrets: () =>
            auth.method === "token" ? [auth.token] : [auth.clientId, auth.clientSecret, cachedTokenValue(conn)],
        hint: infisicalHint(conn, options.hint),
    });
}

/** An HTTP client for the Unleash admin API with the resolved token. */
export function unleashClient(conn: ResolvedUnleash, options: { hint?: HintFn } = {}): HttpClient {
    if (!conn.url) throw new ProviderError(missingUrlMessage());
    if (!conn.apiToken) throw new ProviderError(missingCredentialsMessage("unleash"));
    const token = conn.apiToken;
    return new HttpClient({
        baseUrl: conn.url,
        service: "Unleash",
        authorization: async () => token,
        secrets: () => [token],
        hint: unleashHint(conn, options.hint),
    });
}

/** Every credential value of a resolved connection (to redact them from any text). */
export function connectionSecrets(conn: ResolvedConnection): string[] {
    if (conn.service === "unleash") return conn.apiToken ? [conn.apiToken] : [];
    if (!conn.auth) return [];
    return conn.auth.method === "token" ? [conn.auth.token] : [conn.auth.clientId, conn.auth.clientSecret, cachedTokenValue(conn) ?? ""].filter(Boolean);
}
