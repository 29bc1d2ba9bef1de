/**
 * Trust checks end to end, under the real engine and the reference backend:
 * - `pulumi preview` of an identity bound to GitHub Actions' issuer with no subject fails naming the rule, the field,
 *   the fix and the docs; it passes once the subject pins the owner, or once the rule is accepted (acceptRisks);
 *   warnings are printed and do not block; an unknown rule id in acceptRisks is refused;
 * - `oidc-audit` (the built CLI, as a pipeline runs it) reports a risky setting made behind Pulumi's back, with exit
 *   codes, JSON and Markdown, and lists accepted findings without failing.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { request } from "undici";
import { startBackend } from "../../reference-backend/src";
import { assertNoLeaks, credentialsOf } from "../helpers/leak-scan";
import { describeWithEngine, newStack, repoRoot, TestStack } from "./harness";

type Backend = Awaited<ReturnType<typeof startBackend>>;

const auditCli = path.join(repoRoot, "dist", "cli", "oidc-audit.js");
const nodeBin = path.join(repoRoot, "node_modules", ".bin", "node");
const RULE = "identity-public-issuer-unpinned";
const PINNED = "repo:acme/infra:ref:refs/heads/main";

describeWithEngine("trust checks under the real engine", () => {
    let backend: Backend;
    let t: TestStack;
    let credentials: Record<string, string> = {};
    const outputs: string[] = [];

    function audit(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
        return new Promise((resolve) => {
            execFile(nodeBin, [auditCli, "--cwd", t.workDir, "--stack", "trust", "--quiet", ...args], { env: { ...process.env, ...t.env }, encoding: "utf8", timeout: 120_000 }, (err, stdout, stderr) => {
                outputs.push(stdout, stderr);
                resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr });
            });
        });
    }

    async function preview(config: { boundSubject?: string; acceptRisks?: string[]; boundAudiences?: string }) {
        await t.stack.setConfig("trust:boundSubject", { value: config.boundSubject ?? "" });
        await t.stack.setConfig("trust:acceptRisks", { value: JSON.stringify(config.acceptRisks ?? []) });
        if (config.boundAudiences !== undefined) await t.stack.setConfig("trust:boundAudiences", { value: config.boundAudiences });
        else await t.stack.removeConfig("trust:boundAudiences").catch(() => undefined);
        const res = await t.cli(["preview", "--diff"], { allowFailure: true });
        outputs.push(res.stdout, res.stderr);
        return { ...res, text: res.stdout + res.stderr };
    }

    beforeAll(async () => {
        if (!fs.existsSync(auditCli)) throw new Error(`${auditCli} is missing: build first (npm run build)`);
        backend = await startBackend({ port: 0, allowInternalIpConnections: true });
        credentials = credentialsOf(backend.ready);
        const { infisical, issuer } = backend.ready;
        t = await newStack(path.join(__dirname, "trust-program"), "trust");
        await t.stack.setAllConfig({
            "infisical:host": { value: infisical.url },
            "infisical:token": { value: infisical.token, secret: true },
            "trust:identityId": { value: infisical.identityIds[1] },
            "trust:discoveryUrl": { value: issuer.url },
        });
    }, 120_000);

    afterAll(async () => {
        assertNoLeaks({ output: outputs.join("\n") }, credentials);
        await t?.cleanup();
        await backend?.stop();
    });

    test("preview fails on GitHub's issuer with no subject: the rule id, the field, the fix, how to accept, the docs", async () => {
        const res = await preview({ boundSubject: "" });
        expect(res.status).not.toBe(0);
        expect(res.text).toContain(`${RULE}:`);
        expect(res.text).toContain("boundSubject");
        expect(res.text).toContain("GitHub Actions");
        expect(res.text).toContain("repo:<owner>/<repo>");
        expect(res.text).toContain(`acceptRisks: ["${RULE}"]`);
        expect(res.text).toContain(`docs/trust.md#${RULE}`);
    }, 120_000);

    test("an owner wildcard fails too; a subject that pins the owner passes", async () => {
        const wildcard = await preview({ boundSubject: "repo:*/infra:*" });
        expect(wildcard.status).not.toBe(0);
        expect(wildcard.text).toContain(RULE);

        const pinned = await preview({ boundSubject: PINNED });
        expect(pinned.status).toBe(0);
        expect(pinned.text).not.toContain(RULE);
    }, 120_000);

    test("accepting the rule by id lets the preview pass; an unknown id is refused", async () => {
        const accepted = await preview({ boundSubject: "", acceptRisks: [RULE] });
        expect(accepted.status).toBe(0);

        const typo = await preview({ boundSubject: "", acceptRisks: ["identity-public-issuer-unpined"] });
        expect(typo.status).not.toBe(0);
        expect(typo.text).toContain("identity-public-issuer-unpined");
    }, 120_000);

    test("a warning is printed and does not block", async () => {
        const res = await preview({ boundSubject: PINNED, boundAudiences: "" });
        expect(res.status).toBe(0);
        expect(res.text).toContain("identity-audience-unbound");
        // Shown under the resource it is about, not under the stack.
        const plain = await t.cli(["preview"], { allowFailure: true });
        outputs.push(plain.stdout, plain.stderr);
        const diagnostics = plain.stdout.slice(plain.stdout.indexOf("Diagnostics:"));

        expect(diagnostics).toMatch(/pulumi-nodejs:dynamic\/infisical:IdentityOidcAuth \(github-deploy\):\s+warning: [^\n]*identity-audience-unbound/);
    }, 120_000);

    test("audit: clean after up; a subject cleared behind Pulumi's back is an error finding (exit 2, JSON, Markdown)", async () => {
        await preview({ boundSubject: PINNED });
        const up = await t.stack.up({ color: "never" });
        expect(up.summary.result).toBe("succeeded");

        const clean = await audit(["--json"]);
        expect(clean.code).toBe(0);
        expect(JSON.parse(clean.stdout)).toMatchObject({ stack: "trust", audited: 1, findings: [] });

        const { infisical } = backend.ready;
        const patched = await request(`${infisical.url}/api/v1/auth/oidc-auth/identities/${infisical.identityIds[1]}`, {
            method: "PATCH",
            headers: { authorization: `Bearer ${infisical.token}`, "content-type": "application/json" },
            body: JSON.stringify({ boundSubject: "" }),
        });
        await patched.body.text();
        expect(patched.statusCode).toBe(200);

        const json = await audit(["--json"]);
        expect(json.code).toBe(2);
        const report = JSON.parse(json.stdout);
        expect(report.findings).toEqual([
            expect.objectContaining({ name: "github-deploy", ruleId: RULE, severity: "error", property: "boundSubject", accepted: false, docs: `docs/trust.md#${RULE}` }),
        ]);

        const human = await audit([]);
        expect(human.code).toBe(2);
        expect(human.stdout).toContain(`github-deploy (pulumi-nodejs:dynamic/infisical:IdentityOidcAuth) ${RULE} [error] on boundSubject`);

        // In a pull request of the infra repository a relative docs/ link breaks: the rule links into the package's
        // repository (--docs-url, OIDC_SETTINGS_DOCS_URL or package.json), else names the installed file.
        const md = await audit(["--markdown"]);
        expect(md.stdout).toContain(`| \`github-deploy\` | \`${RULE}\` | error | \`boundSubject\` |`);
        expect(md.stdout).not.toContain("](docs/");
        const base = "https://github.com/acme/pulumi-oidc-settings/blob/0123abc";
        const linked = await audit(["--markdown", "--docs-url", base]);
        expect(linked.stdout).toContain(`| \`github-deploy\` | [\`${RULE}\`](${base}/docs/trust.md#${RULE}) | error | \`boundSubject\` |`);
        expect(JSON.parse((await audit(["--json", "--docs-url", base])).stdout).findings[0].docsUrl).toBe(`${base}/docs/trust.md#${RULE}`);

        // Only warnings fail this run: the error is still reported, the exit code is 0.
        expect((await audit(["--fail-on", "warning"])).code).toBe(0);
        expect((await audit(["--fail-on", "bogus"])).code).toBe(1);

        // The audit wrote nothing: the state still has the pinned subject.
        expect(JSON.stringify((await t.stack.exportStack()).deployment)).toContain(PINNED);
    }, 240_000);

    test("audit: a finding the resource accepts is listed as accepted and does not fail", async () => {
        await t.stack.setConfig("trust:boundSubject", { value: "" });
        await t.stack.setConfig("trust:acceptRisks", { value: JSON.stringify([RULE]) });
        const up = await t.stack.up({ color: "never" });
        expect(up.summary.result).toBe("succeeded");

        const res = await audit(["--json"]);
        expect(res.code).toBe(0);
        expect(JSON.parse(res.stdout).findings).toEqual([expect.objectContaining({ ruleId: RULE, accepted: true })]);
    }, 240_000);
});
