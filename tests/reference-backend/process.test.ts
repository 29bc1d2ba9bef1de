/**
 * `startBackendProcess`: the backend as a child process keeps answering while the test's own process is blocked in
 * a synchronous child (what `execFileSync("pulumi", ...)` does to an in-process backend); faults, counters, logs
 * and stop work through the admin routes and signals.
 */
import { spawnSync } from "child_process";
import { promises as fs } from "fs";
import { startBackendProcess, type ProcessBackend } from "../../reference-backend/src";
import { ensureBuilt } from "./build";
import { call, infisical } from "./helpers";

let backend: ProcessBackend;

beforeAll(async () => {
    await ensureBuilt();
    backend = await startBackendProcess({ seed: { organizations: 1, identitiesPerOrg: 1, unleashInstances: 1 } });
}, 120_000);
afterAll(async () => {
    await backend?.stop();
});

test("answers a synchronous child of the test process", () => {
    const script = `fetch(${JSON.stringify(`${backend.ready.url}/healthz`)}).then(async (r) => { process.stdout.write(String(r.status)); }, (e) => { process.stdout.write("failed " + e.message); })`;
    const res = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 10_000 });
    expect(res.stdout).toBe("200");
});

test("faults, counters and logs through the admin routes", async () => {
    await backend.faults.set([{ route: "GET /api/v1/sso/oidc/config", status: 503, times: 1 }]);
    expect(await backend.faults.list()).toEqual([{ route: "GET /api/v1/sso/oidc/config", status: 503, times: 1, remaining: 1 }]);
    await backend.resetStats();
    const api = infisical(backend.ready);
    expect((await api.getSso(backend.ready.infisical.organizationId)).status).toBe(503);
    expect((await api.getSso(backend.ready.infisical.organizationId)).status).toBe(404);
    expect((await backend.stats()).byRoute["GET /api/v1/sso/oidc/config"]).toBe(2);
    await backend.faults.clear();
    expect(await backend.faults.list()).toEqual([]);
    await new Promise((r) => setTimeout(r, 50));
    expect(backend.logs().some((l) => l.route === "/api/v1/sso/oidc/config" && l.status === 503)).toBe(true);
});

test("stop: SIGTERM, exit 0, the temporary data directory removed", async () => {
    const other = await startBackendProcess({ seed: { organizations: 1, identitiesPerOrg: 1, unleashInstances: 1 } });
    expect((await call("GET", `${other.ready.url}/healthz`)).status).toBe(200);
    expect(await other.stop()).toBe(0);
    await expect(fs.stat(other.ready.dataDir)).rejects.toThrow(/ENOENT/);
    await expect(call("GET", `${other.ready.url}/healthz`)).rejects.toThrow();
});

test("a start that fails is reported with the child's message", async () => {
    await expect(startBackendProcess({ seed: { organizations: 0 } as never })).rejects.toThrow(/exited \(1\) before it was ready: reference-backend: /);
});
