/**
 * `node dist/bench/profile.js`: CPU profiles (`node --cpu-prof`) of every Node process of `pulumi up`, `pulumi
 * refresh` and `oidc-drift` on the bench stack (default 200 resources), with the real providers and with the no-op
 * provider of the same shape, summarised as the top costs by function (self and inclusive) and by origin.
 *
 * The dynamic-provider process is started by the engine (through the pulumi-resource-pulumi-nodejs plugin, a shell
 * script running `node`), which passes its environment on: NODE_OPTIONS in the environment of the pulumi command
 * reaches it, and the program's Node process too; each process writes its own profile, told apart by its scripts.
 *
 * Output: bench/<name>.md (profile.md and profile-before.md are read into bench/results.md by run.ts) and
 * bench/<name>.json; the raw profiles stay in bench/runs/profiles/<name> (not committed; open them in Chrome DevTools
 * or speedscope). `--package` profiles another build, e.g. the tarball of an earlier version.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { Command } from "commander";
import { repoRoot } from "../tests/e2e/harness";
import { ProfileSummary, summarizeDir } from "./cpuprofile";
import { benchStack, installedPackage, installPackage, ProcessUsage, Variant, withProcessUsage } from "./stack";

const execFileAsync = promisify(execFile);

interface StepProfile {
    variant: Variant;
    step: string;
    wallMs: number;
    usage: ProcessUsage;
    processes: ProfileSummary[];
}

async function profileVariant(n: number, variant: Variant, dir: string, interval: number): Promise<StepProfile[]> {
    const bs = await benchStack(n, variant, `profile-${variant}-${n}`);
    const env = bs.stack.workspace.envVars;
    const out: StepProfile[] = [];
    const step = async (name: string, fn: (nodeOptions: string) => Promise<unknown>) => {
        const stepDir = path.join(dir, `${variant}-${name}`);
        fs.rmSync(stepDir, { recursive: true, force: true });
        fs.mkdirSync(stepDir, { recursive: true });
        const hook = path.join(__dirname, "profile-hook.js");
        const nodeOptions = `--cpu-prof --cpu-prof-dir=${stepDir} --cpu-prof-interval=${interval} --require ${hook}`;
        env.NODE_OPTIONS = nodeOptions;
        process.stderr.write(`[profile] ${variant} ${name} (N=${n})...\n`);
        const started = Date.now();
        let usage: ProcessUsage;
        try {
            usage = (await withProcessUsage(() => fn(nodeOptions))).usage;
        } finally {
            delete env.NODE_OPTIONS;
        }
        out.push({ variant, step: name, wallMs: Date.now() - started, usage, processes: summarizeDir(stepDir, repoRoot) });
    };
    try {
        await step("up", () => bs.stack.up({ color: "never" }));
        await step("refresh", () => bs.stack.refresh({ color: "never" }));
        if (variant === "real") {
            const node = path.join(repoRoot, "node_modules", ".bin", "node");
            const cli = path.join(installedPackage, "dist", "cli", "oidc-drift.js");
            await step("oidc-drift", (nodeOptions) =>
                execFileAsync(node, [cli, "--cwd", bs.workDir, "--stack", bs.stack.name, "--quiet"], {
                    env: { ...process.env, ...bs.env, NODE_OPTIONS: nodeOptions },
                    maxBuffer: 64 << 20,
                }),
            );
        }
        await bs.stack.destroy({ color: "never" });
    } finally {
        await bs.stop();
    }
    return out;
}

function fmtMs(ms: number): string {
    return ms >= 100 ? ms.toFixed(0) : ms.toFixed(1);
}

function markdown(n: number, steps: StepProfile[], meta: { date: string; loadAvg: string; interval: number; package: string }): string {
    const lines: string[] = [];
    lines.push(`## CPU profile: ${meta.package} (${meta.date}, N=${n}, load average at start ${meta.loadAvg}, sampling every ${meta.interval} µs)`, "");
    lines.push(
        "`node dist/bench/profile.js` (bench/profile.ts): `--cpu-prof` in NODE_OPTIONS of the pulumi command reaches the program's Node " +
            "process and the dynamic-provider process the engine starts. Busy = sampled time that was not idle. Wall times include the " +
            "profiler's own overhead.",
        "",
    );
    lines.push("| variant | step | wall s | CPU s: provider (all threads) / program / everything | process | its wall s | busy s (main thread) | of which module loading s | top origins (self, ms) |", "|---|---|---|---|---|---|---|---|---|");
    for (const s of steps) {
        const cpu = `${s.usage.providerCpuS.toFixed(2)} / ${s.usage.programCpuS.toFixed(2)} / ${s.usage.childrenCpuS.toFixed(2)}`;
        for (const p of s.processes.filter((p) => p.busyMs > 20)) {
            const origins = p.selfByOrigin.slice(0, 5).map((o) => `${o.name} ${fmtMs(o.ms)}`).join("; ");
            lines.push(`| ${s.variant} | ${s.step} | ${(s.wallMs / 1000).toFixed(2)} | ${cpu} | ${p.process} | ${(p.wallMs / 1000).toFixed(2)} | ${(p.busyMs / 1000).toFixed(2)} | ${(p.loadingMs / 1000).toFixed(2)} | ${origins} |`);
        }
    }
    for (const s of steps) {
        for (const p of s.processes.filter((p) => p.process === "dynamic-provider" || p.process === "oidc-drift")) {
            lines.push("", `### ${s.variant} ${s.step}: ${p.process} (busy ${(p.busyMs / 1000).toFixed(2)} s)`, "");
            lines.push(`Module top-level code, inclusive ms: ${p.loadByModule.slice(0, 12).map((m) => `${m.name} ${fmtMs(m.ms)}`).join("; ")}.`, "");
            lines.push("| self ms | function | | inclusive ms | function |", "|---|---|---|---|---|");
            for (let i = 0; i < 15; i++) {
                const a = p.selfByFunction[i];
                const b = p.inclusiveByFunction[i];
                lines.push(`| ${a ? fmtMs(a.ms) : ""} | ${a ? "`" + a.name + "`" : ""} | | ${b ? fmtMs(b.ms) : ""} | ${b ? "`" + b.name + "`" : ""} |`);
            }
        }
    }
    return lines.join("\n");
}

async function main() {
    const opts = new Command()
        .name("profile")
        .option("--n <n>", "resources", "200")
        .option("--variants <list>", "real,noop", "real,noop")
        .option("--interval <us>", "sampling interval of --cpu-prof (µs)", "1000")
        .option("--package <tarball>", "profile this package tarball instead of `npm pack` of the repository")
        .option("--name <name>", "file names: <name>.md and <name>.json", "profile")
        .option("--dir <dir>", "where the raw profiles go", path.join(repoRoot, "bench", "runs", "profiles"))
        .option("--out <dir>", "where profile.md and profile.json go", path.join(repoRoot, "bench"))
        .parse(process.argv)
        .opts<{ n: string; variants: string; interval: string; package?: string; name: string; dir: string; out: string }>();
    const n = Number(opts.n);
    const interval = Number(opts.interval);
    const meta = {
        date: new Date().toISOString(),
        loadAvg: require("os").loadavg().map((x: number) => x.toFixed(2)).join(" "),
        interval,
        package: opts.package ? path.basename(opts.package) : "npm pack of the repository",
    };
    installPackage(opts.package && path.resolve(opts.package));
    const steps: StepProfile[] = [];
    for (const variant of opts.variants.split(",") as Variant[]) steps.push(...(await profileVariant(n, variant, path.join(opts.dir, opts.name), interval)));
    const md = markdown(n, steps, meta);
    fs.writeFileSync(path.join(opts.out, `${opts.name}.md`), md + "\n");
    fs.writeFileSync(path.join(opts.out, `${opts.name}.json`), JSON.stringify({ meta, n, steps }, null, 2) + "\n");
    process.stdout.write(md + "\n");
}

main().catch((err) => {
    process.stderr.write(`profile failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
});
