/**
 * The reference backend's CLI (dist/reference-backend/src/main.js, built here when older than its sources): exactly
 * one ready line on stdout, then one JSON log line per request without any credential, secret, body or query;
 * flags and their environment variables; graceful shutdown on SIGTERM with the state kept for the next start.
 */
import { ChildProcessWithoutNullStreams, execFile, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { assertNoLeaks, credentialsOf } from "../helpers/leak-scan";
import { ensureBuilt, mainJs } from "./build";
import { bearer, call, infisical, type Ready } from "./helpers";

let workDir: string;

interface Running {
    child: ChildProcessWithoutNullStreams;
    ready: Ready;
    stdout: () => string;
    stderr: () => string;
    exited: Promise<number | null>;
}

function run(args: string[], env: Record<string, string> = {}): Promise<Running> {
    const child = spawn(process.execPath, [mainJs, ...args], { cwd: workDir, env: { PATH: process.env.PATH ?? "", ...env } });
    let out = "";
    let err = "";
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    child.stdout.on("data", (d: Buffer) => (out += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (err += d.toString("utf8")));
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ready line within 15 s; stderr: ${err}`)), 15_000);
        const check = () => {
            const nl = out.indexOf("\n");
            if (nl >= 0) {
                clearTimeout(timer);
                child.stdout.off("data", check);
                resolve({ child, ready: JSON.parse(out.slice(0, nl)) as Ready, stdout: () => out, stderr: () => err, exited });
            }
        };
        child.stdout.on("data", check);
        exited.then((code) => {
            clearTimeout(timer);
            reject(new Error(`exited with ${code} before the ready line; stderr: ${err}`));
        });
    });
}

function runToExit(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        execFile(process.execPath, [mainJs, ...args], { cwd: workDir, env: { PATH: process.env.PATH ?? "", ...env }, timeout: 15_000 }, (error, stdout, stderr) =>
            resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
    });
}

async function stop(r: Running): Promise<number | null> {
    r.child.kill("SIGTERM");
    return r.exited;
}

beforeAll(async () => {
    await ensureBuilt();
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "rb-cli-"));
}, 120_000);
afterAll(() => {
    fs.rmSync(workDir, { recursive: true, force: true });
});

test("one ready line, then one JSON log line per request without credentials; SIGTERM stops it cleanly and the state stays", async () => {
    const seedFile = path.join(workDir, "seed.json");
    fs.writeFileSync(seedFile, JSON.stringify({ organizations: 3, identitiesPerOrg: 2, unleashInstances: 2 }));
    const dataDir = path.join(workDir, "data");
    const r = await run(["--port", "0", "--data-dir", dataDir, "--seed", seedFile, "--allow-internal-ip-connections"]);
    const { ready } = r;
    expect(ready).toMatchObject({ ready: true, url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), dataDir });
    expect(ready.infisical.organizations).toHaveLength(3);
    expect(ready.unleash.instances).toHaveLength(2);
    expect(r.stdout().trim().split("\n")).toHaveLength(1); // nothing else before the first request

    const SSO_SECRET = "cli-sso-client-secret-5e6f";
    const UNLEASH_SECRET = "cli-unleash-secret-7a8b";
    const api = infisical(ready);
    expect((await call("GET", `${ready.url}/healthz`)).json).toEqual({ status: "ok" });
    expect((await api.postSso({ organizationId: ready.infisical.organizationId, configurationType: "discoveryURL", discoveryURL: ready.issuer.discoveryUrl, clientId: "cli", clientSecret: SSO_SECRET, isActive: true })).status).toBe(200);
    expect((await api.getSso(ready.infisical.organizationId)).status).toBe(200);
    const login = await call("POST", `${ready.url}/api/v1/auth/universal-auth/login`, { body: ready.infisical.universalAuth });
    expect((await infisical(ready, login.json.accessToken).getAuth(ready.infisical.identityIds[0])).status).toBe(400);
    expect((await call("POST", `${ready.unleash.url}/api/admin/auth/oidc/settings`, { authorization: ready.unleash.adminToken, body: { enabled: true, clientId: "u", secret: UNLEASH_SECRET, discoverUrl: ready.issuer.discoveryUrl } })).status).toBe(200);
    expect((await call("GET", `${ready.unleash.url}/api/admin/auth/oidc/settings`, { authorization: "*:*.wrong-token-value" })).status).toBe(401);
    expect((await call("GET", `${ready.url}/api/v1/sso/oidc/config?organizationId=x`, { authorization: bearer("st.wrong-token-value") })).status).toBe(401);

    expect(await stop(r)).toBe(0);
    expect(r.stderr()).toContain("SIGTERM, shutting down");
    const lines = r.stdout().trim().split("\n").slice(1);
    expect(lines.length).toBeGreaterThanOrEqual(9);
    const logs = lines.map((l) => JSON.parse(l));
    for (const log of logs) {
        expect(log).toEqual({ time: expect.any(String), level: "info", msg: "request", reqId: expect.stringMatching(/^req-/), method: expect.any(String), route: expect.any(String), status: expect.any(Number), ms: expect.any(Number) });
    }
    expect(logs.map((l) => `${l.method} ${l.route} ${l.status}`)).toEqual(
        expect.arrayContaining(["POST /api/v1/sso/oidc/config 200", "GET /unleash/:instance/api/admin/auth/oidc/settings 401", "POST /api/v1/auth/universal-auth/login 200"]),
    );
    expect(lines.join("\n")).not.toContain("organizationId=");
    assertNoLeaks({ logs: lines.join("\n"), stderr: r.stderr() }, { ...credentialsOf(ready), SSO_SECRET, UNLEASH_SECRET, login: login.json.accessToken, wrong: "wrong-token-value" });

    // The next start on the same data directory prints the same credentials.
    const again = await run(["--port", "0", "--data-dir", dataDir, "--quiet"]);
    expect(again.ready.infisical.token).toBe(ready.infisical.token);
    expect(again.ready.unleash.adminToken).toBe(ready.unleash.adminToken);
    expect((await infisical(again.ready).getSso(ready.infisical.organizationId)).json.clientId).toBe("cli");
    expect(await stop(again)).toBe(0);
    expect(again.stdout().trim().split("\n")).toHaveLength(1); // --quiet: the ready line only
});

test("environment variables, inline fault rules, the advertised URL", async () => {
    const r = await run([], {
        REFERENCE_BACKEND_PORT: "0",
        REFERENCE_BACKEND_DATA_DIR: path.join(workDir, "env-data"),
        REFERENCE_BACKEND_FAULTS: JSON.stringify([{ route: "GET /healthz", status: 503, times: 1 }]),
        REFERENCE_BACKEND_QUIET: "1",
    });
    expect(fs.existsSync(path.join(workDir, "env-data", "state.json"))).toBe(true);
    expect((await call("GET", `${r.ready.url}/healthz`)).status).toBe(503);
    expect((await call("GET", `${r.ready.url}/healthz`)).status).toBe(200);
    // Without ALLOW_INTERNAL_IP_CONNECTIONS (the default), a URL on a loopback address is refused, as by Infisical.
    const loopbackSso = { organizationId: r.ready.infisical.organizationId, configurationType: "discoveryURL", discoveryURL: "http://127.0.0.1:9/oidc", clientId: "c", clientSecret: "s", isActive: false };
    const refused = await infisical(r.ready).postSso(loopbackSso);
    expect([refused.status, refused.json.message]).toEqual([400, "Local IPs not allowed as URL"]);
    expect(await stop(r)).toBe(0);

    // Infisical's own variable turns the URL guard's address check off.
    const allowed = await run(["--port", "0", "--quiet"], { REFERENCE_BACKEND_DATA_DIR: path.join(workDir, "env-data"), ALLOW_INTERNAL_IP_CONNECTIONS: "true" });
    expect((await infisical(allowed.ready).postSso(loopbackSso)).status).toBe(200);
    expect(await stop(allowed)).toBe(0);

    const pub = await run(["--port", "0", "--quiet"], { REFERENCE_BACKEND_DATA_DIR: path.join(workDir, "env-data"), REFERENCE_BACKEND_PUBLIC_URL: "http://backend.example:9999/" });
    expect(pub.ready.url).toBe("http://backend.example:9999");
    expect(pub.ready.issuer.discoveryUrl).toBe("http://backend.example:9999/oidc/.well-known/openid-configuration");
    expect(pub.ready.unleash.url).toBe("http://backend.example:9999/unleash/0");
    expect(await stop(pub)).toBe(0);
});

test("bad arguments: a readable error and a non-zero exit", async () => {
    const badPort = await runToExit(["--port", "http"]);
    expect(badPort.code).not.toBe(0);
    expect(badPort.stderr).toContain("must be a port number");
    fs.writeFileSync(path.join(workDir, "bad-seed.json"), JSON.stringify({ organizations: 0 }));
    const badSeed = await runToExit(["--port", "0", "--data-dir", path.join(workDir, "bad"), "--seed", path.join(workDir, "bad-seed.json")]);
    expect(badSeed.code).toBe(1);
    expect(badSeed.stderr).toMatch(/^reference-backend: /);
    const badFaults = await runToExit(["--port", "0", "--data-dir", path.join(workDir, "bad"), "--faults", '[{"route":"nope"}]']);
    expect(badFaults.code).toBe(1);
    expect(badFaults.stderr).toContain("invalid fault rules");
    expect(badFaults.stdout).toBe("");
});
