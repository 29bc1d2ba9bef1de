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
import { assertNoLeaks, credentialsOf } from "../helpers/leak-scan";
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
 * the CLI's group alone would leave them running: each one's group is killed too. Returns what it killed.
 */
function killRun(root: number): { pids: number[]; commands: string[] } {
    const tree = processTree(root);
    const commands = tree.map((pid) => {
        try {
            return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
        } catch {
            return "";
        }
    });
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
    return { pids: tree, commands };
}

// ------------------------------------------------------------------------------------------------ the suite

describeWithEngine("a pulumi run killed after the API applied a change recovers with the documented commands", () => {
    let backend: Backend;
    let t: TestStack;
    let infisical: Backend["ready"]["infisical"];
    /** Called with each request log line; set while a run is to be killed. */
    let onLogLine: ((line: LogLine) => void) | undefined;
    /** The runs started, so that one still running after a failed test is killed at the end. */
    const runs: ChildProcess[] = [];
    /** What every pulumi command of the suite printed, by command: scanned for secrets at the end. */
    const transcripts: Record<string, string> = {};

    /** `pulumi <args>` on the stack, with its output kept for the leak scan. */
    async function pulumi(args: string[], opts?: { allowFailure?: boolean }) {
        const result = await t.cli(args, opts);
        transcripts[`${Object.keys(transcripts).length + 1}. pulumi ${args.join(" ")}`] = result.stdout + result.stderr;
        return result;
    }

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
        // A run that never reached its request (a failed test) must not outlive the suite. Only runs not reaped
        // yet: their pids cannot have been reused by another process.
        for (const run of runs) if (run.pid && run.exitCode === null && run.signalCode === null) killRun(run.pid);
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
        let killed: { pids: number[]; commands: string[] } = { pids: [], commands: [] };
        onLogLine = (line) => {
            if (line.status !== "dropped" || !child?.pid) return;
            applied = line;
            onLogLine = undefined;
            killed = killRun(child.pid);
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
                runs.push(child);
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
            transcripts[`${Object.keys(transcripts).length + 1}. pulumi ${args.join(" ")} (killed)`] = output;
        }
        // Nothing of the run survives (the dynamic-provider host included), so nothing can finish its work later.
        // The kill reached the language host and the dynamic-provider host (the process that sent the request).
        expect(killed.commands.some((c) => c.includes("pulumi-language-nodejs"))).toBe(true);
        expect(killed.commands.some((c) => c.includes("pulumi-resource-pulumi-nodejs"))).toBe(true);
        for (let i = 0; i < 50 && killed.pids.some(isRunning); i++) await new Promise((r) => setTimeout(r, 100));
        expect(killed.pids.filter(isRunning)).toEqual([]);
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

    /**
     * The README's commands, then `rerun` (the killed command). Afterwards the state holds nothing pending and no
     * lock, and, after an up, matches the objects: a refresh finds nothing to change and the program nothing to do.
     */
    async function recover(rerun: string[]): Promise<void> {
        for (const cmd of RECOVERY) await pulumi(cmd);
        expect(lockFiles()).toEqual([]);
        await pulumi(rerun);
        expect(await pendingOperations()).toEqual([]);
        expect(lockFiles()).toEqual([]);
        if (rerun[0] !== "up") return;
        const check = await pulumi(["preview", "--refresh", "--expect-no-changes"], { allowFailure: true });
        expect({ status: check.status, output: check.status === 0 ? "" : check.stdout + check.stderr }).toEqual({ status: 0, output: "" });
    }

    const secretValues = () => ({ ...credentialsOf(backend.ready), SSO_SECRET, UNLEASH_SECRET });

    // What the backend holds, read from its persisted state (not through the provider).
    const ssoConfigs = () => backend.state().infisical.oidcConfigs.filter((c) => c.orgId === infisical.organizationId);
    const identityAuths = () => backend.state().infisical.identityOidcAuths.filter((a) => a.identityId === infisical.identityIds[0]);
    const unleashSettings = () => backend.state().unleash.instances[0]!.oidcSettings; // ready.unleash is the first instance
    const ssoPath = "/api/v1/sso/oidc/config";
    const identityPath = () => `/api/v1/auth/oidc-auth/identities/${infisical.identityIds[0]}`;
    const unleashPath = () => `${new URL(backend.ready.unleash.url).pathname}/api/admin/auth/oidc/settings`;
    /** Requests the backend received, by "METHOD /path". */
    const requests = (route: string) => backend.stats().byRoute[route] ?? 0;

    test("create of OidcSsoConfig: refresh drops the pending create, up takes the identical config over", async () => {
        await t.stack.setConfig("irq:withSso", { value: "true" });
        const { applied } = await killedRun(["up", "--yes"], `POST ${ssoPath}`);
        expect(applied).toMatchObject({ method: "POST", route: ssoPath });
        expect(ssoConfigs()).toHaveLength(1);
        expect(ssoConfigs()[0]!.isActive).toBe(true);
        expect(await pendingOperations()).toEqual(["creating sso"]);
        expect(await recorded()).toEqual([]);

        // Without `pulumi cancel`, the lock of the killed run stops every command on the file backend.
        expect(lockFiles()).toHaveLength(1);
        const locked = await pulumi(["refresh", "--yes", "--clear-pending-creates"], { allowFailure: true });
        expect(locked.status).not.toBe(0);
        expect(locked.stderr + locked.stdout).toMatch(/currently locked/);

        const patchesBefore = requests(`PATCH ${ssoPath}`);
        await recover(["up", "--yes"]);
        expect(requests(`PATCH ${ssoPath}`)).toBe(patchesBefore); // taken over as it is, not rewritten
        expect(await recorded()).toEqual(["sso"]);
        expect(ssoConfigs()).toHaveLength(1);
        expect(ssoConfigs()[0]).toMatchObject({ isActive: true, allowedEmailDomains: "example.com", discoveryURL: `${backend.ready.issuer.url}/.well-known/openid-configuration` });
        expect((await t.stack.outputs()).ssoConfigId.value).toBe(ssoConfigs()[0]!.id);
    }, 300_000);

    test("create of IdentityOidcAuth: refresh drops the pending create, up takes the identical auth over", async () => {
        await t.stack.setConfig("irq:withIdentity", { value: "true" });
        const { applied } = await killedRun(["up", "--yes"], `POST ${identityPath()}`);
        expect(applied).toMatchObject({ method: "POST", route: "/api/v1/auth/oidc-auth/identities/:identityId" });
        expect(identityAuths()).toHaveLength(1);
        expect(await pendingOperations()).toEqual(["creating ci-identity"]);
        expect(await recorded()).toEqual(["sso"]);

        const patchesBefore = requests(`PATCH ${identityPath()}`);
        await recover(["up", "--yes"]);
        expect(requests(`PATCH ${identityPath()}`)).toBe(patchesBefore);
        expect(await recorded()).toEqual(["ci-identity", "sso"]);
        expect(identityAuths()).toHaveLength(1);
        expect(identityAuths()[0]).toMatchObject({
            boundIssuer: backend.ready.issuer.url,
            boundSubject: "repo:example-org/infra:ref:refs/heads/main",
            boundClaims: { repository: "example-org/infra" },
            accessTokenTTL: 3600,
            accessTokenMaxTTL: 7200,
        });
    }, 300_000);

    test("create of UnleashOidcSettings: refresh drops the pending create, up takes the identical settings over", async () => {
        await t.stack.setConfig("irq:withUnleash", { value: "true" });
        const { applied } = await killedRun(["up", "--yes"], `POST ${unleashPath()}`);
        expect(applied).toMatchObject({ method: "POST" });
        expect(unleashSettings()).toMatchObject({ enabled: true, clientId: "unleash-interrupted", defaultRootRole: "Viewer" });
        expect(await pendingOperations()).toEqual(["creating unleash"]);
        expect(await recorded()).toEqual(["ci-identity", "sso"]);

        const postsBefore = requests(`POST ${unleashPath()}`);
        await recover(["up", "--yes"]);
        expect(requests(`POST ${unleashPath()}`)).toBe(postsBefore); // read, found identical (secret included), kept
        expect(await recorded()).toEqual(["ci-identity", "sso", "unleash"]);
        expect(unleashSettings()).toMatchObject({ enabled: true, clientId: "unleash-interrupted", defaultRootRole: "Viewer", defaultRootRoleId: 3, autoCreate: true });
        expect((await t.stack.outputs()).unleashRole.value).toBe("Viewer");
    }, 300_000);

    test("update of UnleashOidcSettings (full replace): refresh records what was applied, up sends nothing more", async () => {
        await t.stack.setConfig("irq:unleashRole", { value: "Editor" });
        await killedRun(["up", "--yes"], `POST ${unleashPath()}`);
        expect(unleashSettings()).toMatchObject({ defaultRootRole: "Editor", defaultRootRoleId: 2 });
        expect(await pendingOperations()).toEqual(["updating unleash"]);

        const postsBefore = requests(`POST ${unleashPath()}`);
        await recover(["up", "--yes"]);
        expect(requests(`POST ${unleashPath()}`)).toBe(postsBefore);
        expect(unleashSettings()).toMatchObject({ enabled: true, defaultRootRole: "Editor", defaultRootRoleId: 2 });
        expect((await t.stack.outputs()).unleashRole.value).toBe("Editor");
    }, 300_000);

    test("update of OidcSsoConfig (partial PATCH): refresh records what was applied, up sends nothing more", async () => {
        await t.stack.setConfig("irq:ssoEmailDomains", { value: "example.com, example.org" });
        await killedRun(["up", "--yes"], `PATCH ${ssoPath}`);
        expect(ssoConfigs()[0]!.allowedEmailDomains).toBe("example.com, example.org");
        expect(await pendingOperations()).toEqual(["updating sso"]);

        const patchesBefore = requests(`PATCH ${ssoPath}`);
        await recover(["up", "--yes"]);
        expect(requests(`PATCH ${ssoPath}`)).toBe(patchesBefore);
        expect(ssoConfigs()).toHaveLength(1);
        expect(ssoConfigs()[0]).toMatchObject({ isActive: true, allowedEmailDomains: "example.com, example.org" });
        // The three resources are recorded now, each through a recovery: the state holds their secrets encrypted only.
        expect(await recorded()).toEqual(["ci-identity", "sso", "unleash"]);
        assertNoLeaks({ "stack export": await deployment() }, secretValues());
    }, 300_000);

    test("update of IdentityOidcAuth re-run by `pulumi up` alone (no refresh) also converges, repeating at most the one request", async () => {
        await t.stack.setConfig("irq:identityTTL", { value: "1800" });
        await killedRun(["up", "--yes"], `PATCH ${identityPath()}`);
        expect(identityAuths()[0]!.accessTokenTTL).toBe(1800);
        expect(await pendingOperations()).toEqual(["updating ci-identity"]);

        const patchesBefore = requests(`PATCH ${identityPath()}`);
        await pulumi(["cancel", "--yes"]);
        const rerun = await pulumi(["up", "--yes"]);
        expect(rerun.stdout).toMatch(/interrupted while updating/); // the engine's warning about the pending operation
        expect(requests(`PATCH ${identityPath()}`) - patchesBefore).toBeLessThanOrEqual(1);
        expect(await pendingOperations()).toEqual([]);
        expect(identityAuths()).toHaveLength(1);
        expect(identityAuths()[0]).toMatchObject({ accessTokenTTL: 1800, accessTokenMaxTTL: 7200 });
        const check = await pulumi(["preview", "--refresh", "--expect-no-changes"], { allowFailure: true });
        expect({ status: check.status, output: check.status === 0 ? "" : check.stdout + check.stderr }).toEqual({ status: 0, output: "" });
    }, 300_000);

    test("delete of IdentityOidcAuth (removed from the program): refresh sees it gone, up has nothing left to do", async () => {
        await t.stack.setConfig("irq:withIdentity", { value: "false" });
        await killedRun(["up", "--yes"], `DELETE ${identityPath()}`);
        expect(identityAuths()).toHaveLength(0);
        expect(await pendingOperations()).toEqual(["deleting ci-identity"]);

        const deletesBefore = requests(`DELETE ${identityPath()}`);
        await recover(["up", "--yes"]);
        expect(requests(`DELETE ${identityPath()}`)).toBe(deletesBefore);
        expect(await recorded()).toEqual(["sso", "unleash"]);
        expect(identityAuths()).toHaveLength(0);
    }, 300_000);

    test("pulumi destroy killed after the SSO config was deactivated: the re-run destroy ends with an empty state", async () => {
        await killedRun(["destroy", "--yes"], `PATCH ${ssoPath}`);
        expect(ssoConfigs()[0]!.isActive).toBe(false);
        expect(await pendingOperations()).toContain("deleting sso");

        await recover(["destroy", "--yes"]);
        expect(await recorded()).toEqual([]);
        expect(ssoConfigs()).toHaveLength(1); // deactivated, the safe state delete leaves (Infisical has no DELETE)
        expect(ssoConfigs()[0]!.isActive).toBe(false);
        expect(unleashSettings()).toMatchObject({ enabled: false });
    }, 300_000);

    test("no secret or credential in anything the killed runs and the recovery printed, nor in the state", async () => {
        expect(Object.keys(transcripts).length).toBeGreaterThan(20);
        assertNoLeaks({ ...transcripts, "stack export": await deployment() }, secretValues());
    });
});
