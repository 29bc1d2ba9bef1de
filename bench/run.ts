/**
 * `npm run bench`: what each operation costs, measured under the real Pulumi engine against the reference backend.
 *
 * For each size N (a mix of the three resource types, spread over several organizations and Unleash instances so
 * that singletons scale), it deploys the bench program (bench/program) with the real providers and with a no-op
 * provider of the same shape, alternately, and measures per operation: wall time, HTTP requests counted by the
 * backend against the minimum, and the peak RSS of the dynamic-provider process. It also records the size of
 * `__provider` and of the exported state per resource, and compares `oidc-drift` with `pulumi preview --refresh`
 * on the largest stack. Results: a table on stdout, bench/results.json and bench/results.md.
 *
 * This is a measurement script, not a test: it asserts nothing and reports targets as met or not.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { Command } from "commander";
import { startBackend } from "../reference-backend/src";
import { engineBin, newStack, repoRoot, TestStack } from "../tests/e2e/harness";

const execFileAsync = promisify(execFile);
type Backend = Awaited<ReturnType<typeof startBackend>>;
type Variant = "real" | "noop";
type Op = "up" | "preview" | "refresh" | "update" | "destroy";
const OPS: Op[] = ["up", "preview", "refresh", "update", "destroy"];

interface Sample {
    ms: number;
    requests: number;
    logins: number;
    peakRssMb: number;
}

interface SizeResult {
    n: number;
    mix: { sso: number; identity: number; unleash: number };
    ops: Record<Op, Record<Variant, Sample[]>>;
    providerBytesPerResource: number;
    maxProviderBytes: number;
    stateBytesPerResource: number;
}

// ---------------------------------------------------------------------------------------------------- helpers

const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : "-");

function mixOf(n: number) {
    const mix = { sso: 0, identity: 0, unleash: 0 };
    for (let i = 0; i < n; i++) mix[(["sso", "identity", "unleash"] as const)[i % 3]]++;
    return mix;
}

/** Minimum HTTP requests of an operation: one per resource per API call it implies, plus one login per process. */
function minimumRequests(op: Op, mix: SizeResult["mix"]): number {
    const n = mix.sso + mix.identity + mix.unleash;
    const login = mix.identity > 0 ? 1 : 0;
    if (op === "preview") return 0;
    return n + login;
}

/**
 * The floor this design accepts: the minimum, except that Unleash's settings API replaces the whole object, so a
 * write reads it first (to keep the fields Pulumi does not manage) and after (its answer lacks derived fields).
 */
function designFloor(op: Op, mix: SizeResult["mix"]): number {
    const unleashExtra = op === "up" || op === "update" ? 2 : op === "destroy" ? 1 : 0;
    return minimumRequests(op, mix) + (op === "preview" ? 0 : unleashExtra * mix.unleash);
}

/** Peak RSS of the dynamic-provider processes while `fn` runs (sampled from /proc; VmHWM is the process's peak). */
async function withPeakRss<T>(fn: () => Promise<T>): Promise<{ result: T; peakRssMb: number }> {
    let peakKb = 0;
    const scan = () => {
        for (const pid of fs.readdirSync("/proc")) {
            if (!/^\d+$/.test(pid)) continue;
            try {
                const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
                if (!cmd.includes("dynamic-provider")) continue;
                const hwm = /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
                if (hwm) peakKb = Math.max(peakKb, Number(hwm[1]));
            } catch {
                // the process ended meanwhile
            }
        }
    };
    const timer = setInterval(scan, 100);
    try {
        const result = await fn();
        return { result, peakRssMb: peakKb / 1024 };
    } finally {
        clearInterval(timer);
    }
}

function requestCount(backend: Backend | undefined): { requests: number; logins: number } {
    if (!backend) return { requests: 0, logins: 0 };
    let requests = 0;
    let logins = 0;
    for (const [route, count] of Object.entries(backend.stats().byRoute)) {
        // The built-in issuer and health checks are not API calls of the provider.
        if (!/^(GET|POST|PATCH|PUT|DELETE) \/(api|unleash)\//.test(route)) continue;
        requests += Number(count);
        if (route.includes("/universal-auth/login")) logins += Number(count);
    }
    return { requests, logins };
}

// ---------------------------------------------------------------------------------------------------- one run

async function deployRun(n: number, variant: Variant, run: number, result: SizeResult, beforeDestroy?: (t: TestStack) => Promise<void>): Promise<void> {
    const mix = result.mix;
    // A fresh backend per run, so that every run creates from scratch (no deactivated objects taken over).
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
    const t = await newStack(path.join(repoRoot, "bench", "program"), `bench-${variant}-${n}-${run}`);
    const planFile = path.join(t.stateDir, "plan.json");
    fs.writeFileSync(planFile, JSON.stringify(plan), { mode: 0o600 });
    t.stack.workspace.envVars.PULUMI_NODEJS_TRANSPILE_ONLY = "true"; // the same for both variants
    await t.stack.setAllConfig({
        "bench:planFile": { value: planFile },
        "bench:variant": { value: variant },
        "infisical:host": { value: ready.infisical.url },
        "infisical:clientId": { value: ready.infisical.universalAuth.clientId, secret: true },
        "infisical:clientSecret": { value: ready.infisical.universalAuth.clientSecret, secret: true },
    });

    const measure = async (op: Op, fn: () => Promise<unknown>) => {
        backend.resetStats();
        const started = process.hrtime.bigint();
        const { peakRssMb } = await withPeakRss(fn);
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        const counted = variant === "real" ? requestCount(backend) : { requests: 0, logins: 0 };
        result.ops[op][variant].push({ ms, ...counted, peakRssMb });
    };

    await measure("up", () => t.stack.up({ color: "never" }));
    if (variant === "real" && run === 0) {
        const deployment = (await t.stack.exportStack()).deployment as { resources: Array<{ type: string; inputs?: Record<string, unknown> }> };
        const dynamic = deployment.resources.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic"));
        const providerBytes = dynamic.map((r) => Buffer.byteLength(String(r.inputs?.__provider ?? "")));
        result.providerBytesPerResource = providerBytes.reduce((a, b) => a + b, 0) / Math.max(dynamic.length, 1);
        result.maxProviderBytes = Math.max(0, ...providerBytes);
        result.stateBytesPerResource = Buffer.byteLength(JSON.stringify(deployment)) / Math.max(dynamic.length, 1);
    }
    await measure("preview", () => t.stack.preview({ color: "never" }));
    await measure("refresh", () => t.stack.refresh({ color: "never" }));
    await t.stack.setConfig("bench:generation", { value: "1" });
    await measure("update", () => t.stack.up({ color: "never" }));
    if (beforeDestroy) await beforeDestroy(t);
    await measure("destroy", () => t.stack.destroy({ color: "never" }));
    await t.cleanup();
    await backend.stop();
}

/** oidc-drift against `pulumi preview --refresh` on a deployed stack, alternately. */
async function driftComparison(t: TestStack, runs: number): Promise<{ driftMs: number[]; previewRefreshMs: number[] }> {
    const env = { ...process.env, ...t.env, PULUMI_NODEJS_TRANSPILE_ONLY: "true" };
    const node = path.join(repoRoot, "node_modules", ".bin", "node");
    const cli = path.join(repoRoot, "dist", "cli", "oidc-drift.js");
    const stackName = t.stack.name;
    const out = { driftMs: [] as number[], previewRefreshMs: [] as number[] };
    for (let r = 0; r < runs; r++) {
        let started = Date.now();
        await execFileAsync(node, [cli, "--cwd", t.workDir, "--stack", stackName, "--quiet"], { env, maxBuffer: 64 << 20 });
        out.driftMs.push(Date.now() - started);
        started = Date.now();
        await execFileAsync(path.join(engineBin, "pulumi"), ["preview", "--refresh", "--stack", stackName, "--non-interactive"], { cwd: t.workDir, env, maxBuffer: 64 << 20 });
        out.previewRefreshMs.push(Date.now() - started);
    }
    return out;
}

// ---------------------------------------------------------------------------------------------------- report

function report(results: SizeResult[], drift: { n: number; driftMs: number[]; previewRefreshMs: number[] } | undefined, meta: Record<string, unknown>) {
    const lines: string[] = [];
    lines.push(`# Benchmark (${meta.date})`, "");
    lines.push(`Machine: ${meta.cpus} x ${meta.cpuModel}, ${meta.memGb} GiB; load average at start ${meta.loadAvg}. Runs per size: ${meta.runs}.`);
    lines.push("Pulumi engine and providers run on this one machine with the reference backend, so timings carry machine noise (see min-max).", "");
    lines.push("| N | op | real median s (min-max) | no-op median s (min-max) | ratio | requests (min) | logins | peak provider RSS MB (no-op) |");
    lines.push("|---|---|---|---|---|---|---|---|");
    for (const r of results) {
        for (const op of OPS) {
            const real = r.ops[op].real;
            const noop = r.ops[op].noop;
            if (real.length === 0) continue;
            const rm = median(real.map((s) => s.ms)) / 1000;
            const nm = median(noop.map((s) => s.ms)) / 1000;
            const range = (xs: Sample[]) => `${fmt(Math.min(...xs.map((s) => s.ms)) / 1000)}-${fmt(Math.max(...xs.map((s) => s.ms)) / 1000)}`;
            const reqs = [...new Set(real.map((s) => s.requests))].join("/");
            const floor = designFloor(op, r.mix) === minimumRequests(op, r.mix) ? `${minimumRequests(op, r.mix)}` : `${minimumRequests(op, r.mix)}; ${designFloor(op, r.mix)} with Unleash's reads`;
            lines.push(
                `| ${r.n} | ${op} | ${fmt(rm)} (${range(real)}) | ${noop.length ? `${fmt(nm)} (${range(noop)})` : "-"} | ${noop.length ? fmt(rm / nm) : "-"} | ${reqs} (${floor}) | ${[...new Set(real.map((s) => s.logins))].join("/")} | ${fmt(Math.max(...real.map((s) => s.peakRssMb)), 0)} (${noop.length ? fmt(Math.max(...noop.map((s) => s.peakRssMb)), 0) : "-"}) |`,
            );
        }
    }
    lines.push("", "| N | mix (sso/identity/unleash) | `__provider` bytes per resource (max) | exported state bytes per resource |", "|---|---|---|---|");
    for (const r of results) {
        lines.push(`| ${r.n} | ${r.mix.sso}/${r.mix.identity}/${r.mix.unleash} | ${fmt(r.providerBytesPerResource, 0)} (${r.maxProviderBytes}) | ${fmt(r.stateBytesPerResource, 0)} |`);
    }
    if (drift) {
        const d = median(drift.driftMs) / 1000;
        const p = median(drift.previewRefreshMs) / 1000;
        lines.push("", `Drift check on the ${drift.n}-resource stack: oidc-drift ${fmt(d)} s (${drift.driftMs.map((x) => fmt(x / 1000)).join(", ")}), ` +
            `pulumi preview --refresh ${fmt(p)} s (${drift.previewRefreshMs.map((x) => fmt(x / 1000)).join(", ")}): ${fmt(p / d)}x.`);
    }

    // Targets.
    const largest = results[results.length - 1];
    const targets: Array<[string, boolean, string]> = [];
    if (largest) {
        const upRatio = median(largest.ops.up.real.map((s) => s.ms)) / median(largest.ops.up.noop.map((s) => s.ms));
        targets.push([`up of ${largest.n} resources <= 1.2x the no-op provider`, upRatio <= 1.2, `${fmt(upRatio)}x`]);
        const extra = results.flatMap((r) => OPS.filter((op) => r.ops[op].real.some((s) => s.requests > minimumRequests(op, r.mix))).map((op) => `${op}@${r.n}`));
        const beyondFloor = results.flatMap((r) => OPS.filter((op) => r.ops[op].real.some((s) => s.requests > designFloor(op, r.mix))).map((op) => `${op}@${r.n}`));
        const why = beyondFloor.length
            ? `above even the full-replace floor: ${beyondFloor.join(", ")}`
            : "only Unleash writes exceed it, by the reads a full-replace API needs (GET before and after a POST; see README Limitations)";
        targets.push(["requests = the minimum", extra.length === 0, extra.length ? `above the minimum: ${extra.join(", ")}; ${why}` : "every operation"]);
        const maxBytes = Math.max(...results.map((r) => r.maxProviderBytes));
        targets.push(["`__provider` <= 2 KB per resource", maxBytes <= 2048, `${maxBytes} bytes at most`]);
    }
    if (drift) {
        const ratio = median(drift.previewRefreshMs) / median(drift.driftMs);
        targets.push(["drift check >= 3x faster than preview --refresh", ratio >= 3, `${fmt(ratio)}x`]);
    }
    lines.push("", "| target | met | measured |", "|---|---|---|");
    for (const [name, met, measured] of targets) lines.push(`| ${name} | ${met ? "yes" : "no"} | ${measured} |`);
    return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------------- main

async function main() {
    const opts = new Command()
        .name("bench")
        .option("--sizes <list>", "resource counts", "1,50,200")
        .option("--runs <n>", "runs per size and variant (median, min, max)", "3")
        .option("--drift-runs <n>", "runs of the drift comparison", "3")
        .option("--out <dir>", "where results.json and results.md go", path.join(repoRoot, "bench"))
        .parse(process.argv)
        .opts<{ sizes: string; runs: string; driftRuns: string; out: string }>();
    const sizes = opts.sizes.split(",").map(Number).filter((x) => x > 0);
    const runs = Number(opts.runs);
    if (!fs.existsSync(path.join(engineBin, "pulumi"))) throw new Error(`the Pulumi engine is missing in ${engineBin}: run npm run install-engine`);

    const meta = {
        date: new Date().toISOString(),
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? "?",
        memGb: Math.round(os.totalmem() / 2 ** 30),
        loadAvg: os.loadavg().map((x) => x.toFixed(2)).join(" "),
        runs,
        node: process.version,
    };
    const results: SizeResult[] = [];
    let drift: { n: number; driftMs: number[]; previewRefreshMs: number[] } | undefined;
    for (const n of sizes) {
        const result: SizeResult = {
            n,
            mix: mixOf(n),
            ops: Object.fromEntries(OPS.map((op) => [op, { real: [], noop: [] }])) as unknown as SizeResult["ops"],
            providerBytesPerResource: 0,
            maxProviderBytes: 0,
            stateBytesPerResource: 0,
        };
        for (let run = 0; run < runs; run++) {
            // Alternate the variants so that machine noise falls on both alike.
            for (const variant of (run % 2 === 0 ? ["real", "noop"] : ["noop", "real"]) as Variant[]) {
                process.stderr.write(`[bench] N=${n} run ${run + 1}/${runs} ${variant}...\n`);
                const last = variant === "real" && n === sizes[sizes.length - 1] && run === runs - 1;
                await deployRun(n, variant, run, result, last ? async (t) => {
                    process.stderr.write(`[bench] drift check vs preview --refresh on N=${n}...\n`);
                    drift = { n, ...(await driftComparison(t, Number(opts.driftRuns))) };
                } : undefined);
            }
        }
        results.push(result);
        write(); // after each size, so that a long run that fails late keeps what it measured
    }
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
