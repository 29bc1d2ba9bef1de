/**
 * A local HTTP server (127.0.0.1, port 0) that answers with exchanges recorded on a real server, and nothing else.
 *
 * A test plays a script: an ordered list of recorded exchanges (by their `ref`). A request is answered by the first
 * exchange of the script not used yet whose method, path (with query), credentials and JSON body are the recorded
 * ones; a repeatable step (`repeat`) is never used up. A step may relax one of the matches, with the reason why the
 * real server's answer does not depend on it (`anyBody`, `anyQuery`, `anyAuth`): the reason is kept next to the test.
 * A request that matches no step is answered 501 `NotRecorded` and listed in `unmatched`, so a test sees a request
 * the real server was never asked.
 *
 * Recorded credentials are scrubbed (`<token>`, `<secret>`); the test gives its own values per credential label, and
 * a universal-auth login exchange (`grants: <label>`) hands out that label's token.
 */
import * as http from "http";
import type { AddressInfo } from "net";
import deepEqual from "deep-equal";

export interface RecordedExchange {
    ref: string;
    label: string;
    method: string;
    /** Path and query, as recorded. */
    path: string;
    /** Credential label of the request ("none" when it had no Authorization header). */
    auth: string;
    body: unknown;
    status: number;
    /** The answer's JSON body, or "" for an empty body. */
    response: unknown;
    /** For a universal-auth login: the label whose token the answer carries. */
    grants?: string;
}

export interface ScriptStep {
    ref: string;
    /** Answer again and again (reads), instead of once. */
    repeat?: boolean;
    /** Why the answer does not depend on the request body (then any body matches). */
    anyBody?: string;
    /** Why the answer does not depend on the query string (then only the path before "?" must match). */
    anyQuery?: string;
    /** Why the answer does not depend on which valid credential is used (then any known credential matches). */
    anyAuth?: string;
    /**
     * Settings the request may carry beyond the recorded body, each with the one value that gets the recorded answer
     * too (e.g. the value the server filled in when it was left out, as its answer shows). The request matches when it
     * is the recorded body plus any of these, with exactly these values (a setting the recorded body has keeps its value).
     */
    bodyPlus?: Record<string, unknown>;
    /** Settings of the recorded body the request may leave out (the server drops them: the answer is the same). */
    bodyMayOmit?: string[];
}

export interface SeenRequest {
    method: string;
    path: string;
    /** Credential label recognised from the Authorization header ("none", or "unknown"). */
    auth: string;
    body: unknown;
    /** The exchange that answered it (undefined: not recorded, answered 501). */
    answeredWith?: string;
}

export interface ReplayServer {
    url: string;
    /** Every request, in order. */
    requests: SeenRequest[];
    /** Requests no step of the script matched. */
    unmatched(): SeenRequest[];
    /** Replaces the script (and forgets the requests seen so far). */
    play(steps: Array<ScriptStep | string>): void;
    close(): Promise<void>;
}

export interface ReplayOptions {
    exchanges: RecordedExchange[];
    /** Token per credential label (what the client sends as `Bearer <token>`, and what a login hands out). */
    tokens: Record<string, string>;
    /** Universal-auth client secret per credential label (replaces the recorded `<secret>`). */
    clientSecrets?: Record<string, string>;
    /** Steps available to every script, after its own (e.g. the credential checks a client sends once per process). */
    background?: Array<ScriptStep | string>;
}

function substitute(value: unknown, from: string, to: string): unknown {
    if (typeof value === "string") return value === from ? to : value;
    if (Array.isArray(value)) return value.map((v) => substitute(v, from, to));
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, from, to)]));
    return value;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export async function startReplayServer(options: ReplayOptions): Promise<ReplayServer> {
    const byRef = new Map(options.exchanges.map((e) => [e.ref, e]));
    let script: Array<ScriptStep & { used: boolean }> = [];
    const requests: SeenRequest[] = [];

    const labelOf = (authorization: string | undefined): string => {
        if (!authorization) return "none";
        const token = authorization.replace(/^Bearer\s+/i, "");
        return Object.entries(options.tokens).find(([, t]) => t === token)?.[0] ?? "unknown";
    };

    const recordedBody = (e: RecordedExchange): unknown =>
        e.grants ? substitute(e.body, "<secret>", options.clientSecrets?.[e.grants] ?? "<secret>") : e.body;

    const background = (options.background ?? []).map((s) => ({ ...(typeof s === "string" ? { ref: s } : s), used: false }));
    const find = (req: SeenRequest): (ScriptStep & { used: boolean }) | undefined =>
        [...script, ...background].find((step) => {
            if (step.used) return false;
            const e = byRef.get(step.ref)!;
            if (e.method !== req.method) return false;
            if (step.anyQuery ? e.path.split("?")[0] !== req.path.split("?")[0] : e.path !== req.path) return false;
            if (step.anyAuth ? req.auth === "none" || req.auth === "unknown" : e.auth !== req.auth) return false;
            if (step.anyBody) return true;
            const extra = step.bodyPlus && isObject(req.body) ? Object.fromEntries(Object.entries(step.bodyPlus).filter(([k]) => k in (req.body as object))) : {};
            let expected = step.bodyPlus && isObject(recordedBody(e)) ? { ...extra, ...(recordedBody(e) as object) } : recordedBody(e);
            if (step.bodyMayOmit && isObject(expected) && isObject(req.body)) {
                const sent = req.body;
                expected = Object.fromEntries(Object.entries(expected).filter(([k]) => !step.bodyMayOmit!.includes(k) || k in sent));
            }
            return deepEqual(expected ?? undefined, req.body ?? undefined, { strict: true });
        });

    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const raw = Buffer.concat(chunks).toString("utf8");
            let body: unknown;
            try {
                body = raw ? JSON.parse(raw) : undefined;
            } catch {
                body = raw;
            }
            const seen: SeenRequest = { method: req.method ?? "", path: req.url ?? "", auth: labelOf(req.headers.authorization), body };
            requests.push(seen);
            const step = find(seen);
            if (!step) {
                const text = JSON.stringify({ statusCode: 501, message: `no recorded exchange for ${seen.method} ${seen.path} (${seen.auth}) with body ${JSON.stringify(seen.body)}`, error: "NotRecorded" });
                res.writeHead(501, { "content-type": "application/json; charset=utf-8" }).end(text);
                return;
            }
            if (!step.repeat) step.used = true;
            seen.answeredWith = step.ref;
            const e = byRef.get(step.ref)!;
            const answer = e.grants ? substitute(e.response, "<token>", options.tokens[e.grants]) : e.response;
            const text = answer === "" ? "" : JSON.stringify(answer);
            res.writeHead(e.status, text ? { "content-type": "application/json; charset=utf-8" } : {}).end(text);
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

    return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        requests,
        unmatched: () => requests.filter((r) => r.answeredWith === undefined),
        play(steps) {
            script = steps.map((s) => {
                const step = typeof s === "string" ? { ref: s } : s;
                if (!byRef.has(step.ref)) throw new Error(`no recorded exchange ${step.ref}`);
                return { ...step, used: false };
            });
            requests.length = 0;
        },
        async close() {
            server.closeAllConnections();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}
