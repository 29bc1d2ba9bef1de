/**
 * Issue #15: a `pulumi up`/`pulumi destroy` killed (SIGKILL, with its language host and provider processes) right
 * after the API applied a create, an update or a delete, and before Pulumi recorded it. Each time, the commands of
 * the README section "After a cancelled pipeline" must converge: exactly one object with the desired settings, a
 * state that matches it, no `adoptExisting`, nothing pending and no lock left.
 *
 * How the kill lands in that window: the reference backend's latency faults wait *before* the handler runs
 * (reference-backend/src/server.ts, onRequest hook), so they cannot hold an applied change open. `drop: "after"`
 * runs the handler (the change is applied and saved), then writes the request log line and only then destroys the
 * connection (onSend hook). The in-process backend calls this suite's log function synchronously with that line,
 * and the function SIGKILLs every process of the run before it returns: the provider never gets an answer, not even
 * the reset, and the engine never hears back.
 */
import { spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { startBackend, type LogLine } from "../../reference-backend/src";
import { describeWithEngine, engineBin, newStack, type TestStack } from "./harness";

type Backend = Awaited<ReturnType<typeof startBackend>>;

const programDir = path.join(__dirname, "interrupted-program");
const STACK = "interrupted";
const SSO_SECRET = "sso-client-secret-interrupted-41c9";
const UNLEASH_SECRET = "unleash-client-secret-interrupted-8d27";

/** The commands of the README section "After a cancelled pipeline", in order (the last one re-runs the killed command). */
const RECOVERY: string[][] = [
    ["cancel", "--yes"],
    ["refresh", "--yes", "--clear-pending-creates"],
];

// ------------------------------------------------------------------------------------------------ process tree

/** pid → parent pid and process group, from /proc (Linux). */
function processTable(): Map<number, { ppid: number; pgid: number; zombie: boolean }> {
    const table = new Map<number, { ppid: number; pgid: number; zombie: boolean }>();
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        let stat: string;
        try {
            stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
        } catch {
            continue; // exited meanwhile
        }
        // "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses, so split after the last ")".
        const [state, ppid, pgid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        table.set(Number(entry), { ppid: Number(ppid), pgid: Number(pgid), zombie: state === "Z" });
    }
    return table;
}

/** `root` and all its descendants. */
function processTree(root: number): number[] {
    const table = processTable();
    const tree = [root];
    for (let i = 0; i < tree.length; i++) {
        for (const [pid, p] of table) if (p.ppid === tree[i] && !tree.includes(pid)) tree.push(pid);
    }
    return tree;
}

function isRunning(pid: number): boolean {
    try {
        process.kill(pid, 0);
    } catch {
        return false;
    }
    return processTable().get(pid)?.zombie !== true;
}

/**
 * SIGKILLs `root`'s process group and every process below it. The engine starts each plugin (language host,
 * dynamic-provider host) in a process group of its own (sdk/go/common/util/cmdutil RegisterProcessGroup), so killing
 * the CLI's group alone would leave them running: each one's group is killed too. Returns the pids it killed.
 */
function killRun(root: number): number[] {
    const tree = processTree(root);
    const table = processTable();
    const groups = new Set(tree.map((pid) => table.get(pid)?.pgid ?? pid));
    for (const pgid of groups) {
        try {
            process.kill(-pgid, "SIGKILL");
        } catch {
            // that group is already gone
        }
    }
    for (const pid of tree) {
        try {
            process.kill(pid, "SIGKILL");
        } catch {
            // already gone
        }
    }
    return tree;
}

// ------------------------------------------------------------------------------------------------ the suite

describeWithEngine("a pulumi run killed after the API applied a change recovers with the documented commands", () => {
    let backend: Backend;
    let t: TestStack;
    let infisical: Backend["ready"]["infisical"];
    /** Called with each request log line; set while a run is to be killed. */
    let onLogLine: ((line: LogLine) => void) | undefined;
    /** Every process a kill hit, checked dead after each run and killed again at the end. */
    const killed: number[] = [];

    beforeAll(async () => {
        backend = await startBackend({ port: 0, allowInternalIpConnections: true, log: (line) => onLogLine?.(line) });
        infisical = backend.ready.infisical;
        t = await newStack(programDir, STACK);
        await t.stack.setAllConfig({
            "infisical:host": { value: infisical.url },
            "infisical:clientId": { value: infisical.universalAuth.clientId, secret: true },
            "infisical:clientSecret": { value: infisical.universalAuth.clientSecret, secret: true },
            "unleash:url": { value: backend.ready.unleash.url },
            "unleash:apiToken": { value: backend.ready.unleash.adminToken, secret: true },
            "irq:issuerUrl": { value: backend.ready.issuer.url },
            "irq:organizationId": { value: infisical.organizationId },
            "irq:identityId": { value: infisical.identityIds[0] },
            "irq:ssoClientSecret": { value: SSO_SECRET, secret: true },
            "irq:unleashSecret": { value: UNLEASH_SECRET, secret: true },
        });
    }, 120_000);

    afterAll(async () => {
        onLogLine = undefined;
        for (const pid of killed) if (isRunning(pid)) killRun(pid);
        await t?.cleanup();
        await backend?.stop();
    });

    /**
     * Runs `pulumi <args>` as a CI job does, and kills it with everything it started at the moment the backend has
     * applied the request that `route` ("METHOD /path/glob") matches. Fails if the run ends by itself.
     */
    async function killedRun(args: string[], route: string): Promise<{ applied: LogLine; output: string }> {
        backend.faults.set([{ route, drop: "after", times: 1 }]);
        let child: ChildProcess | undefined;
        let applied: LogLine | undefined;
        onLogLine = (line) => {
            if (line.status !== "dropped" || !child?.pid) return;
            applied = line;
            onLogLine = undefined;
            killed.push(...killRun(child.pid));
        };
        let output = "";
        try {
            const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
                child = spawn(path.join(engineBin, "pulumi"), [...args, "--stack", STACK, "--non-interactive"], {
                    cwd: t.workDir,
                    env: { ...process.env, ...t.env },
                    detached: true, // its own process group, so that the kill reaches what it starts in that group
                    stdio: ["ignore", "pipe", "pipe"],
                });
                child.stdout!.on("data", (d) => (output += d));
                child.stderr!.on("data", (d) => (output += d));
                child.on("error", reject);
                child.on("exit", (code, signal) => resolve({ code, signal }));
            });
            if (!applied) throw new Error(`pulumi ${args.join(" ")} ended (${exit.code ?? exit.signal}) without reaching ${route}:\n${output}`);
            expect(exit.signal).toBe("SIGKILL");
        } finally {
            onLogLine = undefined;
            backend.faults.clear();
        }
        // Nothing of the run survives (the dynamic-provider host included), so nothing can finish its work later.
        for (let i = 0; i < 50 && killed.some(isRunning); i++) await new Promise((r) => setTimeout(r, 100));
        expect(killed.filter(isRunning)).toEqual([]);
        return { applied: applied!, output };
    }

    async function deployment(): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
        return (await t.stack.exportStack()).deployment;
    }

    /** The operations the killed run left pending, as "<type> <resource name>". */
    async function pendingOperations(): Promise<string[]> {
        return ((await deployment()).pending_operations ?? []).map((op: { type: string; resource: { urn: string } }) => `${op.type} ${op.resource.urn.split("::").pop()}`);
    }

    /** Names of the program's resources the state records. */
    async function recorded(): Promise<string[]> {
        return ((await deployment()).resources ?? [])
            .filter((r: { type: string }) => r.type.startsWith("pulumi-nodejs:dynamic"))
            .map((r: { urn: string }) => r.urn.split("::").pop())
            .sort();
    }

    function lockFiles(): string[] {
        const dir = path.join(t.stateDir, "backend", ".pulumi", "locks");
        return fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith(".json")).map((e) => e.name) : [];
    }

    /** The README's commands, then `rerun` (the killed command); then the state matches the objects and holds nothing pending. */
    async function recover(rerun: string[]): Promise<{ rerunOutput: string }> {
        for (const cmd of RECOVERY) await t.cli(cmd);
        expect(lockFiles()).toEqual([]);
        const rerunResult = await t.cli(rerun);
        expect(await pendingOperations()).toEqual([]);
        // The state is true: a refresh finds nothing to change and the program nothing to do.
        const check = await t.cli(["preview", "--refresh", "--expect-no-changes"], { allowFailure: true });
        expect({ status: check.status, output: check.status === 0 ? "" : check.stdout + check.stderr }).toEqual({ status: 0, output: "" });
        return { rerunOutput: rerunResult.stdout + rerunResult.stderr };
    }

    // What the backend holds, read from its persisted state (not through the provider).
    const ssoConfigs = () => backend.state().infisical.oidcConfigs.filter((c) => c.orgId === infisical.organizationId);
    const identityAuths = () => backend.state().infisical.identityOidcAuths.filter((a) => a.identityId === infisical.identityIds[0]);
    const unleashSettings = () => backend.state().unleash.instances.find((i) => i.index === 1)!.oidcSettings;
    const writes = (method: string, pattern: string) => backend.stats().byPattern[`${method} ${pattern}`] ?? 0;

    test("create of OidcSsoConfig: refresh drops the pending create, up takes the identical config over", async () => {
        await t.stack.setConfig("irq:withSso", { value: "true" });
        const { applied } = await killedRun(["up", "--yes"], "POST /api/v1/sso/oidc/config");
        expect(applied).toMatchObject({ method: "POST", route: "/api/v1/sso/oidc/config" });
        expect(ssoConfigs()).toHaveLength(1);
        expect(ssoConfigs()[0]!.isActive).toBe(true);
        expect(await pendingOperations()).toEqual(["creating sso"]);
        expect(await recorded()).toEqual([]);

        // Without `pulumi cancel`, the lock of the killed run stops every command on the file backend.
        expect(lockFiles()).toHaveLength(1);
        const locked = await t.cli(["refresh", "--yes", "--clear-pending-creates"], { allowFailure: true });
        expect(locked.status).not.toBe(0);
        expect(locked.stderr + locked.stdout).toMatch(/currently locked/);

        const patchesBefore = writes("PATCH", "/api/v1/sso/oidc/config");
        await recover(["up", "--yes"]);
        expect(writes("PATCH", "/api/v1/sso/oidc/config")).toBe(patchesBefore); // taken over as it is, not rewritten
        expect(await recorded()).toEqual(["sso"]);
        expect(ssoConfigs()).toHaveLength(1);
        expect(ssoConfigs()[0]).toMatchObject({ isActive: true, allowedEmailDomains: "example.com", discoveryURL: `${backend.ready.issuer.url}/.well-known/openid-configuration` });
        expect((await t.stack.outputs()).ssoConfigId.value).toBe(ssoConfigs()[0]!.id);
    }, 300_000);
});
