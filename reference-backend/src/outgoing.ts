/** The backend's own outgoing HTTP requests (OIDC discovery documents, JWKS), with a timeout and an optional CA. */
import { Agent, request } from "undici";

export interface FetchOptions {
    timeoutMs: number;
    /** PEM CA certificate(s) to trust for https URLs. */
    ca?: string | string[];
}

/** GETs a JSON document; rejects with a short message on a network error, a non-2xx status or a non-JSON body. */
export async function getJson(url: string, opts: FetchOptions): Promise<unknown> {
    const parsed = new URL(url);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error(`unsupported protocol ${parsed.protocol}`);
    const dispatcher = opts.ca && parsed.protocol === "https:" ? new Agent({ connect: { ca: opts.ca } }) : undefined;
    try {
        const res = await request(url, {
            method: "GET",
            headers: { accept: "application/json" },
            headersTimeout: opts.timeoutMs,
            bodyTimeout: opts.timeoutMs,
            signal: AbortSignal.timeout(opts.timeoutMs),
            dispatcher,
        });
        const text = await res.body.text();
        if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`Request failed with status code ${res.statusCode}`);
        try {
            return JSON.parse(text) as unknown;
        } catch {
            throw new Error("the response is not JSON");
        }
    } finally {
        await dispatcher?.close().catch(() => undefined);
    }
}

export interface SendOptions {
    method: string;
    headers?: Record<string, string>;
    body?: string;
    timeoutMs: number;
    /** PEM CA certificate(s) to trust for https URLs. */
    ca?: string | string[];
    /** Whether an https server's certificate must verify (Infisical turns it off when no CA is given for Kubernetes). */
    rejectUnauthorized?: boolean;
    /** TLS server name to verify against instead of the URL's host. */
    servername?: string;
}

export interface SendResult {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    text: string;
}

/** A failed request: `code` is the system or TLS error code (ECONNREFUSED, ENOTFOUND, ETIMEDOUT, DEPTH_ZERO_SELF_SIGNED_CERT, …). */
export class SendError extends Error {
    readonly code: string | undefined;
    constructor(message: string, code: string | undefined) {
        super(message);
        this.code = code;
    }
}

/** Any request, answered whatever its status (the caller judges it); a network or TLS failure is a SendError. */
export async function send(url: string, opts: SendOptions): Promise<SendResult> {
    const parsed = new URL(url);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new SendError(`Unsupported protocol ${parsed.protocol}`, "ERR_BAD_REQUEST");
    const tls = parsed.protocol === "https:" && (opts.ca !== undefined || opts.rejectUnauthorized !== undefined || opts.servername !== undefined);
    const dispatcher = tls ? new Agent({ connect: { ca: opts.ca || undefined, rejectUnauthorized: opts.rejectUnauthorized, servername: opts.servername } }) : undefined;
    try {
        const res = await request(url, {
            method: opts.method as "POST",
            headers: opts.headers,
            body: opts.body,
            headersTimeout: opts.timeoutMs,
            bodyTimeout: opts.timeoutMs,
            signal: AbortSignal.timeout(opts.timeoutMs),
            dispatcher,
        });
        return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
    } catch (err) {
        const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
        const code = e.name === "TimeoutError" || e.name === "AbortError" ? "ECONNABORTED" : (e.code ?? e.cause?.code);
        const message = code === "ECONNABORTED" ? `timeout of ${opts.timeoutMs}ms exceeded` : (e.cause?.message ?? e.message);
        throw new SendError(message, code);
    } finally {
        await dispatcher?.close().catch(() => undefined);
    }
}
