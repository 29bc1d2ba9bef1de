/**
 * `__provider` from an installed package: in a project whose node_modules holds the package (its built files and
 * package.json, as `npm pack` ships them) beside @pulumi/pulumi, the SDK's own serializer captures each provider as a
 * `require()` of the package's public `providers/<Kind>` entry (a few hundred bytes, not the ~2.5 KB by-value
 * forwarder), and that text loads the package in a fresh Node process whose cwd is the project (what the
 * dynamic-provider host does). Without the package there, Node's error names the module.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ensureBuilt as build } from "../helpers/build";

const repoRoot = path.resolve(__dirname, "..", "..");
const KINDS = ["OidcSsoConfig", "IdentityOidcAuth", "UnleashOidcSettings"] as const;
let project: string;

function node(cwd: string, script: string, args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) =>
        execFile(process.execPath, ["-e", script, ...args], { cwd, env: { PATH: process.env.PATH ?? "" }, timeout: 120_000 }, (err, stdout, stderr) =>
            resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        ),
    );
}

beforeAll(async () => {
    await build(path.join(repoRoot, "dist", "provider", "providers", "oidc-sso-config.js"), "provider", [
        "--outDir", "dist", "--rootDir", ".", "--module", "commonjs", "--moduleResolution", "node", "--target", "ES2022", "--lib", "ES2023",
        "--strict", "--esModuleInterop", "--skipLibCheck", "--resolveJsonModule", "--declaration", "--types", "node",
        "provider/index.ts", "provider/engine/runtime.ts", "provider/providers/oidc-sso-config.ts", "provider/providers/identity-oidc-auth.ts", "provider/providers/unleash-oidc-settings.ts",
    ]);
    // Inside the repository (git-ignored), so that the package's own dependencies resolve from its node_modules; with
    // its own package.json, so that nothing in it reaches the repository by self-reference.
    fs.mkdirSync(path.join(repoRoot, "tests", "e2e", ".work"), { recursive: true });
    project = fs.mkdtempSync(path.join(repoRoot, "tests", "e2e", ".work", "installed-"));
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "user-project", private: true }));
    const pkg = path.join(project, "node_modules", "pulumi-oidc-settings");
    fs.mkdirSync(pkg, { recursive: true });
    fs.copyFileSync(path.join(repoRoot, "package.json"), path.join(pkg, "package.json"));
    fs.cpSync(path.join(repoRoot, "dist", "provider"), path.join(pkg, "dist", "provider"), { recursive: true, filter: (src) => !src.endsWith(".map") });
    fs.cpSync(path.join(repoRoot, "node_modules", "@pulumi", "pulumi"), path.join(project, "node_modules", "@pulumi", "pulumi"), { recursive: true });
}, 300_000);
afterAll(() => {
    if (project) fs.rmSync(project, { recursive: true, force: true });
});

test("each provider serializes to a require() of the package's providers/<Kind> entry, and that text loads the package", async () => {
    const serialize = String.raw`
const pulumi = require("@pulumi/pulumi");
(async () => {
    const out = {};
    for (const kind of ${JSON.stringify(KINDS)}) {
        const provider = require("pulumi-oidc-settings/providers/" + kind);
        out[kind] = (await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true })).text;
    }
    process.stdout.write(JSON.stringify(out));
})().catch((e) => { process.stderr.write(String(e && e.stack)); process.exit(1); });`;
    const serialized = await node(project, serialize);
    // (The serializer's scan of Node's built-in modules prints deprecation warnings: only the exit code counts.)
    expect({ code: serialized.code, error: serialized.code === 0 ? "" : serialized.stderr }).toEqual({ code: 0, error: "" });
    const texts = JSON.parse(serialized.stdout) as Record<string, string>;
    for (const kind of KINDS) {
        expect(texts[kind]).toContain(`require("pulumi-oidc-settings/providers/${kind}")`);
        expect(Buffer.byteLength(texts[kind])).toBeLessThan(400);
        expect(texts[kind]).not.toMatch(/node_modules|\/work\/|createRequire/);
    }

    // What the dynamic-provider host does with it: require-from-string in a process whose cwd is the project.
    const load = String.raw`
const requireFromString = require(${JSON.stringify(path.join(repoRoot, "node_modules", "require-from-string"))});
const provider = requireFromString(process.argv[1]).handler();
provider.check({}, {}).then((r) => process.stdout.write(JSON.stringify(r.failures)), (e) => { process.stderr.write(e.message); process.exit(3); });`;
    const loaded = await node(project, load, [texts.OidcSsoConfig]);
    expect(loaded.stderr).toBe("");
    expect(JSON.parse(loaded.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ property: "organizationId" })]));

    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), "no-package-"));
    try {
        const missing = await node(elsewhere, load, [texts.OidcSsoConfig]);
        expect(missing.code).not.toBe(0);
        expect(missing.stderr + missing.stdout).toContain("pulumi-oidc-settings/providers/OidcSsoConfig");
    } finally {
        fs.rmSync(elsewhere, { recursive: true, force: true });
    }
}, 120_000);
