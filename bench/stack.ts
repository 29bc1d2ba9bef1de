/**
 * The bench stack: a reference backend seeded for N resources and a fresh stack of the bench program (bench/program)
 * with the real providers or the no-op provider of the same shape. Shared by run.ts (timings) and profile.ts (CPU
 * profiles).
 *
 * The program uses the package as users get it: a project directory (bench/runs/project) whose node_modules holds
 * `npm pack` of the built repository beside a copy of @pulumi/pulumi (their other dependencies resolve from the
 * repository's node_modules above). That matters for what is measured: the SDK serializes a provider that is a module
 * of an installed package as a `require()` of it (a few hundred bytes of `__provider`; the SDK must find the package
 * from its own directory), while a program inside this repository reaches the package by self-reference and gets the
 * providers serialized by value; and an installed package has no source maps for the SDK's stack traces to map.
 */
import { execFileSync } from "child_process";
import { randomUUID } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { startBackend } from "../reference-backend/src";
import { engineBin, localBackendEnv, passphrase, repoRoot } from "../tests/e2e/harness";

export type Backend = Awaited<ReturnType<typeof startBackend>>;
export type Variant = "real" | "noop";
export interface Mix {
    sso: number;
    identity: number;
    unleash: number;
}

/** N resources as a mix of the three types (SSO configs over organizations, identity auths, Unleash instances). */
export function mixOf(n: number): Mix {
    const mix = { sso: 0, identity: 0, unleash: 0 };
    for (let i = 0; i < n; i++) mix[(["sso", "identity", "unleash"] as const)[i % 3]]++;
    return mix;
}

const projectDir = path.join(repoRoot, "bench", "runs", "project");
export const installedPackage = path.join(projectDir, "node_modules", "pulumi-oidc-settings");

/**
 * The bench project: `npm pack` of the built repository (dist/ must be current: `npm run bench` builds first), or the
 * given tarball (e.g. of an earlier version, for before/after figures), unpacked into its node_modules with a copy of
 * the SDK; made once per run.
 */
export function installPackage(tarball?: string): void {
    fs.rmSync(projectDir, { recursive: true, force: true });
    fs.mkdirSync(installedPackage, { recursive: true });
    // Its own package scope, so that programs in it resolve the installed package rather than the repository itself.
    fs.writeFileSync(path.join(projectDir, "package.json"), JSON.stringify({ name: "oidc-bench-project", private: true }) + "\n");
    fs.cpSync(path.join(repoRoot, "node_modules", "@pulumi", "pulumi"), path.join(projectDir, "node_modules", "@pulumi", "pulumi"), { recursive: true });
    const packDir = fs.mkdtempSync(path.join(os.tmpdir(), "oidc-bench-pack-"));
    try {
        if (!tarball) {
            const out = execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", packDir], { cwd: repoRoot, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
            tarball = path.join(packDir, (JSON.parse(out) as Array<{ filename: string }>)[0].filename);
        }
        execFileSync("tar", ["-xzf", tarball, "-C", installedPackage, "--strip-components=1"]);
    } finally {
        fs.rmSync(packDir, { recursive: true, force: true });
    }
}

export interface BenchStack {
    backend: Backend;
    stack: Stack;
    workDir: string;
    env: Record<string, string>;
    mix: Mix;
    stop(): Promise<void>;
}

/** A fresh stack of the bench program with its own file backend and PULUMI_HOME, using the installed package. */
async function newBenchStack(name: string): Promise<{ stack: Stack; workDir: string; stateDir: string; env: Record<string, string> }> {
    if (!fs.existsSync(installedPackage)) throw new Error(`${installedPackage} is missing: call installPackage() first`);
    const workDir = path.join(projectDir, "stacks", randomUUID().slice(0, 8));
    fs.mkdirSync(workDir, { recursive: true });
    for (const file of ["Pulumi.yaml", "index.ts", "tsconfig.json"]) fs.copyFileSync(path.join(repoRoot, "bench", "program", file), path.join(workDir, file));
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "oidc-bench-state-"));
    const env: Record<string, string> = { ...localBackendEnv(stateDir, passphrase), PULUMI_NODEJS_TRANSPILE_ONLY: "true" /* the same for both variants */ };
    const pulumiCommand = await PulumiCommand.get({ root: path.dirname(engineBin), skipVersionCheck: true });
    const workspace = await LocalWorkspace.create({ workDir, envVars: env, pulumiCommand, pulumiHome: env.PULUMI_HOME });
    const stack = await Stack.create(name, workspace);
    return { stack, workDir, stateDir, env };
}

/** A fresh backend (so that every run creates from scratch) and a fresh stack configured for it. */
export async function benchStack(n: number, variant: Variant, name: string): Promise<BenchStack> {
    const mix = mixOf(n);
    const backend = await startBackend({
        port: 0,
        allowInternalIpConnections: true,
        seed: { organizations: Math.max(mix.sso, 1), identitiesPerOrg: 1, firstOrgIdentities: Math.max(mix.identity, 1), unleashInstances: Math.max(mix.unleash, 1) },
    });
    const ready = backend.ready;
    const plan = {
        issuerUrl: ready.issuer.url,
        sso: ready.infisical.organizations.slice(0, mix.sso).map((o: { id: string; token: string }) => ({ organizationId: o.id, token: o.token })),
        identities: ready.infisical.organizations[0].identityIds.slice(0, mix.identity),
        unleash: ready.unleash.instances.slice(0, mix.unleash).map((u: { url: string; adminToken: string }) => ({ url: u.url, apiToken: u.adminToken })),
    };
    const { stack, workDir, stateDir, env } = await newBenchStack(name);
    const planFile = path.join(stateDir, "plan.json");
    fs.writeFileSync(planFile, JSON.stringify(plan), { mode: 0o600 });
    await stack.setAllConfig({
        "bench:planFile": { value: planFile },
        "bench:variant": { value: variant },
        "infisical:host": { value: ready.infisical.url },
        "infisical:clientId": { value: ready.infisical.universalAuth.clientId, secret: true },
        "infisical:clientSecret": { value: ready.infisical.universalAuth.clientSecret, secret: true },
    });
    return {
        backend,
        stack,
        workDir,
        env,
        mix,
        async stop() {
            fs.rmSync(workDir, { recursive: true, force: true });
            fs.rmSync(stateDir, { recursive: true, force: true });
            await backend.stop();
        },
    };
}

// ---------------------------------------------------------------------------------------------------- processes

export interface ProcessUsage {
    /** CPU seconds (user + system, every thread: the thread pool's hashing too) of the dynamic-provider processes. */
    providerCpuS: number;
    /** CPU seconds of the program's Node process. */
    programCpuS: number;
    /** CPU seconds of every process the operation started (engine, language host, program, provider). */
    childrenCpuS: number;
    /** Peak RSS of the dynamic-provider processes (VmHWM), MB. */
    peakProviderRssMb: number;
}

const TICKS = 100; // clock ticks per second (getconf CLK_TCK on Linux)

function cpuTicks(stat: string): { self: number } {
    // Fields after the command name (which is in parentheses and may hold spaces): utime is field 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { self: Number(f[11]) + Number(f[12]) };
}

/**
 * Runs `fn` while sampling /proc every 100 ms: the CPU time of every process it starts (by kind: the dynamic-provider
 * process, the program, the rest) and the peak RSS of the provider process. The last sample of a process counts: up
 * to 100 ms of its end may be missed.
 */
function cmdline(pid: string | undefined): string {
    try {
        return pid ? fs.readFileSync(`/proc/${pid}/cmdline`, "utf8") : "";
    } catch {
        return "";
    }
}

export async function withProcessUsage<T>(fn: () => Promise<T>): Promise<{ result: T; usage: ProcessUsage }> {
    const seen = new Map<string, { kind: "provider" | "program" | "other"; ticks: number; hwmKb: number }>();
    const scan = () => {
        // Only this process's descendants: other processes on the machine may run Pulumi too.
        const parentOf = new Map<string, string>();
        const pids = fs.readdirSync("/proc").filter((pid) => /^\d+$/.test(pid));
        for (const pid of pids) {
            try {
                const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
                parentOf.set(pid, stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
            } catch {
                // ended meanwhile
            }
        }
        const mine = (pid: string) => {
            for (let p: string | undefined = pid, depth = 0; p && p !== "0" && depth < 50; p = parentOf.get(p), depth++) if (p === String(process.pid)) return true;
            return false;
        };
        for (const pid of pids) {
            if (pid === String(process.pid) || !mine(pid)) continue; // (this process runs the reference backend)
            try {
                // By the parent, whose command line stays as it was (a Node process's may change with its title):
                // the provider plugin's launcher script runs the dynamic-provider process, the language host the program.
                const prev0 = seen.get(pid);
                const parentCmd = cmdline(parentOf.get(pid));
                const kind = prev0?.kind ?? (parentCmd.includes("pulumi-resource-pulumi-nodejs") ? "provider" : parentCmd.includes("pulumi-language-nodejs") ? "program" : "other");
                const ticks = cpuTicks(fs.readFileSync(`/proc/${pid}/stat`, "utf8")).self;
                const hwm = Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
                const prev = seen.get(pid);
                seen.set(pid, { kind, ticks: Math.max(ticks, prev?.ticks ?? 0), hwmKb: Math.max(hwm, prev?.hwmKb ?? 0) });
            } catch {
                // the process ended meanwhile
            }
        }
    };
    const timer = setInterval(scan, 100);
    try {
        const result = await fn();
        scan();
        const sum = (kind?: string) => [...seen.values()].filter((p) => !kind || p.kind === kind).reduce((a, p) => a + p.ticks, 0) / TICKS;
        const hwm = Math.max(0, ...[...seen.values()].filter((p) => p.kind === "provider").map((p) => p.hwmKb));
        if (process.env.BENCH_DEBUG) process.stderr.write(`[bench] processes: ${JSON.stringify([...seen.entries()])}\n`);
        return { result, usage: { providerCpuS: sum("provider"), programCpuS: sum("program"), childrenCpuS: sum(), peakProviderRssMb: hwm / 1024 } };
    } finally {
        clearInterval(timer);
    }
}
