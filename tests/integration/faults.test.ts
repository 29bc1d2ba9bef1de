/**
 * The provider under the backend's fault injection (real HTTP): 503 bursts and 429 with Retry-After are survived,
 * a POST applied but whose answer was lost is not applied twice, a lost PATCH answer converges, and an exhausted
 * retry budget is a clear error that leaves the state true.
 */
import { assertNoLeaks, credentialsOf } from "../helpers/leak-scan";
import { SimulatedResource } from "../helpers/engine-sim";
import { Backend, configureStack, infisicalApi, provider, Ready, rejection, resetProviderProcess, stackConfigFor, start } from "./support";

let backend: Backend;
let ready: Ready;
const produced: Record<string, unknown> = {};
const savedEnv = { ...process.env };

function count(prefix: RegExp): number {
    return Object.entries(backend.stats().byRoute)
        .filter(([route]) => prefix.test(route))
        .reduce((sum, [, n]) => sum + Number(n), 0);
}

function sso(orgIndex: number, extra: Record<string, unknown> = {}) {
    const org = ready.infisical.organizations[orgIndex];
    return {
        organizationId: org.id,
        configurationType: "discoveryURL",
        discoveryURL: `${ready.issuer.url}/.well-known/openid-configuration`,
        clientId: "faults",
        clientSecret: "faults-client-secret-value",
        connection: { token: org.token },
        ...extra,
    };
}

function auth(identityId: string, extra: Record<string, unknown> = {}) {
    return { identityId, oidcDiscoveryUrl: ready.issuer.url, boundIssuer: ready.issuer.url, ...extra };
}

beforeAll(async () => {
    process.env.PULUMI_OIDC_HTTP_BASE_DELAY_MS = "20";
    backend = await start({ seed: { organizations: 4, identitiesPerOrg: 3, unleashInstances: 1 } });
    ready = backend.ready;
    await configureStack(stackConfigFor(ready));
});
afterEach(() => backend.faults.clear());
afterAll(async () => {
    process.env = savedEnv;
    assertNoLeaks(produced, credentialsOf(ready));
    await resetProviderProcess();
    await backend?.stop();
});

test("bursts of 503 on reads and on the creating POST are survived; the object is created once", async () => {
    backend.faults.set([
        { route: "GET /api/v1/sso/oidc/config", status: 503, times: 2 },
        { route: "POST /api/v1/sso/oidc/config", status: 503, times: 2 },
    ]);
    backend.resetStats();
    const res = new SimulatedResource(provider("OidcSsoConfig"));
    expect((await res.up(sso(0))).op).toBe("create");
    const live = await infisicalApi(ready, ready.infisical.organizations[0].token).getSso(ready.infisical.organizations[0].id);
    expect(live.json.isActive).toBe(true);
    // Each 503 on the POST was reconciled with a read before the POST was sent again.
    expect(count(/^POST \/api\/v1\/sso\/oidc\/config/)).toBe(3);
    expect(await res.refresh()).toBe("same");
});

test("429 with Retry-After is waited out", async () => {
    const res = new SimulatedResource(provider("OidcSsoConfig"));
    await res.up(sso(1));
    backend.faults.set([{ route: "PATCH /api/v1/sso/oidc/config", status: 429, retryAfterSeconds: 1, times: 1 }]);
    const started = Date.now();
    expect((await res.up(sso(1, { clientId: "faults-2" }))).op).toBe("update");
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect((await infisicalApi(ready, ready.infisical.organizations[1].token).getSso(ready.infisical.organizations[1].id)).json.clientId ?? "faults-2").toBe("faults-2");
});

test("a creating POST applied but whose answer was dropped is reconciled, not sent twice", async () => {
    const identityId = ready.infisical.organizations[0].identityIds[0];
    backend.faults.set([{ route: "POST /api/v1/auth/oidc-auth/identities/*", drop: "after", times: 1 }]);
    backend.resetStats();
    const res = new SimulatedResource(provider("IdentityOidcAuth"));
    expect((await res.up(auth(identityId))).op).toBe("create");
    expect(count(/^POST \/api\/v1\/auth\/oidc-auth\/identities/)).toBe(1);
    expect((await infisicalApi(ready).getAuth(identityId)).status).toBe(200);
    expect(typeof res.state?.identityOidcAuthId).toBe("string");
    expect(await res.refresh()).toBe("same");
});

test("a creating POST dropped before it was applied is sent again and applied once", async () => {
    const identityId = ready.infisical.organizations[0].identityIds[1];
    backend.faults.set([{ route: "POST /api/v1/auth/oidc-auth/identities/*", drop: "before", times: 1 }]);
    backend.resetStats();
    const res = new SimulatedResource(provider("IdentityOidcAuth"));
    expect((await res.up(auth(identityId))).op).toBe("create");
    expect(count(/^POST \/api\/v1\/auth\/oidc-auth\/identities/)).toBe(2);
    expect((await infisicalApi(ready).getAuth(identityId)).status).toBe(200);
});

test("an update whose answer was dropped converges (PATCH is repeated, not lost)", async () => {
    const identityId = ready.infisical.organizations[0].identityIds[2];
    const res = new SimulatedResource(provider("IdentityOidcAuth"));
    await res.up(auth(identityId));
    backend.faults.set([{ route: "PATCH /api/v1/auth/oidc-auth/identities/*", drop: "after", times: 1 }]);
    expect((await res.up(auth(identityId, { accessTokenTTL: 600 }))).op).toBe("update");
    expect((await infisicalApi(ready).getAuth(identityId)).json.identityOidcAuth.accessTokenTTL).toBe(600);
    expect(await res.refresh()).toBe("same");
});

test("an exhausted retry budget is a clear error, and the state stays true", async () => {
    process.env.PULUMI_OIDC_HTTP_MAX_ATTEMPTS = "3";
    try {
        const res = new SimulatedResource(provider("OidcSsoConfig"));
        await res.up(sso(2));
        const before = { ...res.state };
        backend.faults.set([{ route: "PATCH /api/v1/sso/oidc/config", status: 503, times: 100 }]);
        const err = await rejection(res.up(sso(2, { clientId: "never-applied" })));
        produced.budget = err;
        expect(err.message).toMatch(/^Infisical API: PATCH \/api\/v1\/sso\/oidc\/config returned 503 Service Unavailable/);
        expect(err.message).toContain("[after 3 attempts]");
        expect(err.message).toContain("retry budget");
        backend.faults.clear();
        expect(res.state).toEqual(before);
        expect(await res.refresh()).toBe("same"); // no phantom change
        expect((await res.preview(sso(2, { clientId: "never-applied" })) as { diffs?: string[] }).diffs).toEqual(["clientId"]);
    } finally {
        delete process.env.PULUMI_OIDC_HTTP_MAX_ATTEMPTS;
    }
});

test("slow answers within the timeout are simply waited for", async () => {
    backend.faults.set([{ route: "GET /api/v1/sso/oidc/config", latencyMs: 300, times: 1 }]);
    const got = await SimulatedResource.get(provider("OidcSsoConfig"), ready.infisical.organizations[0].id, { connection: { token: ready.infisical.organizations[0].token } });
    expect(got.id).toBe(ready.infisical.organizations[0].id);
});
