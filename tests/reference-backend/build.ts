/** Compiles the reference backend's CLI into dist/ when it is older than its sources (for the suites that spawn it). */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";

export const repoRoot = path.resolve(__dirname, "..", "..");
export const mainJs = path.join(repoRoot, "dist", "reference-backend", "src", "main.js");

function newestMtime(dir: string): number {
    let newest = 0;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, entry.name);
        if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
        else if (entry.name.endsWith(".ts")) newest = Math.max(newest, fs.statSync(p).mtimeMs);
    }
    return newest;
}

export function ensureBuilt(): Promise<void> {
    const stale = !fs.existsSync(mainJs) || fs.statSync(mainJs).mtimeMs < newestMtime(path.join(repoRoot, "reference-backend", "src"));
    if (!stale) return Promise.resolve();
    const tsc = path.join(repoRoot, "node_modules", ".bin", "tsc");
    return new Promise((resolve, reject) =>
        execFile(tsc, ["-p", "reference-backend/tsconfig.build.json"], { cwd: repoRoot }, (err, stdout, stderr) => (err ? reject(new Error(`build failed: ${stdout}${stderr}`)) : resolve())),
    );
}
