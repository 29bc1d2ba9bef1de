/**
 * Hostile and careless input: oversized bodies, malformed JSON, wrong content types, unknown fields, odd values on
 * every write route. Each gets the API's error status and error body shape (never a stack trace, never a broken
 * body echoed back), and the server keeps answering afterwards.
 */
import { Backend, bearer, call, infisical, Ready, ssoBody, start } from "./helpers";

let backend: Backend;
let ready: Ready;

beforeAll(async () => {
    backend = await start();
    ready = backend.ready;
});
afterAll(() => backend.stop());

const big = (bytes: number) => JSON.stringify({ organizationId: "x", clientId: "y".repeat(bytes) });

function routes() {
    const base = ready.infisical.url;
    const unleash = ready.unleash.url;
    return [
        { name: "POST sso config", method: "POST", url: `${base}/api/v1/sso/oidc/config`, auth: bearer(ready.infisical.token), service: "infisical" },
        { name: "PATCH sso config", method: "PATCH", url: `${base}/api/v1/sso/oidc/config`, auth: bearer(ready.infisical.token), service: "infisical" },
        { name: "POST identity auth", method: "POST", url: `${base}/api/v1/auth/oidc-auth/identities/${ready.infisical.identityIds[0]}`, auth: bearer(ready.infisical.token), service: "infisical" },
        { name: "PATCH identity auth", method: "PATCH", url: `${base}/api/v1/auth/oidc-auth/identities/${ready.infisical.identityIds[0]}`, auth: bearer(ready.infisical.token), service: "infisical" },
        { name: "universal-auth login", method: "POST", url: `${base}/api/v1/auth/universal-auth/login`, auth: undefined, service: "infisical" },
        { name: "POST unleash settings", method: "POST", url: `${unleash}/api/admin/auth/oidc/settings`, auth: ready.unleash.adminToken, service: "unleash" },
    ] as const;
}

/** The error body of each service, as its clients parse it. */
function expectErrorBody(service: "infisical" | "unleash", res: { status: number; json: any; text: string }) {
    if (service === "infisical") {
        // A 422's message is the list of validation issues (the API documents it as any JSON value).
        const message = res.status === 422 ? expect.arrayContaining([expect.objectContaining({ message: expect.any(String) })]) : expect.any(String);
        expect(res.json).toMatchObject({ reqId: expect.any(String), statusCode: res.status, message, error: expect.any(String) });
    } else if (res.status === 400 && !("name" in res.json)) {
        // Unleash answers its JSON parser's error as a bare {message}.
        expect(res.json).toEqual({ message: expect.any(String) });
    } else {
        expect(res.json).toMatchObject({ id: expect.any(String), name: expect.any(String), message: expect.any(String) });
    }
    expect(res.text).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/); // no stack trace
}

function expectErrorBodyAbsent(text: string) {
    expect(text).not.toContain("clientSecrett");
    expect(text).not.toContain("typo");
}

async function stillHealthy() {
    const res = await call("GET", `${ready.url}/healthz`);
    expect(res.status).toBe(200);
}

test("a body over the size limit is refused with 413, before any work", async () => {
    for (const r of routes()) {
        const res = await call(r.method, r.url, { authorization: r.auth, raw: big(2 * 1024 * 1024), contentType: "application/json" });
        expect([r.name, res.status]).toEqual([r.name, 413]);
        expectErrorBody(r.service, res);
    }
    await stillHealthy();
});

test("malformed JSON is a 400 that does not echo the body back", async () => {
    const secretish = "s3cr3t-value-in-a-broken-body";
    for (const r of routes()) {
        const res = await call(r.method, r.url, { authorization: r.auth, raw: `{"clientSecret": "${secretish}", `, contentType: "application/json" });
        expect([r.name, res.status]).toEqual([r.name, 400]);
        expectErrorBody(r.service, res);
        expect(res.text).not.toContain(secretish);
    }
    await stillHealthy();
});

test("a non-JSON content type is refused with 415", async () => {
    for (const r of routes()) {
        const res = await call(r.method, r.url, { authorization: r.auth, raw: "clientId=x&clientSecret=y", contentType: "application/x-www-form-urlencoded" });
        expect([r.name, res.status]).toEqual([r.name, 415]);
        expectErrorBody(r.service, res);
    }
    await stillHealthy();
});

test("JSON that is not an object, and wrong types, are validation errors", async () => {
    for (const r of routes()) {
        for (const raw of ["[]", "null", "42", '"text"']) {
            const res = await call(r.method, r.url, { authorization: r.auth, raw, contentType: "application/json" });
            expect([r.name, raw, res.status >= 400 && res.status < 500]).toEqual([r.name, raw, true]);
            expectErrorBody(r.service, res);
        }
    }
    const api = infisical(ready);
    const wrongTypes = await api.postSso(ssoBody(ready, ready.infisical.organizationId, { isActive: "yes", clientId: 7 }));
    expect(wrongTypes.status).toBe(422);
    expectErrorBody("infisical", wrongTypes);
    await stillHealthy();
});

test("unknown fields are dropped, as zod's default object parsing does in Infisical", async () => {
    const res = await infisical(ready).postSso(ssoBody(ready, ready.infisical.organizationId, { clientSecrett: "typo" }));
    expect(res.status).toBe(200);
    expectErrorBodyAbsent(res.text);
    const live = await infisical(ready).getSso(ready.infisical.organizationId);
    expect(live.status).toBe(200);
    expect(live.json).not.toHaveProperty("clientSecrett");
});

test("a burst of garbage on one connection after another leaves the server answering real requests", async () => {
    const r = routes()[0];
    const garbage = ["{", "}", "{{}}", "\u0000\u0001", '{"a":' + "[".repeat(5000), "true"];
    await Promise.all(garbage.map((raw) => call(r.method, r.url, { authorization: r.auth, raw, contentType: "application/json" })));
    const ok = await infisical(ready).patchSso({ organizationId: ready.infisical.organizationId, allowedEmailDomains: "after-garbage.example" });
    expect(ok.status).toBe(200);
    expect(ok.json.allowedEmailDomains).toBe("after-garbage.example");
    await stillHealthy();
});
