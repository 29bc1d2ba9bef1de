/**
 * Upgrading from version 0.1.0: a stack that 0.1.0 created (tests/fixtures/v0.1.0: its `pulumi stack export`, the
 * reference backend's data behind it, and the program) is imported and driven by the current package under the real
 * engine, as a user who upgrades the package under an existing stack does. What users need from an upgrade, whatever
 * the resources now store:
 * - no false drift: `oidc-drift` and `preview` find nothing to do before and after a refresh;
 * - a refresh reads every object back under the same id and keeps every setting 0.1.0 recorded (a field may be
 *   added; only an internal `<field>Hash` may go away);
 * - a change of one setting per resource is an in-place update, never a replacement, and reaches the API;
 * - destroy still cleans up.
 */
import { execFile } from "child_process";
import { randomUUID } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { isDeepStrictEqual } from "util";
import { request } from "undici";
import { startBackend } from "../../reference-backend/src";
import { describeWithEngine, engineBin, repoRoot } from "../e2e/harness";
import { assertNoLeaks, credentialsOf } from "../helpers/leak-scan";
import { api } from "../helpers/direct-api";

type Backend = Awaited<ReturnType<typeof startBackend>>;

const fixtureDir = path.join(repoRoot, "tests", "fixtures", "v0.1.0");
/** The port 0.1.0's backend listened on: it is recorded in the state (`targetUrl`) and in the stack config. */
const FIXTURE_PORT = 47311;
const STACK = "upgrade";
/** A test passphrase, recorded in tests/fixtures/v0.1.0/README.md. */
const FIXTURE_PASSPHRASE = "upgrade-fixture-passphrase";
const FIXTURE_SECRETS = { SSO_SECRET: "fixture-sso-client-secret-v010", UNLEASH_SECRET: "fixture-unleash-secret-v010" };
const ROTATED_UNLEASH_SECRET = "fixture-unleash-secret-rotated-after-upgrade";
const OUT_OF_BAND_SSO_SECRET = "sso-secret-changed-behind-pulumis-back-5e0a";
const cliPath = path.join(repoRoot, "dist", "cli", "oidc-drift.js");
const nodeBin = path.join(repoRoot, "node_modules", ".bin", "node");

interface StateResource {
    urn: string;
    type: string;
    id?: string;
    custom?: boolean;
    outputs?: Record<string, unknown>;
}


describeWithEngine("a stack created by version 0.1.0, under the current package", () => {
    let backend: Backend;
    let dataDir: string;
    let stateDir: string;
    let workDir: string;
    let env: Record<string, string>;
    /** Everything the CLIs printed, for the leak scan. */
    const printed: string[] = [];
    /** The imported 0.1.0 state's resources (secrets in plain text), by URN. */
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

    async function previewSummary(): Promise<Record<string, number>> {
        const res = await pulumi(["preview", "--json"]);
        return JSON.parse(res.stdout).changeSummary ?? {};
    }

    beforeAll(async () => {
        if (!fs.existsSync(cliPath)) throw new Error(`${cliPath} is missing: build first (npm run build)`);
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "oidc-upgrade-backend-"));
        fs.cpSync(path.join(fixtureDir, "backend-data"), dataDir, { recursive: true });
        // The backend's issuer is on 127.0.0.1, which the current backend (like Infisical) refuses to reach unless
        // internal connections are allowed.
        backend = await startBackend({ port: FIXTURE_PORT, dataDir, allowInternalIpConnections: true });

        // Inside the repository (ignored scratch folder), so that the program resolves this package by name.
        workDir = path.join(repoRoot, "tests", "e2e", ".work", `upgrade-${randomUUID().slice(0, 8)}`);
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
        // The stack file copied with the program keeps 0.1.0's salt and encrypted config, so `stack init` reuses them.
        await pulumi(["stack", "init"]);
        await pulumi(["stack", "import", "--file", path.join(fixtureDir, "stack-export.json")]);
        recorded = await exportedResources();
    }, 180_000);

    afterAll(async () => {
        await backend?.stop();
        for (const dir of [workDir, stateDir, dataDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    test("the fixture is a 0.1.0 stack whose objects exist in the backend", async () => {
        const types = [...recorded.values()].map((r) => r.type).sort();
        expect(types).toEqual([
            "pulumi-nodejs:dynamic/infisical:IdentityOidcAuth",
            "pulumi-nodejs:dynamic/infisical:OidcSsoConfig",
            "pulumi-nodejs:dynamic/unleash:OidcSettings",
        ]);
        for (const r of recorded.values()) expect(String(r.outputs?.targetUrl)).toContain(`127.0.0.1:${FIXTURE_PORT}`);
        const sso = [...recorded.values()].find((r) => r.type.endsWith("OidcSsoConfig"))!;
        const { infisical } = backend.ready;
        const live = await api("GET", `${infisical.url}/api/v1/sso/oidc/config?organizationId=${infisical.organizationId}`, `Bearer ${infisical.token}`);
        expect(live.status).toBe(200);
        expect(live.json.id).toBe(sso.outputs?.configId);
        expect(live.json.isActive).toBe(true);
    });

    test("right after the upgrade, a scheduled oidc-drift reports no drift", async () => {
        const drift = await oidcDrift();
        expect({ code: drift.code, report: drift.stdout + drift.stderr }).toEqual({ code: 0, report: expect.stringContaining("No drift") });
    }, 120_000);

    test("right after the upgrade, preview of the unchanged program has nothing to do", async () => {
        await pulumi(["preview", "--expect-no-changes", "--diff"]);
        const summary = await previewSummary();
        expect(Object.keys(summary).filter((op) => op !== "same" && summary[op] > 0)).toEqual([]);
    }, 120_000);

    test("refresh reads every object back under its id and keeps every setting 0.1.0 recorded", async () => {
        await pulumi(["refresh", "--yes", "--skip-preview"]);
        const refreshed = await exportedResources();
        expect([...refreshed.keys()].sort()).toEqual([...recorded.keys()].sort());
        for (const [urn, before] of recorded) {
            const after = refreshed.get(urn)!;
            expect({ urn, id: after.id }).toEqual({ urn, id: before.id });
            const beforeOutputs = before.outputs ?? {};
            const afterOutputs = after.outputs ?? {};
            for (const key of Object.keys(beforeOutputs).filter((k) => !k.startsWith("__"))) {
                if (!(key in afterOutputs)) {
                    // Only an internal hash may be dropped (e.g. once the secret it stood for can be read back).
                    expect({ urn, dropped: key }).toEqual({ urn, dropped: expect.stringMatching(/Hash$/) });
                    continue;
                }
                // Compared here rather than with toEqual so that a failure never prints a secret's value.
                if (!isDeepStrictEqual(afterOutputs[key], beforeOutputs[key])) throw new Error(`refresh changed ${key} of ${urn}`);
            }
        }
    }, 120_000);

    test("after the refresh, preview and oidc-drift still find nothing", async () => {
        await pulumi(["preview", "--expect-no-changes"]);
        const drift = await oidcDrift();
        expect(drift.code).toBe(0);
    }, 120_000);

    test("the SSO client secret that 0.1.0 could not read: a change behind Pulumi's back is drift, and up --refresh restores it", async () => {
        const { infisical } = backend.ready;
        const ssoUrl = `${infisical.url}/api/v1/sso/oidc/config`;
        const auth = `Bearer ${infisical.token}`;
        const changed = await request(ssoUrl, {
            method: "PATCH",
            headers: { authorization: auth, "content-type": "application/json" },
            body: JSON.stringify({ organizationId: infisical.organizationId, clientSecret: OUT_OF_BAND_SSO_SECRET }),
        });
        await changed.body.text();
        expect(changed.statusCode).toBe(200);

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
        await pulumi(["config", "set", "fixture:ssoAllowedEmailDomains", "example.com"]);
        await pulumi(["config", "set", "fixture:accessTokenTTL", "1800"]);
        await pulumi(["config", "set", "fixture:unleashDefaultRootRole", "Editor"]);
        await pulumi(["config", "set", "--secret", "fixture:unleashSecret", ROTATED_UNLEASH_SECRET]);

        const summary = await previewSummary();
        expect(summary).toEqual({ same: 1, update: 3 });
        await pulumi(["up", "--yes", "--skip-preview"]);

        const updated = await exportedResources();
        for (const [urn, before] of recorded) expect({ urn, id: updated.get(urn)?.id }).toEqual({ urn, id: before.id });

        const { infisical, unleash } = backend.ready;
        const auth = `Bearer ${infisical.token}`;
        const sso = await api("GET", `${infisical.url}/api/v1/sso/oidc/config?organizationId=${infisical.organizationId}`, auth);
        expect(sso.json).toMatchObject({ allowedEmailDomains: "example.com", isActive: true, clientId: "infisical-web" });
        const identityAuth = [...updated.values()].find((r) => r.type.endsWith("IdentityOidcAuth"))!;
        const identity = await api("GET", `${infisical.url}/api/v1/auth/oidc-auth/identities/${identityAuth.outputs?.identityId}`, auth);
        expect(identity.json.identityOidcAuth).toMatchObject({ accessTokenTTL: 1800, accessTokenMaxTTL: 7200, id: identityAuth.outputs?.identityOidcAuthId });
        const settings = await api("GET", `${unleash.url}/api/admin/auth/oidc/settings`, unleash.adminToken);
        expect(settings.json).toMatchObject({ enabled: true, clientId: "unleash-web", defaultRootRole: "Editor" });
        if (settings.json.secret !== ROTATED_UNLEASH_SECRET) throw new Error("the rotated Unleash secret did not reach the API");

        await pulumi(["preview", "--expect-no-changes"]);
    }, 180_000);

    test("destroy cleans up what 0.1.0 created", async () => {
        await pulumi(["destroy", "--yes", "--skip-preview"]);
        const { infisical, unleash } = backend.ready;
        const auth = `Bearer ${infisical.token}`;
        const sso = await api("GET", `${infisical.url}/api/v1/sso/oidc/config?organizationId=${infisical.organizationId}`, auth);
        expect(sso.json.isActive).toBe(false);
        const identityAuth = [...recorded.values()].find((r) => r.type.endsWith("IdentityOidcAuth"))!;
        const identity = await api("GET", `${infisical.url}/api/v1/auth/oidc-auth/identities/${identityAuth.outputs?.identityId}`, auth);
        expect(identity.status).toBeGreaterThanOrEqual(400);
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
