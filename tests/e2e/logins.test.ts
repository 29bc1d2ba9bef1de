/**
 * Issues #27 and #24.5 under the real engine: pipelines log in without a stored Infisical secret, through a proxy,
 * to a server behind a private CA; and a wrong credential fails `pulumi preview` instead of the next day's run.
 *
 * - `pulumi preview` with a wrong infisical:clientSecret and a wrong unleash:apiToken fails, with each one's hint;
 *   a preview of N resources sends one credential check per server (the backend's request counters);
 * - `pulumi up` then `oidc-drift` with oidc login from an environment JWT (INFISICAL_AUTH_JWT), the CA in
 *   infisical:caCert / unleash:caCert, every request through an authenticating forward proxy (HTTPS_PROXY) that
 *   records the CONNECTs, and the login scoped with organizationSlug;
 * - `pulumi up` then `oidc-drift` with oidc login from a simulated GitHub Actions token endpoint (a local server that
 *   answers like ACTIONS_ID_TOKEN_REQUEST_URL, minting from the backend's issuer), the CA in NODE_EXTRA_CA_CERTS.
 *
 * The backend is served over HTTPS by a TLS front with a certificate of a CA made here. Every transcript and the
 * state are scanned for every secret in play.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import type { AddressInfo } from "net";
import * as path from "path";
import { startBackend } from "../../reference-backend/src";
import { api } from "../helpers/direct-api";
import { assertNoLeaks, credentialsOf } from "../helpers/leak-scan";
import { makeCa, settle, startProxy, TestCa, TestProxy } from "../helpers/network";
import { describeWithEngine, newStack, repoRoot, TestStack } from "./harness";

type Backend = Awaited<ReturnType<typeof startBackend>>;

const cliPath = path.join(repoRoot, "dist", "cli", "oidc-drift.js");
const nodeBin = path.join(repoRoot, "node_modules", ".bin", "node");
const AUDIENCE = "https://infisical.e2e/pipelines";
const SUBJECT = "repo:acme/infra:ref:refs/heads/main";
const PROXY_PASSWORD = "e2e-proxy-password-4c2d";
const REQUEST_TOKEN = "e2e-gha-request-token-9a8b7c";
const UNLEASH_SECRET = "unleash-secret-e2e-logins-31ab";

describeWithEngine("logins in pipelines (real engine)", () => {
    let backend: Backend;
    let ca: TestCa;
    let front: https.Server;
    let frontUrl = "";
    let proxy: TestProxy;
    let github: http.Server;
    let githubUrl = "";
    const stacks: TestStack[] = [];
    const transcripts: string[] = [];
    const secrets: Record<string, string> = { PROXY_PASSWORD, REQUEST_TOKEN, UNLEASH_SECRET };

    const org = () => backend.ready.infisical.organizations[0];

    async function mint(aud = AUDIENCE): Promise<string> {
        const jwt = (await api("POST", backend.ready.issuer.mintUrl, "", { sub: SUBJECT, aud, claims: { repository: "acme/infra" }, expiresIn: 600 })).json.id_token as string;
        secrets[`jwt-${Object.keys(secrets).length}`] = jwt;
        return jwt;
    }

    function run(t: TestStack, args: string[]) {
        return t.cli(args, { allowFailure: true }).then((r) => {
            transcripts.push(r.stdout, r.stderr);
            return r;
        });
    }

    function drift(t: TestStack): Promise<{ code: number; stdout: string; stderr: string }> {
        return new Promise((resolve) => {
            execFile(nodeBin, [cliPath, "--cwd", t.workDir, "--stack", "e2e"], { env: { ...process.env, ...t.env }, encoding: "utf8", timeout: 120_000 }, (err, stdout, stderr) => {
                transcripts.push(stdout, stderr);
                resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr });
            });
        });
    }

    async function stackWith(config: Record<string, { value: string; secret?: boolean }>, env: Record<string, string> = {}): Promise<TestStack> {
        const t = await newStack(path.join(__dirname, "auth-program"));
        stacks.push(t);
        Object.assign(t.env, { AWS_EC2_METADATA_DISABLED: "true" }, env);
        await t.stack.setAllConfig({
            "e2e:issuerUrl": { value: backend.ready.issuer.url },
            "e2e:identityIds": { value: JSON.stringify(backend.ready.infisical.identityIds) },
            "e2e:unleashSecret": { value: UNLEASH_SECRET, secret: true },
            ...config,
        });
        return t;
    }

    beforeAll(async () => {
        if (!fs.existsSync(cliPath)) throw new Error(`${cliPath} is missing: build first (npm run build)`);
        backend = await startBackend({ port: 0, allowInternalIpConnections: true, seed: { organizations: 1, identitiesPerOrg: 3, unleashInstances: 1 } });
        Object.assign(secrets, credentialsOf(backend.ready));
        // The pipeline's identity (an org admin) trusts the backend's issuer for this repository's main branch.
        const attached = await api("POST", `${backend.ready.infisical.url}/api/v1/auth/oidc-auth/identities/${org().automationIdentityId}`, `Bearer ${org().token}`, {
            oidcDiscoveryUrl: backend.ready.issuer.url,
            boundIssuer: backend.ready.issuer.url,
            boundAudiences: AUDIENCE,
            boundSubject: SUBJECT,
            boundClaims: { repository: "acme/infra" },
        });
        expect(attached.status).toBe(200);

        ca = await makeCa();
        const upstream = new URL(backend.ready.url);
        front = https.createServer(await ca.serverCert(), (req, res) => {
            const forward = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
                res.writeHead(answer.statusCode ?? 502, answer.headers);
                answer.pipe(res);
            });
            forward.on("error", () => res.destroy());
            req.pipe(forward);
        });
        await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", resolve));
        frontUrl = `https://127.0.0.1:${(front.address() as AddressInfo).port}`;
        proxy = await startProxy({ username: "runner", password: PROXY_PASSWORD });

        // GitHub Actions' token endpoint, as a job with `permissions: id-token: write` sees it.
        github = http.createServer(async (req, res) => {
            if (req.headers.authorization !== `Bearer ${REQUEST_TOKEN}`) {
                res.statusCode = 401;
                return res.end("{}");
            }
            const audience = new URL(req.url ?? "/", "http://x").searchParams.get("audience") ?? "https://github.com/acme";
            res.setHeader("content-type", "application/json");
            res.end(JSON.stringify({ count: 1, value: await mint(audience) }));
        });
        await new Promise<void>((resolve) => github.listen(0, "127.0.0.1", resolve));
        githubUrl = `http://127.0.0.1:${(github.address() as AddressInfo).port}/_apis/distributedtask/idtoken?api-version=2.0`;
    }, 120_000);

    afterAll(async () => {
        // The state files as the file backend stores them (config secrets are encrypted there, as in any stack).
        const states = stacks.flatMap((t) => {
            const dir = path.join(t.stateDir, "backend", ".pulumi", "stacks");
            if (!fs.existsSync(dir)) return [];
            return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith(".json")).map((f) => fs.readFileSync(path.join(dir, f), "utf8"));
        });
        expect(states.length).toBeGreaterThan(0);
        assertNoLeaks({ transcripts: transcripts.join("\n"), states: states.join("\n") }, secrets);
        for (const t of stacks) await t.cleanup();
        await proxy?.close();
        github?.closeAllConnections();
        await new Promise<void>((resolve) => github?.close(() => resolve()));
        front?.closeAllConnections();
        await new Promise<void>((resolve) => front?.close(() => resolve()));
        await backend?.stop();
    });

    test("#24.5 wrong credentials fail the preview with their hints; a preview of N resources checks each server once", async () => {
        const { infisical, unleash } = backend.ready;
        const t = await stackWith({
            "infisical:host": { value: infisical.url },
            "infisical:clientId": { value: infisical.universalAuth.clientId, secret: true },
            "infisical:clientSecret": { value: "wrong-client-secret-value-0000", secret: true },
            "unleash:url": { value: unleash.url },
            "unleash:apiToken": { value: "*:*.wrong-admin-token-value-1111", secret: true },
            "e2e:withUnleash": { value: "true" },
        });
        // The engine stops at the first failed check: the Infisical credential is said first, then the Unleash one.
        const bad = await run(t, ["preview"]);
        expect(bad.status).not.toBe(0);
        expect(bad.stdout + bad.stderr).toContain("universal auth login was refused: check the client id and secret (from stack config infisical:clientSecret)");
        await t.stack.setAllConfig({ "infisical:clientSecret": { value: infisical.universalAuth.clientSecret, secret: true } });
        const badUnleash = await run(t, ["preview"]);
        expect(badUnleash.status).not.toBe(0);
        expect(badUnleash.stdout + badUnleash.stderr).toContain("GET /unleash/0/api/admin/auth/oidc/settings returned 401 Unauthorized: You must log in to use Unleash.");
        expect(badUnleash.stdout + badUnleash.stderr).toContain("How to fix: the API token (from stack config unleash:apiToken) is missing or invalid");

        await t.stack.setAllConfig({ "unleash:apiToken": { value: unleash.adminToken, secret: true } });
        backend.resetStats();
        const good = await run(t, ["preview"]);
        expect(good.status).toBe(0);
        // Three identities and one Unleash instance: one login for Infisical, one GET for Unleash; nothing per resource.
        expect(backend.stats().byRoute).toEqual({
            "POST /api/v1/auth/universal-auth/login": 1,
            [`GET ${new URL(unleash.url).pathname}/api/admin/auth/oidc/settings`]: 1,
        });
    }, 240_000);

    test("oidc from INFISICAL_AUTH_JWT, organizationSlug, private CA in the stack config, through the proxy: up and oidc-drift", async () => {
        const host = new URL(frontUrl).host;
        const t = await stackWith(
            {
                "infisical:host": { value: frontUrl },
                "infisical:caCert": { value: ca.certPem },
                "infisical:auth": { value: "oidc" },
                "infisical:identityId": { value: org().automationIdentityId },
                "infisical:organizationSlug": { value: org().slug },
                "unleash:url": { value: `${frontUrl}${new URL(backend.ready.unleash.url).pathname}` },
                "unleash:caCert": { value: ca.certPem },
                "unleash:apiToken": { value: backend.ready.unleash.adminToken, secret: true },
                "e2e:withUnleash": { value: "true" },
            },
            { INFISICAL_AUTH_JWT: await mint(), HTTPS_PROXY: proxy.url, NO_PROXY: "" },
        );
        proxy.connects.length = 0;
        const up = await run(t, ["up", "--yes", "--skip-preview"]);
        expect(up.status).toBe(0);
        expect(up.stdout).toMatch(/\+ 5 created/); // the stack and its four resources
        const res = await drift(t);
        expect(res.code).toBe(0);
        expect(res.stdout).toMatch(/^No drift: 4 resource\(s\) of stack "e2e" match the live APIs\./);
        await settle();
        // Every request to the server went through the proxy (the login and the API calls of both services).
        expect(proxy.connects.length).toBeGreaterThanOrEqual(2);
        expect(new Set(proxy.connects)).toEqual(new Set([host]));
    }, 300_000);

    test("oidc from GitHub Actions' token endpoint, private CA in NODE_EXTRA_CA_CERTS: up (an update) and oidc-drift", async () => {
        const caFile = path.join(fs.mkdtempSync(path.join(require("os").tmpdir(), "oidc-e2e-ca-")), "ca.pem");
        fs.writeFileSync(caFile, ca.certPem);
        const t = await stackWith(
            {
                "infisical:host": { value: frontUrl },
                "infisical:auth": { value: "oidc" },
                "infisical:identityId": { value: org().automationIdentityId },
                "infisical:oidcAudience": { value: AUDIENCE },
                "e2e:identityIds": { value: JSON.stringify([backend.ready.infisical.identityIds[0]]) },
            },
            { GITHUB_ACTIONS: "true", ACTIONS_ID_TOKEN_REQUEST_URL: githubUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN, NODE_EXTRA_CA_CERTS: caFile },
        );
        // The previous test's stack made this identity's OIDC auth: gone, so that this stack creates its own.
        await api("DELETE", `${backend.ready.infisical.url}/api/v1/auth/oidc-auth/identities/${backend.ready.infisical.identityIds[0]}`, `Bearer ${org().token}`);
        expect((await run(t, ["up", "--yes", "--skip-preview"])).status).toBe(0);
        await t.stack.setConfig("e2e:accessTokenTTL", { value: "1800" });
        const update = await run(t, ["up", "--yes", "--skip-preview"]);
        expect(update.status).toBe(0);
        expect(update.stdout).toMatch(/~ 1 updated/);
        const res = await drift(t);
        expect(res.code).toBe(0);
        expect(res.stdout).toMatch(/^No drift: 1 resource\(s\) of stack "e2e" match the live APIs\./);
    }, 300_000);
});
