/**
 * The package as users get it: `npm pack` of a clean copy of the repository (its `prepare` builds it), the tarball
 * installed into a Pulumi project in a temp directory outside the repository next to that project's own
 * @pulumi/pulumi (the oldest version of the peer range, not the repository's), and the whole lifecycle run there
 * under the real engine: up, preview, drift (with the package's own `oidc-drift` bin), refresh, update, destroy.
 * TypeScript is installed as README.md says (`typescript` with no version: the newest that @pulumi/pulumi's peer
 * range accepts, 6.x today), and a second project checks the newest 5.x: in both, the program, the examples and the
 * package's published types compile strict without skipLibCheck, with the tsconfig README.md documents, and
 * `pulumi preview` type-checks the program.
 * Also: installing from a git URL builds the package from a clean clone.
 *
 * Needs the npm registry (as a user's install does) and the engine (tests/e2e/harness.ts).
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startBackend } from "../../reference-backend/src";
import { describeWithEngine, engineBin, repoRoot } from "../e2e/harness";
import { assertNoLeaks, credentialsOf } from "../helpers/leak-scan";
import { api } from "../helpers/direct-api";

type Backend = Awaited<ReturnType<typeof startBackend>>;

const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8"));
/** The oldest @pulumi/pulumi the package supports: the lower bound of its peer range ("^3.259.0"). */
const OLDEST_PULUMI = String(pkg.peerDependencies["@pulumi/pulumi"]).replace(/^[\^~>=\s]+/, "");
const DEV_PULUMI: string = pkg.devDependencies["@pulumi/pulumi"];
/** What a user's TypeScript project installs beside the package, as README.md says: no version for TypeScript. */
const USER_DEV_PACKAGES = ["typescript", "@types/node"];
const examplesDir = path.join(repoRoot, "examples");
const examples = fs.readdirSync(examplesDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
/** Packages the examples import besides this one and @pulumi/pulumi (their package.json's range). */
const EXAMPLE_PACKAGES = ["@pulumi/docker"].map((name) => `${name}@${JSON.parse(fs.readFileSync(path.join(examplesDir, "reference-backend-docker", "package.json"), "utf8")).dependencies[name]}`);
const SSO_SECRET = "install-sso-client-secret-31c9";
const UNLEASH_SECRET = "install-unleash-secret-8d4e";

/** The user project's stack config against a started reference backend: [key, value, secret]. */
function stackConfig({ infisical, unleash, issuer }: Backend["ready"]): [string, string, boolean][] {
    return [
        ["infisical:host", infisical.url, false],
        ["infisical:clientId", infisical.universalAuth.clientId, true],
        ["infisical:clientSecret", infisical.universalAuth.clientSecret, true],
        ["unleash:url", unleash.url, false],
        ["unleash:apiToken", unleash.adminToken, true],
        ["my-infra:issuerUrl", issuer.url, false],
        ["my-infra:organizationId", infisical.organizationId, false],
        ["my-infra:identityId", infisical.identityIds[0], false],
        ["my-infra:ssoClientSecret", SSO_SECRET, true],
        ["my-infra:unleashSecret", UNLEASH_SECRET, true],
    ];
}
const STACK = "dev";
const PASSPHRASE = "install-test-passphrase";

interface Run {
    code: number;
    stdout: string;
    stderr: string;
}

/** Asynchronous on purpose: the reference backend runs in this process and must keep answering. */
function run(file: string, args: string[], cwd: string, env: Record<string, string | undefined>, timeoutMs = 600_000): Promise<Run> {
    return new Promise((resolve) => {
        execFile(file, args, { cwd, env: env as NodeJS.ProcessEnv, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs }, (err, stdout, stderr) => {
            resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr });
        });
    });
}

function check(what: string, res: Run): Run {
    if (res.code !== 0) throw new Error(`${what} failed (${res.code}):\n${res.stderr.slice(-4000)}${res.stdout.slice(-4000)}`);
    return res;
}


/** Files of the repository's working tree that a clone would have (tracked, plus new files not ignored). */
async function workingTreeFiles(): Promise<string[]> {
    const res = check("git ls-files", await run("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], repoRoot, process.env));
    // Regular files only: a deleted file is still listed until committed, and a link (e.g. to node_modules) is local.
    return res.stdout.split("\0").filter((f) => f && fs.lstatSync(path.join(repoRoot, f), { throwIfNoEntry: false })?.isFile());
}

/** The TypeScript a project installed, and whether @pulumi/pulumi's peer range accepts it. */
function installedTypeScript(project: string): { version: string; major: number; inPeerRange: boolean } {
    const version: string = JSON.parse(fs.readFileSync(path.join(project, "node_modules", "typescript", "package.json"), "utf8")).version;
    const peer: string = JSON.parse(fs.readFileSync(path.join(project, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8")).peerDependencies.typescript;
    const semver = require(path.join(project, "node_modules", "semver")) as { satisfies(v: string, r: string): boolean };
    return { version, major: Number(version.split(".")[0]), inPeerRange: semver.satisfies(version, peer) };
}

/**
 * `tsc --noEmit` with the project's own TypeScript: the program with its tsconfig (README.md's), then each example
 * with the example's own tsconfig, strict and without skipLibCheck (so the package's .d.ts are checked too).
 */
async function typeCheck(project: string): Promise<void> {
    const tsc = path.join(project, "node_modules", "typescript", "bin", "tsc");
    const env = { ...process.env, PATH: `${path.dirname(fs.realpathSync(path.join(repoRoot, "node_modules", ".bin", "node")))}${path.delimiter}${process.env.PATH ?? ""}` };
    const configs = [path.join(project, "tsconfig.json")];
    for (const example of examples) {
        const dir = path.join(project, "examples", example);
        fs.mkdirSync(dir, { recursive: true });
        for (const file of ["index.ts", "tsconfig.json"]) fs.copyFileSync(path.join(examplesDir, example, file), path.join(dir, file));
        configs.push(path.join(dir, "tsconfig.json"));
    }
    for (const config of configs) {
        const tsconfig = JSON.parse(fs.readFileSync(config, "utf8"));
        expect({ config, strict: tsconfig.compilerOptions.strict, skipLibCheck: tsconfig.compilerOptions.skipLibCheck }).toEqual({ config, strict: true, skipLibCheck: undefined });
        const res = await run("node", [tsc, "-p", config, "--noEmit"], project, env, 300_000);
        expect({ config, code: res.code, errors: res.stdout + res.stderr }).toEqual({ config, code: 0, errors: "" });
    }
}

describeWithEngine("the package installed as users install it", () => {
    let root: string;
    /** Node 24 alone on PATH (the user's Node), without the repository's other tools. */
    let nodeDir: string;
    let baseEnv: Record<string, string | undefined>;
    let tarball: string;
    let tarballFiles: string[];

    beforeAll(async () => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "oidc-install-"));
        if (root.startsWith(repoRoot + path.sep)) throw new Error(`${root} must be outside the repository`);
        nodeDir = path.join(root, "node-bin");
        fs.mkdirSync(nodeDir);
        fs.symlinkSync(fs.realpathSync(path.join(repoRoot, "node_modules", ".bin", "node")), path.join(nodeDir, "node"));
        baseEnv = { ...process.env, PATH: `${nodeDir}${path.delimiter}${process.env.PATH ?? ""}`, npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false" };

        // A clean copy of the working tree (no dist/, no local state), sharing the installed node_modules: what a
        // clone after `npm ci` is. `npm pack` there must build the package by itself.
        const clone = path.join(root, "clone");
        for (const file of await workingTreeFiles()) {
            fs.mkdirSync(path.dirname(path.join(clone, file)), { recursive: true });
            fs.copyFileSync(path.join(repoRoot, file), path.join(clone, file));
        }
        fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(clone, "node_modules"));
        const packDir = path.join(root, "pack");
        fs.mkdirSync(packDir);
        check("npm pack", await run("npm", ["pack", "--pack-destination", packDir, "--loglevel=error"], clone, baseEnv));
        const tarballs = fs.readdirSync(packDir).filter((f) => f.endsWith(".tgz"));
        expect(tarballs).toEqual([`${pkg.name}-${pkg.version}.tgz`]);
        tarball = path.join(packDir, tarballs[0]);
        tarballFiles = check("tar", await run("tar", ["-tzf", tarball], root, baseEnv)).stdout.split("\n").filter(Boolean).map((f) => f.replace(/^package\//, ""));
    }, 300_000);

    afterAll(() => {
        if (root) fs.rmSync(root, { recursive: true, force: true });
    });

    test("the tarball holds the built package and nothing else", () => {
        // docs/trust.md: the trust rules' errors link to it; docs/provider.md: how the resources behave.
        for (const needed of ["package.json", "README.md", "CHANGELOG.md", "docs/trust.md", "docs/provider.md", "dist/provider/index.js", "dist/provider/index.d.ts", "dist/cli/oidc-drift.js", "dist/reference-backend/src/index.js"]) {
            expect(tarballFiles).toContain(needed);
        }
        // Every file the exports and bin name is there.
        const named = [pkg.main, pkg.types, ...Object.values(pkg.bin as Record<string, string>)];
        for (const target of Object.values(pkg.exports as Record<string, string | Record<string, string>>)) named.push(...(typeof target === "string" ? [target] : Object.values(target)));
        for (const file of named) expect(tarballFiles).toContain(file.replace(/^\.\//, ""));
        const unexpected = tarballFiles.filter((f) => !["package.json", "README.md", "CHANGELOG.md", "LICENSE", "docs/trust.md", "docs/provider.md"].includes(f) && !/^dist\/(provider|cli|reference-backend\/src)\/.+\.(js|d\.ts)$/.test(f));
        expect(unexpected).toEqual([]);
        // Each compiled file comes from a source of this version (nothing stale), and no test code is shipped.
        const stale = tarballFiles.filter((f) => f.startsWith("dist/")).filter((f) => !fs.existsSync(path.join(repoRoot, f.replace(/^dist\//, "").replace(/(\.d\.ts|\.js)$/, ".ts"))));
        expect(stale).toEqual([]);
        expect(tarballFiles.filter((f) => /(^|\/)(tests?|__tests__|fixtures)\/|\.test\.|\.work\/|\.engine\/|\.data\//.test(f))).toEqual([]);
    });

    describe(`in a Pulumi project of its own, with @pulumi/pulumi ${OLDEST_PULUMI}`, () => {
        let backend: Backend;
        let project: string;
        let env: Record<string, string | undefined>;
        const printed: string[] = [];

        async function pulumi(args: string[], opts: { allowFailure?: boolean } = {}): Promise<Run> {
            const res = await run(path.join(engineBin, "pulumi"), [...args, "--stack", STACK, "--non-interactive"], project, env);
            printed.push(res.stdout, res.stderr);
            return opts.allowFailure ? res : check(`pulumi ${args.join(" ")}`, res);
        }

        /** The package's own bin, as `npx oidc-drift` runs it in the user's project. */
        async function oidcDrift(args: string[]): Promise<Run> {
            const res = await run(path.join(project, "node_modules", ".bin", "oidc-drift"), ["--stack", STACK, ...args], project, env, 180_000);
            printed.push(res.stdout, res.stderr);
            return res;
        }

        async function previewSummary(): Promise<Record<string, number>> {
            return JSON.parse((await pulumi(["preview", "--json"])).stdout).changeSummary ?? {};
        }

        beforeAll(async () => {
            if (OLDEST_PULUMI === DEV_PULUMI) throw new Error("the project must use another @pulumi/pulumi than the package's development one");
            project = path.join(root, "my-infra");
            fs.mkdirSync(project);
            check("npm init", await run("npm", ["init", "-y"], project, baseEnv));
            for (const file of ["Pulumi.yaml", "index.ts", "tsconfig.json"]) fs.copyFileSync(path.join(__dirname, "program", file), path.join(project, file));
            check("npm install", await run("npm", ["install", "--loglevel=error", tarball, `@pulumi/pulumi@${OLDEST_PULUMI}`, ...EXAMPLE_PACKAGES], project, baseEnv));
            check("npm install --save-dev", await run("npm", ["install", "--save-dev", "--loglevel=error", ...USER_DEV_PACKAGES], project, baseEnv));

            backend = await startBackend({ port: 0, allowInternalIpConnections: true });
            const state = path.join(root, "state");
            fs.mkdirSync(state);
            env = {
                ...baseEnv,
                PATH: `${engineBin}${path.delimiter}${nodeDir}${path.delimiter}${process.env.PATH ?? ""}`,
                PULUMI_HOME: path.join(root, "pulumi-home"),
                PULUMI_BACKEND_URL: `file://${state}`,
                PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
                PULUMI_SKIP_UPDATE_CHECK: "true",
                PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            };
            await pulumi(["stack", "init"]);
            for (const [key, value, secret] of stackConfig(backend.ready)) await pulumi(["config", "set", ...(secret ? ["--secret"] : []), key, value]);
        }, 600_000);

        afterAll(async () => {
            await backend?.stop();
        });

        test(`the project has one @pulumi/pulumi, its own ${OLDEST_PULUMI}`, () => {
            const installed = JSON.parse(fs.readFileSync(path.join(project, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8"));
            expect(installed.version).toBe(OLDEST_PULUMI);
            expect(fs.existsSync(path.join(project, "node_modules", pkg.name, "node_modules", "@pulumi", "pulumi"))).toBe(false);
            const lock = JSON.parse(fs.readFileSync(path.join(project, "package-lock.json"), "utf8"));
            const copies = Object.keys(lock.packages).filter((p) => p.endsWith("node_modules/@pulumi/pulumi"));
            expect(copies).toEqual(["node_modules/@pulumi/pulumi"]);
        });

        test("TypeScript as the README installs it is the newest @pulumi/pulumi accepts (6.x or later); program, examples and the package's types compile strict without skipLibCheck", async () => {
            const installed = installedTypeScript(project);
            expect(installed.major).toBeGreaterThanOrEqual(6);
            expect(installed.inPeerRange).toBe(true);
            await typeCheck(project);
            // What the README says about a project made from Pulumi's template before it moved to nodenext
            // (pulumi/templates#1080): its tsconfig fails under 6.x until module/moduleResolution are changed.
            const old = path.join(project, "tsconfig.template-2025.json");
            fs.writeFileSync(old, JSON.stringify({ compilerOptions: { strict: true, target: "es2020", module: "commonjs", moduleResolution: "node" }, files: ["index.ts"] }));
            const res = await run("node", [path.join(project, "node_modules", "typescript", "bin", "tsc"), "-p", old, "--noEmit"], project, baseEnv, 120_000);
            expect(res.stdout + res.stderr).toContain("TS5107");
            fs.rmSync(old);
        }, 300_000);

        test("every entry point of the package works from the project: exports and bins", async () => {
            const script = `
                const main = require("pulumi-oidc-settings");
                require("pulumi-oidc-settings/runtime");
                const { startBackend } = require("pulumi-oidc-settings/reference-backend");
                startBackend({ port: 0 }).then(async (b) => {
                    const health = await fetch(b.ready.healthUrl);
                    console.log(JSON.stringify({ classes: Object.keys(main).sort(), health: health.status }));
                    await b.stop();
                });`;
            const loaded = check("node", await run("node", ["-e", script], project, baseEnv, 60_000));
            const { classes, health } = JSON.parse(loaded.stdout.trim().split("\n").pop()!);
            expect(classes).toEqual(expect.arrayContaining(["IdentityOidcAuth", "OidcSsoConfig", "UnleashOidcSettings"]));
            expect(health).toBe(200);
            for (const bin of Object.keys(pkg.bin as Record<string, string>)) {
                const help = check(`${bin} --help`, await run(path.join(project, "node_modules", ".bin", bin), ["--help"], project, baseEnv, 60_000));
                expect(help.stdout).toContain("--stack");
            }
        }, 120_000);

        test("up creates the three objects through the installed package", async () => {
            const up = await pulumi(["up", "--yes", "--skip-preview"]);
            expect(up.stdout).toMatch(/4 created/);
            const { infisical, unleash } = backend.ready;
            const sso = await api("GET", `${infisical.url}/api/v1/sso/oidc/config?organizationId=${infisical.organizationId}`, `Bearer ${infisical.token}`);
            expect(sso.json).toMatchObject({ isActive: true, clientId: "infisical-web", allowedEmailDomains: "example.com" });
            const identity = await api("GET", `${infisical.url}/api/v1/auth/oidc-auth/identities/${infisical.identityIds[0]}`, `Bearer ${infisical.token}`);
            expect(identity.json.identityOidcAuth).toMatchObject({ boundSubject: "repo:example-org/infra:ref:refs/heads/main", accessTokenTTL: 3600 });
            const settings = await api("GET", `${unleash.url}/api/admin/auth/oidc/settings`, unleash.adminToken);
            expect(settings.json).toMatchObject({ enabled: true, clientId: "unleash-web", autoCreate: true });
        }, 300_000);

        test("preview right after up has nothing to do", async () => {
            await pulumi(["preview", "--expect-no-changes"]);
        }, 180_000);

        test("drift: oidc-drift from the package's bin names the changed field, refresh records it, up puts it back", async () => {
            const { infisical } = backend.ready;
            const changed = await api("PATCH", `${infisical.url}/api/v1/sso/oidc/config`, `Bearer ${infisical.token}`, {
                organizationId: infisical.organizationId,
                allowedEmailDomains: "evil.example",
            });
            expect(changed.status).toBe(200);

            const drift = await oidcDrift(["--json", "--quiet"]);
            expect(drift.code).toBe(2);
            expect(drift.stdout).toContain("allowedEmailDomains");
            expect(drift.stdout).toContain("evil.example");

            await pulumi(["refresh", "--yes", "--skip-preview"]);
            const state = JSON.parse((await pulumi(["stack", "export"])).stdout).deployment.resources as { type: string; outputs?: Record<string, unknown> }[];
            expect(state.find((r) => r.type.endsWith(":OidcSsoConfig"))?.outputs?.allowedEmailDomains).toBe("evil.example");
            expect(await previewSummary()).toMatchObject({ update: 1 });

            await pulumi(["up", "--yes", "--skip-preview"]);
            const sso = await api("GET", `${infisical.url}/api/v1/sso/oidc/config?organizationId=${infisical.organizationId}`, `Bearer ${infisical.token}`);
            expect(sso.json.allowedEmailDomains).toBe("example.com");
            expect((await oidcDrift(["--quiet"])).code).toBe(0);
        }, 300_000);

        test("update: a changed setting is applied in place", async () => {
            await pulumi(["config", "set", "my-infra:accessTokenTTL", "1800"]);
            expect(await previewSummary()).toEqual({ same: 3, update: 1 });
            await pulumi(["up", "--yes", "--skip-preview"]);
            const { infisical } = backend.ready;
            const identity = await api("GET", `${infisical.url}/api/v1/auth/oidc-auth/identities/${infisical.identityIds[0]}`, `Bearer ${infisical.token}`);
            expect(identity.json.identityOidcAuth.accessTokenTTL).toBe(1800);
            await pulumi(["preview", "--expect-no-changes"]);
        }, 300_000);

        test("destroy removes what up created", async () => {
            await pulumi(["destroy", "--yes", "--skip-preview"]);
            const { infisical, unleash } = backend.ready;
            const sso = await api("GET", `${infisical.url}/api/v1/sso/oidc/config?organizationId=${infisical.organizationId}`, `Bearer ${infisical.token}`);
            expect(sso.json.isActive).toBe(false);
            const identity = await api("GET", `${infisical.url}/api/v1/auth/oidc-auth/identities/${infisical.identityIds[0]}`, `Bearer ${infisical.token}`);
            expect(identity.status).toBeGreaterThanOrEqual(400);
            const settings = await api("GET", `${unleash.url}/api/admin/auth/oidc/settings`, unleash.adminToken);
            expect(settings.json.enabled).toBe(false);
        }, 300_000);

        test("no credential or secret appears in anything printed", () => {
            assertNoLeaks(Object.fromEntries(printed.map((text, i) => [`output ${i}`, text])), { ...credentialsOf(backend.ready), SSO_SECRET, UNLEASH_SECRET });
        });
    });

    describe("with the newest TypeScript 5.x", () => {
        let backend: Backend;
        let project: string;
        let env: Record<string, string | undefined>;

        async function pulumi(args: string[]): Promise<Run> {
            return check(`pulumi ${args.join(" ")}`, await run(path.join(engineBin, "pulumi"), [...args, "--stack", STACK, "--non-interactive"], project, env));
        }

        beforeAll(async () => {
            project = path.join(root, "my-infra-ts5");
            fs.mkdirSync(project);
            check("npm init", await run("npm", ["init", "-y"], project, baseEnv));
            for (const file of ["Pulumi.yaml", "index.ts", "tsconfig.json"]) fs.copyFileSync(path.join(__dirname, "program", file), path.join(project, file));
            check("npm install", await run("npm", ["install", "--loglevel=error", tarball, `@pulumi/pulumi@${OLDEST_PULUMI}`, ...EXAMPLE_PACKAGES], project, baseEnv));
            check("npm install --save-dev", await run("npm", ["install", "--save-dev", "--loglevel=error", "typescript@5", "@types/node"], project, baseEnv));
            backend = await startBackend({ port: 0, allowInternalIpConnections: true });
            const state = path.join(root, "state-ts5");
            fs.mkdirSync(state);
            env = {
                ...baseEnv,
                PATH: `${engineBin}${path.delimiter}${nodeDir}${path.delimiter}${process.env.PATH ?? ""}`,
                PULUMI_HOME: path.join(root, "pulumi-home-ts5"),
                PULUMI_BACKEND_URL: `file://${state}`,
                PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
                PULUMI_SKIP_UPDATE_CHECK: "true",
                PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            };
        }, 600_000);

        afterAll(async () => {
            await backend?.stop();
        });

        test("program, examples and the package's types compile strict without skipLibCheck; pulumi preview type-checks the program", async () => {
            expect(installedTypeScript(project).major).toBe(5);
            await typeCheck(project);
            // Pulumi's template before March 2026 under TypeScript 5 (commonjs, node resolution, no esModuleInterop,
            // no skipLibCheck): the package's types compile there too, so they must not reach zod's (whose locale
            // files need esModuleInterop).
            const template2025 = path.join(project, "tsconfig.template-2025.json");
            fs.writeFileSync(template2025, JSON.stringify({ compilerOptions: { strict: true, outDir: "bin", target: "es2020", module: "commonjs", moduleResolution: "node", noImplicitReturns: true }, files: ["index.ts"] }));
            const old = await run("node", [path.join(project, "node_modules", "typescript", "bin", "tsc"), "-p", template2025, "--noEmit"], project, baseEnv, 300_000);
            expect({ code: old.code, errors: old.stdout + old.stderr }).toEqual({ code: 0, errors: "" });
            fs.rmSync(template2025);
            await pulumi(["stack", "init"]);
            for (const [key, value, secret] of stackConfig(backend.ready)) await pulumi(["config", "set", ...(secret ? ["--secret"] : []), key, value]);
            const preview = JSON.parse((await pulumi(["preview", "--json"])).stdout);
            expect(preview.changeSummary).toEqual({ create: 4 });
        }, 600_000);
    });

    test("npm install <git URL> builds the package from a clean clone", async () => {
        // The committed state of the repository, as a git URL (a clone of it is what npm fetches).
        const repo = path.join(root, "git-source.git");
        check("git clone", await run("git", ["clone", "--quiet", "--bare", "--no-local", repoRoot, repo], root, baseEnv));
        const project = path.join(root, "from-git");
        fs.mkdirSync(project);
        check("npm init", await run("npm", ["init", "-y"], project, baseEnv));
        check("npm install <git URL>", await run("npm", ["install", "--loglevel=error", `git+file://${repo}`, `@pulumi/pulumi@${OLDEST_PULUMI}`], project, baseEnv, 900_000));
        const installed = path.join(project, "node_modules", pkg.name);
        expect(fs.existsSync(path.join(installed, "dist", "provider", "index.js"))).toBe(true);
        expect(fs.existsSync(path.join(installed, "tests"))).toBe(false);
        const loaded = check("require", await run("node", ["-e", `const m = require(${JSON.stringify(pkg.name)}); console.log(Object.keys(m).sort().join(","))`], project, baseEnv));
        expect(loaded.stdout.split(",").map((s) => s.trim())).toEqual(expect.arrayContaining(["IdentityOidcAuth", "OidcSsoConfig", "UnleashOidcSettings"]));
        const help = check("oidc-drift --help", await run(path.join(project, "node_modules", ".bin", "oidc-drift"), ["--help"], project, baseEnv));
        expect(help.stdout).toContain("--stack");
    }, 1_200_000);
});
