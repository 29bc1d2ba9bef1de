/**
 * The HTTP client against a scripted local server (real sockets): retries, Retry-After, budget, reconciliation of
 * non-idempotent requests, error messages, redaction.
 */
import * as http from "http";
import { AddressInfo } from "net";
import { backoffDelay, closeAllAgents, HttpClient, parseRetryAfter } from "../../provider/http/client";
import { ApiError, NetworkError } from "../../provider/http/errors";

type Handler = (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void;

let server: http.Server;
let baseUrl: string;
let handler: Handler = (_req, _body, res) => res.end();
const seen: Array<{ method: string; url: string; authorization?: string; body: string; at: number }> = [];

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
}

beforeAll(async () => {
    server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (c) => (body += c));
        req.on("end", () => {
            seen.push({ method: req.method ?? "", url: req.url ?? "", authorization: req.headers.authorization, body, at: Date.now() });
            handler(req, body, res);
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
    await closeAllAgents();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
    seen.length = 0;
});

const fast = { baseDelayMs: 5, maxDelayMs: 50, maxAttempts: 5, budgetMs: 10_000 };

function client(extra: Partial<ConstructorParameters<typeof HttpClient>[0]> = {}) {
    return new HttpClient({ baseUrl, service: "Infisical", authorization: async () => "Bearer tok-secret-123", secrets: () => ["tok-secret-123"], retry: fast, ...extra });
}

describe("retries", () => {
    test("503s are retried with backoff until a success", async () => {
        let n = 0;
        handler = (_req, _body, res) => (++n < 3 ? json(res, 503, { message: "busy" }) : json(res, 200, { ok: true }));
        const res = await client().request({ method: "GET", path: "/x" });
        expect(res.body).toEqual({ ok: true });
        expect(seen).toHaveLength(3);
        expect(seen[0].authorization).toBe("Bearer tok-secret-123");
    });

    test("429 honours Retry-After", async () => {
        let n = 0;
        handler = (_req, _body, res) => (++n === 1 ? json(res, 429, { message: "slow down" }, { "retry-after": "1" }) : json(res, 200, {}));
        await client().request({ method: "GET", path: "/x" });
        expect(seen).toHaveLength(2);
        expect(seen[1].at - seen[0].at).toBeGreaterThanOrEqual(950);
    });

    test("a 429 POST is resent without reconciliation (the server refused it before doing anything)", async () => {
        let n = 0;
        const reconcile = jest.fn(async () => undefined);
        handler = (_req, _body, res) => (++n === 1 ? json(res, 429, {}, { "retry-after": "0" }) : json(res, 200, { created: true }));
        const res = await client().request({ method: "POST", path: "/things", body: { a: 1 }, reconcile });
        expect(res.body).toEqual({ created: true });
        expect(reconcile).not.toHaveBeenCalled();
        expect(seen.filter((s) => s.method === "POST")).toHaveLength(2);
    });

    test("the attempt limit ends with an error that says so", async () => {
        handler = (_req, _body, res) => json(res, 503, { reqId: "req-7", statusCode: 503, message: "maintenance", error: "Service Unavailable" });
        const err = await client({ retry: { ...fast, maxAttempts: 3 } }).request({ method: "GET", path: "/x", query: { organizationId: "org-1" } }).catch((e) => e);
        expect(err).toBeInstanceOf(ApiError);
        expect(err.attempts).toBe(3);
        expect(err.message).toBe(
            "Infisical API: GET /x?organizationId=org-1 returned 503 Service Unavailable: maintenance (reqId: req-7) [after 3 attempts]. " +
                "How to fix: the server kept answering 503; the retry budget (3 attempts, 10s) is used up: try again later",
        );
        expect(seen).toHaveLength(3);
    });

    test("a Retry-After beyond the time budget stops at once", async () => {
        handler = (_req, _body, res) => json(res, 429, { message: "later" }, { "retry-after": "120" });
        const started = Date.now();
        const err = await client({ retry: { ...fast, budgetMs: 2000 } }).request({ method: "GET", path: "/x" }).catch((e) => e);
        expect(err).toBeInstanceOf(ApiError);
        expect(err.status).toBe(429);
        expect(Date.now() - started).toBeLessThan(1500);
        expect(seen).toHaveLength(1);
    });

    test("4xx are not retried", async () => {
        handler = (_req, _body, res) => json(res, 400, { reqId: "r1", statusCode: 400, message: "bad", error: "Bad Request" });
        await expect(client().request({ method: "PATCH", path: "/x", body: {} })).rejects.toBeInstanceOf(ApiError);
        expect(seen).toHaveLength(1);
    });

    test("a connection refused is retried and then reported as a network error", async () => {
        const dead = new HttpClient({ baseUrl: "http://127.0.0.1:1", service: "Unleash", retry: { ...fast, maxAttempts: 2 } });
        const err = await dead.request({ method: "GET", path: "/api/admin/auth/oidc/settings" }).catch((e) => e);
        expect(err).toBeInstanceOf(NetworkError);
        expect(err.message).toContain("Unleash API: GET /api/admin/auth/oidc/settings on http://127.0.0.1:1 failed: connection refused (ECONNREFUSED) [after 2 attempts]");
    });

    test("a hung server is bounded by the timeout and the budget", async () => {
        handler = () => undefined; // never answers
        const started = Date.now();
        const err = await new HttpClient({ baseUrl, service: "Infisical", retry: { ...fast, maxAttempts: 3, budgetMs: 1500 }, timeouts: { headersMs: 400, bodyMs: 400 } })
            .request({ method: "GET", path: "/hang" })
            .catch((e) => e);
        expect(err).toBeInstanceOf(NetworkError);
        expect(err.code).toBe("UND_ERR_HEADERS_TIMEOUT");
        expect(err.message).toContain("timed out waiting for the response");
        expect(Date.now() - started).toBeLessThan(3000);
    });
});

describe("non-idempotent requests", () => {
    test("a POST whose connection drops after it was applied is reconciled, not resent", async () => {
        let created = 0;
        handler = (req, _body, res) => {
            if (req.method === "POST") {
                created++;
                res.socket?.destroy(); // applied, then the answer is lost
            } else json(res, 200, { created });
        };
        const reconcile = jest.fn(async () => (created > 0 ? { body: { id: "obj-1" } } : undefined));
        const res = await client().request({ method: "POST", path: "/things", body: {}, reconcile });
        expect(res.body).toEqual({ id: "obj-1" });
        expect(reconcile).toHaveBeenCalledTimes(1);
        expect(created).toBe(1);
        expect(seen.filter((s) => s.method === "POST")).toHaveLength(1);
    });

    test("a POST dropped before it was applied is sent again after reconciliation finds nothing", async () => {
        let n = 0;
        let created = 0;
        handler = (req, _body, res) => {
            if (++n === 1) return void res.socket?.destroy();
            created++;
            json(res, 200, { id: "obj-1" });
        };
        const reconcile = jest.fn(async () => undefined);
        const res = await client().request({ method: "POST", path: "/things", body: {}, reconcile });
        expect(res.body).toEqual({ id: "obj-1" });
        expect(reconcile).toHaveBeenCalledTimes(1);
        expect(created).toBe(1);
    });

    test("a 502 on a POST is reconciled before anything is resent", async () => {
        let created = 0;
        handler = (req, _body, res) => {
            created++;
            json(res, 502, { message: "bad gateway" }); // the upstream applied it, the proxy lost the answer
        };
        const reconcile = jest.fn(async () => (created > 0 ? { body: { id: "obj-1" } } : undefined));
        const res = await client().request({ method: "POST", path: "/things", body: {}, reconcile });
        expect(res.body).toEqual({ id: "obj-1" });
        expect(seen).toHaveLength(1);
    });

    test("without a way to reconcile, an ambiguous POST failure is not retried", async () => {
        handler = (_req, _body, res) => void res.socket?.destroy();
        const err = await client().request({ method: "POST", path: "/things", body: {} }).catch((e) => e);
        expect(err).toBeInstanceOf(NetworkError);
        expect(err.message).toContain("not retried because the request may have been applied");
        expect(seen).toHaveLength(1);
    });

    test("an idempotent PATCH dropped after apply is simply repeated", async () => {
        let n = 0;
        handler = (_req, _body, res) => (++n === 1 ? void res.socket?.destroy() : json(res, 200, { ok: true }));
        await client().request({ method: "PATCH", path: "/x", body: { a: 1 } });
        expect(seen.map((s) => s.method)).toEqual(["PATCH", "PATCH"]);
    });
});

describe("errors and credentials", () => {
    test("the API's message and reqId, and a hint, are in the error; the credential is not", async () => {
        handler = (_req, _body, res) =>
            json(res, 401, { reqId: "req-42", statusCode: 401, message: "Token tok-secret-123 is invalid", error: "UnauthorizedError" });
        const err = await client({ hint: ({ status }) => (status === 401 ? "set a valid token" : undefined) }).request({ method: "GET", path: "/x" }).catch((e) => e);
        expect(err).toBeInstanceOf(ApiError);
        expect(err.message).toBe("Infisical API: GET /x returned 401 Unauthorized: Token [secret] is invalid (reqId: req-42). How to fix: set a valid token");
        expect(err.reqId).toBe("req-42");
        expect(err.errorName).toBe("UnauthorizedError");
        expect(JSON.stringify({ ...err, m: err.message, s: err.stack })).not.toContain("tok-secret-123");
    });

    test("request-specific secrets (the value being written) are redacted too", async () => {
        handler = (_req, body, res) => json(res, 422, { reqId: "r", statusCode: 422, message: [{ path: ["clientSecret"], received: JSON.parse(body).clientSecret }], error: "Validation" });
        const err = await client().request({ method: "PATCH", path: "/x", body: { clientSecret: "my-client-secret-xyz" }, secrets: ["my-client-secret-xyz"] }).catch((e) => e);
        expect(err.status).toBe(422);
        expect(err.message).toContain("clientSecret");
        expect(err.message).not.toContain("my-client-secret-xyz");
    });

    test("Unleash error bodies: id and name", async () => {
        handler = (_req, _body, res) => json(res, 403, { id: "err-9", name: "NoAccessError", message: "You need the ADMIN permission" });
        const err = await new HttpClient({ baseUrl, service: "Unleash", retry: fast }).request({ method: "POST", path: "/api/admin/auth/oidc/settings", body: {} }).catch((e) => e);
        expect(err.message).toBe("Unleash API: POST /api/admin/auth/oidc/settings returned 403 Forbidden: You need the ADMIN permission (reqId: err-9)");
    });

    test("a 401 refreshes credentials once and retries", async () => {
        let token = "old-token-value";
        handler = (req, _body, res) => (req.headers.authorization === "Bearer new-token-value" ? json(res, 200, { ok: true }) : json(res, 401, { message: "expired" }));
        const refresh = jest.fn(async () => {
            token = "new-token-value";
            return true;
        });
        const res = await new HttpClient({ baseUrl, service: "Infisical", authorization: async () => `Bearer ${token}`, onUnauthorized: refresh, retry: fast }).request({ method: "GET", path: "/x" });
        expect(res.body).toEqual({ ok: true });
        expect(refresh).toHaveBeenCalledTimes(1);
    });

    test("Infisical's 403 TokenError (an expired access token) also refreshes once; other 403s do not", async () => {
        let token = "old-token-value";
        handler = (req, _body, res) =>
            req.headers.authorization === "Bearer new-token-value"
                ? json(res, 200, { ok: true })
                : json(res, 403, { reqId: "r1", statusCode: 403, message: "Your token has expired. Please re-authenticate.", error: "TokenError" });
        const refresh = jest.fn(async () => {
            token = "new-token-value";
            return true;
        });
        const client = new HttpClient({ baseUrl, service: "Infisical", authorization: async () => `Bearer ${token}`, onUnauthorized: refresh, retry: fast });
        expect((await client.request({ method: "GET", path: "/x" })).body).toEqual({ ok: true });
        expect(refresh).toHaveBeenCalledTimes(1);

        handler = (_req, _body, res) => json(res, 403, { reqId: "r2", statusCode: 403, message: "You are not allowed", error: "PermissionDenied" });
        const err = await client.request({ method: "GET", path: "/y" }).catch((e) => e);
        expect(err.status).toBe(403);
        expect(refresh).toHaveBeenCalledTimes(1);
    });
});

describe("helpers", () => {
    test("Retry-After: seconds and HTTP dates", () => {
        expect(parseRetryAfter("3")).toBe(3000);
        expect(parseRetryAfter(new Date(Date.now() + 5000).toUTCString())).toBeGreaterThan(3000);
        expect(parseRetryAfter(undefined)).toBeUndefined();
        expect(parseRetryAfter("soon")).toBeUndefined();
    });

    test("backoff: exponential cap with full jitter", () => {
        const policy = { baseDelayMs: 100, maxDelayMs: 1000 };
        expect(backoffDelay(0, policy, () => 1)).toBe(100);
        expect(backoffDelay(3, policy, () => 1)).toBe(800);
        expect(backoffDelay(10, policy, () => 1)).toBe(1000);
        expect(backoffDelay(3, policy, () => 0)).toBe(0);
    });
});
