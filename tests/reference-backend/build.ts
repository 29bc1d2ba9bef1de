/** The reference backend's CLI, compiled into dist/ when it is older than its sources (for the suites that spawn it). */
import * as path from "path";
import { ensureBuilt as build, repoRoot } from "../helpers/build";

export { repoRoot };
export const mainJs = path.join(repoRoot, "dist", "reference-backend", "src", "main.js");

export function ensureBuilt(): Promise<void> {
    return build(mainJs, "reference-backend/src", ["-p", "reference-backend/tsconfig.build.json"]);
}
