/**
 * The serialization round trip: each provider is serialized with the SDK's own serializer (the call
 * `pulumi.dynamic.Resource` makes), measured, scanned, then loaded in a fresh Node process the way the
 * dynamic-provider host loads `__provider` (require-from-string, cwd = the program's directory, here the repo
 * root), configured with a stack config, and used to create, read and delete real objects on the backend.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { forwarders } from "../../provider/engine/forwarder";
import { assertNoLeaks, credentialsOf } from "../helpers/leak-scan";
import { ensureBuilt as build } from "../helpers/build";
import { Backend, infisicalApi, Ready, start, unleashApi } from "./support";

const repoRoot = path.resolve(__dirname, "..", "..");
const runtimeJs = path.join(repoRoot, "dist", "provider", "engine", "runtime.js");
// The SDK's serializer wraps each function in ~200 bytes; a provider needs 7 methods plus the handler and a
// loader (with its how-to-fix message), so ~2.5 KB is the floor (see bench/results.md). Growth fails here.
const MAX_PROVIDER_BYTES = 2560;

let backend: Backend;
let ready: Ready;
const texts: Record<string, string> = {};
let workDir: string;

/** Compiles provider/ into dist/ when dist is older than the sources (only the package's own code). */
function ensureBuilt(): Promise<void> {
    return build(runtimeJs, "provider", [
        "--outDir", "dist", "--rootDir", ".", "--module", "commonjs", "--moduleResolution", "node", "--target", "ES2022", "--lib", "ES2023",
        "--strict", "--esModuleInterop", "--skipLibCheck", "--resolveJsonModule", "--declaration", "--sourceMap", "--types", "node",
        "provider/index.ts", "provider/engine/runtime.ts",
    ]);
}

/** The child: what the dynamic-provider host does with `__provider`, then a create/read/delete per provider. */
const CHILD = String.raw`
const fs = require("fs");
const requireFromString = require("require-from-string");
const job = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
(async () => {
    const results = {};
    for (const step of job.steps) {
        const provider = requireFromString(fs.readFileSync(step.providerFile, "utf8")).handler();
        await provider.configure({ config: { get: (k) => job.config[k] } });
        const checked = await provider.check({}, step.inputs);
        if (checked.failures && checked.failures.length) { results[step.kind] = { failures: checked.failures }; continue; }
        const created = await provider.create(checked.inputs);
        const read = await provider.read(created.id, created.outs);
        const diff = await provider.diff(created.id, read.props, checked.inputs);
        results[step.kind] = { id: created.id, readId: read.id, changes: diff.changes, outKeys: Object.keys(created.outs).sort() };
        if (step.destroy) await provider.delete(created.id, read.props);
    }
    process.stdout.write(JSON.stringify(results));
    process.exit(0);
})().catch((e) => { process.stderr.write(String(e && e.message)); process.exit(1); });
`;

function runChild(job: unknown): Promise<{ code: number; stdout: string; stderr: string }> {
    const jobFile = path.join(workDir, "job.json");
    fs.writeFileSync(jobFile, JSON.stringify(job));
    return new Promise((resolve) => {
        // A fresh process, with the repo root as cwd (the program's directory for a program inside this repo).
        execFile(process.execPath, ["-e", CHILD, jobFile], { cwd: repoRoot, env: { PATH: process.env.PATH ?? "" }, timeout: 60_000 }, (err, stdout, stderr) =>
            resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
    });
}

beforeAll(async () => {
    await ensureBuilt();
    backend = await start({ seed: { organizations: 1, identitiesPerOrg: 1, unleashInstances: 1 } });
    ready = backend.ready;
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "oidc-serialization-"));
}, 180_000);
afterAll(async () => {
    await backend?.stop();
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

test("each provider serializes, with the SDK's serializer, to a small text without secrets or captured objects", async () => {
    const sizes: Record<string, number> = {};
    for (const [kind, provider] of Object.entries(forwarders)) {
        const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
        expect(sf.containsSecrets).toBe(false);
        texts[kind] = sf.text;
        sizes[kind] = Buffer.byteLength(sf.text, "utf8");
        expect(sizes[kind]).toBeLessThan(MAX_PROVIDER_BYTES);
        expect(sf.text).not.toMatch(/zod|ZodObject|CustomResource|@pulumi\/pulumi|node_modules|\/work\//);
    }
    // eslint-disable-next-line no-console
    console.log(`__provider bytes: ${JSON.stringify(sizes)}`);
    assertNoLeaks(texts, credentialsOf(ready));
});

test("a fresh Node process loads each provider like the dynamic-provider host and manages real objects", async () => {
    const steps = Object.entries(texts).map(([kind, text]) => {
        const providerFile = path.join(workDir, `${kind}.js`);
        fs.writeFileSync(providerFile, text);
        const inputs =
            kind === "OidcSsoConfig"
                ? { organizationId: ready.infisical.organizationId, configurationType: "discoveryURL", discoveryURL: `${ready.issuer.url}/.well-known/openid-configuration`, clientId: "roundtrip", clientSecret: "roundtrip-client-secret" }
                : kind === "IdentityOidcAuth"
                  ? { identityId: ready.infisical.identityIds[0], oidcDiscoveryUrl: ready.issuer.url, boundIssuer: ready.issuer.url }
                  : { discoverUrl: `${ready.issuer.url}/.well-known/openid-configuration`, clientId: "roundtrip", secret: "roundtrip-unleash-secret" };
        return { kind, providerFile, inputs, destroy: kind === "IdentityOidcAuth" };
    });
    const config = {
        "infisical:host": ready.infisical.url,
        "infisical:clientId": ready.infisical.universalAuth.clientId,
        "infisical:clientSecret": ready.infisical.universalAuth.clientSecret,
        "unleash:url": ready.unleash.url,
        "unleash:apiToken": ready.unleash.adminToken,
    };
    const out = await runChild({ config, steps });
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    const results = JSON.parse(out.stdout);

    expect(results.OidcSsoConfig).toMatchObject({ id: ready.infisical.organizationId, readId: ready.infisical.organizationId, changes: false });
    expect(results.IdentityOidcAuth).toMatchObject({ id: ready.infisical.identityIds[0], changes: false });
    expect(results.UnleashOidcSettings).toMatchObject({ id: ready.unleash.url.replace(/\/+$/, ""), changes: false });

    // The objects are really there (and the identity auth, destroyed by the child, is really gone).
    expect((await infisicalApi(ready).getSso()).json.isActive).toBe(true);
    expect((await infisicalApi(ready).getAuth(ready.infisical.identityIds[0])).status).toBe(400);
    expect((await unleashApi(ready.unleash.url, ready.unleash.adminToken).get()).json).toMatchObject({ enabled: true, clientId: "roundtrip" });
    assertNoLeaks({ stdout: out.stdout, stderr: out.stderr }, { ...credentialsOf(ready), sso: "roundtrip-client-secret", unleash: "roundtrip-unleash-secret" });
});

test("a program directory without the package gets an error that says how to fix it", async () => {
    const providerFile = path.join(workDir, "sso.js");
    fs.writeFileSync(providerFile, texts.OidcSsoConfig);
    const loose = fs.mkdtempSync(path.join(os.tmpdir(), "no-package-"));
    const out = await new Promise<{ code: number; stderr: string }>((resolve) =>
        execFile(
            process.execPath,
            ["-e", `require(${JSON.stringify(path.join(repoRoot, "node_modules", "require-from-string"))})(require("fs").readFileSync(${JSON.stringify(providerFile)}, "utf8")).handler().check({}, {}).catch((e) => { process.stderr.write(e.message); process.exit(3); })`],
            { cwd: loose },
            (err, _stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
        ),
    );
    fs.rmSync(loose, { recursive: true, force: true });
    expect(out.code).toBe(3);
    expect(out.stderr).toContain("pulumi-oidc-settings: cannot load pulumi-oidc-settings/runtime");
    expect(out.stderr).toContain(loose); // Node's message names where it looked
    expect(out.stderr).toContain("npm install pulumi-oidc-settings");
});
