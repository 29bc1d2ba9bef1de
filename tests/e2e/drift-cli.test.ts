/**
 * The `oidc-drift` command end to end: the built CLI (dist/cli/oidc-drift.js) run as a pipeline would run it,
 * against a stack deployed under the real engine and the reference backend. Exit codes, per-field reports in the
 * three formats, --fail-on, the repair command it prints (run exactly as printed), that neither oidc-drift nor
 * oidc-audit writes anything in the user's project, workspace or state, and the errors users hit (missing stack,
 * wrong passphrase, unreachable API, no Pulumi CLI on PATH).
 */
import { execFile } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { startBackend } from "../../reference-backend/src";
import { assertNoLeaks, credentialsOf } from "../helpers/leak-scan";
import { describeWithEngine, newStack, repoRoot, TestStack } from "./harness";
import { api } from "../helpers/direct-api";

type Backend = Awaited<ReturnType<typeof startBackend>>;

/**
 * SHA-256 of every file under the given roots, keyed "<root name>/<relative path>". Pulumi's own diagnostic logs
 * (PULUMI_HOME/logs, one file per CLI command, whatever the command) are not the user's project, workspace or state.
 */
function snapshot(roots: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, root] of Object.entries(roots)) {
        for (const entry of fs.readdirSync(root, { recursive: true, withFileTypes: true })) {
            if (!entry.isFile()) continue;
            const file = path.join(entry.parentPath, entry.name);
            if (name === "pulumiHome" && path.relative(root, file).split(path.sep)[0] === "logs") continue;
            out[`${name}/${path.relative(root, file)}`] = createHash("sha256").update(fs.readFileSync(file)).digest("hex");
        }
    }
    return out;
}

const cliPath = path.join(repoRoot, "dist", "cli", "oidc-drift.js");
const auditPath = path.join(repoRoot, "dist", "cli", "oidc-audit.js");
const nodeBin = path.join(repoRoot, "node_modules", ".bin", "node");
const SSO_SECRET = "sso-secret-drift-cli-4be1";
const UNLEASH_SECRET = "unleash-secret-drift-cli-77c0";


describeWithEngine("oidc-drift against a deployed stack", () => {
    let backend: Backend;
    let t: TestStack;
    let credentials: Record<string, string> = {};
    const outputs: string[] = [];

    /**
     * Runs the CLI the way a pipeline does; everything it prints is kept for the leak scan. Asynchronous: the
     * backend runs in this process and must keep answering.
     */
    function drift(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
        return runCli(cliPath, ["--cwd", t.workDir, ...args], env);
    }

    /** A CLI run in the project's directory, as a user types it there (no --cwd). */
    function runCli(cli: string, args: string[], env: Record<string, string> = {}, cwd = t.workDir): Promise<{ code: number; stdout: string; stderr: string }> {
        return new Promise((resolve) => {
            execFile(nodeBin, [cli, ...args], { cwd, env: { ...process.env, ...t.env, ...env }, encoding: "utf8", timeout: 120_000 }, (err, stdout, stderr) => {
                outputs.push(stdout, stderr);
                resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr });
            });
        });
    }

    /** A shell command line run as a user runs what they copy from the report (confirmations answered yes). */
    function shell(commandLine: string, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
        return new Promise((resolve) => {
            const env = { ...process.env, ...t.env, PULUMI_SKIP_CONFIRMATIONS: "true" };
            execFile("bash", ["-c", commandLine], { cwd, env, encoding: "utf8", timeout: 300_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
                outputs.push(stdout, stderr);
                resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr });
            });
        });
    }

    beforeAll(async () => {
        if (!fs.existsSync(cliPath)) throw new Error(`${cliPath} is missing: build first (npm run build)`);
        backend = await startBackend({ port: 0, allowInternalIpConnections: true });
        credentials = { ...credentialsOf(backend.ready), SSO_SECRET, UNLEASH_SECRET };
        const { infisical, unleash, issuer } = backend.ready;
        t = await newStack(path.join(__dirname, "program"), "drift");
        await t.stack.setAllConfig({
            "infisical:host": { value: infisical.url },
            "infisical:token": { value: infisical.token, secret: true },
            "unleash:url": { value: unleash.url },
            "unleash:apiToken": { value: unleash.adminToken, secret: true },
            "e2e:issuerUrl": { value: issuer.url },
            "e2e:organizationId": { value: infisical.organizationId },
            "e2e:identityId": { value: infisical.identityIds[0] },
            "e2e:ssoClientSecret": { value: SSO_SECRET, secret: true },
            "e2e:unleashSecret": { value: UNLEASH_SECRET, secret: true },
        });
        const up = await t.stack.up({ color: "never" });
        expect(up.summary.result).toBe("succeeded");
    }, 180_000);

    afterAll(async () => {
        assertNoLeaks({ cliOutput: outputs.join("\n") }, credentials);
        await t?.cleanup();
        await backend?.stop();
    });

    test("no drift right after up: exit 0 and a one-line all-clear", async () => {
        const res = await drift(["--stack", "drift"]);
        expect(res.stderr).toContain('Checking stack "drift"');
        expect(res.code).toBe(0);
        expect(res.stdout).toMatch(/^No drift: 3 resource\(s\) of stack "drift" match the live APIs\./);
    });

    test("one field changed out of band: exactly that field, not the timestamps the change moved; help shows the refresh commands", async () => {
        const { infisical } = backend.ready;
        const url = `${infisical.url}/api/v1/auth/oidc-auth/identities/${infisical.identityIds[0]}`;
        const before = await api("GET", url, `Bearer ${infisical.token}`);
        const patched = await api("PATCH", url, `Bearer ${infisical.token}`, { accessTokenTTL: 1800 });
        expect(patched.status).toBe(200);
        const after = await api("GET", url, `Bearer ${infisical.token}`);
        expect(after.json.identityOidcAuth.updatedAt).not.toBe(before.json.identityOidcAuth.updatedAt); // the change moved it

        const res = await drift(["--stack", "drift", "--json", "--quiet"]);
        expect(res.code).toBe(2);
        const report = JSON.parse(res.stdout);
        expect(report.drifted).toEqual([
            {
                urn: expect.stringContaining("ci-identity"),
                name: "ci-identity",
                type: "pulumi-nodejs:dynamic/infisical:IdentityOidcAuth",
                kind: "modified",
                fields: [{ field: "accessTokenTTL", desired: 3600, live: 1800, secret: false }],
            },
        ]);

        // Put the setting back: updatedAt still differs from the state, and that is not drift.
        expect((await api("PATCH", url, `Bearer ${infisical.token}`, { accessTokenTTL: 3600 })).status).toBe(200);
        const restored = await drift(["--stack", "drift", "--json", "--quiet"]);
        expect(JSON.parse(restored.stdout).drifted).toEqual([]);
        expect(restored.code).toBe(0);

        const help = await drift(["--help"]);
        expect(help.code).toBe(0);
        expect(help.stdout).toContain("pulumi refresh --diff");
        expect(help.stdout).toContain("pulumi preview --refresh --diff");
    });

    test("an out-of-band change: exit 2, the moved fields with desired and live values, secrets masked", async () => {
        const { infisical, unleash } = backend.ready;
        await api("PATCH", `${infisical.url}/api/v1/sso/oidc/config`, `Bearer ${infisical.token}`, {
            organizationId: infisical.organizationId,
            allowedEmailDomains: "evil.example",
        });
        const current = await api("GET", `${unleash.url}/api/admin/auth/oidc/settings`, unleash.adminToken);
        await api("POST", `${unleash.url}/api/admin/auth/oidc/settings`, unleash.adminToken, {
            ...current.json,
            secret: "rotated-by-someone-else",
        });

        const human = await drift(["--stack", "drift", "--quiet"]);
        expect(human.code).toBe(2);
        expect(human.stderr).toBe("");
        expect(human.stdout).toContain('Drift in stack "drift": 2 of 3 resource(s) changed outside Pulumi.');
        expect(human.stdout).toContain('allowedEmailDomains: "example.com,example.org" => "evil.example"');
        expect(human.stdout).toContain("secret: \"[secret]\" => \"[secret]\" (secret, value hidden)");
        expect(human.stdout).not.toContain("rotated-by-someone-else");

        const json = await drift(["--stack", "drift", "--json", "--quiet"]);
        expect(json.code).toBe(2);
        const report = JSON.parse(json.stdout);
        expect(report.checked).toBe(3);
        const byName = Object.fromEntries(report.drifted.map((d: { name: string }) => [d.name, d]));
        expect(Object.keys(byName).sort()).toEqual(["sso", "unleash"]);
        expect(byName.sso.kind).toBe("modified");
        expect(byName.sso.fields).toEqual([{ field: "allowedEmailDomains", desired: "example.com,example.org", live: "evil.example", secret: false }]);
        expect(byName.unleash.fields).toEqual([{ field: "secret", desired: "[secret]", live: "[secret]", secret: true }]);

        const md = await drift(["--stack", "drift", "--markdown", "--quiet"]);
        expect(md.code).toBe(2);
        expect(md.stdout).toContain("| `sso` | `pulumi-nodejs:dynamic/infisical:OidcSsoConfig` | `allowedEmailDomains` | `\"example.com,example.org\"` | `\"evil.example\"` |");
    });

    test("--fail-on chooses the kinds that fail the run; a revoked identity auth is reported as deleted", async () => {
        expect((await drift(["--stack", "drift", "--fail-on", "deleted", "--quiet"])).code).toBe(0);
        const { infisical } = backend.ready;
        const revoked = await api("DELETE", `${infisical.url}/api/v1/auth/oidc-auth/identities/${infisical.identityIds[0]}`, `Bearer ${infisical.token}`);
        expect(revoked.status).toBe(200);
        const res = await drift(["--stack", "drift", "--fail-on", "deleted", "--json", "--quiet"]);
        expect(res.code).toBe(2);
        const report = JSON.parse(res.stdout);
        expect(report.drifted.find((d: { name: string }) => d.name === "ci-identity")).toMatchObject({ kind: "deleted", fields: [] });
        expect((await drift(["--stack", "drift", "--fail-on", "bogus", "--quiet"])).code).toBe(1);
    });

    test("nothing was written: the state still holds what the last up recorded", async () => {
        const exported = JSON.stringify((await t.stack.exportStack()).deployment);
        expect(exported).toContain("example.com,example.org");
        expect(exported).not.toContain("evil.example");
    });

    test("neither oidc-drift nor oidc-audit writes anything: selected stack, stack config, state and workspace stay byte-identical", async () => {
        // Another stack is the selected one, as in a repository whose developer works on staging.
        await shell("pulumi stack init other --non-interactive", t.workDir);
        const selected = async () => (await shell("pulumi stack --show-name --non-interactive", t.workDir)).stdout.trim();
        expect(await selected()).toBe("other");
        const roots = { project: t.workDir, pulumiHome: t.env.PULUMI_HOME, state: path.join(t.stateDir, "backend") };
        const before = snapshot(roots);
        // The snapshot holds what is to be protected: the stack's config, the workspace settings, the state.
        expect(Object.keys(before).some((f) => f.endsWith("project/Pulumi.drift.yaml"))).toBe(true);
        expect(Object.keys(before).some((f) => /pulumiHome\/workspaces\/.+-workspace\.json$/.test(f))).toBe(true);
        expect(Object.keys(before).some((f) => /state\/\.pulumi\/stacks\/.*drift\.json$/.test(f))).toBe(true);

        const runs = [
            await runCli(cliPath, ["--stack", "drift", "--quiet"]),
            await runCli(cliPath, ["--stack", "drift", "--json", "--quiet"]),
            await runCli(cliPath, ["--stack", "drift", "--markdown"]),
            await runCli(auditPath, ["--stack", "drift", "--quiet"]),
            await runCli(auditPath, ["--stack", "drift", "--json", "--quiet"], { PULUMI_SKIP_CONFIRMATIONS: "true" }),
            await runCli(cliPath, ["--stack", "drift", "--quiet"], { PULUMI_SKIP_CONFIRMATIONS: "true" }), // set in many CI jobs
            await runCli(cliPath, ["--stack", "drift", "--quiet"], { PULUMI_CONFIG_PASSPHRASE: "not-the-passphrase" }),
            await runCli(cliPath, ["--stack", "no-such-stack", "--quiet"]),
        ];
        expect(runs.map((r) => r.code)).toEqual([2, 2, 2, 0, 0, 2, 1, 1]);
        expect(await selected()).toBe("other");
        expect(snapshot(roots)).toEqual(before);
        await shell("pulumi stack select drift --non-interactive", t.workDir);
    }, 300_000);

    test("the repair command the report prints, run exactly as printed, puts the settings back", async () => {
        // What the earlier tests left: an SSO domain and the Unleash secret changed, the identity's OIDC auth revoked.
        const human = await runCli(cliPath, ["--stack", "drift", "--quiet"]);
        expect(human.code).toBe(2);
        const restore = human.stdout.match(/^To put the program's settings back: +(.+)$/m)?.[1];
        expect(restore).toBe("pulumi up --refresh --stack drift");
        expect(human.stdout).toContain("`pulumi up --refresh` recreates it"); // the deleted identity auth
        expect(human.stdout).toMatch(/^To keep the live settings instead: +change the program to them .*pulumi refresh --stack drift$/m);
        const json = JSON.parse((await runCli(cliPath, ["--stack", "drift", "--json", "--quiet"])).stdout);
        expect(json.repair).toEqual({ restore, keepLive: "pulumi refresh --stack drift" });
        const md = (await runCli(cliPath, ["--stack", "drift", "--markdown", "--quiet"])).stdout;
        expect(md).toContain(`run \`${restore}\``);
        expect(md).not.toMatch(/Run `pulumi up` to/);
        // From another directory, the command says where the project is.
        const elsewhere = await runCli(cliPath, ["--cwd", t.workDir, "--stack", "drift", "--json", "--quiet"], {}, repoRoot);
        const restoreElsewhere: string = JSON.parse(elsewhere.stdout).repair.restore;
        expect(restoreElsewhere).toBe(`pulumi up --refresh --stack drift --cwd ${path.relative(repoRoot, t.workDir)}`);

        // A plain `pulumi up` (what the report used to say) changes nothing: the drift stays.
        const plain = await shell("pulumi up --stack drift", t.workDir);
        expect(plain.code).toBe(0);
        expect((await runCli(cliPath, ["--stack", "drift", "--quiet"])).code).toBe(2);

        const repaired = await shell(restoreElsewhere, repoRoot);
        expect({ code: repaired.code, output: repaired.code === 0 ? "" : repaired.stderr + repaired.stdout }).toEqual({ code: 0, output: "" });
        const after = await runCli(cliPath, ["--stack", "drift", "--quiet"]);
        expect(after.stdout).toMatch(/^No drift: 3 resource\(s\)/);
        expect(after.code).toBe(0);
        const { infisical, unleash } = backend.ready;
        const sso = await api("GET", `${infisical.url}/api/v1/sso/oidc/config?organizationId=${infisical.organizationId}`, `Bearer ${infisical.token}`);
        expect(String(sso.json.allowedEmailDomains).toLowerCase().replace(/\s/g, "")).toBe("example.com,example.org");
        const identity = await api("GET", `${infisical.url}/api/v1/auth/oidc-auth/identities/${infisical.identityIds[0]}`, `Bearer ${infisical.token}`);
        expect(identity.status).toBe(200);
        const settings = await api("GET", `${unleash.url}/api/admin/auth/oidc/settings`, unleash.adminToken);
        expect(settings.json.secret).toBe(UNLEASH_SECRET);
    }, 300_000);

    test("an identity auth deleted and attached again outside Pulumi, with the same settings, is reported as replaced (a new id)", async () => {
        const { infisical } = backend.ready;
        const route = `${infisical.url}/api/v1/auth/oidc-auth/identities/${infisical.identityIds[0]}`;
        const before = (await api("GET", route, `Bearer ${infisical.token}`)).json.identityOidcAuth;
        expect((await api("DELETE", route, `Bearer ${infisical.token}`)).status).toBe(200);
        // The same settings, as a POST takes them (trusted IPs as CIDR strings; the GET splits them into address and prefix).
        const settings = Object.fromEntries(
            ["oidcDiscoveryUrl", "boundIssuer", "boundAudiences", "boundSubject", "boundClaims", "claimMetadataMapping", "jwtCaCert", "accessTokenTTL", "accessTokenMaxTTL", "accessTokenNumUsesLimit"]
                .filter((field) => before[field] !== undefined && before[field] !== null)
                .map((field) => [field, before[field]]),
        );
        settings.accessTokenTrustedIps = before.accessTokenTrustedIps.map((ip: { ipAddress: string; prefix?: number }) => ({
            ipAddress: ip.prefix === undefined ? ip.ipAddress : `${ip.ipAddress}/${ip.prefix}`,
        }));
        const again = await api("POST", route, `Bearer ${infisical.token}`, settings);
        expect({ status: again.status, body: again.status === 200 ? "" : again.json }).toEqual({ status: 200, body: "" });
        const newId: string = again.json.identityOidcAuth.id;
        expect(newId).not.toBe(before.id);

        const json = await drift(["--stack", "drift", "--json", "--quiet"]);
        expect(json.code).toBe(2);
        const report = JSON.parse(json.stdout);
        expect(report.drifted).toEqual([
            expect.objectContaining({ name: "ci-identity", kind: "replaced", fields: [{ field: "identityOidcAuthId", desired: before.id, live: newId, secret: false }] }),
        ]);
        // Only the kinds chosen fail the run.
        expect((await drift(["--stack", "drift", "--fail-on", "modified,deleted", "--quiet"])).code).toBe(0);
        const human = await drift(["--stack", "drift", "--quiet"]);
        expect(human.stdout).toContain("ci-identity (pulumi-nodejs:dynamic/infisical:IdentityOidcAuth) replaced");
        expect(human.stdout).toContain("deleted and made again outside Pulumi");
        // A refresh records the new id; then there is nothing to report.
        expect((await shell("pulumi refresh --yes --stack drift", t.workDir)).code).toBe(0);
        expect((await drift(["--stack", "drift", "--quiet"])).code).toBe(0);
    }, 300_000);

    test("no Pulumi CLI on PATH: both CLIs say so and how to install it, without a stack trace", async () => {
        for (const cli of [cliPath, auditPath]) {
            const res = await runCli(cli, ["--stack", "drift"], { PATH: path.join(t.stateDir, "empty-bin") });
            expect(res.code).toBe(1);
            expect(res.stdout).toBe("");
            expect(res.stderr).toContain("Pulumi CLI not found on PATH");
            expect(res.stderr).toContain("https://get.pulumi.com");
            expect(res.stderr).not.toMatch(/ENOENT|^\s+at /m);
        }
    }, 60_000);

    test("clear errors: a missing stack, a wrong passphrase, an unreachable API", async () => {
        const missing = await drift(["--stack", "no-such-stack", "--quiet"]);
        expect(missing.code).toBe(1);
        expect(missing.stderr).toContain('oidc-drift: stack "no-such-stack" does not exist');

        const wrong = await drift(["--stack", "drift", "--quiet"], { PULUMI_CONFIG_PASSPHRASE: "not-the-passphrase" });
        expect(wrong.code).toBe(1);
        expect(wrong.stderr).toContain('cannot decrypt the secrets of stack "drift"');

        const url = backend.ready.infisical.url;
        await backend.stop();
        const down = await drift(["--stack", "drift", "--quiet"]);
        expect(down.code).toBe(1);
        expect(down.stderr).toContain('drift check of stack "drift" failed');
        expect(down.stderr).toContain(new URL(url).host);
        expect(down.stderr).not.toMatch(/^\s+at /m); // no stack trace
        backend = await startBackend({ port: 0, allowInternalIpConnections: true }); // for afterAll
    });
});
