/**
 * Suites that spawn built code (dist/) compile it first when it is older than its sources, so that they also work
 * when jest is run alone; `npm test` has built everything already and this is then a cheap mtime check.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";

export const repoRoot = path.resolve(__dirname, "..", "..");

function newestMtime(dir: string): number {
    let newest = 0;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, entry.name);
        if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
        else if (entry.name.endsWith(".ts")) newest = Math.max(newest, fs.statSync(p).mtimeMs);
    }
    return newest;
}

/** Runs `tsc <tscArgs>` in the repository when `output` is missing or older than the .ts files under `sourceDir`. */
export function ensureBuilt(output: string, sourceDir: string, tscArgs: string[]): Promise<void> {
    const stale = !fs.existsSync(output) || fs.statSync(output).mtimeMs < newestMtime(path.join(repoRoot, sourceDir));
    if (!stale) return Promise.resolve();
    const tsc = path.join(repoRoot, "node_modules", ".bin", "tsc");
    return new Promise((resolve, reject) =>
        execFile(tsc, tscArgs, { cwd: repoRoot }, (err, stdout, stderr) => (err ? reject(new Error(`build failed: ${stdout}${stderr}`)) : resolve())),
    );
}
