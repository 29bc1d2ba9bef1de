/**
 * Runs Pulumi programs under the real engine (the CLI built by scripts/install-engine.sh) with the Automation API,
 * on a local file backend in a temp dir, with no network and no Pulumi Cloud.
 */
import { execFile } from "child_process";
import { randomUUID } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";

/** The repository root, from the sources (tests/e2e) or from the build (dist/tests/e2e, used by the bench). */
export const repoRoot = (() => {
    let dir = __dirname;
    while (!fs.existsSync(path.join(dir, "package.json")) || !fs.existsSync(path.join(dir, "node_modules"))) {
        if (path.dirname(dir) === dir) throw new Error(`no installed repository above ${__dirname}: run npm ci`);
        dir = path.dirname(dir);
    }
    return dir;
})();
const pulumiVersion: string = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")).devDependencies["@pulumi/pulumi"];
export const engineBin = path.join(repoRoot, ".engine", `v${pulumiVersion}`, "bin");
export const passphrase = "e2e-test-passphrase";

function engineMissingReason(): string | undefined {
    for (const bin of ["pulumi", "pulumi-language-nodejs", "pulumi-resource-pulumi-nodejs"]) {
        if (!fs.existsSync(path.join(engineBin, bin))) return `${path.join(engineBin, bin)} is missing`;
    }
    return undefined;
}

/**
 * `describe` for suites that need the real engine. Without it they skip locally, with a message saying how to
 * install it; in CI (CI=true) they fail instead, so a broken install can never pass as green.
 */
export function describeWithEngine(name: string, body: () => void): void {
    const missing = engineMissingReason();
    if (!missing) {
        describe(name, body);
    } else if (process.env.CI) {
        describe(name, () => {
            test("the Pulumi engine is installed", () => {
                throw new Error(`${missing}: CI requires the engine (npm run install-engine)`);
            });
        });
    } else {
        // eslint-disable-next-line no-console
        console.warn(`skipping "${name}": ${missing}. Install the engine with: npm run install-engine`);
        describe.skip(name, body);
    }
}

export interface TestStack {
    stack: Stack;
    /** Copy of the program, inside the repo so that Node resolves this package and its dependencies. */
    workDir: string;
    stateDir: string;
    env: Record<string, string>;
    /** Runs the `pulumi` CLI on this stack (for commands the Automation API does not wrap). */
    cli(args: string[], opts?: { allowFailure?: boolean }): Promise<{ stdout: string; stderr: string; status: number }>;
    cleanup(): Promise<void>;
}

/**
 * The environment of a Pulumi run on its own file backend and PULUMI_HOME under `stateDir` (created here), with the
 * engine built by scripts/install-engine.sh first on PATH and nothing fetched from the network.
 */
export function localBackendEnv(stateDir: string, passphrase: string): Record<string, string> {
    fs.mkdirSync(path.join(stateDir, "backend"), { recursive: true });
    return {
        PATH: `${engineBin}${path.delimiter}${path.join(repoRoot, "node_modules", ".bin")}${path.delimiter}${process.env.PATH ?? ""}`,
        PULUMI_HOME: path.join(stateDir, "home"),
        PULUMI_BACKEND_URL: `file://${path.join(stateDir, "backend")}`,
        PULUMI_CONFIG_PASSPHRASE: passphrase,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
    };
}

/** A fresh stack of the program in `programDir` (its files are copied), with its own file backend and PULUMI_HOME. */
export async function newStack(programDir: string, stackName = "e2e"): Promise<TestStack> {
    const workDir = path.join(repoRoot, "tests", "e2e", ".work", randomUUID().slice(0, 8));
    fs.mkdirSync(workDir, { recursive: true });
    for (const entry of fs.readdirSync(programDir, { withFileTypes: true })) {
        const file = entry.name;
        // Stack files are the test's to write; an example's package.json (which installs the package from npm)
        // would hide the repository's, through which the copy imports the package by name (self-reference).
        if (!entry.isFile() || file === "package.json" || (file.startsWith("Pulumi.") && file !== "Pulumi.yaml")) continue;
        fs.copyFileSync(path.join(programDir, file), path.join(workDir, file));
    }
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "oidc-e2e-state-"));
    const env = localBackendEnv(stateDir, passphrase);
    const pulumiCommand = await PulumiCommand.get({ root: path.dirname(engineBin), skipVersionCheck: true });
    const workspace = await LocalWorkspace.create({ workDir, envVars: env, pulumiCommand, pulumiHome: env.PULUMI_HOME });
    const stack = await Stack.create(stackName, workspace);
    return {
        stack,
        workDir,
        stateDir,
        env,
        // Asynchronous on purpose: tests run the reference backend in this process, which must keep answering.
        cli(args, opts) {
            return new Promise((resolve, reject) => {
                const cmd = [...args, "--stack", stackName, "--non-interactive"];
                execFile(path.join(engineBin, "pulumi"), cmd, { cwd: workDir, env: { ...process.env, ...env }, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
                    const status = err ? (typeof err.code === "number" ? err.code : 1) : 0;
                    if (err && !opts?.allowFailure) reject(new Error(`pulumi ${args.join(" ")} failed (${status}): ${stderr}${stdout}`));
                    else resolve({ stdout, stderr, status });
                });
            });
        },
        async cleanup() {
            fs.rmSync(workDir, { recursive: true, force: true });
            fs.rmSync(stateDir, { recursive: true, force: true });
        },
    };
}
