/**
 * Summaries of V8 CPU profiles (`node --cpu-prof`): which process a profile is, where its time went by function
 * (self and inclusive) and by origin (this package, each dependency, Node itself, the SDK's host), for
 * bench/profile.ts. Inclusive time counts a function once per sample however deep it recurses.
 */
import * as fs from "fs";
import * as path from "path";

interface CallFrame {
    functionName: string;
    url: string;
    lineNumber: number;
    columnNumber: number;
}
interface ProfileNode {
    id: number;
    callFrame: CallFrame;
    children?: number[];
}
interface CpuProfile {
    nodes: ProfileNode[];
    startTime: number;
    endTime: number;
    samples: number[];
    timeDeltas: number[];
}

export interface Cost {
    name: string;
    ms: number;
}

export interface ProfileSummary {
    file: string;
    /** "dynamic-provider", "program", "oidc-drift", "launcher" (the provider plugin's `node -e require.resolve`), ... */
    process: string;
    wallMs: number;
    /** Time in samples that were not idle. */
    busyMs: number;
    selfByFunction: Cost[];
    inclusiveByFunction: Cost[];
    selfByOrigin: Cost[];
    /** Time spent loading modules (under require). */
    loadingMs: number;
    /** Inclusive time of modules' top-level code (their loading and what it loads), by package or file of this package. */
    loadByModule: Cost[];
}

/** Where a script comes from: this package, a dependency (by package name), Node's own code, or V8. */
export function originOf(url: string, repoRoot: string): string {
    if (url === "") return "(v8/native)";
    if (url.startsWith("node:")) return "node (internals)";
    const file = url.replace(/^file:\/\//, "");
    const nm = file.lastIndexOf("/node_modules/");
    if (nm >= 0) {
        const rest = file.slice(nm + "/node_modules/".length).split("/");
        const name = rest[0].startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0];
        if (name === "pulumi-oidc-settings") return `this package (${rest.slice(1, 4).join("/")})`;
        return name;
    }
    if (file.startsWith(repoRoot)) {
        const rel = path.relative(repoRoot, file).split(path.sep);
        // dist/provider/engine/x.js → "this package (provider/engine)"
        const parts = rel[0] === "dist" ? rel.slice(1) : rel;
        return `this package (${parts.slice(0, Math.min(2, parts.length - 1)).join("/") || parts[0]})`;
    }
    return file;
}

const IDLE = new Set(["(idle)", "(program)"]);

function frameName(frame: CallFrame, repoRoot: string): string {
    if (frame.url === "") return frame.functionName || "(anonymous)";
    const file = frame.url.replace(/^file:\/\//, "");
    const nm = file.lastIndexOf("/node_modules/");
    const short = nm >= 0 ? file.slice(nm + "/node_modules/".length) : file.startsWith(repoRoot) ? path.relative(repoRoot, file) : file;
    return `${frame.functionName || "(anonymous)"} ${short}:${frame.lineNumber + 1}`;
}

function kindOfProcess(profile: CpuProfile): string {
    const urls = new Set(profile.nodes.map((n) => n.callFrame.url));
    const has = (re: RegExp) => [...urls].some((u) => re.test(u));
    if (has(/cmd\/dynamic-provider\/index\.js$/)) return "dynamic-provider";
    if (has(/cli\/oidc-drift\.js$/)) return "oidc-drift";
    if (has(/cli\/oidc-audit\.js$/)) return "oidc-audit";
    if (has(/cmd\/run\/index\.js$|cmd\/run\/run\.js$/)) return "program";
    if (has(/@pulumi\/pulumi/)) return "other (@pulumi/pulumi)";
    return "launcher";
}

const top = (m: Map<string, number>, n: number): Cost[] =>
    [...m.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, n)
        .map(([name, us]) => ({ name, ms: us / 1000 }));

export function summarize(file: string, repoRoot: string, topN = 25): ProfileSummary {
    const profile = JSON.parse(fs.readFileSync(file, "utf8")) as CpuProfile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

    const self = new Map<string, number>();
    const inclusive = new Map<string, number>();
    const origin = new Map<string, number>();
    const load = new Map<string, number>();
    let busy = 0;
    let loading = 0;
    for (let i = 0; i < profile.samples.length; i++) {
        const us = profile.timeDeltas[i + 1] ?? 0; // the delta after a sample is the time it stands for
        const node = byId.get(profile.samples[i]);
        if (!node) continue;
        const name = frameName(node.callFrame, repoRoot);
        if (IDLE.has(node.callFrame.functionName)) continue;
        busy += us;
        self.set(name, (self.get(name) ?? 0) + us);
        const o = node.callFrame.functionName === "(garbage collector)" ? "(garbage collector)" : originOf(node.callFrame.url, repoRoot);
        origin.set(o, (origin.get(o) ?? 0) + us);
        const seen = new Set<string>();
        let inLoad = false;
        for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
            const frame = byId.get(id)!.callFrame;
            const fn = frameName(frame, repoRoot);
            // A module's top-level code: the anonymous function at line 1 of its file.
            if (frame.functionName === "" && frame.lineNumber === 0 && frame.url && !frame.url.startsWith("node:")) {
                const m = originOf(frame.url, repoRoot);
                const key = m.startsWith("this package") ? `this package: ${path.basename(frame.url)}` : m;
                if (!seen.has(`load:${key}`)) {
                    seen.add(`load:${key}`);
                    load.set(key, (load.get(key) ?? 0) + us);
                }
            }
            if (!seen.has(fn)) {
                seen.add(fn);
                inclusive.set(fn, (inclusive.get(fn) ?? 0) + us);
            }
            if (frame.functionName === "wrapModuleLoad" || (frame.functionName === "require" && frame.url === "node:internal/modules/helpers")) inLoad = true;
        }
        if (inLoad) loading += us;
    }
    for (const k of ["(root)"]) inclusive.delete(k);
    return {
        file: path.basename(file),
        process: kindOfProcess(profile),
        wallMs: (profile.endTime - profile.startTime) / 1000,
        busyMs: busy / 1000,
        selfByFunction: top(self, topN),
        inclusiveByFunction: top(inclusive, topN),
        selfByOrigin: top(origin, topN),
        loadingMs: loading / 1000,
        loadByModule: top(load, topN),
    };
}

/** Every profile in a directory, summarized. */
export function summarizeDir(dir: string, repoRoot: string, topN = 25): ProfileSummary[] {
    if (!fs.existsSync(dir)) return [];
    return fs
        .readdirSync(dir)
        .filter((f) => f.endsWith(".cpuprofile"))
        .sort()
        .map((f) => summarize(path.join(dir, f), repoRoot, topN));
}
