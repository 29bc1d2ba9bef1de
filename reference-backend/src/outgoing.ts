/** The backend's own outgoing HTTP requests (OIDC discovery documents, JWKS), with a timeout and an optional CA. */
import { Agent, request } from "undici";

export interface FetchOptions {
    timeoutMs: number;
    /** PEM CA certificate(s) to trust for https URLs. */
    ca?: string;
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
