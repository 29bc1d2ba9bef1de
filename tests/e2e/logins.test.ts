/**
 * Issues #27 and #24.5 under the real engine: pipelines log in without a stored Infisical secret, through a proxy,
 * to a server behind a private CA; and a wrong credential fails `pulumi preview` instead of the next day's run.
 *
 * - `pulumi preview` with a wrong infisical:token, then a wrong infisical:clientSecret, then a wrong
 *   unleash:apiToken fails, with each one's hint; a preview of N resources sends one credential check per server;
 * - oidc from an environment JWT (INFISICAL_AUTH_JWT), the CA in infisical:caCert / unleash:caCert, every request
 *   through an authenticating forward proxy (HTTPS_PROXY) that records the CONNECTs: `up` then `oidc-drift`;
 * - oidc from a simulated GitHub Actions token endpoint (a local server that answers like
 *   ACTIONS_ID_TOKEN_REQUEST_URL, minting from the backend's issuer), the CA in NODE_EXTRA_CA_CERTS: `up`, an update,
 *   `oidc-drift`;
 * - one stack of a sub-organization's SSO config, the login scoped with infisical:organizationSlug, through the proxy:
 *   `up` and `oidc-drift` with kubernetes login from a service-account token file (as a Kubernetes job or the Pulumi
 *   Kubernetes Operator runs), then an update and `oidc-drift` with aws_iam login from environment credentials (an
 *   assumed role's key and session token).
 *
 * The backend serves HTTPS itself with a certificate of a CA made here (tests/reference-backend/test-ca.ts). Every
 * transcript and the state are scanned for every secret in play, and for any JWT at all (the access tokens the
 * provider obtained inside the engine are not known to the test, but they are JWTs).
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { Agent } from "undici";
import { startBackend } from "../../reference-backend/src";
import { api as plainApi } from "../helpers/direct-api";
import { assertNoLeaks, credentialsOf } from "../helpers/leak-scan";
import { settle, startProxy, TestProxy } from "../helpers/network";
import { makeTestCa, type TestCa } from "../reference-backend/test-ca";
import { describeWithEngine, newStack, repoRoot, TestStack } from "./harness";

type Backend = Awaited<ReturnType<typeof startBackend>>;

const cliPath = path.join(repoRoot, "dist", "cli", "oidc-drift.js");
const nodeBin = path.join(repoRoot, "node_modules", ".bin", "node");
const AUDIENCE = "https://infisical.e2e/pipelines";
const SUBJECT = "repo:acme/infra:ref:refs/heads/main";
const PROXY_PASSWORD = "e2e-proxy-password-4c2d";
const REQUEST_TOKEN = "e2e-gha-request-token-9a8b7c";
const UNLEASH_SECRET = "unleash-secret-e2e-logins-31ab";
const SSO_SECRET = "sso-client-secret-e2e-logins-7f3e";
/** The region the aws_iam login signs for (the backend's STS stand-in answers for any). */
const STS_REGION = "us-east-1";
/** Any JWT (header and payload are base64url JSON objects, hence "eyJ"). */
const ANY_JWT = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{20,}/;

describeWithEngine("logins in pipelines (real engine)", () => {
    let backend: Backend;
    let ca: TestCa;
    let caFile = "";
    let trusting: Agent;
    let proxy: TestProxy;
    let github: http.Server;
    let githubUrl = "";
    const stacks: TestStack[] = [];
    const transcripts: string[] = [];
    const secrets: Record<string, string> = { PROXY_PASSWORD, REQUEST_TOKEN, UNLEASH_SECRET, SSO_SECRET };

    const org = () => backend.ready.infisical.organizations[0];
    const api = (method: string, url: string, authorization: string, body?: unknown) => plainApi(method, url, authorization, body, trusting);

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
        // Never let AWS's default chain ask an instance-metadata address or read this machine's AWS files.
        Object.assign(t.env, { AWS_EC2_METADATA_DISABLED: "true", AWS_CONFIG_FILE: path.join(os.tmpdir(), "no-aws-config"), AWS_SHARED_CREDENTIALS_FILE: path.join(os.tmpdir(), "no-aws-credentials") }, env);
        await t.stack.setAllConfig({
            "e2e:issuerUrl": { value: backend.ready.issuer.url },
            "e2e:identityIds": { value: JSON.stringify(backend.ready.infisical.identityIds) },
            "e2e:unleashSecret": { value: UNLEASH_SECRET, secret: true },
            "e2e:ssoClientSecret": { value: SSO_SECRET, secret: true },
            ...config,
        });
        return t;
    }

    beforeAll(async () => {
        if (!fs.existsSync(cliPath)) throw new Error(`${cliPath} is missing: build first (npm run build)`);
        // The backend replays an aws_iam login's signed request to its STS stand-in with the request's own Host header
        // (sts.<region>.amazonaws.com, what the signature covers), and Node's TLS takes the server name from that header
        // (as for Infisical's axios): over HTTPS the stand-in's certificate must carry that name too.
        ca = await makeTestCa({ dns: ["localhost", `sts.${STS_REGION}.amazonaws.com`], ip: ["127.0.0.1"] });
        trusting = new Agent({ connect: { ca: ca.ca } });
        caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "oidc-e2e-ca-")), "ca.pem");
        fs.writeFileSync(caFile, ca.ca);
        backend = await startBackend({ port: 0, allowInternalIpConnections: true, tls: ca, seed: { organizations: 1, identitiesPerOrg: 3, unleashInstances: 1 } });
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
        try {
            // The state files as the file backend stores them (config secrets are encrypted there, as in any stack).
            const states = stacks.flatMap((t) => {
                const dir = path.join(t.stateDir, "backend", ".pulumi", "stacks");
                if (!fs.existsSync(dir)) return [];
                return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith(".json")).map((f) => fs.readFileSync(path.join(dir, f), "utf8"));
            });
            expect(states.length).toBeGreaterThan(0);
            const haystacks = { transcripts: transcripts.join("\n"), states: states.join("\n") };
            assertNoLeaks(haystacks, secrets);
            for (const [where, text] of Object.entries(haystacks)) expect(`${where}: ${ANY_JWT.exec(text)?.[0] ?? "no JWT"}`).toBe(`${where}: no JWT`);
        } finally {
            for (const t of stacks) await t.cleanup();
            await proxy?.close();
            github?.closeAllConnections();
            await new Promise<void>((resolve) => github?.close(() => resolve()));
            await backend?.stop();
            await trusting?.close();
        }
    });

    test("#24.5 wrong credentials fail the preview with their hints; a preview of N resources checks each server once", async () => {
        const { infisical, unleash } = backend.ready;
        // A JWT shaped like Infisical's tokens, not signed by this server.
        const [h, p] = infisical.token.split(".");
        const forged = `${h}.${p}.${"x".repeat(43)}`;
        secrets.forged = forged;
        const t = await stackWith(
            {
                "infisical:host": { value: infisical.url },
                "infisical:token": { value: forged, secret: true },
                "unleash:url": { value: unleash.url },
                "unleash:apiToken": { value: unleash.adminToken, secret: true },
                "e2e:withUnleash": { value: "true" },
            },
            { NODE_EXTRA_CA_CERTS: caFile },
        );
        // The engine checks resources in parallel and stops at the first failed check, so one credential is wrong at a
        // time: the Infisical token, then the universal-auth secret, then the Unleash token.
        const badToken = await run(t, ["preview"]);
        expect(badToken.status).not.toBe(0);
        expect(badToken.stdout + badToken.stderr).toContain("POST /api/v1/auth/checkAuth returned 403 Forbidden: invalid signature");
        expect(badToken.stdout + badToken.stderr).toContain("How to fix: the token (from stack config infisical:token) is expired or malformed");

        await t.stack.removeConfig("infisical:token");
        await t.stack.setAllConfig({
            "infisical:clientId": { value: infisical.universalAuth.clientId, secret: true },
            "infisical:clientSecret": { value: "wrong-client-secret-value-0000", secret: true },
        });
        const bad = await run(t, ["preview"]);
        expect(bad.status).not.toBe(0);
        expect(bad.stdout + bad.stderr).toContain("universal auth login was refused: check the client id and secret (from stack config infisical:clientSecret)");
        await t.stack.setAllConfig({
            "infisical:clientSecret": { value: infisical.universalAuth.clientSecret, secret: true },
            "unleash:apiToken": { value: "*:*.wrong-admin-token-value-1111", secret: true },
        });
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
    }, 300_000);

    test("oidc from INFISICAL_AUTH_JWT, private CA in the stack config, through the proxy: up and oidc-drift", async () => {
        const host = new URL(backend.ready.url).host;
        const t = await stackWith(
            {
                "infisical:host": { value: backend.ready.infisical.url },
                "infisical:caCert": { value: ca.ca },
                "infisical:auth": { value: "oidc" },
                "infisical:identityId": { value: org().automationIdentityId },
                "unleash:url": { value: backend.ready.unleash.url },
                "unleash:caCert": { value: ca.ca },
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
        const t = await stackWith(
            {
                "infisical:host": { value: backend.ready.infisical.url },
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

    test("a sub-organization's SSO config (organizationSlug), through the proxy: kubernetes from a token file, then aws_iam from environment credentials; up and oidc-drift with each", async () => {
        const sub = org().subOrganizations[0];
        const k8s = org().kubernetesIdentity!;
        const aws = org().awsIdentity!;
        // The pod's projected service-account token, minted by the backend's Kubernetes API stand-in.
        const minted = await api("POST", backend.ready.kubernetes.tokenRequestUrl.replace("{namespace}", k8s.namespace).replace("{name}", k8s.serviceAccountName), "", { spec: {} });
        expect(minted.status).toBe(201);
        secrets.serviceAccountToken = minted.json.status.token;
        const tokenFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "oidc-e2e-sa-")), "token");
        fs.writeFileSync(tokenFile, minted.json.status.token);

        const t = await stackWith(
            {
                "infisical:host": { value: backend.ready.infisical.url },
                "infisical:organizationSlug": { value: sub.slug },
                "e2e:identityIds": { value: "[]" },
                "e2e:ssoOrganizationId": { value: sub.id },
            },
            {
                // As a Kubernetes job sets them (the token path is the default mount in a real pod).
                INFISICAL_AUTH_METHOD: "kubernetes",
                INFISICAL_MACHINE_IDENTITY_ID: k8s.identityId,
                INFISICAL_KUBERNETES_SERVICE_ACCOUNT_TOKEN_PATH: tokenFile,
                NODE_EXTRA_CA_CERTS: caFile,
                HTTPS_PROXY: proxy.url,
                NO_PROXY: "",
            },
        );
        const before = backend.stats().byRoute["POST /api/v1/auth/kubernetes-auth/login"] ?? 0;
        proxy.connects.length = 0;
        const up = await run(t, ["up", "--yes", "--skip-preview"]);
        expect(up.status).toBe(0);
        expect(up.stdout).toMatch(/\+ 2 created/);
        const kubernetesDrift = await drift(t);
        expect(kubernetesDrift.code).toBe(0);
        expect(kubernetesDrift.stdout).toMatch(/^No drift: 1 resource\(s\) of stack "e2e" match the live APIs\./);
        expect((backend.stats().byRoute["POST /api/v1/auth/kubernetes-auth/login"] ?? 0) - before).toBeGreaterThanOrEqual(2); // up, oidc-drift
        // The config is the sub-organization's (read back with another token scoped there).
        const scoped = await api("POST", `${backend.ready.infisical.url}/api/v1/auth/universal-auth/login`, "", { ...org().universalAuth, organizationSlug: sub.slug });
        secrets.scopedToken = scoped.json.accessToken;
        const made = await api("GET", `${backend.ready.infisical.url}/api/v1/sso/oidc/config?organizationId=${sub.id}`, `Bearer ${scoped.json.accessToken}`);
        expect({ status: made.status, clientId: made.json.clientId }).toEqual({ status: 200, clientId: "infisical-e2e-auth" });
        await settle();
        expect(new Set(proxy.connects)).toEqual(new Set([new URL(backend.ready.url).host]));

        // The same stack from an AWS job: an assumed role's temporary credentials in the environment.
        for (const k of ["INFISICAL_KUBERNETES_SERVICE_ACCOUNT_TOKEN_PATH"]) delete t.env[k];
        Object.assign(t.env, {
            INFISICAL_AUTH_METHOD: "aws_iam",
            INFISICAL_MACHINE_IDENTITY_ID: aws.identityId,
            AWS_ACCESS_KEY_ID: aws.assumedRole.accessKeyId,
            AWS_SECRET_ACCESS_KEY: aws.assumedRole.secretAccessKey,
            AWS_SESSION_TOKEN: aws.assumedRole.sessionToken,
            AWS_REGION: STS_REGION,
        });
        await t.stack.setConfig("e2e:ssoEmailDomains", { value: "example.com, example.org" });
        const awsBefore = backend.stats().byRoute["POST /api/v1/auth/aws-auth/login"] ?? 0;
        const update = await run(t, ["up", "--yes", "--skip-preview"]);
        expect({ status: update.status, output: update.status === 0 ? "" : update.stdout + update.stderr }).toEqual({ status: 0, output: "" });
        expect(update.stdout).toMatch(/~ 1 updated/);
        const awsDrift = await drift(t);
        expect(awsDrift.code).toBe(0);
        expect(awsDrift.stdout).toMatch(/^No drift: 1 resource\(s\) of stack "e2e" match the live APIs\./);
        expect((backend.stats().byRoute["POST /api/v1/auth/aws-auth/login"] ?? 0) - awsBefore).toBeGreaterThanOrEqual(2);
    }, 420_000);
});
