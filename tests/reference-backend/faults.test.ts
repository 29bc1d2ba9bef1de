/**
 * Fault injection and counters of the reference backend: each kind of rule (status with Retry-After, latency,
 * drop before, drop after), `times`, globs, the error dialect of each API, counting of faulted requests, the
 * admin routes, and rule validation.
 */
import { request } from "undici";
import { Backend, bearer, call, infisical, Ready, start } from "./helpers";

let backend: Backend;
let ready: Ready;

beforeAll(async () => {
    backend = await start({ seed: { organizations: 1, identitiesPerOrg: 4, unleashInstances: 1 } });
    ready = backend.ready;
});
afterEach(() => backend.faults.clear());
afterAll(async () => {
    await backend?.stop();
});

const id = (i: number) => ready.infisical.identityIds[i];
const attachBody = () => ({ oidcDiscoveryUrl: ready.issuer.url, boundIssuer: ready.issuer.url, boundClaims: {} });

/** A request on a fresh connection, resolving with its error instead of throwing. */
async function raw(method: string, url: string, body?: unknown): Promise<{ status?: number; code?: string }> {
    try {
        const res = await request(url, {
            method: method as "POST",
            headers: { authorization: bearer(ready.infisical.token), ...(body ? { "content-type": "application/json" } : {}) },
            body: body ? JSON.stringify(body) : undefined,
            reset: true,
        });
        await res.body.text();
        return { status: res.statusCode };
    } catch (err) {
        const e = err as { code?: string; cause?: { code?: string } };
        return { code: e.code ?? e.cause?.code ?? "UNKNOWN" };
    }
}

test("status: answered in Infisical's dialect with Retry-After, nothing applied, `times` uses run out", async () => {
    backend.faults.set([{ route: "POST /api/v1/auth/oidc-auth/identities/*", status: 503, retryAfterSeconds: 2, times: 2 }]);
    backend.resetStats();
    for (let i = 0; i < 2; i++) {
        const res = await call("POST", `${ready.infisical.url}/api/v1/auth/oidc-auth/identities/${id(0)}`, { authorization: bearer(ready.infisical.token), body: attachBody() });
        expect(res.status).toBe(503);
        expect(res.headers["retry-after"]).toBe("2");
        expect(res.json).toEqual({ reqId: expect.stringMatching(/^req-/), statusCode: 503, message: expect.stringContaining("fault injected"), error: "ServiceUnavailable" });
    }
    expect((await infisical(ready).getAuth(id(0))).status).toBe(400); // not applied
    expect((await infisical(ready).postAuth(id(0), attachBody())).status).toBe(200); // uses spent
    expect(backend.stats().byRoute[`POST /api/v1/auth/oidc-auth/identities/${id(0)}`]).toBe(3); // faulted ones counted
    expect(backend.stats().byPattern["POST /api/v1/auth/oidc-auth/identities/:identityId"]).toBe(3);
});

test("status on an Unleash route: Unleash's dialect; methods and globs must match", async () => {
    backend.faults.set([
        { route: "GET /unleash/*/api/admin/auth/oidc/settings", status: 429, retryAfterSeconds: 1 },
        { route: "* /unleash/0/api/admin/**", status: 502, times: 1 },
    ]);
    const url = `${ready.unleash.url}/api/admin/auth/oidc/settings`;
    const get = await call("GET", url, { authorization: ready.unleash.adminToken });
    expect(get.status).toBe(429);
    expect(get.json).toEqual({ id: expect.any(String), name: "UnknownError", message: expect.stringContaining("Too Many Requests"), details: expect.any(Array) });
    const post = await call("POST", url, { authorization: ready.unleash.adminToken, body: { enabled: false } });
    expect(post.status).toBe(502);
    expect(post.json.name).toBe("InternalError");
    expect((await call("POST", url, { authorization: ready.unleash.adminToken, body: { enabled: false } })).status).toBe(200);
    // Other routes are untouched.
    expect((await call("GET", `${ready.url}/healthz`)).status).toBe(200);
});

test("latency: the answer comes late but normally", async () => {
    backend.faults.set([{ route: "GET /api/v1/sso/oidc/config", latencyMs: 300, times: 1 }]);
    const started = Date.now();
    const res = await infisical(ready).getSso(ready.infisical.organizationId);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(res.status).toBe(404);
    const again = Date.now();
    await infisical(ready).getSso(ready.infisical.organizationId);
    expect(Date.now() - again).toBeLessThan(250);
});

test("drop before: the connection is closed and nothing is applied", async () => {
    backend.faults.set([{ route: "POST /api/v1/auth/oidc-auth/identities/*", drop: "before", times: 1 }]);
    const res = await raw("POST", `${ready.infisical.url}/api/v1/auth/oidc-auth/identities/${id(1)}`, attachBody());
    expect(res.status).toBeUndefined();
    expect(res.code).toMatch(/UND_ERR_SOCKET|ECONNRESET|EPIPE/);
    expect((await infisical(ready).getAuth(id(1))).status).toBe(400);
});

test("drop after: the change is applied and saved, the answer never arrives", async () => {
    backend.faults.set([{ route: "PATCH /api/v1/auth/oidc-auth/identities/*", drop: "after", times: 1 }]);
    expect((await infisical(ready).postAuth(id(2), attachBody())).status).toBe(200);
    const res = await raw("PATCH", `${ready.infisical.url}/api/v1/auth/oidc-auth/identities/${id(2)}`, { boundSubject: "applied-but-unanswered" });
    expect(res.status).toBeUndefined();
    expect(res.code).toMatch(/UND_ERR_SOCKET|ECONNRESET/);
    expect((await infisical(ready).getAuth(id(2))).json.identityOidcAuth.boundSubject).toBe("applied-but-unanswered");
    const saved = backend.state().infisical.identityOidcAuths.find((a) => a.identityId === id(2));
    expect(saved?.boundSubject).toBe("applied-but-unanswered");
});

test("invalid rules are refused with a readable message", () => {
    expect(() => backend.faults.set([{ route: "POST", status: 503 }])).toThrow(/METHOD \/path\/glob/);
    expect(() => backend.faults.set([{ route: "GET /x", status: 503, drop: "before" }])).toThrow(/both/);
    expect(() => backend.faults.set([{ route: "GET /x" }])).toThrow(/status, drop or latencyMs/);
    expect(() => backend.faults.set([{ route: "GET /x", status: 503, times: 0 }])).toThrow(/times/);
    expect(backend.faults.list()).toEqual([]);
});

test("admin routes set, list and clear rules and read counters, with the admin token only", async () => {
    const admin = bearer(ready.admin.token);
    expect((await call("GET", ready.admin.faultsUrl)).status).toBe(401);
    expect((await call("PUT", ready.admin.faultsUrl, { authorization: bearer(ready.infisical.token), body: [] })).status).toBe(401);
    const put = await call("PUT", ready.admin.faultsUrl, { authorization: admin, body: { rules: [{ route: "GET /healthz", status: 500, times: 1 }] } });
    expect(put.json).toEqual({ rules: [{ route: "GET /healthz", status: 500, times: 1, remaining: 1 }] });
    expect((await call("GET", `${ready.url}/healthz`)).status).toBe(500);
    expect((await call("GET", ready.admin.faultsUrl, { authorization: admin })).json.rules[0].remaining).toBe(0);
    expect((await call("PUT", ready.admin.faultsUrl, { authorization: admin, body: [{ route: "nope" }] })).status).toBe(400);
    expect((await call("DELETE", ready.admin.faultsUrl, { authorization: admin })).json).toEqual({ rules: [] });
    const stats = (await call("GET", ready.admin.statsUrl, { authorization: admin })).json;
    expect(stats.byRoute["GET /healthz"]).toBeGreaterThanOrEqual(1);
    await call("POST", `${ready.admin.statsUrl}/reset`, { authorization: admin });
    expect(backend.stats()).toEqual({ total: 0, byRoute: {}, byPattern: {} });
});

test("faults given at start apply from the first request", async () => {
    const b = await start({ seed: { organizations: 1, identitiesPerOrg: 1, unleashInstances: 1 }, faults: [{ route: "GET /api/v1/sso/oidc/config", status: 503, times: 1 }] });
    try {
        const api = infisical(b.ready);
        expect((await api.getSso(b.ready.infisical.organizationId)).status).toBe(503);
        expect((await api.getSso(b.ready.infisical.organizationId)).status).toBe(404);
    } finally {
        await b.stop();
    }
});
