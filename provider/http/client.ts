/**
 * The HTTP client every API call goes through (undici).
 *
 * - One keep-alive `Agent` per origin, shared by every resource of the process.
 * - Connect, headers and body timeouts; each attempt's timeouts are also capped by what is left of the budget.
 * - Retries with exponential backoff and full jitter on 429/502/503/504 and on network errors, honouring
 *   `Retry-After`, bounded by a number of attempts and by a total time budget.
 * - Non-idempotent requests (POST that creates) are never blindly retried: after a failure that may have happened
 *   after the server applied the change (connection reset, timeout waiting for the answer, 5xx), the caller's
 *   `reconcile` function reads the object back and decides; only if nothing was applied is the request sent again.
 * - Errors name the method, path, status, the API's message and request id, with a hint for 401/403/404;
 *   every text from the server is redacted of the credentials and secrets the caller declared. A network error names
 *   where the URL came from; a TLS error names the host and what to set.
 * - Every request honours HTTPS_PROXY/HTTP_PROXY/NO_PROXY (and their lower-case forms) through undici's
 *   EnvHttpProxyAgent; the proxy URL's credentials are never put into a message. Private CAs: NODE_EXTRA_CA_CERTS,
 *   or a PEM bundle for one server (the connection's caCert), added to the default trusted CAs.
 */
import { createHash } from "crypto";
import { STATUS_CODES } from "http";
import * as tls from "tls";
import type { Dispatcher } from "undici";

// Loaded on first use: a preview (check and diff only) makes no HTTP call and need not pay for loading it.
let undiciModule: typeof import("undici") | undefined;
const undici = () => (undiciModule ??= require("undici") as typeof import("undici"));
import { redact } from "../engine/secrets";
import { ApiError, NetworkError, ServiceName } from "./errors";

export type HttpMethod = "GET" | "POST" | "PATCH" | "PUT" | "DELETE";

export interface RetryPolicy {
    /** Attempts in total, the first one included. */
    maxAttempts: number;
    baseDelayMs: number;
    maxDelayMs: number;
    /** Total time for one logical request, retries and waits included. */
    budgetMs: number;
}

export interface Timeouts {
    connectMs: number;
    /** Time to wait for the response headers of one attempt. */
    headersMs: number;
    /** Time allowed between body chunks of one attempt. */
    bodyMs: number;
}

export interface HttpResponse {
    status: number;
    body: unknown;
    headers: Record<string, string | string[] | undefined>;
}

export interface HttpRequest {
    method: HttpMethod;
    /** Path below the client's base URL, e.g. "/api/v1/sso/oidc/config". */
    path: string;
    query?: Record<string, string | undefined>;
    body?: unknown;
    /** Defaults to true for everything but POST. */
    idempotent?: boolean;
    /**
     * For non-idempotent requests: called after a failure that may have been applied by the server.
     * Returns the result to use when it was applied (the request then counts as a success), or undefined when it
     * was not (the request is then sent again, within the budget).
     */
    reconcile?: () => Promise<{ body: unknown } | undefined>;
    /** Extra values to redact from error texts for this request (e.g. the secret being written). */
    secrets?: Array<string | undefined>;
    /** Sent without the Authorization header (e.g. the login exchange, discovery documents). */
    anonymous?: boolean;
}

/** What an error answer said, for choosing a hint. */
export interface ErrorInfo {
    status: number;
    req: HttpRequest;
    /** The API's message (redacted). */
    apiMessage?: string;
    /** The API's error kind: Infisical `error` ("ValidationFailure", "PermissionDenied", ...), Unleash `name`. */
    errorName?: string;
    /** A cause the API adds beside its message (Infisical's `error` when it is a sentence). */
    apiDetail?: string;
    /** Where a validation failure points, as the API names the fields (Infisical zod issue paths, Unleash details paths). */
    invalidFields: string[];
    /** Permissions the API says are missing (Unleash `permissions`, Infisical `details.missingPermissions`). */
    missingPermissions: string[];
}

/** How to trust a server's certificate. */
export interface TlsSettings {
    /** PEM bundle of extra CAs for this server (added to Node's default ones, NODE_EXTRA_CA_CERTS included). */
    caCert?: string;
    /** Where such a bundle can be set, for the fix of a TLS error (e.g. "connection.caCert, infisical:caCert"). */
    caCertSetting?: string;
}

export interface HttpClientOptions {
    /** Base URL (scheme, host, optional path prefix), without trailing slash. */
    baseUrl: string;
    service: ServiceName;
    /** Where the base URL came from ("stack config unleash:url"), named by network errors. */
    urlSource?: string;
    tls?: TlsSettings;
    /** Produces the Authorization header value. */
    authorization?: () => Promise<string | undefined>;
    /** Called once after a 401: returns true if fresh credentials were obtained and the request should be retried. */
    onUnauthorized?: () => Promise<boolean>;
    /** Credentials and secrets that must never appear in an error text. */
    secrets?: () => Array<string | undefined>;
    /** How to fix an error, shown after the API's message; chosen from what the API said, then the status. */
    hint?: (info: ErrorInfo) => string | undefined;
    retry?: Partial<RetryPolicy>;
    timeouts?: Partial<Timeouts>;
}

function envNumber(name: string): number | undefined {
    const raw = process.env[name];
    if (raw === undefined || raw.trim() === "") return undefined;
    const n = Number(raw);
    return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/**
 * Defaults, overridable with environment variables of the provider process:
 * PULUMI_OIDC_HTTP_TIMEOUT_MS (headers and body timeout of one attempt, default 30000),
 * PULUMI_OIDC_HTTP_CONNECT_TIMEOUT_MS (default 10000), PULUMI_OIDC_HTTP_RETRY_BUDGET_MS (default 60000),
 * PULUMI_OIDC_HTTP_MAX_ATTEMPTS (default 6), PULUMI_OIDC_HTTP_BASE_DELAY_MS (default 200).
 */
export function defaultRetryPolicy(): RetryPolicy {
    return {
        maxAttempts: envNumber("PULUMI_OIDC_HTTP_MAX_ATTEMPTS") ?? 6,
        baseDelayMs: envNumber("PULUMI_OIDC_HTTP_BASE_DELAY_MS") ?? 200,
        maxDelayMs: 10_000,
        budgetMs: envNumber("PULUMI_OIDC_HTTP_RETRY_BUDGET_MS") ?? 60_000,
    };
}

export function defaultTimeouts(): Timeouts {
    const t = envNumber("PULUMI_OIDC_HTTP_TIMEOUT_MS") ?? 30_000;
    return { connectMs: envNumber("PULUMI_OIDC_HTTP_CONNECT_TIMEOUT_MS") ?? 10_000, headersMs: t, bodyMs: t };
}

const agents = new Map<string, Dispatcher>();

/** The proxy environment variables that apply (undici's EnvHttpProxyAgent reads the same, lower-case first). */
function proxyEnv(): { http?: string; https?: string; noProxy?: string } {
    const e = process.env;
    return { http: e.http_proxy ?? e.HTTP_PROXY, https: e.https_proxy ?? e.HTTPS_PROXY, noProxy: e.no_proxy ?? e.NO_PROXY };
}

/** A proxy URL as it may be shown: scheme, host and port, never its credentials. */
export function displayProxy(raw: string | undefined): string | undefined {
    if (!raw) return undefined;
    try {
        const u = new URL(raw);
        return `${u.protocol}//${u.host}`;
    } catch {
        return "(an unparsable URL)";
    }
}

/** Node's default trusted CAs (the bundled ones and NODE_EXTRA_CA_CERTS) plus the server's own bundle. */
function trustedCAs(caCert: string): string[] {
    const getCACertificates = (tls as unknown as { getCACertificates?: (type?: string) => string[] }).getCACertificates;
    const defaults = getCACertificates ? getCACertificates("default") : [...tls.rootCertificates];
    return [...defaults, caCert];
}

/**
 * The shared keep-alive dispatcher of an origin: direct, or through the proxy the environment names for it. One per
 * origin, connect timeout, CA bundle and proxy settings.
 */
export function agentFor(origin: string, connectMs: number, caCert?: string): Dispatcher {
    const proxies = proxyEnv();
    const key = createHash("sha256").update(JSON.stringify([origin, connectMs, caCert ?? "", proxies])).digest("hex");
    let agent = agents.get(key);
    if (!agent) {
        const ca = caCert ? trustedCAs(caCert) : undefined;
        const pool = { keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000, connections: 32 };
        agent = new (undici().EnvHttpProxyAgent)({
            ...pool,
            // Direct connections (and the TCP connection to a proxy).
            connect: { timeout: connectMs, ...(ca ? { ca } : {}) },
            // TLS to the server inside a proxy's tunnel.
            requestTls: { timeout: connectMs, ...(ca ? { ca } : {}) },
        });
        agents.set(key, agent);
    }
    return agent;
}

/** Closes every pooled connection (tests; the provider process simply exits). */
export async function closeAllAgents(): Promise<void> {
    const all = [...agents.values()];
    agents.clear();
    await Promise.all(all.map((a) => a.close().catch(() => undefined)));
}

/** TLS failures: the server's certificate is not trusted or not for this host. Certain, so never retried. */
const TLS_CODES = new Set([
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    "UNABLE_TO_GET_ISSUER_CERT",
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    "SELF_SIGNED_CERT_IN_CHAIN",
    "DEPTH_ZERO_SELF_SIGNED_CERT",
    "CERT_HAS_EXPIRED",
    "CERT_NOT_YET_VALID",
    "CERT_UNTRUSTED",
    "CERT_SIGNATURE_FAILURE",
    "ERR_TLS_CERT_ALTNAME_INVALID",
    "EPROTO",
    "ERR_SSL_WRONG_VERSION_NUMBER",
]);

/** Network failures where the request certainly did not reach the server: safe to resend even a POST. */
const NOT_SENT_CODES = new Set(["ECONNREFUSED", "UND_ERR_CONNECT_TIMEOUT", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);
/** Network failures after which the server may or may not have applied the request. */
const AMBIGUOUS_CODES = new Set(["ECONNRESET", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "UND_ERR_CLOSED", "ETIMEDOUT"]);
const RETRY_STATUSES = new Set([429, 502, 503, 504]);

function errorCode(err: unknown): string {
    // undici wraps the socket's error (e.g. a TLS failure inside a proxy tunnel) in its own: the innermost code says most.
    const codes: string[] = [];
    let e = err as { code?: unknown; cause?: unknown } | undefined;
    for (let depth = 0; e && depth < 5; depth++) {
        if (typeof e.code === "string") codes.push(e.code);
        e = e.cause as typeof e;
    }
    return codes.find((c) => TLS_CODES.has(c)) ?? codes[0] ?? "UNKNOWN";
}

function tlsFix(origin: string, code: string, settings: TlsSettings | undefined): string {
    const host = new URL(origin).host;
    if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID") return `the certificate of ${host} is outside its validity period: renew it on the server`;
    if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return `the certificate of ${host} is not issued for that name: use the host name the certificate names, or fix the certificate`;
    if (code === "EPROTO" || code === "ERR_SSL_WRONG_VERSION_NUMBER") return `${host} does not speak TLS on that port: check http:// versus https:// in the URL`;
    const where = settings?.caCertSetting ? `, or put the CA's PEM bundle in ${settings.caCertSetting} (this server only)` : "";
    return `the certificate of ${host} is signed by a CA this machine does not trust (a private CA?): set NODE_EXTRA_CA_CERTS=/path/to/ca.pem for the process that runs pulumi${where}`;
}

function describeNetworkError(code: string): string {
    switch (code) {
        case "ECONNREFUSED":
            return "connection refused";
        case "UND_ERR_CONNECT_TIMEOUT":
            return "timed out while connecting";
        case "UND_ERR_HEADERS_TIMEOUT":
            return "timed out waiting for the response";
        case "UND_ERR_BODY_TIMEOUT":
            return "timed out reading the response body";
        case "ENOTFOUND":
        case "EAI_AGAIN":
            return "the host name could not be resolved";
        case "ECONNRESET":
        case "UND_ERR_SOCKET":
        case "EPIPE":
            return "the connection was closed before a response arrived";
        default:
            if (TLS_CODES.has(code)) return "the TLS handshake failed";
            return "the request failed";
    }
}

/** Seconds or HTTP-date → milliseconds from now. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
    const v = Array.isArray(value) ? value[0] : value;
    if (v === undefined || v.trim() === "") return undefined;
    if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v.trim()) * 1000);
    const date = Date.parse(v);
    return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Exponential backoff with full jitter: a random delay in [0, min(max, base * 2^retry)]. */
export function backoffDelay(retry: number, policy: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">, random = Math.random): number {
    const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
    return Math.round(random() * cap);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function debug(message: string): void {
    if (process.env.PULUMI_OIDC_DEBUG) process.stderr.write(`[pulumi-oidc-settings] ${message}\n`);
}

/**
 * What the API said in an error body: Infisical `{reqId, statusCode, message, error, details?}` (a validation failure's
 * `message` is the list of zod issues), Unleash `{id, name, message, details: [{message, path}]}`, or Unleash's raw joi
 * error `{_original, details}`, whose `_original` echoes the request body (secret included) and is never read.
 */
/** HTTP reason phrases ("Service Unavailable"): an `error` that is one of them adds nothing to the status. */
const HTTP_REASONS = new Set(Object.values(STATUS_CODES).map((t) => String(t).toLowerCase()));

export function apiErrorFields(body: unknown): { message?: string; detail?: string; reqId?: string; errorName?: string; invalidFields: string[]; missingPermissions: string[] } {
    const invalidFields: string[] = [];
    const missingPermissions: string[] = [];
    if (typeof body === "string") return { message: body.trim().slice(0, 300) || undefined, invalidFields, missingPermissions };
    if (typeof body !== "object" || body === null) return { invalidFields, missingPermissions };
    const b = body as Record<string, unknown>;
    const issueText = (d: unknown): string | undefined => {
        if (typeof d !== "object" || d === null) return undefined;
        const issue = d as { message?: unknown; path?: unknown; context?: { key?: unknown } };
        // Infisical: ["clientSecret"] or ["body", "x"]; Unleash: "/body/clientId" (a JSON pointer) or ["x"] (joi).
        const parts = Array.isArray(issue.path) ? issue.path.filter((p) => typeof p === "string" || typeof p === "number").map(String) : typeof issue.path === "string" ? issue.path.split(/[./]/) : [];
        while (parts.length > 0 && (parts[0] === "" || /^(body|query|params)$/.test(parts[0]))) parts.shift();
        const field = parts.join(".") || (typeof issue.context?.key === "string" ? issue.context.key : "");
        if (field) invalidFields.push(field.split(".")[0]);
        if (typeof issue.message !== "string") return field ? `${field}: invalid value` : undefined;
        return field && !issue.message.includes(field) ? `${field}: ${issue.message}` : issue.message;
    };
    let message: string | undefined;
    if (typeof b.message === "string") message = b.message;
    else if (Array.isArray(b.message)) message = b.message.map(issueText).filter(Boolean).join("; ") || undefined;
    else if (b.message !== undefined) message = JSON.stringify(b.message).slice(0, 500);
    if (Array.isArray(b.details) && b.details.length > 0) {
        const details = b.details.map(issueText).filter((d): d is string => !!d && d !== message);
        if (details.length > 0) message = [message, ...details].filter(Boolean).join("; ");
    }
    const permissionsOf = (v: unknown) => {
        if (!Array.isArray(v)) return;
        for (const p of v) {
            if (typeof p === "string") missingPermissions.push(p);
            else if (typeof p === "object" && p !== null) {
                const o = p as Record<string, unknown>;
                const name = [o.action, o.subject, o.permission].filter((x) => typeof x === "string").join(" ");
                if (name) missingPermissions.push(name);
            }
        }
    };
    permissionsOf(b.permissions);
    if (typeof b.details === "object" && b.details !== null && !Array.isArray(b.details)) permissionsOf((b.details as Record<string, unknown>).missingPermissions);
    const reqId = typeof b.reqId === "string" ? b.reqId : typeof b.id === "string" ? b.id : undefined;
    const errorName = typeof b.error === "string" ? b.error : typeof b.name === "string" ? b.name : undefined;
    // Infisical's `error` is usually a name ("ForbiddenError"), but some answers put the cause there, e.g. a machine
    // identity of another organization: 403 "You are not allowed to access this resource", error "Identity is not
    // apart of this organization" (2024-10 build, shared/real-servers/infisical-2024-10.md 2f.7). Shown when it says more.
    const statusCode = typeof b.statusCode === "number" ? b.statusCode : undefined;
    const error = typeof b.error === "string" ? b.error.trim() : "";
    const sentence = /\s/.test(error) && error !== message && !HTTP_REASONS.has(error.toLowerCase());
    // 4xx only: a 5xx's `error` names the failed database operation ("Update by id"), which helps no one fix anything.
    const detail = sentence && (statusCode === undefined || (statusCode >= 400 && statusCode < 500)) ? error.slice(0, 300) : undefined;
    return { message, detail, reqId, errorName, invalidFields: [...new Set(invalidFields)], missingPermissions };
}

/** A validation failure (named so, or pointing at fields): the request was refused, not the credentials. */
export function isValidationFailure(fields: { errorName?: string; invalidFields: string[] }): boolean {
    return /^(ValidationFailure|BadDataError|ValidationError)$/.test(fields.errorName ?? "") || fields.invalidFields.length > 0;
}

export class HttpClient {
    readonly baseUrl: string;
    readonly origin: string;
    readonly service: ServiceName;
    private readonly basePath: string;
    private readonly opts: HttpClientOptions;
    private readonly retry: RetryPolicy;
    private readonly timeouts: Timeouts;

    constructor(opts: HttpClientOptions) {
        const parsed = new URL(opts.baseUrl);
        this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
        this.origin = parsed.origin;
        this.basePath = parsed.pathname.replace(/\/+$/, "");
        this.service = opts.service;
        this.opts = opts;
        this.retry = { ...defaultRetryPolicy(), ...opts.retry };
        this.timeouts = { ...defaultTimeouts(), ...opts.timeouts };
    }

    private secretValues(req: HttpRequest): Array<string | undefined> {
        return [...(this.opts.secrets?.() ?? []), ...(req.secrets ?? [])];
    }

    private displayPath(req: HttpRequest): string {
        const qs = new URLSearchParams();
        for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) qs.set(k, v);
        const q = qs.toString();
        return `${this.basePath}${req.path}${q ? `?${q}` : ""}`;
    }

    /** Sends the request with retries; resolves with a 2xx response or rejects with ApiError/NetworkError. */
    async request(req: HttpRequest): Promise<HttpResponse> {
        const idempotent = req.idempotent ?? req.method !== "POST";
        const started = Date.now();
        const path = this.displayPath(req);
        let attempt = 0;
        let retriedUnauthorized = false;

        for (;;) {
            attempt++;
            const remaining = this.retry.budgetMs - (Date.now() - started);
            let outcome: { kind: "response"; res: HttpResponse } | { kind: "network"; code: string; sent: boolean };
            // Credential problems (a refused universal-auth login) are errors of their own, not network failures.
            const authorization = req.anonymous || !this.opts.authorization ? undefined : await this.opts.authorization();
            try {
                const res = await this.send(req, path, Math.max(1, Math.min(this.timeouts.headersMs, remaining)), authorization);
                outcome = { kind: "response", res };
            } catch (err) {
                const code = errorCode(err);
                outcome = { kind: "network", code, sent: !NOT_SENT_CODES.has(code) };
                debug(`${req.method} ${path} attempt ${attempt}: ${code}`);
            }

            if (outcome.kind === "response") {
                const { res } = outcome;
                debug(`${req.method} ${path} attempt ${attempt}: ${res.status}`);
                if (res.status >= 200 && res.status < 300) return res;

                // Infisical refuses an expired or revoked access token with 401, or with 403 "TokenError". A 401 that is a
                // validation failure (Infisical 2024 builds answer them 401 ValidationFailure) refuses the request, not the token.
                const fields = apiErrorFields(res.body);
                const tokenRefused = (res.status === 401 && !isValidationFailure(fields)) || (res.status === 403 && fields.errorName === "TokenError");
                if (tokenRefused && !retriedUnauthorized && this.opts.onUnauthorized && !req.anonymous) {
                    retriedUnauthorized = true;
                    if (await this.opts.onUnauthorized()) {
                        attempt--;
                        continue;
                    }
                }

                const retryable = RETRY_STATUSES.has(res.status);
                // A 429 is refused before any work; any other 5xx may come after the change was applied.
                if (!idempotent && res.status >= 500 && req.reconcile) {
                    const applied = await req.reconcile();
                    if (applied) return { status: 200, body: applied.body, headers: {} };
                }
                if (retryable) {
                    const wait = this.nextDelay(attempt, started, parseRetryAfter(res.headers["retry-after"]));
                    if (wait !== undefined) {
                        await sleep(wait);
                        continue;
                    }
                }
                throw this.apiError(req, path, res, attempt);
            }

            // Network failure. A TLS failure is certain and permanent: said at once, with the fix.
            if (TLS_CODES.has(outcome.code)) {
                throw this.networkError(req, path, outcome.code, describeNetworkError(outcome.code), attempt, tlsFix(this.origin, outcome.code, this.opts.tls));
            }
            const ambiguous = outcome.sent && (AMBIGUOUS_CODES.has(outcome.code) || outcome.code === "UNKNOWN");
            if (!idempotent && ambiguous) {
                if (req.reconcile) {
                    const applied = await req.reconcile();
                    if (applied) return { status: 200, body: applied.body, headers: {} };
                } else {
                    throw this.networkError(req, path, outcome.code, `${describeNetworkError(outcome.code)}; not retried because the request may have been applied`, attempt);
                }
            }
            const wait = this.nextDelay(attempt, started, undefined);
            if (wait !== undefined) {
                await sleep(wait);
                continue;
            }
            throw this.networkError(req, path, outcome.code, describeNetworkError(outcome.code), attempt);
        }
    }

    private networkError(req: HttpRequest, path: string, code: string, reason: string, attempts: number, fix?: string): NetworkError {
        const proxies = proxyEnv();
        const proxy = displayProxy(this.origin.startsWith("https:") ? (proxies.https ?? proxies.http) : proxies.http);
        return new NetworkError({
            service: this.service,
            method: req.method,
            path,
            code,
            reason: proxy ? `${reason} (HTTP(S)_PROXY is set: ${proxy}, unless NO_PROXY names this host)` : reason,
            attempts,
            origin: this.origin,
            urlSource: this.opts.urlSource,
            fix,
        });
    }

    /** The wait before the next attempt, or undefined when the attempts or the time budget are used up. */
    private nextDelay(attempt: number, started: number, retryAfterMs: number | undefined): number | undefined {
        if (attempt >= this.retry.maxAttempts) return undefined;
        const delay = Math.max(backoffDelay(attempt - 1, this.retry), retryAfterMs ?? 0);
        const elapsed = Date.now() - started;
        // Leave room for the next attempt itself to get an answer.
        if (elapsed + delay >= this.retry.budgetMs) return undefined;
        return delay;
    }

    private async send(req: HttpRequest, path: string, headersTimeout: number, authorization: string | undefined): Promise<HttpResponse> {
        const headers: Record<string, string> = { accept: "application/json" };
        if (authorization) headers.authorization = authorization;
        let body: string | undefined;
        if (req.body !== undefined) {
            body = JSON.stringify(req.body);
            headers["content-type"] = "application/json";
        }
        const res: Dispatcher.ResponseData = await undici().request(`${this.origin}${path}`, {
            method: req.method,
            headers,
            body,
            dispatcher: agentFor(this.origin, this.timeouts.connectMs, this.opts.tls?.caCert),
            headersTimeout,
            bodyTimeout: this.timeouts.bodyMs,
        });
        const text = await res.body.text();
        let parsed: unknown = text;
        const contentType = String(res.headers["content-type"] ?? "");
        if (text !== "" && (contentType.includes("json") || /^\s*[[{]/.test(text))) {
            try {
                parsed = JSON.parse(text);
            } catch {
                parsed = text;
            }
        } else if (text === "") {
            parsed = undefined;
        }
        return { status: res.statusCode, body: parsed, headers: res.headers };
    }

    private apiError(req: HttpRequest, path: string, res: HttpResponse, attempts: number): ApiError {
        const fields = apiErrorFields(res.body);
        const secrets = this.secretValues(req);
        const apiMessage = fields.message !== undefined ? redact(fields.message, secrets) : undefined;
        const apiDetail = fields.detail !== undefined ? redact(fields.detail, secrets) : undefined;
        let hint = this.opts.hint?.({
            status: res.status,
            req,
            apiMessage,
            apiDetail,
            errorName: fields.errorName,
            invalidFields: fields.invalidFields,
            missingPermissions: fields.missingPermissions,
        });
        if (!hint && RETRY_STATUSES.has(res.status)) {
            hint = `the server kept answering ${res.status}; the retry budget (${attempts} attempts, ${Math.round(this.retry.budgetMs / 1000)}s) is used up: try again later`;
        }
        return new ApiError({
            service: this.service,
            method: req.method,
            path,
            status: res.status,
            apiMessage,
            apiDetail,
            reqId: fields.reqId,
            errorName: fields.errorName,
            invalidFields: fields.invalidFields,
            hint,
            attempts,
        });
    }
}
