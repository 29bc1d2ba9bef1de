/**
 * The reference backend image under a real container engine (docker, else podman: scripts/container-engine.sh):
 * `npm run backend:image` builds it, `npm run backend:container` runs it, and the three resources go through their
 * lifecycle against it under the real Pulumi engine (up, drift and its repair, a container restart whose state
 * survives on the volume, destroy). Also: it runs as a non-root user and holds no dev dependency or test file.
 *
 * No container engine: skipped locally with a message, failed in CI (CI=true).
 */
import { ChildProcess, execFile, spawn } from "child_process";
import { randomUUID } from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { createInterface } from "readline";
import { promisify } from "util";
import { describeWithEngine, newStack, repoRoot, TestStack } from "../e2e/harness";
import { api } from "../helpers/direct-api";

const run = promisify(execFile);
const programDir = path.join(repoRoot, "tests", "e2e", "program");
const SSO_SECRET = "sso-client-secret-container-4b1e";
const UNLEASH_SECRET = "unleash-client-secret-container-8d2a";

/** Runs the chosen engine with the project's settings (the `engine` function of scripts/container-engine.sh). */
async function engine(args: string[]): Promise<string> {
    const { stdout } = await run("bash", ["-c", 'source scripts/container-engine.sh >/dev/null && engine "$@"', "engine", ...args], {
        cwd: repoRoot,
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
}

/** The only ulimits the project's machines accept for a container (CONTAINER_ULIMITS of scripts/container-engine.sh). */
const ulimits = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"];

function pickedEngine(): { engine?: string; reason?: string } {
    const result = require("child_process").spawnSync("bash", ["-c", "source scripts/container-engine.sh && echo $CONTAINER_ENGINE"], {
        cwd: repoRoot,
        encoding: "utf8",
    });
    if (result.status === 0) return { engine: result.stdout.trim() };
    return { reason: (result.stderr || "no container engine").trim() };
}

/** Engine-dependent suites: skipped locally without a container engine, failed in CI. */
function describeWithContainerEngine(name: string, body: () => void): void {
    const picked = pickedEngine();
    if (picked.engine) {
        describeWithEngine(name, body);
    } else if (process.env.CI) {
        describe(name, () => {
            test("a container engine is installed", () => {
                throw new Error(`${picked.reason}: CI requires one (.ci/run installs podman, runc and debootstrap)`);
            });
        });
    } else {
        // eslint-disable-next-line no-console
        console.warn(`skipping "${name}": ${picked.reason}`);
        describe.skip(name, body);
    }
}

async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}


interface RunningContainer {
    ready: any;
    process: ChildProcess;
    stderr: () => string;
    /** Sends the signal to `npm run backend:container` and resolves with its exit code. */
    stop(signal: NodeJS.Signals): Promise<number | null>;
}

/** `npm run backend:container -- <flags>`, as a user runs it; resolves once the ready line is out. */
async function startContainer(port: number, name: string, volume: string): Promise<RunningContainer> {
    const child = spawn("npm", ["run", "--silent", "backend:container", "--", "--port", String(port), "--allow-internal-ip-connections", "--quiet"], {
        cwd: repoRoot,
        env: { ...process.env, BACKEND_CONTAINER_NAME: name, BACKEND_CONTAINER_VOLUME: volume },
        stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const lines = createInterface({ input: child.stdout! });
    const ready = await new Promise<any>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ready line within 60 s; stderr: ${stderr}`)), 60_000);
        lines.once("line", (line) => {
            clearTimeout(timer);
            try {
                resolve(JSON.parse(line));
            } catch {
                reject(new Error(`the first line is not the ready JSON: ${line.slice(0, 200)}`));
            }
        });
        void exited.then((code) => reject(new Error(`backend:container exited (${code}) before its ready line; stderr: ${stderr}`)));
    });
    return {
        ready,
        process: child,
        stderr: () => stderr,
        async stop(signal) {
            child.kill(signal);
            return exited;
        },
    };
}

function phase(label: string, since: number): void {
    // eslint-disable-next-line no-console
    console.log(`[container] ${label}: ${((Date.now() - since) / 1000).toFixed(1)} s`);
}

describeWithContainerEngine("reference backend container under a real engine", () => {
    const suffix = randomUUID().slice(0, 8);
    const name = `oidc-rb-test-${suffix}`;
    const volume = `oidc-rb-test-${suffix}`;
    let image: string;
    let buildOutput: string;
    let container: RunningContainer | undefined;
    let port: number;
    let t: TestStack | undefined;

    beforeAll(async () => {
        const started = Date.now();
        // The build prints its phases and the image size; its output is kept for the assertions.
        const { stdout } = await run("npm", ["run", "--silent", "backend:image"], { cwd: repoRoot, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
        buildOutput = stdout;
        phase("npm run backend:image", started);
        const version = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")).version;
        image = `localhost/oidc-reference-backend:${version}`;
        port = await freePort();
    }, 15 * 60_000);

    afterAll(async () => {
        await t?.cleanup();
        if (container && container.process.exitCode === null) await container.stop("SIGKILL");
        await engine(["rm", "-f", name]).catch(() => undefined);
        await engine(["volume", "rm", "-f", volume]).catch(() => undefined);
    }, 60_000);

    test("the build names the image and prints its size", async () => {
        expect(buildOutput).toMatch(/\[backend:image\] size: \d+ MB \(\d+ bytes\)/);
        const size = Number((await engine(["image", "inspect", "--format", "{{.Size}}", image])).trim());
        expect(size).toBeGreaterThan(50_000_000);
        // eslint-disable-next-line no-console
        console.log(`[container] image ${image}: ${(size / 1e6).toFixed(0)} MB`);
    });

    test("the image runs as a non-root user and holds no dev dependency or test file", async () => {
        expect((await engine(["image", "inspect", "--format", "{{.Config.User}}", image])).trim()).toBe("node");
        const listing = await engine([
            "run", "--rm", ...ulimits, "--network=none", "--entrypoint", "sh", image, "-c",
            // uid, then the packages under /app/node_modules (scoped ones as @scope/name), then every file outside
            // node_modules that is not the compiled backend.
            "id -u; echo ---; cd /app/node_modules && for d in * @*/*; do [ -d \"$d\" ] && case \"$d\" in @*/*|[!@]*) echo \"$d\";; esac; done; echo ---; find /app -path /app/node_modules -prune -o -type f -print",
        ]);
        const [uid, packagesText, filesText] = listing.split("---\n");
        expect(Number(uid.trim())).toBeGreaterThan(0);

        const lock = JSON.parse(fs.readFileSync(path.join(repoRoot, "package-lock.json"), "utf8"));
        const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8"));
        const packages = packagesText.split("\n").filter(Boolean);
        for (const dep of ["fastify", "zod", "jose", "commander", "undici", "picomatch", "ipaddr.js"]) expect(packages).toContain(dep);
        for (const dev of Object.keys(pkg.devDependencies)) expect(packages).not.toContain(dev);
        // Every package in the image is a locked, non-dev package (no compiler, test runner or type package).
        const devOnly = packages.filter((p) => !lock.packages[`node_modules/${p}`] || lock.packages[`node_modules/${p}`].dev);
        expect(devOnly).toEqual([]);

        const files = filesText.split("\n").filter(Boolean);
        expect(files).toContain("/app/dist/reference-backend/src/main.js");
        const unexpected = files.filter((f) => !/^\/app\/(dist\/reference-backend\/src\/.*\.js|package\.json|README\.md)$/.test(f));
        expect(unexpected).toEqual([]);
        expect(files.filter((f) => /\.test\.|\/tests?\/|\.ts$|\.map$/.test(f))).toEqual([]);
    }, 120_000);

    test("backend:container prints the ready line, and the three resources converge against it", async () => {
        let started = Date.now();
        container = await startContainer(port, name, volume);
        phase("container start", started);
        const ready = container.ready;
        expect(ready.ready).toBe(true);
        expect(ready.url).toBe(`http://127.0.0.1:${port}`);
        expect(ready.dataDir).toBe("/data");
        const health = await api("GET", ready.healthUrl, "");
        expect(health.json).toEqual({ status: "ok" });

        started = Date.now();
        t = await newStack(programDir, "container");
        const infisical = ready.infisical;
        await t.stack.setAllConfig({
            "infisical:host": { value: infisical.url },
            "infisical:clientId": { value: infisical.universalAuth.clientId, secret: true },
            "infisical:clientSecret": { value: infisical.universalAuth.clientSecret, secret: true },
            "unleash:url": { value: ready.unleash.url },
            "unleash:apiToken": { value: ready.unleash.adminToken, secret: true },
            "e2e:issuerUrl": { value: ready.issuer.url },
            "e2e:organizationId": { value: infisical.organizationId },
            "e2e:identityId": { value: infisical.identityIds[0] },
            "e2e:ssoClientSecret": { value: SSO_SECRET, secret: true },
            "e2e:unleashSecret": { value: UNLEASH_SECRET, secret: true },
        });
        const up = await t.stack.up({ color: "never" });
        expect(up.summary.resourceChanges?.create).toBe(4);
        phase("pulumi up (create)", started);

        const orgToken = `Bearer ${infisical.token}`;
        const sso = await api("GET", `${infisical.url}/api/v1/sso/oidc/config?organizationId=${infisical.organizationId}`, orgToken);
        expect(sso.json).toMatchObject({ isActive: true, clientId: "infisical-e2e" });

        // Drift made inside the container's backend, seen and repaired by the engine.
        started = Date.now();
        const current = await api("GET", `${ready.unleash.url}/api/admin/auth/oidc/settings`, ready.unleash.adminToken);
        const changed = await api("POST", `${ready.unleash.url}/api/admin/auth/oidc/settings`, ready.unleash.adminToken, { ...current.json, autoCreate: false });
        expect(changed.status).toBe(200);
        const check = await t.cli(["preview", "--refresh", "--expect-no-changes"], { allowFailure: true });
        expect(check.status).not.toBe(0);
        const repair = await t.stack.up({ refresh: true, color: "never" });
        expect(repair.summary.resourceChanges?.update).toBe(1);
        const repaired = await api("GET", `${ready.unleash.url}/api/admin/auth/oidc/settings`, ready.unleash.adminToken);
        expect(repaired.json.autoCreate).toBe(true);
        phase("drift and repair", started);
    }, 300_000);

    test("SIGTERM stops the container cleanly; a new container on the same volume has the same state", async () => {
        expect(container).toBeDefined();
        let started = Date.now();
        const before = container!.ready;
        const code = await container!.stop("SIGTERM");
        expect(code).toBe(0);
        expect(container!.stderr()).toMatch(/SIGTERM, shutting down/);
        phase("stop (SIGTERM)", started);

        started = Date.now();
        container = await startContainer(port, name, volume);
        phase("restart", started);
        // Same ids, tokens and secrets: the master key and state.json came back from the volume.
        expect(container.ready).toEqual(before);
        // The live objects are still what the stack holds.
        await t!.stack.preview({ expectNoChanges: true, refresh: true, color: "never" });
    }, 300_000);

    test("destroy removes the settings from the container's backend; SIGINT stops it", async () => {
        const started = Date.now();
        const ready = container!.ready;
        const infisical = ready.infisical;
        const orgToken = `Bearer ${infisical.token}`;
        const destroyed = await t!.stack.destroy({ color: "never" });
        expect(destroyed.summary.result).toBe("succeeded");
        phase("pulumi destroy", started);
        const sso = await api("GET", `${infisical.url}/api/v1/sso/oidc/config?organizationId=${infisical.organizationId}`, orgToken);
        expect(sso.json.isActive).toBe(false);
        const auth = await api("GET", `${infisical.url}/api/v1/auth/oidc-auth/identities/${infisical.identityIds[0]}`, orgToken);
        expect(auth.status).toBeGreaterThanOrEqual(400); // revoked: the API's "not attached" error
        expect(auth.status).toBeLessThan(500);
        const unleash = await api("GET", `${ready.unleash.url}/api/admin/auth/oidc/settings`, ready.unleash.adminToken);
        expect(unleash.json.enabled).toBe(false);

        expect(await container!.stop("SIGINT")).toBe(0);
        expect(container!.stderr()).toMatch(/SIGINT, shutting down/);
    }, 300_000);
});
