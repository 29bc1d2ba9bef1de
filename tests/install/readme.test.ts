/**
 * README.md as a newcomer follows it, so the README cannot drift from what works:
 *
 * 1. "Your own infra repository", end to end in a temporary folder: its shell blocks and files, in order, in one
 *    shell (the second terminal's reference backend in the background). Only what needs the internet or a clone is
 *    replaced, each replacement checked against the README's exact line: `git clone <repository URL>` and the
 *    checkout of a commit become a copy of this working tree, and its `npm ci` is the installed node_modules linked
 *    in (`npm pack` then runs as written). The backend's port is a free one instead of 4400.
 * 2. The nightly jobs of "Drift detection", in clones of the repository step 1 committed, after a change made
 *    behind Pulumi's back: the GitHub Actions workflow's steps and the GitLab CI job's script, on a runner without a
 *    Pulumi CLI, where `pulumi/actions` and `curl … get.pulumi.com | sh` (no internet here) put the locally built one
 *    where they put theirs (PATH; ~/.pulumi/bin, which the README's next line adds to PATH), Node 24 for
 *    `setup-node` / `image: node:24`, and the secrets / CI variables set to the state and passphrase of step 1.
 *    Everything else runs as written, with the runners' shells (`bash -eo pipefail`), and the reports must be kept
 *    (job summary, artifacts) although the exit code is 2.
 *
 * Needs the npm registry (as a user's install does) and the engine (tests/e2e/harness.ts).
 */
import { execFile, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { describeWithEngine, engineBin, repoRoot } from "../e2e/harness";
import { api } from "../helpers/direct-api";
import { assertNoLeaks, credentialsOf } from "../helpers/leak-scan";

const README = fs.readFileSync(path.join(repoRoot, "README.md"), "utf8");
const VERSION: string = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")).version;
const NODE = fs.realpathSync(path.join(repoRoot, "node_modules", ".bin", "node"));
/** The major version of that Node (what setup-node and `image: node:<major>` must ask for). */
const NODE_MAJOR = execFileSync(NODE, ["-p", "process.versions.node.split('.')[0]"], { encoding: "utf8" }).trim();

/** The text of a `## title` section, up to the next `## `. */
function section(title: string): string {
    const start = README.indexOf(`\n## ${title}\n`);
    if (start < 0) throw new Error(`README.md has no "## ${title}" section`);
    const end = README.indexOf("\n## ", start + 1);
    return README.slice(start, end < 0 ? undefined : end);
}

interface Block {
    /** The file a block is the content of (a "`name`:" line right before it), if any. */
    file?: string;
    lang: string;
    body: string;
}

function blocks(text: string): Block[] {
    return [...text.matchAll(/(?:^`([^`\n]+)`:\n\n)?^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ file: m[1], lang: m[2], body: m[3] }));
}

/** Replaces one exact line of a block (it must be there: the README changed otherwise). */
function replaceLine(body: string, line: string, by: string): string {
    const lines = body.split("\n");
    const i = lines.indexOf(line);
    if (i < 0) throw new Error(`the README no longer has the line\n  ${line}\nin\n${body}`);
    lines[i] = by;
    return lines.join("\n");
}

function heredoc(file: string, content: string): string {
    if (content.includes("README_EOF")) throw new Error("content holds the heredoc marker");
    return `cat > ${JSON.stringify(file)} <<'README_EOF'\n${content}README_EOF`;
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

interface Run {
    code: number;
    output: string;
}

/** Runs a bash script in its own process group (so that what it leaves in the background can be stopped). */
function bash(args: string[], cwd: string, env: NodeJS.ProcessEnv, group?: { pid?: number }): Promise<Run> {
    return new Promise((resolve, reject) => {
        const child = spawn("bash", args, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
        if (group) group.pid = child.pid;
        let output = "";
        child.stdout.on("data", (d) => (output += d));
        child.stderr.on("data", (d) => (output += d));
        const timer = setTimeout(() => child.kill("SIGKILL"), 1_200_000);
        child.once("error", reject);
        child.once("close", (code) => {
            clearTimeout(timer);
            resolve({ code: code ?? -1, output });
        });
    });
}

function exec(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
    return new Promise((resolve) => {
        execFile(file, args, { cwd, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: 600_000 }, (err, stdout, stderr) => {
            resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, output: stdout + stderr });
        });
    });
}

/** Files of the repository's working tree that a clone would have (tracked, plus new files not ignored). */
async function workingTreeFiles(): Promise<string[]> {
    const res = await exec("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], repoRoot, process.env);
    return res.output.split("\0").filter((f) => f && fs.lstatSync(path.join(repoRoot, f), { throwIfNoEntry: false })?.isFile());
}

describeWithEngine("README.md followed as written: your own infra repository, then the nightly drift jobs", () => {
    let root: string;
    let infra: string;
    /** The user's environment: Node 24 and the Pulumi CLI on PATH, a home of their own, no Pulumi settings. */
    let userEnv: NodeJS.ProcessEnv;
    const backendGroup: { pid?: number } = {};
    let walkthrough: Run;
    let ready: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    const printed: string[] = [];

    /** The machine's PATH without the engine built here (scripts/pulumi-env.sh puts it first for the tests). */
    const systemPath = (process.env.PATH ?? "").split(path.delimiter).filter((p) => !p.includes(`${path.sep}.engine${path.sep}`)).join(path.delimiter);
    let nodeDir: string;

    /**
     * A fresh runner: its own home, Node 24 on PATH (setup-node, `image: node:24`), only the given variables, and no
     * Pulumi CLI until a step of the job installs one.
     */
    function runnerEnv(home: string, vars: Record<string, string>): NodeJS.ProcessEnv {
        fs.mkdirSync(home, { recursive: true });
        return { ...userEnv, HOME: home, PATH: `${nodeDir}${path.delimiter}${systemPath}`, ...vars };
    }

    beforeAll(async () => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "oidc-readme-"));
        nodeDir = path.join(root, "node-bin");
        fs.mkdirSync(nodeDir);
        fs.symlinkSync(NODE, path.join(nodeDir, "node"));
        const npmCache = (await exec("npm", ["config", "get", "cache"], repoRoot, process.env)).output.trim();
        userEnv = {};
        for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("PULUMI_") && !k.startsWith("npm_")) userEnv[k] = v;
        Object.assign(userEnv, {
            HOME: path.join(root, "home"),
            PATH: `${engineBin}${path.delimiter}${nodeDir}${path.delimiter}${process.env.PATH ?? ""}`,
            npm_config_cache: npmCache, // the machine's npm cache, not a cold one in the new home
            npm_config_audit: "false",
            npm_config_fund: "false",
            npm_config_update_notifier: "false",
            // The engine here has its plugins beside it and no network: no update check, no plugin download.
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            // The person at the keyboard answers "yes" to `pulumi up`.
            PULUMI_SKIP_CONFIRMATIONS: "true",
            // Their git identity.
            GIT_AUTHOR_NAME: "New User",
            GIT_AUTHOR_EMAIL: "new.user@example.com",
            GIT_COMMITTER_NAME: "New User",
            GIT_COMMITTER_EMAIL: "new.user@example.com",
        });
        fs.mkdirSync(userEnv.HOME!);

        // What `git clone` + `git checkout <commit>` + `npm ci` would give: the working tree, node_modules linked.
        const clone = path.join(root, "pulumi-oidc-settings");
        for (const file of await workingTreeFiles()) {
            fs.mkdirSync(path.dirname(path.join(clone, file)), { recursive: true });
            fs.copyFileSync(path.join(repoRoot, file), path.join(clone, file));
        }
        fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(clone, "node_modules"));

        const text = section("Your own infra repository");
        const all = blocks(text);
        const files = all.filter((b) => b.file);
        const shells = all.filter((b) => !b.file && b.lang === "sh");
        const tsconfig = blocks(section("Install")).find((b) => b.lang === "json");
        if (!tsconfig) throw new Error("README.md's Install section has no tsconfig.json block");
        expect(files.map((f) => f.file).sort()).toEqual([".gitignore", "Pulumi.yaml", "index.ts"]);
        expect(text).toContain("`tsconfig.json` is the one under [Install](#install)");
        expect(shells).toHaveLength(6);

        const port = await freePort();
        let [pkg, project, state, backend, stacks, deploy] = shells.map((b) => b.body);
        pkg = replaceLine(pkg, "git clone <repository URL> pulumi-oidc-settings", ": # replaced: a copy of the working tree");
        pkg = replaceLine(pkg, "git -C pulumi-oidc-settings checkout <commit>", ": # replaced: the working tree is the commit under test");
        pkg = replaceLine(
            pkg,
            "(cd pulumi-oidc-settings && npm ci && npm pack --pack-destination ../my-infra/vendor)",
            "(cd pulumi-oidc-settings && npm pack --pack-destination ../my-infra/vendor) # npm ci: node_modules linked",
        );
        if (!backend.includes("--port 4400")) throw new Error(`the backend block no longer says --port 4400:\n${backend}`);
        backend = backend.replace("--port 4400", `--port ${port}`);
        const script = [
            "set -euo pipefail",
            pkg,
            project,
            heredoc("tsconfig.json", tsconfig.body),
            ...files.map((f) => heredoc(f.file!, f.body)),
            state,
            // The second terminal: in the background, its output kept apart; wait for the ready line.
            `( set -e\n${backend.trim()}\n) > "${root}/backend.out" 2> "${root}/backend.err" &`,
            'for _ in $(seq 1 600); do [ -s .reference-backend/ready.json ] && break; sleep 0.2; done',
            '[ -s .reference-backend/ready.json ] || { echo "the reference backend did not start:"; cat "' + root + '/backend.err"; exit 1; }',
            stacks,
            deploy,
        ].join("\n");
        fs.writeFileSync(path.join(root, "walkthrough.sh"), script);
        walkthrough = await bash([path.join(root, "walkthrough.sh")], root, userEnv, backendGroup);
        printed.push(walkthrough.output);
        infra = path.join(root, "my-infra");
        const readyFile = path.join(infra, ".reference-backend", "ready.json");
        if (fs.existsSync(readyFile)) ready = JSON.parse(fs.readFileSync(readyFile, "utf8").split("\n")[0]);
    }, 1_500_000);

    afterAll(() => {
        if (backendGroup.pid) {
            try {
                process.kill(-backendGroup.pid, "SIGTERM"); // the reference backend the walkthrough left running
            } catch {
                // already gone
            }
        }
        if (ready) assertNoLeaks(Object.fromEntries(printed.map((text, i) => [`output ${i}`, text])), credentialsOf(ready));
        if (root) fs.rmSync(root, { recursive: true, force: true });
    });

    test("the walkthrough runs to the end: two stacks deployed, each on its own organization, identity and Unleash instance", async () => {
        expect({ code: walkthrough.code, tail: walkthrough.code === 0 ? "" : walkthrough.output.slice(-6000) }).toEqual({ code: 0, tail: "" });
        expect(walkthrough.output).toMatch(/No drift: 3 resource\(s\) of stack "prod" match the live APIs/);
        const env = { ...userEnv, PULUMI_BACKEND_URL: `file://${path.join(userEnv.HOME!, ".pulumi-state", "my-infra")}` };
        const stacks = JSON.parse((await exec("pulumi", ["stack", "ls", "--json", "--non-interactive"], infra, env)).output) as { name: string; resourceCount: number }[];
        // Each stack: the stack, the dynamic provider and the three resources.
        expect(stacks.map((s) => [s.name, s.resourceCount]).sort()).toEqual([["prod", 5], ["staging", 5]]);

        const orgs = ready.infisical.organizations;
        for (const [i, org] of orgs.slice(0, 2).entries()) {
            const sso = await api("GET", `${ready.infisical.url}/api/v1/sso/oidc/config?organizationId=${org.id}`, `Bearer ${org.token}`);
            expect(sso.json).toMatchObject({ isActive: true, clientId: "infisical-web", allowedEmailDomains: "example.com" });
            const auth = await api("GET", `${ready.infisical.url}/api/v1/auth/oidc-auth/identities/${org.identityIds[0]}`, `Bearer ${org.token}`);
            expect(auth.json.identityOidcAuth.boundSubject).toBe(`repo:example-org/infra:environment:${i === 0 ? "staging" : "prod"}`);
            const instance = ready.unleash.instances[i];
            const settings = await api("GET", `${instance.url}/api/admin/auth/oidc/settings`, instance.adminToken);
            expect(settings.json).toMatchObject({ enabled: true, clientId: "unleash-web" });
        }

        // The commit holds what CI needs, and nothing local.
        const committed = (await exec("git", ["ls-files"], infra, userEnv)).output.split("\n").filter(Boolean).sort();
        expect(committed).toEqual([".gitignore", "Pulumi.prod.yaml", "Pulumi.staging.yaml", "Pulumi.yaml", "index.ts", "package-lock.json", "package.json", "tsconfig.json", `vendor/pulumi-oidc-settings-${VERSION}.tgz`]);
        // Credentials are in the stack files encrypted only.
        for (const file of ["Pulumi.prod.yaml", "Pulumi.staging.yaml"]) {
            const text = fs.readFileSync(path.join(infra, file), "utf8");
            for (const value of Object.values(credentialsOf(ready))) expect(text.includes(value)).toBe(false);
            expect(text).toMatch(/infisical:clientSecret:\n\s+secure: /);
        }
    });

    describe("the nightly drift jobs of Drift detection, after a change behind Pulumi's back", () => {
        const stateUrl = () => `file://${path.join(userEnv.HOME!, ".pulumi-state", "my-infra")}`;
        /** The passphrase as the README's state block sets it. */
        const passphrase = () => {
            const m = section("Your own infra repository").match(/^export PULUMI_CONFIG_PASSPHRASE="([^"]+)"$/m);
            if (!m) throw new Error("the README no longer exports PULUMI_CONFIG_PASSPHRASE");
            return m[1];
        };
        const ciBlocks = () => blocks(section("Drift detection")).filter((b) => b.lang === "yaml");

        beforeAll(async () => {
            if (walkthrough.code !== 0) throw new Error("the walkthrough failed");
            const org = ready.infisical.organizations[1];
            const changed = await api("PATCH", `${ready.infisical.url}/api/v1/sso/oidc/config`, `Bearer ${org.token}`, { organizationId: org.id, allowedEmailDomains: "evil.example" });
            expect(changed.status).toBe(200);
        });

        /** A checkout of what the walkthrough committed. */
        async function checkout(name: string): Promise<string> {
            const dir = path.join(root, name);
            const res = await exec("git", ["clone", "-q", infra, dir], root, userEnv);
            if (res.code !== 0) throw new Error(res.output);
            return dir;
        }

        test("GitHub Actions: the workflow's steps fail on drift (exit 2) and keep the report in the job summary and an artifact", async () => {
            const workflow = ciBlocks().map((b) => yaml.load(b.body) as any).find((w) => w?.jobs); // eslint-disable-line @typescript-eslint/no-explicit-any
            expect(workflow).toBeDefined();
            const job = Object.values(workflow.jobs)[0] as { "runs-on": string; steps: Record<string, any>[] }; // eslint-disable-line @typescript-eslint/no-explicit-any
            expect(job["runs-on"]).toBe("ubuntu-latest");
            const dir = await checkout("ci-github");
            const summary = path.join(root, "github-step-summary.md");
            fs.writeFileSync(summary, "");
            const secrets: Record<string, string> = { PULUMI_BACKEND_URL: stateUrl(), PULUMI_CONFIG_PASSPHRASE: passphrase() };
            const env = runnerEnv(path.join(root, "github-runner-home"), { GITHUB_STEP_SUMMARY: summary, CI: "true", GITHUB_ACTIONS: "true" });
            expect((await bash(["-c", "command -v pulumi"], dir, env)).code).not.toBe(0); // no CLI until a step installs it
            let failed = false;
            const ran: string[] = [];
            for (const step of job.steps) {
                const uses: string | undefined = step.uses;
                const condition: string | undefined = step.if;
                if (failed && condition !== "always()") continue; // GitHub skips the steps after a failure, unless always()
                if (uses?.startsWith("actions/checkout@")) {
                    ran.push("checkout (the clone)");
                } else if (uses?.startsWith("actions/setup-node@")) {
                    expect(String(step.with["node-version"])).toBe(NODE_MAJOR);
                    ran.push("setup-node (Node 24 on PATH)");
                } else if (uses?.startsWith("pulumi/actions@")) {
                    expect(step.with?.command).toBeUndefined(); // install only
                    env.PATH = `${engineBin}${path.delimiter}${env.PATH}`; // what the action adds to PATH
                    ran.push("pulumi/actions (the local engine on PATH)");
                } else if (uses?.startsWith("actions/upload-artifact@")) {
                    expect(fs.existsSync(path.join(dir, step.with.path))).toBe(true);
                    ran.push(`upload-artifact ${step.with.path}`);
                } else if (step.run) {
                    const stepEnv: Record<string, string> = {};
                    for (const [k, v] of Object.entries((step.env ?? {}) as Record<string, string>)) {
                        stepEnv[k] = String(v).replace(/\$\{\{\s*secrets\.(\w+)\s*\}\}/g, (_, name: string) => secrets[name] ?? "");
                    }
                    // GitHub's default shell for `run` on Linux: bash --noprofile --norc -eo pipefail {0}.
                    const res = await bash(["--noprofile", "--norc", "-eo", "pipefail", "-c", step.run], dir, { ...env, ...stepEnv });
                    printed.push(res.output);
                    ran.push(`run (${res.code}): ${String(step.run).split("\n")[0]}`);
                    if (step.run.includes("oidc-drift")) expect({ code: res.code, output: res.code === 2 ? "" : res.output }).toEqual({ code: 2, output: "" });
                    else expect({ code: res.code, output: res.code === 0 ? "" : res.output.slice(-4000) }).toEqual({ code: 0, output: "" });
                    if (res.code !== 0) failed = true;
                } else {
                    throw new Error(`a step this test does not know: ${JSON.stringify(step)}`);
                }
            }
            expect(failed).toBe(true); // the job fails on drift
            expect(ran.some((r) => r.startsWith("upload-artifact"))).toBe(true);
            const report = fs.readFileSync(summary, "utf8");
            expect(report).toContain("### Drift check: stack `prod`");
            expect(report).toContain("| `sso` | `pulumi-nodejs:dynamic/infisical:OidcSsoConfig` | `allowedEmailDomains` | `\"example.com\"` | `\"evil.example\"` |");
            expect(report).toContain("`pulumi up --refresh --stack prod`");
            expect(fs.readFileSync(path.join(dir, "drift.md"), "utf8")).toBe(report);
        }, 900_000);

        test("GitLab CI: the job's script fails on drift (exit 2), prints the report and keeps it as an artifact", async () => {
            const config = ciBlocks().map((b) => yaml.load(b.body) as any).find((c) => c?.drift?.image); // eslint-disable-line @typescript-eslint/no-explicit-any
            expect(config).toBeDefined();
            const job = config.drift as { image: string; before_script: string[]; script: string[]; artifacts: { when: string; paths: string[] } };
            expect(job.image).toBe(`node:${NODE_MAJOR}`);
            const install = "curl -fsSL https://get.pulumi.com | sh";
            expect(job.before_script).toContain(install);
            // In place of the install script: the local engine where it installs the CLI (~/.pulumi/bin); the README's
            // next line puts that on PATH.
            const installed = `mkdir -p "$HOME/.pulumi" && ln -s ${JSON.stringify(engineBin)} "$HOME/.pulumi/bin"`;
            const lines = [...job.before_script.map((l) => (l === install ? installed : l)), ...job.script];
            const dir = await checkout("ci-gitlab");
            // CI/CD variables of the project, as environment variables of the job.
            const env = runnerEnv(path.join(root, "gitlab-runner-home"), { PULUMI_BACKEND_URL: stateUrl(), PULUMI_CONFIG_PASSPHRASE: passphrase(), CI: "true", GITLAB_CI: "true" });
            expect((await bash(["-c", "command -v pulumi"], dir, env)).code).not.toBe(0); // no CLI until the script installs it
            // The runner runs before_script and script in one shell, stopping at the first failing line.
            const res = await bash(["-eo", "pipefail", "-c", lines.join("\n")], dir, env);
            printed.push(res.output);
            expect({ code: res.code, output: res.code === 2 ? "" : res.output.slice(-4000) }).toEqual({ code: 2, output: "" });
            expect(res.output).toContain("| `sso` | `pulumi-nodejs:dynamic/infisical:OidcSsoConfig` | `allowedEmailDomains` | `\"example.com\"` | `\"evil.example\"` |");
            expect(job.artifacts.when).toBe("always");
            for (const artifact of job.artifacts.paths) expect(fs.readFileSync(path.join(dir, artifact), "utf8")).toContain("### Drift check: stack `prod`");
        }, 900_000);
    });
});
