/**
 * The real-server behaviours under the real Pulumi engine (issues #10, #11 and #18 points 1, 2 and 5): the program
 * in tests/e2e/fidelity-program imports the package as a user's infra repo does and talks over real HTTP to the
 * reference backend, which answers as the real Infisical and Unleash do (/work/shared/real-servers):
 *
 * - Unleash: empty strings refused, a stored defaultRootRoleId winning over defaultRootRole, a full replace on every
 *   POST (settings Pulumi does not manage must be sent back), joi's raw error echoing the request body;
 * - Infisical SSO: clientSecret returned in clear, every PATCH switching off SSO enforcement and SCIM and refusing
 *   `isActive: true` while Google SSO is enforced or SMTP does not verify (Infisical/infisical@0158e41b,
 *   backend/src/ee/services/oidc/oidc-config-service.ts, `updateOidcCfg`: `orgDAL.updateById(org.id, { authEnforced:
 *   false, scimEnabled: false })` after every update), a PATCH of a missing configuration answered 200 with an empty
 *   body, plan gating;
 * - Infisical identity OIDC auth: `iss` compared byte for byte with boundIssuer; DELETE revoking the OIDC tokens;
 * - credentials bound to the URL they are configured for, and moving a stack to another URL.
 *
 * One backend for the whole suite (restarted on the same port when a test edits its stored state, to simulate what
 * no API can do) and two stacks; every engine run's output and the final states go through the leak scan.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startBackend } from "../../reference-backend/src";
import { assertNoLeaks, credentialsOf } from "../helpers/leak-scan";
import { api } from "../helpers/direct-api";
import { describeWithEngine, newStack, repoRoot, TestStack } from "./harness";

type Backend = Awaited<ReturnType<typeof startBackend>>;
type Ready = Backend["ready"];
type LogLine = Record<string, unknown>;

const programDir = path.join(__dirname, "fidelity-program");
const driftCli = path.join(repoRoot, "dist", "cli", "oidc-drift.js");
const nodeBin = path.join(repoRoot, "node_modules", ".bin", "node");

const SSO_SECRET = "sso-secret-fidelity-1f3a9c";
const SSO_SECRET_OUT_OF_BAND = "sso-secret-set-by-hand-8e21d0";
const UNLEASH_SECRET = "unleash-secret-fidelity-4b7e2d";
const LEGACY_SECRET = "unleash-legacy-secret-c05a7f";
const HAND_MADE_SECRET = "unleash-hand-made-secret-77aa1e";
const MOVE_SSO_SECRET = "sso-secret-move-5d9b3e";
const MOVE_UNLEASH_SECRET = "unleash-secret-move-a81c44";
const SECRETS = { SSO_SECRET, SSO_SECRET_OUT_OF_BAND, UNLEASH_SECRET, LEGACY_SECRET, HAND_MADE_SECRET, MOVE_SSO_SECRET, MOVE_UNLEASH_SECRET };

const ENFORCEMENT_WARNING = "switches off SSO enforcement and SCIM";

/**
 * The reference backend in this process (the engine's provider process talks to it over HTTP), with its request log
 * kept. `restartWith` stops it, edits its stored state and starts it again on the same port and data dir: what an
 * operator or another version of the server could leave behind, and no API of theirs can produce.
 */
class TestBackend {
    readonly log: LogLine[] = [];
    backend!: Backend;
    private constructor(readonly dataDir: string) {}

    static async start(seed: NonNullable<Parameters<typeof startBackend>[0]>["seed"]): Promise<TestBackend> {
        const t = new TestBackend(fs.mkdtempSync(path.join(os.tmpdir(), "oidc-fidelity-backend-")));
        t.backend = await startBackend({ port: 0, dataDir: t.dataDir, seed, allowInternalIpConnections: true, log: (line) => t.log.push(line) });
        return t;
    }

    get ready(): Ready {
        return this.backend.ready;
    }

    /** Another server holding a copy of this one's data (a restored backup on a new host): same ids and credentials. */
    static async startCopyOf(other: TestBackend): Promise<TestBackend> {
        const t = new TestBackend(fs.mkdtempSync(path.join(os.tmpdir(), "oidc-fidelity-backend-")));
        fs.cpSync(other.dataDir, t.dataDir, { recursive: true, filter: (src) => path.basename(src) !== "lock" });
        t.backend = await startBackend({ port: 0, dataDir: t.dataDir, allowInternalIpConnections: true, log: (line) => t.log.push(line) });
        return t;
    }

    /** The backend's admin routes (organization flags, instance settings); fails on anything but 200. */
    async admin(method: "GET" | "PATCH", pathname: string, body?: unknown) {
        const res = await api(method, `${this.ready.url}${pathname}`, `Bearer ${this.ready.admin.token}`, body);
        if (res.status !== 200) throw new Error(`${method} ${pathname}: ${res.status} ${JSON.stringify(res.json)}`);
        return res;
    }

    organization(id: string) {
        return this.admin("GET", `/_admin/infisical/organizations/${id}`).then((r) => r.json as { authEnforced: boolean; scimEnabled: boolean });
    }

    async restartWith(edit: (state: any) => void): Promise<void> { // eslint-disable-line @typescript-eslint/no-explicit-any
        const port = Number(new URL(this.ready.url).port);
        await this.backend.stop();
        const file = path.join(this.dataDir, "state.json");
        const state = JSON.parse(fs.readFileSync(file, "utf8"));
        edit(state);
        fs.writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
        this.backend = await startBackend({ port, dataDir: this.dataDir, allowInternalIpConnections: true, log: (line) => this.log.push(line) });
    }

    /** The request log lines of what `fn` caused. */
    async requestsDuring(fn: () => Promise<unknown>): Promise<Array<{ method: string; route: string; status: unknown }>> {
        const from = this.log.length;
        await fn();
        return this.log
            .slice(from)
            .filter((l) => l.msg === "request")
            .map((l) => ({ method: String(l.method), route: String(l.route), status: l.status }));
    }

    async stop(): Promise<void> {
        await this.backend.stop();
        fs.rmSync(this.dataDir, { recursive: true, force: true });
    }
}

/**
 * A request that changes an object (not a read, a login, the issuer or the admin routes). `POST /api/v1/auth/checkAuth`
 * is the preview's credential check of a user's token (Infisical's auth-router.ts): a POST that changes nothing.
 */
const isWrite = (r: { method: string; route: string }) =>
    r.method !== "GET" && !r.route.endsWith("/login") && r.route !== "/api/v1/auth/checkAuth" && !r.route.startsWith("/oidc") && !r.route.startsWith("/_admin");
const ssoWrites = (rs: Array<{ method: string; route: string }>) => rs.filter((r) => r.route === "/api/v1/sso/oidc/config" && r.method !== "GET");

/** The stack's state file as the file backend stores it (secrets encrypted), for the leak scan. */
function storedState(t: TestStack, stackName: string): string {
    const stacks = path.join(t.stateDir, "backend", ".pulumi", "stacks");
    const files = (fs.readdirSync(stacks, { recursive: true }) as string[]).filter((f) => path.basename(f) === `${stackName}.json`);
    if (files.length !== 1) throw new Error(`expected one state file of stack ${stackName} under ${stacks}, found ${files.length}`);
    return fs.readFileSync(path.join(stacks, files[0]), "utf8");
}

describeWithEngine("real-server fidelity under the real engine", () => {
    let m: TestBackend; // the backend both stacks start on
    const engineOutput: string[] = []; // everything the engine and the CLI printed, for the leak scan
    const timings: string[] = [];
    const states: Record<string, unknown> = {};
    let credentials: Record<string, string> = {};

    /** Runs one engine step, keeping its output for the leak scan and its duration for the timing report. */
    async function step<T extends { stdout?: string; stderr?: string }>(label: string, fn: () => Promise<T>): Promise<T> {
        const start = Date.now();
        try {
            const res = await fn();
            engineOutput.push(res.stdout ?? "", res.stderr ?? "");
            return res;
        } catch (err) {
            engineOutput.push(err instanceof Error ? `${err.message}\n${err.stack ?? ""}` : String(err));
            throw err;
        } finally {
            timings.push(`${label}: ${((Date.now() - start) / 1000).toFixed(1)} s`);
        }
    }

    /** A step that must fail: its combined output. */
    async function failingStep(label: string, fn: () => Promise<unknown>): Promise<string> {
        try {
            await step(label, fn as () => Promise<{ stdout?: string }>);
        } catch (err) {
            return err instanceof Error ? err.message : String(err);
        }
        throw new Error(`${label} succeeded, but it should have failed`);
    }

    function drift(t: TestStack, stackName: string): Promise<{ code: number; stdout: string; stderr: string }> {
        const start = Date.now();
        return new Promise((resolve) => {
            execFile(nodeBin, [driftCli, "--cwd", t.workDir, "--stack", stackName, "--json", "--quiet"], { env: { ...process.env, ...t.env }, encoding: "utf8", timeout: 120_000 }, (err, stdout, stderr) => {
                engineOutput.push(stdout, stderr);
                timings.push(`oidc-drift: ${((Date.now() - start) / 1000).toFixed(1)} s`);
                resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr });
            });
        });
    }

    beforeAll(async () => {
        if (!fs.existsSync(driftCli)) throw new Error(`${driftCli} is missing: build first (npm run build)`);
        const start = Date.now();
        // Organization 1 has SSO enforcement and SCIM on (what the SSO PATCH side effect switches off); organization 3's
        // plan lacks OIDC SSO. Unleash: instance 0 for the main stack, 1 holds settings made by hand, 2 for the move.
        m = await TestBackend.start({
            organizations: 3,
            unleashInstances: 3,
            organizationSettings: [{ authEnforced: true, scimEnabled: true }, {}, { plan: { oidcSSO: false, ipAllowlisting: true } }],
        });
        // Settings made by hand on instance 1 that hold a value today's Unleash refuses on every save (joi's pattern for
        // groupJsonPath), as a value left by another version or tool may: the API cannot store it, so the stored state
        // is edited. A program that passes preview cannot send such a value itself (empty strings are left out,
        // groupJsonPath is checked at preview): carrying it over is how a real program meets joi's raw error.
        const legacy = m.ready.unleash.instances[1];
        const made = await api("POST", `${legacy.url}/api/admin/auth/oidc/settings`, legacy.adminToken, {
            enabled: true,
            discoverUrl: m.ready.issuer.discoveryUrl,
            clientId: "configured-by-hand",
            secret: HAND_MADE_SECRET,
            enableGroupSyncing: true,
            groupJsonPath: "groups",
        });
        expect(made.status).toBe(200);
        await m.restartWith((state) => {
            state.unleash.instances.find((i: { index: number }) => i.index === 1).oidcSettings.groupJsonPath = "$.groups";
        });
        credentials = { ...credentialsOf(m.ready), ...SECRETS };
        timings.push(`backend setup: ${((Date.now() - start) / 1000).toFixed(1)} s`);
    }, 60_000);

    afterAll(async () => {
        // eslint-disable-next-line no-console
        console.log(`fidelity suite timings:\n  ${timings.join("\n  ")}`);
        try {
            assertNoLeaks({ "engine and CLI output": engineOutput.join("\n"), ...states }, credentials);
        } finally {
            await m?.stop();
        }
    });

    describe("one stack: SSO, identity OIDC auth and Unleash OIDC on one backend", () => {
        let t: TestStack;
        let oidcAccessToken = "";
        const ssoUrl = () => `${m.ready.infisical.url}/api/v1/sso/oidc/config?organizationId=${m.ready.infisical.organizationId}`;
        const orgToken = () => `Bearer ${m.ready.infisical.token}`;
        const unleash = () => m.ready.unleash.instances[0];
        const liveSso = () => api("GET", ssoUrl(), orgToken()).then((r) => r.json);
        const liveUnleash = () => api("GET", `${unleash().url}/api/admin/auth/oidc/settings`, unleash().adminToken).then((r) => r.json);

        beforeAll(async () => {
            t = await newStack(programDir, "fid");
            const { infisical, issuer } = m.ready;
            await t.stack.setAllConfig({
                "infisical:host": { value: infisical.url },
                "infisical:clientId": { value: infisical.universalAuth.clientId, secret: true },
                "infisical:clientSecret": { value: infisical.universalAuth.clientSecret, secret: true },
                "unleash:url": { value: unleash().url },
                "unleash:apiToken": { value: unleash().adminToken, secret: true },
                "fid:issuerUrl": { value: issuer.url },
                "fid:ssoOrganizationId": { value: infisical.organizationId },
                "fid:ssoClientSecret": { value: SSO_SECRET, secret: true },
                "fid:identityId": { value: infisical.identityIds[0] },
                "fid:boundIssuer": { value: `${issuer.url}/` }, // as the tokens carry it, with the trailing "/"
                "fid:unleash": { value: "true" },
                "fid:unleashSecret": { value: UNLEASH_SECRET, secret: true },
            });
        }, 60_000);

        afterAll(async () => {
            if (t) states["fid state file"] = storedState(t, "fid");
            await t?.cleanup();
        });

        test("up creates the three; Unleash from clientId, secret and discoverUrl alone; SSO enforcement untouched by the create", async () => {
            const requests = await m.requestsDuring(() => step("fid up (create)", () => t.stack.up({ color: "never" })));
            expect(requests.filter((r) => Number(r.status) >= 400)).toEqual([]); // e.g. no 400 for an empty string

            // Unleash refuses "" for emailDomains, clientId, secret, groupJsonPath: nothing empty was sent, only what was set.
            const live = await liveUnleash();
            expect(live).toMatchObject({ enabled: true, clientId: "unleash-fidelity", discoverUrl: m.ready.issuer.discoveryUrl });
            expect(live.emailDomains).toBeUndefined();
            expect(live.groupJsonPath).toBeUndefined();

            // Creating SSO is a POST: enforcement and SCIM stay on (only PATCHes switch them off).
            expect(ssoWrites(requests)).toEqual([{ method: "POST", route: "/api/v1/sso/oidc/config", status: 200 }]);
            expect(await m.organization(m.ready.infisical.organizationId)).toMatchObject({ authEnforced: true, scimEnabled: true });
        }, 120_000);

        test("#18.1 an issuer ending in \"/\" is kept as written through up and refresh, and a token carrying it logs in", async () => {
            const { infisical, issuer } = m.ready;
            const issuerWithSlash = `${issuer.url}/`;
            const auth = await api("GET", `${infisical.url}/api/v1/auth/oidc-auth/identities/${infisical.identityIds[0]}`, orgToken());
            expect(auth.json.identityOidcAuth.boundIssuer).toBe(issuerWithSlash);

            const refresh = await step("fid refresh", () => t.stack.refresh({ color: "never" }));
            expect(refresh.summary.resourceChanges?.update ?? 0).toBe(0);
            expect((await t.stack.outputs()).identityBoundIssuer.value).toBe(issuerWithSlash);
            const quiet = await step("fid preview (no changes)", () => t.stack.preview({ expectNoChanges: true, color: "never" }));
            expect(quiet.stdout + quiet.stderr).not.toContain(ENFORCEMENT_WARNING); // said only when an SSO update is planned

            // Infisical compares iss byte for byte: the token with the "/" logs in, the one without does not.
            const mint = async (iss: string) =>
                (await api("POST", issuer.mintUrl, "", { claims: { iss }, sub: "repo:example-org/infra:ref:refs/heads/main", aud: "fidelity-audience" })).json.id_token as string;
            const login = async (jwt: string) => api("POST", `${infisical.url}/api/v1/auth/oidc-auth/login`, "", { identityId: infisical.identityIds[0], jwt });
            const ok = await login(await mint(issuerWithSlash));
            expect(ok.status).toBe(200);
            oidcAccessToken = ok.json.accessToken;
            const withoutSlash = await login(await mint(issuer.url));
            expect(withoutSlash.status).toBeGreaterThanOrEqual(400);
            expect(withoutSlash.status).toBeLessThan(500);
        }, 120_000);

        test("#11 defaultRootRole Admin → Viewer: the live role id follows; extraScopes set by hand survives the update; SSO untouched", async () => {
            await t.stack.setConfig("fid:unleashDefaultRootRole", { value: "Admin" });
            await step("fid up (role Admin)", () => t.stack.up({ color: "never" }));
            expect(await liveUnleash()).toMatchObject({ defaultRootRole: "Admin", defaultRootRoleId: 1 });

            // Another admin adds scopes in Unleash's UI (a full-replace POST of what it read, so the role id is kept).
            const current = await liveUnleash();
            expect((await api("POST", `${unleash().url}/api/admin/auth/oidc/settings`, unleash().adminToken, { ...current, extraScopes: "groups offline_access" })).status).toBe(200);

            await t.stack.setConfig("fid:unleashDefaultRootRole", { value: "Viewer" });
            const requests = await m.requestsDuring(() => step("fid up (role Viewer)", () => t.stack.up({ color: "never" })));
            const live = await liveUnleash();
            // Unleash assigns the role of the stored id: the stored Admin id must not have been sent back.
            expect(live).toMatchObject({ defaultRootRole: "Viewer", defaultRootRoleId: 3, extraScopes: "groups offline_access", clientId: "unleash-fidelity" });
            expect((await t.stack.outputs()).unleashDefaultRootRole.value).toBe("Viewer");

            // Nothing changed in the SSO program: no SSO write, so enforcement and SCIM are still on.
            expect(ssoWrites(requests)).toEqual([]);
            expect(await m.organization(m.ready.infisical.organizationId)).toMatchObject({ authEnforced: true, scimEnabled: true });
        }, 120_000);

        test("#10 an SSO client secret changed by hand is drift: oidc-drift exits 2 with the field masked and no secret", async () => {
            const patched = await api("PATCH", `${m.ready.infisical.url}/api/v1/sso/oidc/config`, orgToken(), {
                organizationId: m.ready.infisical.organizationId,
                clientSecret: SSO_SECRET_OUT_OF_BAND,
            });
            expect(patched.status).toBe(200);
            const res = await drift(t, "fid");
            expect(res.code).toBe(2);
            const report = JSON.parse(res.stdout);
            expect(report.drifted).toEqual([
                expect.objectContaining({ name: "sso", kind: "modified", fields: [{ field: "clientSecret", desired: "[secret]", live: "[secret]", secret: true }] }),
            ]);
            expect(res.stdout + res.stderr).not.toContain(SSO_SECRET_OUT_OF_BAND);
            expect(res.stdout + res.stderr).not.toContain(SSO_SECRET);
        }, 120_000);

        test("#10 an SSO update: the side effect is said at preview, one PATCH carries only the changed field (no isActive), up --refresh converges", async () => {
            const orgId = m.ready.infisical.organizationId;
            // While Google SSO is enforced and the instance's SMTP does not verify, Infisical refuses any PATCH that
            // carries isActive: true (oidc-config-service.ts), so the update below passes only if it leaves isActive out.
            await m.admin("PATCH", `/_admin/infisical/organizations/${orgId}`, { googleSsoAuthEnforced: true });
            await m.admin("PATCH", "/_admin/infisical/instance", { smtpVerified: false });
            const withIsActive = await api("PATCH", `${m.ready.infisical.url}/api/v1/sso/oidc/config`, orgToken(), { organizationId: orgId, isActive: true });
            expect(withIsActive.status).toBe(400);
            // The hand-made PATCHes above switched enforcement off (as Infisical does): the admin turns it on again.
            await m.admin("PATCH", `/_admin/infisical/organizations/${orgId}`, { authEnforced: true, scimEnabled: true });
            await t.stack.setConfig("fid:ssoAllowedEmailDomains", { value: "example.com, example.net" });

            const preview = await step("fid preview (SSO update)", () => t.cli(["preview", "--diff"]));
            expect(preview.stdout + preview.stderr).toContain(ENFORCEMENT_WARNING);

            const requests = await m.requestsDuring(() => step("fid up (one SSO field)", () => t.stack.up({ color: "never" })));
            expect(ssoWrites(requests)).toEqual([{ method: "PATCH", route: "/api/v1/sso/oidc/config", status: 200 }]);
            const live = await liveSso();
            expect(live.allowedEmailDomains).toBe("example.com, example.net");
            // The PATCH did not carry clientSecret: the value set by hand is still there (the body is not logged by
            // the backend; this is how it shows). Infisical's side effect happened, as the preview said.
            expect(live.clientSecret).toBe(SSO_SECRET_OUT_OF_BAND);
            expect(await m.organization(orgId)).toMatchObject({ authEnforced: false, scimEnabled: false });
            await m.admin("PATCH", `/_admin/infisical/organizations/${orgId}`, { googleSsoAuthEnforced: false });
            await m.admin("PATCH", "/_admin/infisical/instance", { smtpVerified: true });

            // A refreshing up sees the hand-made secret and puts the program's back.
            await step("fid up --refresh", () => t.stack.up({ refresh: true, color: "never" }));
            expect((await liveSso()).clientSecret).toBe(SSO_SECRET);
            expect((await drift(t, "fid")).code).toBe(0);
        }, 180_000);

        test("#10 an SSO configuration deleted behind Pulumi's back: the next up re-creates it and says so", async () => {
            const orgId = m.ready.infisical.organizationId;
            // Infisical's API has no delete: the configuration is removed from the stored state.
            await m.restartWith((state) => {
                state.infisical.oidcConfigs = state.infisical.oidcConfigs.filter((c: { orgId: string }) => c.orgId !== orgId);
            });
            expect((await api("GET", ssoUrl(), orgToken())).status).toBe(404);

            await t.stack.setConfig("fid:ssoAllowedEmailDomains", { value: "example.com" });
            let output = "";
            const requests = await m.requestsDuring(async () => {
                const up = await step("fid up (SSO deleted by hand)", () => t.stack.up({ color: "never" }));
                output = up.stdout + up.stderr;
            });
            // The PATCH answered 200 with no body (nothing updated); update then created it.
            expect(ssoWrites(requests)).toEqual([
                { method: "PATCH", route: "/api/v1/sso/oidc/config", status: 200 },
                { method: "POST", route: "/api/v1/sso/oidc/config", status: 200 },
            ]);
            expect(output).toContain("no longer exists: creating it with the desired settings");
            expect(await liveSso()).toMatchObject({ isActive: true, allowedEmailDomains: "example.com", clientId: "infisical-fidelity", clientSecret: SSO_SECRET });
            await step("fid preview --refresh (converged)", () => t.stack.preview({ refresh: true, expectNoChanges: true, color: "never" }));
        }, 180_000);

        test("#10 SSO in an organization whose plan lacks OIDC SSO is refused at up with cause and fix", async () => {
            const restricted = m.ready.infisical.organizations[2];
            await t.stack.setAllConfig({
                "fid:restrictedOrganizationId": { value: restricted.id },
                "fid:restrictedOrganizationToken": { value: restricted.token, secret: true },
            });
            const message = await failingStep("fid up (plan restriction)", () => t.stack.up({ color: "never" }));
            expect(message).toContain("plan restriction");
            expect(message).toContain("does not include OIDC SSO (licence feature oidcSSO): upgrade the plan");
            await t.stack.removeAllConfig(["fid:restrictedOrganizationId", "fid:restrictedOrganizationToken"]);
        }, 120_000);

        test("#11 an Unleash error whose raw joi body echoes the secret: the message names the field, the secret is nowhere", async () => {
            // The program takes over instance 1 (adoptExisting) and leaves groupJsonPath unmanaged: the stored "$.groups"
            // is carried over, as every setting Pulumi does not manage, and Unleash's joi layer refuses it with
            // {_original: <the body, secret included>, details}.
            const legacy = m.ready.unleash.instances[1];
            await t.stack.setAllConfig({
                "fid:legacyUnleashUrl": { value: legacy.url },
                "fid:legacyUnleashToken": { value: legacy.adminToken, secret: true },
                "fid:legacyUnleashSecret": { value: LEGACY_SECRET, secret: true },
            });
            await step("fid preview (legacy Unleash)", () => t.stack.preview({ color: "never" })); // valid at preview
            const message = await failingStep("fid up (joi error)", () => t.stack.up({ color: "never" }));
            expect(message).toContain("Group Json Path must be a valid JSON lookup");
            expect(message).toContain("groupJsonPath");
            expect(message).not.toContain("_original");
            expect(message).not.toContain(LEGACY_SECRET);

            // Managing the field (the fix the message points to) converges.
            await t.stack.setConfig("fid:legacyGroupJsonPath", { value: "groups" });
            await step("fid up (legacy Unleash fixed)", () => t.stack.up({ color: "never" }));
            const live = (await api("GET", `${legacy.url}/api/admin/auth/oidc/settings`, legacy.adminToken)).json;
            expect(live).toMatchObject({ enabled: true, clientId: "unleash-legacy", groupJsonPath: "groups", secret: LEGACY_SECRET });
            states["fid state file after the joi error"] = storedState(t, "fid");
        }, 180_000);

        test("#18.2 another address of the same backend: preview shows updates (no replacement); up sends no write and nothing is deleted", async () => {
            const orgId = m.ready.infisical.organizationId;
            await m.admin("PATCH", `/_admin/infisical/organizations/${orgId}`, { authEnforced: true, scimEnabled: true });
            const other = (url: string) => url.replace("//127.0.0.1:", "//localhost:");
            await t.stack.setAllConfig({
                "infisical:host": { value: other(m.ready.infisical.url) },
                "unleash:url": { value: other(unleash().url) },
            });
            const preview = await step("fid preview (new address)", () => t.stack.preview({ color: "never" }));
            expect(preview.changeSummary).toMatchObject({ update: 3 }); // sso, ci-identity, unleash (legacy-unleash has its own URL)
            expect(preview.changeSummary.replace ?? 0).toBe(0);
            expect(preview.changeSummary.delete ?? 0).toBe(0);
            expect(preview.changeSummary.create ?? 0).toBe(0);

            const requests = await m.requestsDuring(() => step("fid up (new address)", () => t.stack.up({ color: "never" })));
            expect(requests.filter(isWrite)).toEqual([]); // the objects are identical there: read, nothing sent
            const outputs = await t.stack.outputs();
            expect(outputs.ssoTargetUrl.value).toBe(other(m.ready.infisical.url));
            expect(outputs.unleashTargetUrl.value).toBe(other(unleash().url));
            expect(await liveSso()).toMatchObject({ isActive: true, clientSecret: SSO_SECRET });
            expect(await liveUnleash()).toMatchObject({ enabled: true, defaultRootRoleId: 3, extraScopes: "groups offline_access" });
            expect(await m.organization(orgId)).toMatchObject({ authEnforced: true, scimEnabled: true });

            await step("fid preview --refresh (new address)", () => t.stack.preview({ refresh: true, expectNoChanges: true, color: "never" }));
            states["fid state file on the new address"] = storedState(t, "fid");
        }, 180_000);

        test("#18.5 the same data on a new server (a restored backup): up moves every resource without a write, and back", async () => {
            const copy = await TestBackend.startCopyOf(m);
            try {
                const address = m.ready.infisical.url.replace("//127.0.0.1:", "//localhost:"); // where the previous test left it
                await t.stack.setAllConfig({
                    "infisical:host": { value: copy.ready.infisical.url },
                    "unleash:url": { value: copy.ready.unleash.instances[0].url },
                });
                const preview = await step("fid preview (restored copy)", () => t.stack.preview({ color: "never" }));
                expect(preview.changeSummary).toMatchObject({ update: 3 });
                expect(preview.changeSummary.replace ?? 0).toBe(0);

                const onCopy = await copy.requestsDuring(async () => {
                    const onOld = await m.requestsDuring(() => step("fid up (restored copy)", () => t.stack.up({ color: "never" })));
                    // Nothing of the moved resources goes to the old server. legacy-unleash keeps its own connection to
                    // instance 1 there, so the preview's credential check asks that instance once (the check runs for
                    // every server the stack uses, once per process), and nothing else is sent.
                    expect(onOld).toEqual([{ method: "GET", route: "/unleash/:instance/api/admin/auth/oidc/settings", status: 200 }]);
                });
                expect(onCopy.filter(isWrite)).toEqual([]); // identical there: read only
                expect((await t.stack.outputs()).ssoTargetUrl.value).toBe(copy.ready.infisical.url);
                expect((await t.stack.outputs()).unleashTargetUrl.value).toBe(copy.ready.unleash.instances[0].url);

                // Back to the first server: again an update that reads, writes nothing, and leaves the copy alone.
                await t.stack.setAllConfig({ "infisical:host": { value: address }, "unleash:url": { value: address + "/unleash/0" } });
                const onCopyBack = await copy.requestsDuring(async () => {
                    const back = await m.requestsDuring(() => step("fid up (back from the copy)", () => t.stack.up({ color: "never" })));
                    expect(back.filter(isWrite)).toEqual([]);
                });
                expect(onCopyBack).toEqual([]);
            } finally {
                await copy.stop();
            }
        }, 180_000);

        test("destroy: SSO deactivated with the enforcement warning; the OIDC auth revoked with its tokens; Unleash disabled", async () => {
            const { infisical } = m.ready;
            // The OIDC-issued access token authenticates (the identity may not read SSO settings: 403, not 401).
            expect((await api("GET", ssoUrl(), `Bearer ${oidcAccessToken}`)).status).toBe(403);

            const destroy = await step("fid destroy", () => t.stack.destroy({ color: "never" }));
            const output = destroy.stdout + destroy.stderr;
            expect(output).toContain("also switches off SSO enforcement and SCIM for the organization");
            expect(output).toContain("retainOnDelete: true");
            expect(output).toContain("Infisical revokes the access tokens issued through this OIDC auth");

            expect(await liveSso()).toMatchObject({ isActive: false });
            expect(await m.organization(infisical.organizationId)).toMatchObject({ authEnforced: false, scimEnabled: false });
            expect((await api("GET", ssoUrl(), `Bearer ${oidcAccessToken}`)).status).toBe(401); // revoked
            expect((await liveUnleash()).enabled).toBe(false);
        }, 180_000);
    });

    describe("#18.5 moving a stack to another backend", () => {
        let b: TestBackend; // the other server: other ids, other credentials
        let t: TestStack;

        const stackConfigFor = (backend: TestBackend, org: Ready["infisical"]["organizations"][number], unleash: Ready["unleash"]["instances"][number]) => ({
            "infisical:host": { value: backend.ready.infisical.url },
            "infisical:token": { value: org.token, secret: true },
            "unleash:url": { value: unleash.url },
            "unleash:apiToken": { value: unleash.adminToken, secret: true },
            "fid:issuerUrl": { value: backend.ready.issuer.url },
            "fid:ssoOrganizationId": { value: org.id },
        });
        const onM = () => stackConfigFor(m, m.ready.infisical.organizations[1], m.ready.unleash.instances[2]);
        const onB = () => stackConfigFor(b, b.ready.infisical.organizations[0], b.ready.unleash.instances[0]);
        /** Requests each backend received while `fn` ran. */
        const requestsTo = async (fn: () => Promise<unknown>) => {
            const before = [m.backend.stats().total, b.backend.stats().total];
            await fn();
            return { m: m.backend.stats().total - before[0], b: b.backend.stats().total - before[1] };
        };

        beforeAll(async () => {
            b = await TestBackend.start({});
            credentials = { ...credentials, ...credentialsOf(b.ready) };
            t = await newStack(programDir, "move");
            await t.stack.setAllConfig({
                ...onM(),
                "fid:ssoClientSecret": { value: MOVE_SSO_SECRET, secret: true },
                "fid:unleash": { value: "true" },
                "fid:unleashSecret": { value: MOVE_UNLEASH_SECRET, secret: true },
            });
            await step("move up (on the first backend)", () => t.stack.up({ color: "never" }));
        }, 120_000);

        afterAll(async () => {
            if (t) states["move state file"] = storedState(t, "move");
            await t?.cleanup();
            await b?.stop();
        });

        test("with the stack config on the other backend, refresh --run-program fails naming what to set and sends nothing to either", async () => {
            await t.stack.setAllConfig(onB());
            let res = { status: 0, stdout: "", stderr: "" };
            const sent = await requestsTo(async () => {
                res = await step("move refresh --run-program (config on the other backend)", () => t.cli(["refresh", "--yes", "--run-program"], { allowFailure: true }));
            });
            expect(res.status).not.toBe(0);
            const text = res.stdout + res.stderr;
            expect(text).toContain(`OidcSsoConfig is recorded on ${m.ready.infisical.url}, but the credentials configured now are for ${b.ready.infisical.url}`);
            expect(text).toContain("(URL from stack config infisical:host)");
            expect(text).toContain(`UnleashOidcSettings is recorded on ${m.ready.unleash.instances[2].url}, but the credentials configured now are for ${b.ready.unleash.instances[0].url}`);
            expect(text).toContain("(URL from stack config unleash:url)");
            expect(text).toContain('"Moving a stack to another URL"');
            expect(sent).toEqual({ m: 0, b: 0 }); // no request, with any credentials, to either server
            // Shown on the resources, without the host's stack-trace copy under the stack.
            expect(text).not.toMatch(/^\s+at .*(node_modules|provider\/engine)/m);
            expect(text).not.toMatch(/pulumi:pulumi:Stack \([^)]*\):\s+\w*Error: /);

            // A plain refresh does not run the program: the engine gives the provider the configuration recorded at the
            // last up (the old server's URL and credentials, in the state as secrets), so it reads the old server with
            // its own credentials, and nothing goes to the new one.
            const plain = await requestsTo(() => step("move refresh (config on the other backend)", () => t.stack.refresh({ color: "never" })));
            expect(plain.b).toBe(0);
            expect(plain.m).toBeGreaterThan(0);
        }, 120_000);

        test("the README's move procedure to a server with other ids: retainOnDelete, then up; refresh works; the old config is refused the other way round", async () => {
            const oldOrg = m.ready.infisical.organizations[1];
            const oldUnleash = m.ready.unleash.instances[2];
            // 1. With the old configuration: retainOnDelete on the resources whose ids change (state only, no write).
            await t.stack.setAllConfig({ ...onM(), "fid:retainOnDelete": { value: "true" } });
            const retain = await m.requestsDuring(() => step("move up (retainOnDelete)", () => t.stack.up({ color: "never" })));
            expect(retain.filter(isWrite)).toEqual([]);

            // 2. The new server's URL, credentials and ids; up.
            await t.stack.setAllConfig(onB());
            const sent = await requestsTo(() => step("move up (to the other backend)", () => t.stack.up({ color: "never" })));
            expect(sent.m).toBe(0); // nothing sent to the old server

            // On the new server: the objects as the program describes them. On the old one: left as they were.
            const newOrg = b.ready.infisical.organizations[0];
            const sso = await api("GET", `${b.ready.infisical.url}/api/v1/sso/oidc/config?organizationId=${newOrg.id}`, `Bearer ${newOrg.token}`);
            expect(sso.json).toMatchObject({ isActive: true, clientId: "infisical-fidelity", clientSecret: MOVE_SSO_SECRET });
            const unleashB = b.ready.unleash.instances[0];
            expect((await api("GET", `${unleashB.url}/api/admin/auth/oidc/settings`, unleashB.adminToken)).json).toMatchObject({ enabled: true, clientId: "unleash-fidelity" });
            const oldSso = await api("GET", `${m.ready.infisical.url}/api/v1/sso/oidc/config?organizationId=${oldOrg.id}`, `Bearer ${oldOrg.token}`);
            expect(oldSso.json).toMatchObject({ isActive: true });
            expect((await api("GET", `${oldUnleash.url}/api/admin/auth/oidc/settings`, oldUnleash.adminToken)).json).toMatchObject({ enabled: true });

            // 3. Refresh and drift checks work against the new server.
            const refreshed = await requestsTo(() => step("move refresh --run-program (after the move)", () => t.cli(["refresh", "--yes", "--run-program"])));
            expect(refreshed.m).toBe(0);
            await step("move preview (after the move)", () => t.stack.preview({ expectNoChanges: true, color: "never" }));
            states["move state file after the move"] = storedState(t, "move");

            // And the other way round: the stack config back on the first backend sends nothing to the second one.
            await t.stack.setAllConfig(onM());
            let back = { status: 0, stdout: "", stderr: "" };
            const backSent = await requestsTo(async () => {
                back = await step("move refresh --run-program (config on the old backend)", () => t.cli(["refresh", "--yes", "--run-program"], { allowFailure: true }));
            });
            expect(back.status).not.toBe(0);
            expect(back.stdout + back.stderr).toContain(`OidcSsoConfig is recorded on ${b.ready.infisical.url}, but the credentials configured now are for ${m.ready.infisical.url}`);
            expect(backSent).toEqual({ m: 0, b: 0 });
        }, 180_000);
    });
});
