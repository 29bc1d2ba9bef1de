/**
 * Upgrading from version 0.2.0: a stack that 0.2.0 created (tests/fixtures/v0.2.0: its `pulumi stack export`, the
 * reference backend's data behind it, and the program) is imported and driven by the current package under the real
 * engine, as a user who upgrades the package under an existing stack does. What users need from an upgrade, whatever
 * the resources now store:
 * - no false drift: `oidc-drift` and `preview` find nothing to do before and after a refresh;
 * - nothing is replaced, and the first `up` after the upgrade writes nothing to Infisical or Unleash;
 * - a refresh reads every object back under the same id and keeps every setting 0.2.0 recorded (a field may be added;
 *   an internal `<field>Hash` may change form, only while the secret it stands for is unchanged);
 * - a change of one setting per resource is an in-place update, never a replacement, and reaches the API;
 * - destroy still cleans up.
 *
 * What 0.2.0 stacks have that 0.1.0 ones did not: salted hashes of secrets in the outputs (`clientSecretHash`,
 * `secretHash`), `claimMetadataMapping` and `extraScopes`, `acceptRisks`, the internal `__resourceName` input (0.2.0
 * keyed the one-owner-per-object check by short name; the current package keys it by URN, `__resourceUrn`), and a
 * resource inside a component, whose URN carries its parent's type.
 */
import { execFile } from "child_process";
import { randomUUID } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { isDeepStrictEqual } from "util";
import { startBackend } from "../../reference-backend/src";
import { describeWithEngine, engineBin, repoRoot } from "../e2e/harness";
import { assertNoLeaks, credentialsOf } from "../helpers/leak-scan";
import { api } from "../helpers/direct-api";

type Backend = Awaited<ReturnType<typeof startBackend>>;

const fixtureDir = path.join(repoRoot, "tests", "fixtures", "v0.2.0");
/** The port 0.2.0's backend listened on: it is recorded in the state (`targetUrl`) and in the stack config. */
const FIXTURE_PORT = 47312;
const STACK = "upgrade";
/** A test passphrase, recorded in tests/fixtures/v0.2.0/README.md. */
const FIXTURE_PASSPHRASE = "upgrade-fixture-passphrase";
const FIXTURE_SECRETS = { SSO_SECRET: "fixture-sso-client-secret-v020", UNLEASH_SECRET: "fixture-unleash-secret-v020" };
const ROTATED_UNLEASH_SECRET = "fixture-unleash-secret-rotated-after-v020-upgrade";
const OUT_OF_BAND_SSO_SECRET = "sso-secret-changed-behind-pulumis-back-9c41";
const cliPath = path.join(repoRoot, "dist", "cli", "oidc-drift.js");
const nodeBin = path.join(repoRoot, "node_modules", ".bin", "node");

const IDENTITY_TYPE = "pulumi-nodejs:dynamic/infisical:IdentityOidcAuth";
/** The identity login that 0.2.0's program made inside a component (`DeployLogin`). */
const COMPONENT_CHILD_URN = `urn:pulumi:${STACK}::oidc-upgrade-fixture::fixture:index:DeployLogin$${IDENTITY_TYPE}::deploy-prod-oidc`;

/**
 * Requests that change nothing on the servers: reads, and the credential check that a preview runs once per server
 * and credential (with the fixture's universal auth, the login itself; for Unleash, a GET). A login creates a session
 * token in Infisical but no setting, so it is allowed wherever a read is.
 */
const READ_ONLY = new Set(["POST /api/v1/auth/universal-auth/login"]);

interface StateResource {
    urn: string;
    type: string;
    id?: string;
    custom?: boolean;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
}

describeWithEngine("a stack created by version 0.2.0, under the current package", () => {
    let backend: Backend;
    let dataDir: string;
    let stateDir: string;
    let workDir: string;
    let env: Record<string, string>;
    /** Everything the CLIs printed, for the leak scan. */
    const printed: string[] = [];
    /** The imported 0.2.0 state's resources (secrets in plain text), by URN. */
    let recorded: Map<string, StateResource>;

    function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
        // Asynchronous on purpose: the reference backend runs in this process and must keep answering.
        return new Promise((resolve) => {
            execFile(file, args, { cwd: workDir, env: { ...process.env, ...env }, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: 180_000 }, (err, stdout, stderr) => {
                resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr });
            });
        });
    }

    async function pulumi(args: string[], opts: { allowFailure?: boolean; keepOutput?: boolean } = {}) {
        const res = await run(path.join(engineBin, "pulumi"), [...args, "--stack", STACK, "--non-interactive"]);
        if (opts.keepOutput !== false) printed.push(res.stdout, res.stderr);
        if (res.code !== 0 && !opts.allowFailure) throw new Error(`pulumi ${args.join(" ")} failed (${res.code}):\n${res.stderr}${res.stdout}`);
        return res;
    }

    async function oidcDrift(): Promise<{ code: number; stdout: string; stderr: string }> {
        const res = await run(nodeBin, [cliPath, "--cwd", workDir, "--stack", STACK]);
        printed.push(res.stdout, res.stderr);
        return res;
    }

    /** The stack's resources with secrets decrypted (this output is compared, never printed or scanned). */
    async function exportedResources(): Promise<Map<string, StateResource>> {
        const res = await pulumi(["stack", "export", "--show-secrets"], { keepOutput: false });
        const resources: StateResource[] = JSON.parse(res.stdout).deployment.resources ?? [];
        return new Map(resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:")).map((r) => [r.urn, r]));
    }

    /** The preview's operation per resource (`same`, `update`, `replace`, ...), and its summary. */
    async function preview(extra: string[] = []): Promise<{ ops: Record<string, string>; summary: Record<string, number> }> {
        const res = await pulumi(["preview", "--json", "--show-sames", ...extra]);
        const json = JSON.parse(res.stdout) as { steps?: Array<{ op: string; urn: string }>; changeSummary?: Record<string, number> };
        return { ops: Object.fromEntries((json.steps ?? []).map((s) => [s.urn, s.op])), summary: json.changeSummary ?? {} };
    }

    /** Requests made while `fn` ran that may change something on a server, by route pattern (see READ_ONLY). */
    async function writesDuring<T>(fn: () => Promise<T>): Promise<{ result: T; writes: Record<string, number> }> {
        backend.resetStats();
        const result = await fn();
        const { byPattern } = backend.stats();
        const writes = Object.fromEntries(
            Object.entries(byPattern).filter(([route]) => !/^(GET|HEAD|OPTIONS) /.test(route) && !READ_ONLY.has(route)),
        );
        return { result, writes };
    }

    function ofType(resources: Map<string, StateResource>, suffix: string): StateResource[] {
        return [...resources.values()].filter((r) => r.type.endsWith(suffix));
    }

    beforeAll(async () => {
        if (!fs.existsSync(cliPath)) throw new Error(`${cliPath} is missing: build first (npm run build)`);
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "oidc-upgrade-backend-"));
        fs.cpSync(path.join(fixtureDir, "backend-data"), dataDir, { recursive: true });
        // The backend's issuer is on 127.0.0.1, which the backend (like Infisical) refuses to reach unless internal
        // connections are allowed; 0.2.0's backend ran with the same flag.
        backend = await startBackend({ port: FIXTURE_PORT, dataDir, allowInternalIpConnections: true });

        // Inside the repository (ignored scratch folder), so that the program resolves this package by name.
        workDir = path.join(repoRoot, "tests", "e2e", ".work", `upgrade-v020-${randomUUID().slice(0, 8)}`);
        fs.cpSync(path.join(fixtureDir, "program"), workDir, { recursive: true });
        stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "oidc-upgrade-state-"));
        fs.mkdirSync(path.join(stateDir, "backend"));
        env = {
            PATH: `${engineBin}${path.delimiter}${path.join(repoRoot, "node_modules", ".bin")}${path.delimiter}${process.env.PATH ?? ""}`,
            PULUMI_HOME: path.join(stateDir, "home"),
            PULUMI_BACKEND_URL: `file://${path.join(stateDir, "backend")}`,
            PULUMI_CONFIG_PASSPHRASE: FIXTURE_PASSPHRASE,
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        };
        // The stack file copied with the program keeps 0.2.0's salt and encrypted config, so `stack init` reuses them.
        await pulumi(["stack", "init"]);
        await pulumi(["stack", "import", "--file", path.join(fixtureDir, "stack-export.json")]);
        recorded = await exportedResources();
    }, 180_000);

    afterAll(async () => {
        await backend?.stop();
        for (const dir of [workDir, stateDir, dataDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    test("the fixture is a 0.2.0 stack whose objects exist in the backend", async () => {
        const types = [...recorded.values()].map((r) => r.type).sort();
        expect(types).toEqual([IDENTITY_TYPE, IDENTITY_TYPE, "pulumi-nodejs:dynamic/infisical:OidcSsoConfig", "pulumi-nodejs:dynamic/unleash:OidcSettings"]);
        for (const r of recorded.values()) {
            expect(String(r.outputs?.targetUrl)).toContain(`127.0.0.1:${FIXTURE_PORT}`);
            // What 0.2.0 wrote: the short name as the owner key.
            expect(r.inputs?.__resourceName).toBe(r.urn.split("::").pop());
        }
        expect(recorded.has(COMPONENT_CHILD_URN)).toBe(true);
        const sso = ofType(recorded, "OidcSsoConfig")[0];
        expect(typeof sso.outputs?.clientSecretHash).toBe("string");
        const { infisical, unleash } = backend.ready;
        const auth = `Bearer ${infisical.token}`;
        const live = await api("GET", `${infisical.url}/api/v1/sso/oidc/config?organizationId=${infisical.organizationId}`, auth);
        expect(live.status).toBe(200);
        expect(live.json.id).toBe(sso.outputs?.configId);
        expect(live.json.isActive).toBe(true);
        for (const login of ofType(recorded, "IdentityOidcAuth")) {
            const identity = await api("GET", `${infisical.url}/api/v1/auth/oidc-auth/identities/${login.id}`, auth);
            expect(identity.json.identityOidcAuth?.id).toBe(login.outputs?.identityOidcAuthId);
        }
        const settings = await api("GET", `${unleash.url}/api/admin/auth/oidc/settings`, unleash.adminToken);
        expect(settings.json).toMatchObject({ enabled: true, clientId: "unleash-web", extraScopes: expect.stringContaining("offline_access") });
    });

    test("right after the upgrade, a scheduled oidc-drift reports no drift and writes nothing", async () => {
        const { result: drift, writes } = await writesDuring(() => oidcDrift());
        expect({ code: drift.code, report: drift.stdout + drift.stderr }).toEqual({ code: 0, report: expect.stringContaining("No drift") });
        expect(writes).toEqual({});
    }, 120_000);

    test("right after the upgrade, preview of the unchanged program has nothing to do and replaces nothing", async () => {
        const { result: text, writes } = await writesDuring(() => pulumi(["preview", "--expect-no-changes", "--diff"]));
        expect(text.stdout).not.toMatch(/replace/i);
        // The credential check that preview runs (the universal-auth login, Unleash's GET) is allowed; nothing else.
        expect(writes).toEqual({});
        const { ops, summary } = await preview();
        expect(Object.keys(summary).filter((op) => op !== "same" && summary[op] > 0)).toEqual([]);
        for (const urn of recorded.keys()) expect({ urn, op: ops[urn] }).toEqual({ urn, op: "same" });
    }, 120_000);

    test("the first up after the upgrade replaces nothing and writes nothing to Infisical or Unleash", async () => {
        // What a GitOps pipeline runs on its next push after the package bump: a plain `pulumi up` (with its preview).
        const { result: up, writes } = await writesDuring(() => pulumi(["up", "--yes", "--expect-no-changes"]));
        // Only reads, and the preview's credential check (with universal auth: a login per provider process).
        expect(writes).toEqual({});
        expect(up.stdout).not.toMatch(/replace/i);
        const after = await exportedResources();
        expect([...after.keys()].sort()).toEqual([...recorded.keys()].sort());
        for (const [urn, before] of recorded) expect({ urn, id: after.get(urn)?.id }).toEqual({ urn, id: before.id });
        const { infisical } = backend.ready;
        const live = await api("GET", `${infisical.url}/api/v1/sso/oidc/config?organizationId=${infisical.organizationId}`, `Bearer ${infisical.token}`);
        if (live.json.clientSecret !== FIXTURE_SECRETS.SSO_SECRET) throw new Error("the SSO client secret changed in Infisical");
        // The state as stored (secrets encrypted) goes to the leak scan.
        await pulumi(["stack", "export"]);
    }, 180_000);

    test("refresh reads every object back under its id and keeps every setting 0.2.0 recorded", async () => {
        await pulumi(["refresh", "--yes", "--skip-preview"]);
        await pulumi(["stack", "export"]); // for the leak scan
        const refreshed = await exportedResources();
        expect([...refreshed.keys()].sort()).toEqual([...recorded.keys()].sort());
        for (const [urn, before] of recorded) {
            const after = refreshed.get(urn)!;
            expect({ urn, id: after.id }).toEqual({ urn, id: before.id });
            const beforeOutputs = before.outputs ?? {};
            const afterOutputs = after.outputs ?? {};
            for (const key of Object.keys(beforeOutputs).filter((k) => !k.startsWith("__"))) {
                // Compared without toEqual on values so that a failure never prints a secret's value.
                if (key.endsWith("Hash") && !isDeepStrictEqual(afterOutputs[key], beforeOutputs[key])) {
                    // An internal hash may change form (or go away), only while the secret it stands for is unchanged
                    // and is not stored in its place; the next test checks that no drift is reported.
                    const field = key.slice(0, -"Hash".length);
                    expect({ urn, hashOf: field, recorded: field in beforeOutputs }).toEqual({ urn, hashOf: field, recorded: true });
                    if (!isDeepStrictEqual(afterOutputs[field], beforeOutputs[field])) throw new Error(`refresh changed ${field} of ${urn} (its hash ${key} changed)`);
                    if (key in afterOutputs && isDeepStrictEqual(afterOutputs[key], afterOutputs[field])) throw new Error(`${key} of ${urn} holds the secret itself`);
                    continue;
                }
                if (!(key in afterOutputs)) throw new Error(`refresh dropped ${key} of ${urn}`);
                if (!isDeepStrictEqual(afterOutputs[key], beforeOutputs[key])) throw new Error(`refresh changed ${key} of ${urn}`);
            }
        }
    }, 120_000);

    test("after the refresh, preview and oidc-drift still find nothing", async () => {
        const { ops } = await preview(["--expect-no-changes"]);
        for (const urn of recorded.keys()) expect({ urn, op: ops[urn] }).toEqual({ urn, op: "same" });
        const drift = await oidcDrift();
        expect({ code: drift.code, report: drift.stdout + drift.stderr }).toEqual({ code: 0, report: expect.stringContaining("No drift") });
    }, 120_000);

    test("the SSO client secret changed behind Pulumi's back is drift, and up --refresh restores it", async () => {
        const { infisical } = backend.ready;
        const ssoUrl = `${infisical.url}/api/v1/sso/oidc/config`;
        const auth = `Bearer ${infisical.token}`;
        const changed = await api("PATCH", ssoUrl, auth, { organizationId: infisical.organizationId, clientSecret: OUT_OF_BAND_SSO_SECRET });
        expect(changed.status).toBe(200);

        const drift = await oidcDrift();
        expect(drift.code).toBe(2);
        expect(drift.stdout).toMatch(/org-sso[\s\S]*clientSecret/);

        await pulumi(["up", "--yes", "--skip-preview", "--refresh"]);
        const live = await api("GET", `${ssoUrl}?organizationId=${infisical.organizationId}`, auth);
        // Compared without toEqual so that a failure never prints a secret's value.
        if (live.json.clientSecret !== FIXTURE_SECRETS.SSO_SECRET) throw new Error("up did not put the desired SSO client secret back");
        expect((await oidcDrift()).code).toBe(0);
    }, 180_000);

    test("changing one setting per resource updates each in place and reaches the API", async () => {
        await pulumi(["config", "set", "fixture:ssoAllowedEmailDomains", "Example.com"]);
        await pulumi(["config", "set", "fixture:accessTokenTTL", "1800"]);
        await pulumi(["config", "set", "fixture:deployNumUsesLimit", "10"]);
        await pulumi(["config", "set", "fixture:unleashDefaultRootRole", "Editor"]);
        await pulumi(["config", "set", "--secret", "fixture:unleashSecret", ROTATED_UNLEASH_SECRET]);

        const { ops, summary } = await preview();
        expect(summary).toEqual({ same: 2, update: 4 });
        for (const r of recorded.values()) {
            if (r.type.startsWith("pulumi-nodejs:dynamic/")) expect({ urn: r.urn, op: ops[r.urn] }).toEqual({ urn: r.urn, op: "update" });
        }
        const { writes } = await writesDuring(() => pulumi(["up", "--yes", "--skip-preview"]));
        // In place at the API too: updates (Infisical's PATCHes, Unleash's save), no create or delete of an object.
        const routes = Object.keys(writes);
        expect(routes).toEqual(
            expect.arrayContaining([
                expect.stringMatching(/^PATCH .*\/sso\/oidc\/config$/),
                expect.stringMatching(/^PATCH .*\/oidc-auth\/identities\//),
                expect.stringMatching(/^POST .*\/auth\/oidc\/settings$/),
            ]),
        );
        expect(routes.filter((r) => /^(POST|DELETE) .*(\/oidc-auth\/identities\/|\/sso\/oidc\/config$)/.test(r))).toEqual([]);

        const updated = await exportedResources();
        for (const [urn, before] of recorded) expect({ urn, id: updated.get(urn)?.id }).toEqual({ urn, id: before.id });

        const { infisical, unleash } = backend.ready;
        const auth = `Bearer ${infisical.token}`;
        const sso = await api("GET", `${infisical.url}/api/v1/sso/oidc/config?organizationId=${infisical.organizationId}`, auth);
        // Domains are compared without case (0.2.0 sent them in the case written: "Example.com, example.ORG, ...").
        expect(sso.json).toMatchObject({ isActive: true, clientId: "infisical-web" });
        expect(String(sso.json.allowedEmailDomains).toLowerCase()).toBe("example.com");
        const ci = updated.get(`urn:pulumi:${STACK}::oidc-upgrade-fixture::${IDENTITY_TYPE}::ci-login`)!;
        const ciLive = await api("GET", `${infisical.url}/api/v1/auth/oidc-auth/identities/${ci.outputs?.identityId}`, auth);
        expect(ciLive.json.identityOidcAuth).toMatchObject({ accessTokenTTL: 1800, accessTokenMaxTTL: 7200, id: ci.outputs?.identityOidcAuthId });
        const deploy = updated.get(COMPONENT_CHILD_URN)!;
        const deployLive = await api("GET", `${infisical.url}/api/v1/auth/oidc-auth/identities/${deploy.outputs?.identityId}`, auth);
        expect(deployLive.json.identityOidcAuth).toMatchObject({ accessTokenNumUsesLimit: 10, accessTokenTTL: 86400, id: deploy.outputs?.identityOidcAuthId });
        const settings = await api("GET", `${unleash.url}/api/admin/auth/oidc/settings`, unleash.adminToken);
        expect(settings.json).toMatchObject({ enabled: true, clientId: "unleash-web", defaultRootRole: "Editor" });
        if (settings.json.secret !== ROTATED_UNLEASH_SECRET) throw new Error("the rotated Unleash secret did not reach the API");

        await pulumi(["preview", "--expect-no-changes"]);
        expect((await oidcDrift()).code).toBe(0);
    }, 240_000);

    test("destroy cleans up what 0.2.0 created", async () => {
        await pulumi(["destroy", "--yes", "--skip-preview"]);
        const { infisical, unleash } = backend.ready;
        const auth = `Bearer ${infisical.token}`;
        const sso = await api("GET", `${infisical.url}/api/v1/sso/oidc/config?organizationId=${infisical.organizationId}`, auth);
        expect(sso.json.isActive).toBe(false);
        for (const login of ofType(recorded, "IdentityOidcAuth")) {
            const identity = await api("GET", `${infisical.url}/api/v1/auth/oidc-auth/identities/${login.outputs?.identityId}`, auth);
            expect({ urn: login.urn, revoked: identity.status >= 400 }).toEqual({ urn: login.urn, revoked: true });
        }
        const settings = await api("GET", `${unleash.url}/api/admin/auth/oidc/settings`, unleash.adminToken);
        expect(settings.json.enabled).toBe(false);
    }, 120_000);

    test("no credential or secret appears in anything the CLIs printed", () => {
        assertNoLeaks(Object.fromEntries(printed.map((text, i) => [`output ${i}`, text])), {
            ...credentialsOf(backend.ready),
            ...FIXTURE_SECRETS,
            ROTATED_UNLEASH_SECRET,
            OUT_OF_BAND_SSO_SECRET,
        });
    });
});
