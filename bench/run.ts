/**
 * `npm run bench`: what each operation costs, measured under the real Pulumi engine against the reference backend.
 *
 * For each size N (a mix of the three resource types, spread over several organizations and Unleash instances so
 * that singletons scale), it deploys the bench program (bench/program, using the package installed from `npm pack`,
 * see stack.ts) with the real providers and with a no-op provider of the same shape, alternately, and measures per
 * operation: wall time, HTTP requests counted by the backend against the floor, CPU time of the dynamic-provider
 * process, of the program and of everything the operation started, and the peak RSS of the provider process. It
 * also records the size of `__provider` and of the exported state per resource, and compares `oidc-drift` with
 * `pulumi preview --refresh` on the largest stack. Results: a table on stdout, bench/results.json and
 * bench/results.md (with the CPU profile summaries of bench/profile.md and profile-before.md, by profile.ts, appended).
 *
 * This is a measurement script, not a test: it asserts nothing and reports targets as met or not.
 */
import { execFile, execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { Command } from "commander";
import { engineBin, repoRoot } from "../tests/e2e/harness";
import { BenchStack, benchStack, installedPackage, installPackage, Mix, mixOf, ProcessUsage, Variant, withProcessUsage } from "./stack";

const execFileAsync = promisify(execFile);
type Op = "up" | "preview" | "refresh" | "update" | "destroy";
const OPS: Op[] = ["up", "preview", "refresh", "update", "destroy"];

/**
 * The figures of 0.2.0 the targets are relative to (bench/results.md of 2026-11-29, N=200): the exported state per
 * resource and the peak RSS of the provider process.
 */
const BASELINE = { n: 200, stateBytesPerResource: 8556, peakProviderRssMb: 279 };

interface Sample extends ProcessUsage {
    ms: number;
    requests: number;
    logins: number;
}

interface SizeResult {
    n: number;
    mix: Mix;
    ops: Record<Op, Record<Variant, Sample[]>>;
    providerBytesPerResource: number;
    maxProviderBytes: number;
    stateBytesPerResource: number;
    /** What one resource's state holds, by part (bytes, averaged): see stateParts. */
    stateParts: Record<string, number>;
}

// ---------------------------------------------------------------------------------------------------- helpers

const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : "-");

/**
 * The request floor of an operation, by what it needs:
 * - one request per resource per API call the operation implies (create, read, update, delete);
 * - one universal-auth login per process (the identities' stack-config credentials), which is also their credential
 *   check;
 * - the credential check `check` runs at preview and up (issue 24.5): one request per server and credential, here one
 *   per organization token (SSO) and one per Unleash instance;
 * - Unleash: its settings API replaces the whole object, so a write reads it first (to keep the fields Pulumi does
 *   not manage) and after (its answer lacks derived fields); a delete (a save with `enabled: false`) reads it first;
 * - SSO delete reads the configuration first: a PATCH `isActive: false` of a configuration that is already disabled
 *   is not harmless (Infisical's updateOidcCfg also turns off the organization's SSO enforcement and SCIM).
 */
function requestFloor(op: Op, mix: Mix): { floor: number; parts: string } {
    const n = mix.sso + mix.identity + mix.unleash;
    const login = mix.identity > 0 ? 1 : 0;
    const checks = mix.sso + mix.unleash;
    switch (op) {
        case "preview":
            return { floor: checks + login, parts: `${checks} checks + ${login} login` };
        case "up":
        case "update":
            return { floor: n + checks + login + 2 * mix.unleash, parts: `${n} writes + ${checks} checks + ${login} login + ${2 * mix.unleash} Unleash reads` };
        case "refresh":
            return { floor: n + login, parts: `${n} reads + ${login} login` };
        case "destroy":
            return { floor: n + login + mix.unleash + mix.sso, parts: `${n} deletes + ${login} login + ${mix.unleash + mix.sso} reads (Unleash, SSO)` };
    }
}

function requestCount(bs: BenchStack | undefined): { requests: number; logins: number } {
    if (!bs) return { requests: 0, logins: 0 };
    let requests = 0;
    let logins = 0;
    for (const [route, count] of Object.entries(bs.backend.stats().byRoute)) {
        // The built-in issuer and health checks are not API calls of the provider.
        if (!/^(GET|POST|PATCH|PUT|DELETE) \/(api|unleash)\//.test(route)) continue;
        requests += Number(count);
        if (route.includes("/universal-auth/login")) logins += Number(count);
    }
    return { requests, logins };
}

/** Where the bytes of a dynamic resource's state go: `__provider` (inputs and outputs), secrets, the rest. */
function stateParts(resources: Array<Record<string, unknown>>): Record<string, number> {
    const parts: Record<string, number> = {};
    const add = (k: string, v: unknown) => (parts[k] = (parts[k] ?? 0) + Buffer.byteLength(JSON.stringify(v ?? null)) / resources.length);
    for (const r of resources) {
        const { inputs, outputs, ...rest } = r as { inputs?: Record<string, unknown>; outputs?: Record<string, unknown> };
        for (const [where, props] of [["inputs", inputs], ["outputs", outputs]] as const) {
            for (const [k, v] of Object.entries(props ?? {})) {
                const secret = typeof v === "object" && v !== null && "4dabf18193072939515e22adb298388d" in v;
                add(k === "__provider" ? `__provider (${where})` : secret ? `secrets (${where}, encrypted)` : `other ${where}`, v);
            }
        }
        for (const [k, v] of Object.entries(rest)) add(["urn", "id", "type", "parent", "provider"].includes(k) ? "urn, id, type, parent, provider" : `engine: ${k}`, v);
    }
    return parts;
}

// ---------------------------------------------------------------------------------------------------- one run

/** `ops`: the operations measured; up and destroy always run (a larger size may skip the others to bound the run). */
async function deployRun(n: number, variant: Variant, run: number, result: SizeResult, ops: readonly Op[], beforeDestroy?: (bs: BenchStack) => Promise<void>): Promise<void> {
    const bs = await benchStack(n, variant, `bench-${variant}-${n}-${run}`);
    try {
        const measure = async (op: Op, fn: () => Promise<unknown>) => {
            bs.backend.resetStats();
            const started = process.hrtime.bigint();
            const { usage } = await withProcessUsage(fn);
            const ms = Number(process.hrtime.bigint() - started) / 1e6;
            const counted = variant === "real" ? requestCount(bs) : { requests: 0, logins: 0 };
            result.ops[op][variant].push({ ms, ...counted, ...usage });
        };

        await measure("up", () => bs.stack.up({ color: "never" }));
        if (variant === "real" && run === 0) {
            const deployment = (await bs.stack.exportStack()).deployment as { resources: Array<{ type: string; inputs?: Record<string, unknown> }> };
            const dynamic = deployment.resources.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic"));
            const providerBytes = dynamic.map((r) => Buffer.byteLength(String(r.inputs?.__provider ?? "")));
            result.providerBytesPerResource = providerBytes.reduce((a, b) => a + b, 0) / Math.max(dynamic.length, 1);
            result.maxProviderBytes = Math.max(0, ...providerBytes);
            result.stateBytesPerResource = Buffer.byteLength(JSON.stringify(deployment)) / Math.max(dynamic.length, 1);
            result.stateParts = stateParts(dynamic as Array<Record<string, unknown>>);
        }
        if (ops.includes("preview")) await measure("preview", () => bs.stack.preview({ color: "never" }));
        if (ops.includes("refresh")) await measure("refresh", () => bs.stack.refresh({ color: "never" }));
        if (ops.includes("update")) {
            await bs.stack.setConfig("bench:generation", { value: "1" });
            await measure("update", () => bs.stack.up({ color: "never" }));
        }
        if (beforeDestroy) await beforeDestroy(bs);
        await measure("destroy", () => bs.stack.destroy({ color: "never" }));
    } finally {
        await bs.stop();
    }
}

/** oidc-drift (the installed package's bin) against `pulumi preview --refresh` on a deployed stack, alternately. */
async function driftComparison(bs: BenchStack, runs: number): Promise<{ driftMs: number[]; previewRefreshMs: number[] }> {
    const env = { ...process.env, ...bs.env };
    const node = path.join(repoRoot, "node_modules", ".bin", "node");
    const cli = path.join(installedPackage, "dist", "cli", "oidc-drift.js");
    const stackName = bs.stack.name;
    const out = { driftMs: [] as number[], previewRefreshMs: [] as number[] };
    for (let r = 0; r < runs; r++) {
        let started = Date.now();
        await execFileAsync(node, [cli, "--cwd", bs.workDir, "--stack", stackName, "--quiet"], { env, maxBuffer: 64 << 20 });
        out.driftMs.push(Date.now() - started);
        started = Date.now();
        await execFileAsync(path.join(engineBin, "pulumi"), ["preview", "--refresh", "--stack", stackName, "--non-interactive"], { cwd: bs.workDir, env, maxBuffer: 64 << 20 });
        out.previewRefreshMs.push(Date.now() - started);
    }
    return out;
}

/**
 * `__provider` as a program inside this repository (or a linked package) gets it: the forwarders serialized by value.
 * In a fresh process, as the program's: the serializer's result depends on what the process has loaded.
 */
function byValueProviderBytes(): number {
    const script =
        'const pulumi = require("@pulumi/pulumi"); const { forwarders } = require("./dist/provider/engine/forwarder.js");' +
        "pulumi.runtime.serializeFunction(() => forwarders.UnleashOidcSettings, { allowSecrets: true }).then((sf) => process.stdout.write(String(Buffer.byteLength(sf.text))));";
    return Number(execFileSync(process.execPath, ["-e", script], { cwd: repoRoot, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
}

// ---------------------------------------------------------------------------------------------------- report

type Drift = { n: number; driftMs: number[]; previewRefreshMs: number[] };

function report(results: SizeResult[], drift: Drift | undefined, meta: Record<string, unknown>) {
    const lines: string[] = [];
    lines.push(`# Benchmark (${meta.date})`, "");
    lines.push(
        `Machine: ${meta.cpus} x ${meta.cpuModel}, ${meta.memGb} GiB; load average at start ${meta.loadAvg}, at end ${meta.loadAvgEnd ?? "-"}. ` +
            `Runs per size: ${meta.runs}. Node ${meta.node}, engine ${meta.engine}. Package: ${meta.package}.`,
    );
    lines.push(
        "The Pulumi engine, the program, the provider and the reference backend share this machine, so timings carry noise (see min-max). " +
            "The program uses the package installed from `npm pack` (bench/stack.ts). CPU s: the dynamic-provider process (all its threads), " +
            "and everything the operation started (engine, plugins, program, provider).",
        "",
    );
    lines.push(
        "| N | op | real median s (min-max) | no-op median s (min-max) | ratio | requests (floor) | logins | provider CPU s (no-op) | all CPU s (no-op) | peak provider RSS MB (no-op) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    );
    for (const r of results) {
        for (const op of OPS) {
            const real = r.ops[op].real;
            const noop = r.ops[op].noop;
            if (real.length === 0) continue;
            const med = (xs: Sample[], f: (s: Sample) => number) => median(xs.map(f));
            const rm = med(real, (s) => s.ms) / 1000;
            const nm = med(noop, (s) => s.ms) / 1000;
            const range = (xs: Sample[]) => `${fmt(Math.min(...xs.map((s) => s.ms)) / 1000)}-${fmt(Math.max(...xs.map((s) => s.ms)) / 1000)}`;
            const reqs = [...new Set(real.map((s) => s.requests))].join("/");
            const both = (f: (s: Sample) => number, d = 2) => `${fmt(med(real, f), d)} (${noop.length ? fmt(med(noop, f), d) : "-"})`;
            lines.push(
                `| ${r.n} | ${op} | ${fmt(rm)} (${range(real)}) | ${noop.length ? `${fmt(nm)} (${range(noop)})` : "-"} | ${noop.length ? fmt(rm / nm) : "-"} | ` +
                    `${reqs} (${requestFloor(op, r.mix).floor}) | ${[...new Set(real.map((s) => s.logins))].join("/")} | ${both((s) => s.providerCpuS)} | ${both((s) => s.childrenCpuS)} | ` +
                    `${fmt(Math.max(...real.map((s) => s.peakProviderRssMb)), 0)} (${noop.length ? fmt(Math.max(...noop.map((s) => s.peakProviderRssMb)), 0) : "-"}) |`,
            );
        }
    }
    const largest = results[results.length - 1];
    if (largest) {
        lines.push("", `Request floors (N=${largest.n}): ${OPS.map((op) => `${op} ${requestFloor(op, largest.mix).parts}`).join("; ")}. See requestFloor in bench/run.ts for why each is needed.`);
    }
    lines.push("", "| N | mix (sso/identity/unleash) | `__provider` bytes per resource (max) | exported state bytes per resource |", "|---|---|---|---|");
    for (const r of results) {
        lines.push(`| ${r.n} | ${r.mix.sso}/${r.mix.identity}/${r.mix.unleash} | ${fmt(r.providerBytesPerResource, 0)} (${r.maxProviderBytes}) | ${fmt(r.stateBytesPerResource, 0)} |`);
    }
    if (largest) {
        const parts = Object.entries(largest.stateParts).sort((a, b) => b[1] - a[1]);
        lines.push("", `What one resource's state holds (N=${largest.n}, bytes): ${parts.map(([k, v]) => `${k} ${fmt(v, 0)}`).join("; ")}.`);
        lines.push(`\`__provider\` when the providers are serialized by value (a program inside this repository, or a linked package): ${meta.byValueProviderBytes} bytes.`);
    }
    if (drift) {
        const d = median(drift.driftMs) / 1000;
        const p = median(drift.previewRefreshMs) / 1000;
        lines.push("", `Drift check on the ${drift.n}-resource stack: oidc-drift ${fmt(d)} s (${drift.driftMs.map((x) => fmt(x / 1000)).join(", ")}), ` +
            `pulumi preview --refresh ${fmt(p)} s (${drift.previewRefreshMs.map((x) => fmt(x / 1000)).join(", ")}): ${fmt(p / d)}x.`);
    }

    // Targets.
    const targets: Array<[string, boolean, string]> = [];
    const upRatio = (r: SizeResult) => median(r.ops.up.real.map((s) => s.ms)) / median(r.ops.up.noop.map((s) => s.ms));
    if (largest && largest.ops.up.noop.length > 0) {
        targets.push([`up of ${largest.n} resources <= 1.15x the no-op provider`, upRatio(largest) <= 1.15, `${fmt(upRatio(largest))}x`]);
        const mid = results.find((r) => r.n === 50);
        if (mid && mid !== largest && mid.ops.up.noop.length > 0) {
            // "No longer grows": within 0.03 of the ratio at 50 (the runs' own spread is larger than that).
            targets.push([`up ratio does not grow from 50 to ${largest.n} (within 0.03)`, upRatio(largest) <= upRatio(mid) + 0.03, `${fmt(upRatio(mid))}x at 50, ${fmt(upRatio(largest))}x at ${largest.n}`]);
        }
    }
    if (drift) {
        const ratio = median(drift.previewRefreshMs) / median(drift.driftMs);
        targets.push(["drift check >= 3x faster than preview --refresh", ratio >= 3, `${fmt(ratio)}x`]);
    }
    if (largest) {
        const maxBytes = Math.max(...results.map((r) => r.maxProviderBytes));
        targets.push(["`__provider` <= 2 KB per resource", maxBytes <= 2048, `${maxBytes} bytes at most`]);
        const atBaseline = results.find((r) => r.n === BASELINE.n);
        if (atBaseline) {
            targets.push([
                `exported state per resource halved (0.2.0: ${BASELINE.stateBytesPerResource} bytes at N=${BASELINE.n})`,
                atBaseline.stateBytesPerResource <= BASELINE.stateBytesPerResource / 2,
                `${fmt(atBaseline.stateBytesPerResource, 0)} bytes`,
            ]);
            const peak = Math.max(...OPS.flatMap((op) => atBaseline.ops[op].real.map((s) => s.peakProviderRssMb)));
            targets.push([`peak provider RSS at N=${BASELINE.n} not above 0.2.0's (${BASELINE.peakProviderRssMb} MB)`, peak <= BASELINE.peakProviderRssMb, `${fmt(peak, 0)} MB`]);
        }
        const above = results.flatMap((r) => OPS.filter((op) => r.ops[op].real.some((s) => s.requests > requestFloor(op, r.mix).floor)).map((op) => `${op}@${r.n}`));
        targets.push(["requests at the floor (above)", above.length === 0, above.length ? `above the floor: ${above.join(", ")}` : "every operation"]);
    }
    lines.push("", "| target | met | measured |", "|---|---|---|");
    for (const [name, met, measured] of targets) lines.push(`| ${name} | ${met ? "yes" : "no"} | ${measured} |`);

    for (const name of ["findings.md", "profile.md", "profile-before.md"]) {
        const profile = path.join(repoRoot, "bench", name);
        if (fs.existsSync(profile)) lines.push("", fs.readFileSync(profile, "utf8").trim());
    }
    return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------------- main

async function main() {
    const opts = new Command()
        .name("bench")
        .option("--sizes <list>", "resource counts", "1,50,200")
        .option("--runs <n>", "runs per size and variant (median, min, max)", "3")
        .option("--drift-runs <n>", "runs of the drift comparison", "3")
        .option("--no-noop", "skip the no-op provider (e.g. for a large size)")
        .option("--ops <list>", "operations measured besides up and destroy (preview,refresh,update)", "preview,refresh,update")
        .option("--package <tarball>", "measure this package tarball (e.g. an earlier version) instead of `npm pack` of the repository")
        .option("--out <dir>", "where results.json and results.md go", path.join(repoRoot, "bench"))
        .parse(process.argv)
        .opts<{ sizes: string; runs: string; driftRuns: string; noop: boolean; ops: string; package?: string; out: string }>();
    const ops = OPS.filter((op) => op === "up" || op === "destroy" || opts.ops.split(",").includes(op));
    const sizes = opts.sizes.split(",").map(Number).filter((x) => x > 0);
    const runs = Number(opts.runs);
    if (!fs.existsSync(path.join(engineBin, "pulumi"))) throw new Error(`the Pulumi engine is missing in ${engineBin}: run npm run install-engine`);
    installPackage(opts.package && path.resolve(opts.package));

    const meta: Record<string, unknown> = {
        date: new Date().toISOString(),
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? "?",
        memGb: Math.round(os.totalmem() / 2 ** 30),
        loadAvg: os.loadavg().map((x) => x.toFixed(2)).join(" "),
        runs,
        node: process.version,
        engine: path.basename(path.dirname(engineBin)),
        package: opts.package ? path.basename(opts.package) : "npm pack of the repository",
        byValueProviderBytes: byValueProviderBytes(),
    };
    const results: SizeResult[] = [];
    let drift: Drift | undefined;
    for (const n of sizes) {
        const result: SizeResult = {
            n,
            mix: mixOf(n),
            ops: Object.fromEntries(OPS.map((op) => [op, { real: [], noop: [] }])) as unknown as SizeResult["ops"],
            providerBytesPerResource: 0,
            maxProviderBytes: 0,
            stateBytesPerResource: 0,
            stateParts: {},
        };
        for (let run = 0; run < runs; run++) {
            // Alternate the variants so that machine noise falls on both alike.
            const variants = (opts.noop ? (run % 2 === 0 ? ["real", "noop"] : ["noop", "real"]) : ["real"]) as Variant[];
            for (const variant of variants) {
                process.stderr.write(`[bench] N=${n} run ${run + 1}/${runs} ${variant}...\n`);
                const last = variant === "real" && n === sizes[sizes.length - 1] && run === runs - 1 && Number(opts.driftRuns) > 0;
                await deployRun(n, variant, run, result, ops, last ? async (bs) => {
                    process.stderr.write(`[bench] drift check vs preview --refresh on N=${n}...\n`);
                    drift = { n, ...(await driftComparison(bs, Number(opts.driftRuns))) };
                } : undefined);
            }
        }
        results.push(result);
        write(); // after each size, so that a long run that fails late keeps what it measured
    }
    meta.loadAvgEnd = os.loadavg().map((x) => x.toFixed(2)).join(" ");
    process.stdout.write(write() + "\n");
    process.stderr.write(`[bench] wrote ${path.join(opts.out, "results.json")} and results.md\n`);

    function write(): string {
        const md = report(results, drift, meta);
        fs.mkdirSync(opts.out, { recursive: true });
        fs.writeFileSync(path.join(opts.out, "results.json"), JSON.stringify({ meta, results, drift }, null, 2) + "\n");
        fs.writeFileSync(path.join(opts.out, "results.md"), md + "\n");
        return md;
    }
}

main().catch((err) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
});
