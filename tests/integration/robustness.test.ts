/**
 * Robustness under load and faults (real HTTP against the reference backend): a hung server is bounded and
 * reported, 50 concurrent updates each land exactly once, and a backend restarted in the middle of a run loses
 * nothing it acknowledged.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { SimulatedResource } from "../helpers/engine-sim";
import { assertNoLeaks, credentialsOf } from "../helpers/leak-scan";
import { Backend, configureStack, infisicalApi, provider, Ready, rejection, resetProviderProcess, stackConfigFor, start } from "./support";

const savedEnv = { ...process.env };
const produced: Record<string, unknown> = {};
const credentials: Record<string, string> = {};

afterEach(() => {
    process.env = { ...savedEnv };
});
afterAll(async () => {
    assertNoLeaks(produced, credentials);
    await resetProviderProcess();
});

function authInputs(ready: Ready, identityId: string, extra: Record<string, unknown> = {}) {
    return { identityId, oidcDiscoveryUrl: ready.issuer.url, boundIssuer: ready.issuer.url, ...extra };
}

function countRoutes(backend: Backend, pattern: RegExp): number {
    return Object.entries(backend.stats().byRoute)
        .filter(([route]) => pattern.test(route))
        .reduce((sum, [, n]) => sum + Number(n), 0);
}

describe("a hung server", () => {
    let backend: Backend;
    beforeAll(async () => {
        backend = await start({ seed: { organizations: 1, identitiesPerOrg: 1, unleashInstances: 1 } });
        Object.assign(credentials, credentialsOf(backend.ready));
        await configureStack(stackConfigFor(backend.ready));
    });
    afterAll(async () => {
        await resetProviderProcess();
        await backend.stop();
    });

    test("each attempt times out, the whole call is bounded by the retry budget, and the error says so", async () => {
        process.env.PULUMI_OIDC_HTTP_TIMEOUT_MS = "300";
        process.env.PULUMI_OIDC_HTTP_MAX_ATTEMPTS = "3";
        process.env.PULUMI_OIDC_HTTP_BASE_DELAY_MS = "10";
        backend.faults.set([{ route: "GET /api/v1/auth/oidc-auth/identities/*", latencyMs: 10_000, times: 100 }]);
        const ready = backend.ready;
        const started = Date.now();
        const err = await rejection(SimulatedResource.get(provider("IdentityOidcAuth"), ready.infisical.identityIds[0], {}));
        const elapsed = Date.now() - started;
        backend.faults.clear();
        produced.hung = err;
        expect(err.message).toMatch(/GET \/api\/v1\/auth\/oidc-auth\/identities\/[^ ]+ .*(timed out|timeout)/i);
        expect(err.message).toContain("[after 3 attempts]");
        // Three attempts of 300 ms plus short backoffs: far below the 10 s the server would have taken.
        expect(elapsed).toBeLessThan(5_000);
    });
});

describe("50 resources updated concurrently against one backend", () => {
    let backend: Backend;
    beforeAll(async () => {
        backend = await start({ seed: { organizations: 1, identitiesPerOrg: 50, unleashInstances: 1 } });
        Object.assign(credentials, credentialsOf(backend.ready));
        await configureStack(stackConfigFor(backend.ready, "universal"));
    });
    afterAll(async () => {
        await resetProviderProcess();
        await backend.stop();
    });

    test("every update lands exactly once, and nothing else is touched", async () => {
        const ready = backend.ready;
        const ids: string[] = ready.infisical.identityIds.slice(0, 50);
        expect(ids).toHaveLength(50);
        const resources = ids.map(() => new SimulatedResource(provider("IdentityOidcAuth")));
        await Promise.all(resources.map((r, i) => r.up(authInputs(ready, ids[i], { accessTokenTTL: 1000 }))));

        backend.resetStats();
        const results = await Promise.all(resources.map((r, i) => r.up(authInputs(ready, ids[i], { accessTokenTTL: 2000 + i, boundSubject: `subject-${i}` }))));
        expect(results.map((r) => r.op)).toEqual(ids.map(() => "update"));
        expect(countRoutes(backend, /^PATCH \/api\/v1\/auth\/oidc-auth\/identities\//)).toBe(50);
        expect(countRoutes(backend, /^POST \/api\/v1\/auth\/oidc-auth\/identities\//)).toBe(0);

        const api = infisicalApi(ready);
        const live = await Promise.all(ids.map((id) => api.getAuth(id)));
        live.forEach((res, i) => {
            expect(res.status).toBe(200);
            expect(res.json.identityOidcAuth).toMatchObject({ identityId: ids[i], accessTokenTTL: 2000 + i, boundSubject: `subject-${i}` });
        });
        // A second pass is quiet: every state is true.
        const refreshed = await Promise.all(resources.map((r) => r.refresh()));
        expect(new Set(refreshed)).toEqual(new Set(["same"]));
    });
});

describe("the backend restarted in the middle of a run", () => {
    let dataDir: string;
    let backend: Backend;
    beforeAll(() => {
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "oidc-restart-"));
    });
    afterAll(async () => {
        await resetProviderProcess();
        await backend?.stop();
        fs.rmSync(dataDir, { recursive: true, force: true });
    });

    test("updates in flight are retried against the restarted server; nothing acknowledged is lost", async () => {
        process.env.PULUMI_OIDC_HTTP_BASE_DELAY_MS = "100";
        process.env.PULUMI_OIDC_HTTP_MAX_ATTEMPTS = "8";
        backend = await start({ dataDir, seed: { organizations: 1, identitiesPerOrg: 12, unleashInstances: 1 } });
        const ready = backend.ready;
        Object.assign(credentials, credentialsOf(ready));
        await configureStack(stackConfigFor(ready));
        const port = Number(new URL(ready.url).port);
        const ids: string[] = ready.infisical.identityIds.slice(0, 12);
        const resources = ids.map(() => new SimulatedResource(provider("IdentityOidcAuth")));
        await Promise.all(resources.map((r, i) => r.up(authInputs(ready, ids[i]))));

        // Slow answers keep updates in flight while the server goes down and comes back on the same port.
        backend.faults.set([{ route: "PATCH /api/v1/auth/oidc-auth/identities/*", latencyMs: 400, times: 100 }]);
        const updates = Promise.all(resources.map((r, i) => r.up(authInputs(ready, ids[i], { accessTokenTTL: 5000 + i }))));
        await new Promise((resolve) => setTimeout(resolve, 150));
        await backend.stop();
        backend = await start({ dataDir, port });
        expect(backend.ready.infisical.token).toBe(ready.infisical.token); // same data: same credentials
        const results = await updates;
        expect(results.map((r) => r.op)).toEqual(ids.map(() => "update"));

        // Everything the provider was told succeeded is there, after yet another restart.
        await backend.stop();
        backend = await start({ dataDir, port });
        const api = infisicalApi(backend.ready);
        for (let i = 0; i < ids.length; i++) {
            const res = await api.getAuth(ids[i]);
            expect(res.status).toBe(200);
            expect(res.json.identityOidcAuth.accessTokenTTL).toBe(5000 + i);
        }
        expect(new Set(await Promise.all(resources.map((r) => r.refresh())))).toEqual(new Set(["same"]));
    });
});
