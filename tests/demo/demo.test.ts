/**
 * `npm run demo` as a new user runs it, in a clean clone: twice (the second run converges: nothing created or
 * replaced, the stack unchanged, then the same drift and its repair), then with --reset (from scratch). Nothing the
 * demo writes may show in `git status`.
 *
 * The clone is of this repository's HEAD with the working tree's changes laid over it (in CI the two are the same),
 * with node_modules and the built engine linked from here (what `npm ci` and the engine install would produce).
 * The environment is the user's: no Pulumi variables and no engine on PATH, so the demo's own setup is exercised.
 */
import { execFile, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { describeWithEngine, repoRoot } from "../e2e/harness";

const run = promisify(execFile);

async function git(cwd: string, args: string[]): Promise<string> {
    return (await run("git", args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 })).stdout;
}

/** A clone of HEAD plus the working tree's changes (tracked and untracked, not ignored). */
async function cleanClone(into: string): Promise<string> {
    const clone = path.join(into, "repo");
    await git(into, ["clone", "-q", "--no-hardlinks", repoRoot, clone]);
    const files = (await git(repoRoot, ["ls-files", "-z", "--cached", "--others", "--exclude-standard"])).split("\0").filter(Boolean);
    for (const file of files) {
        const from = path.join(repoRoot, file);
        const to = path.join(clone, file);
        if (!fs.existsSync(from)) {
            fs.rmSync(to, { force: true });
            continue;
        }
        fs.mkdirSync(path.dirname(to), { recursive: true });
        fs.cpSync(from, to, { verbatimSymlinks: true });
    }
    for (const dir of ["node_modules", ".engine"]) fs.symlinkSync(path.join(repoRoot, dir), path.join(clone, dir));
    // Links, not folders: .gitignore's "node_modules/" does not match them.
    fs.appendFileSync(path.join(clone, ".git", "info", "exclude"), "/node_modules\n/.engine\n");
    return clone;
}

async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}

/** The user's environment: no Pulumi settings, no engine on PATH (scripts/test.sh puts it there for jest). */
function userEnv(port: number): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("PULUMI_")) env[key] = value;
    env.PATH = (process.env.PATH ?? "").split(path.delimiter).filter((p) => !p.includes(`${path.sep}.engine${path.sep}`)).join(path.delimiter);
    env.DEMO_BACKEND_PORT = String(port);
    return env;
}

interface DemoRun {
    code: number | null;
    output: string;
    seconds: number;
}

async function npmRunDemo(cwd: string, env: NodeJS.ProcessEnv, args: string[] = []): Promise<DemoRun> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
        const child = spawn("npm", ["run", "demo", ...(args.length ? ["--", ...args] : [])], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
        let output = "";
        child.stdout.on("data", (d) => (output += d));
        child.stderr.on("data", (d) => (output += d));
        child.once("error", reject);
        child.once("exit", (code) => {
            const plain = output.replace(/\x1b\[[0-9;]*m/g, "");
            const seconds = (Date.now() - started) / 1000;
            // eslint-disable-next-line no-console
            console.log(`[demo] npm run demo ${args.join(" ")}: exit ${code}, ${seconds.toFixed(1)} s`);
            resolve({ code, output: plain, seconds });
        });
    });
}

/** The "Resources:" summaries that `pulumi up` prints, in order (e.g. ["+ 4 created", "~ 2 updated\n2 unchanged"]). */
function summaries(output: string): string[] {
    return [...output.matchAll(/^Resources:\n((?:[ \t]+\S.*\n?)+)/gm)].map((m) => m[1].split("\n").map((l) => l.trim()).filter(Boolean).join("\n"));
}

function failure(result: DemoRun): string {
    return `npm run demo failed (${result.code}):\n${result.output.slice(-6000)}`;
}

describeWithEngine("npm run demo, from a clean clone", () => {
    let tmp: string;
    let clone: string;
    let env: NodeJS.ProcessEnv;
    let statusBefore: string;
    let firstOrganizationId: string;

    beforeAll(async () => {
        const started = Date.now();
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "oidc-demo-"));
        clone = await cleanClone(tmp);
        statusBefore = await git(clone, ["status", "--porcelain"]);
        env = userEnv(await freePort());
        // eslint-disable-next-line no-console
        console.log(`[demo] clean clone: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }, 120_000);

    afterAll(() => {
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    const readyOf = () => JSON.parse(fs.readFileSync(path.join(clone, ".data", "demo", "backend", "ready.json"), "utf8"));

    test("the first run creates the stack, shows the drift and repairs it", async () => {
        const result = await npmRunDemo(clone, env);
        if (result.code !== 0) throw new Error(failure(result));
        const [created, repaired, pipeline] = summaries(result.output);
        expect(created).toBe("+ 4 created");
        expect(result.output).toContain("oidc-drift exit code: 2");
        expect(repaired).toMatch(/^~ 2 updated\n2 unchanged$/);
        expect(result.output).toMatch(/No drift: 3 resource\(s\) of stack "demo" match the live APIs/);
        // It says where its program is, and the repair it runs is the one oidc-drift printed.
        expect(result.output).toContain("the program: demo/index.ts");
        expect(result.output).toMatch(/^To put the program's settings back: +pulumi up --refresh --stack demo$/m);
        expect(result.output).toContain("pulumi up --refresh puts the program's settings back");
        // The loop closes: the pipeline's up and oidc-drift log in with the OIDC auth the stack made (the backend's
        // log says so): nothing to change, no drift.
        expect(pipeline).toBe("4 unchanged");
        const loop = result.output.slice(result.output.indexOf("The loop closes"));
        expect(loop).toMatch(/No drift: 3 resource\(s\) of stack "demo" match the live APIs/);
        const logins = fs
            .readFileSync(path.join(clone, ".data", "demo", "backend", "requests.log"), "utf8")
            .split("\n")
            .filter((l) => l.includes('"route":"/api/v1/auth/oidc-auth/login"'));
        expect(logins.length).toBeGreaterThan(0);
        expect(logins.every((l) => JSON.parse(l).status === 200)).toBe(true);
        // The stored credentials are back for the next run; the token was never printed.
        expect(result.output).not.toMatch(/eyJ[A-Za-z0-9_-]{8,}\.eyJ/);
        firstOrganizationId = readyOf().infisical.organizationId;
    }, 600_000);

    test("the second run converges: same backend URL, nothing created or replaced", async () => {
        const portBefore = readyOf().url;
        const result = await npmRunDemo(clone, env);
        if (result.code !== 0) throw new Error(failure(result));
        expect(readyOf().url).toBe(portBefore);
        const [first, repaired] = summaries(result.output);
        expect(first).toBe("4 unchanged");
        expect(result.output).toContain("oidc-drift exit code: 2");
        expect(repaired).toMatch(/^~ 2 updated\n2 unchanged$/);
        expect(result.output).not.toMatch(/\b\d+ (created|replaced|deleted)\b|create-replacement|delete-replaced|replacing/);
    }, 600_000);

    test("nothing the demo wrote shows in git status", async () => {
        expect(await git(clone, ["status", "--porcelain"])).toBe(statusBefore);
    });

    test("--reset starts from scratch: new backend data, the stack created again", async () => {
        const result = await npmRunDemo(clone, env, ["--reset"]);
        if (result.code !== 0) throw new Error(failure(result));
        expect(summaries(result.output)[0]).toBe("+ 4 created");
        expect(readyOf().infisical.organizationId).not.toBe(firstOrganizationId);
        expect(await git(clone, ["status", "--porcelain"])).toBe(statusBefore);
    }, 600_000);
});
