/**
 * Issue #27: the Infisical login methods over real HTTP against the reference backend (its OIDC login verifies JWTs
 * of its built-in issuer as Infisical does), and every bad-input case with its message.
 *
 * - oidc from an environment JWT (INFISICAL_AUTH_JWT, or the variable INFISICAL_OIDC_AUTH_TOKEN_KEY_NAME names), read
 *   again at each login;
 * - oidc in a simulated GitHub Actions job: a local server answers like ACTIONS_ID_TOKEN_REQUEST_URL (checks the
 *   request token, takes `audience`, mints from the backend's issuer);
 * - kubernetes from a service-account token file (minted by the backend's Kubernetes API stand-in, reviewed by its
 *   TokenReview API), read again at each login;
 * - aws_iam from environment credentials (an IAM user's key; an assumed role's key with AWS_SESSION_TOKEN), signed
 *   for sts.<region>.amazonaws.com and verified by the backend's STS stand-in;
 * - organizationSlug: the token acts in the sub-organization; an unknown slug and a non-member are refused;
 * - a wrong method name, a missing/expired/malformed JWT, an unreadable or empty token file, a refused login of each
 *   method, STS refusing the signed request (Infisical's 500), aws_iam without region or credentials, a wrong static
 *   token: one clear error each, naming the method, the variable or file and the fix;
 * - no JWT, request token, service-account token, AWS secret key, session token or access token in any message.
 */
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { clearCredentialChecks, connectionSecrets, credentialProblem, infisicalClient, loginCounts, resolveInfisical, setStackConfig } from "../../provider/connection";
import { ProviderError } from "../../provider/http/errors";
import { assertNoLeaks, credentialsOf } from "../helpers/leak-scan";
import { api, Backend, provider, rejection, resetProviderProcess, start } from "./support";

let backend: Backend;
const produced: Record<string, unknown> = {};
const secrets: Record<string, string> = {};
const savedEnv = { ...process.env };
const AUDIENCE = "https://infisical.test/pipelines";
const SUBJECT = "repo:acme/infra:ref:refs/heads/main";

/** An ID token of the backend's issuer. */
async function mint(extra: { sub?: string; aud?: string; expiresIn?: number } = {}): Promise<string> {
    const res = await api("POST", backend.ready.issuer.mintUrl, "", { sub: extra.sub ?? SUBJECT, aud: extra.aud ?? AUDIENCE, expiresIn: extra.expiresIn ?? 300 });
    const jwt = res.json.id_token as string;
    secrets[`jwt${Object.keys(secrets).length}`] = jwt;
    return jwt;
}

const org = () => backend.ready.infisical.organizations[0];
const identity = () => org().automationIdentityId;

/**
 * What a successful login can read: the automation identity's OIDC auth (every login identity is an org admin).
 * The secrets the login held (the JWT or token read, the access token obtained) join the leak scan.
 */
async function readOwnAuth(conn: Parameters<typeof resolveInfisical>[0]) {
    const resolved = resolveInfisical(conn);
    try {
        return await infisicalClient(resolved).request({ method: "GET", path: `/api/v1/auth/oidc-auth/identities/${identity()}` });
    } finally {
        for (const [i, v] of connectionSecrets(resolved).entries()) secrets[`session${Object.keys(secrets).length}-${i}`] = v;
    }
}

/** A service-account token from the backend's Kubernetes API stand-in (its TokenRequest API). */
async function serviceAccountToken(namespace: string, name: string): Promise<string> {
    const url = backend.ready.kubernetes.tokenRequestUrl.replace("{namespace}", namespace).replace("{name}", name);
    const res = await api("POST", url, "", { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: {} });
    expect(res.status).toBe(201);
    const token = res.json.status.token as string;
    secrets[`sa${Object.keys(secrets).length}`] = token;
    return token;
}

/** A file holding `content`, as Kubernetes mounts a projected token. */
function tokenFile(content: string): string {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "sa-token-")), "token");
    fs.writeFileSync(file, content);
    return file;
}

function awsEnv(creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }): void {
    process.env.AWS_ACCESS_KEY_ID = creds.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = creds.secretAccessKey;
    if (creds.sessionToken) process.env.AWS_SESSION_TOKEN = creds.sessionToken;
    process.env.AWS_REGION = backend.ready.aws.region;
}

function clearLoginEnv(): void {
    for (const k of Object.keys(process.env)) {
        if (/^(INFISICAL_|UNLEASH_|AUTH_TOKEN|ACTIONS_ID_TOKEN|GITHUB_ACTIONS|GITLAB_CI|AWS_|MY_CI_JWT)/.test(k)) delete process.env[k];
    }
    // Never let AWS's default chain ask an instance-metadata address or read this machine's AWS files.
    process.env.AWS_EC2_METADATA_DISABLED = "true";
    process.env.AWS_CONFIG_FILE = path.join(os.tmpdir(), "no-aws-config");
    process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(os.tmpdir(), "no-aws-credentials");
}

function attachBody() {
    const { issuer } = backend.ready;
    return {
        oidcDiscoveryUrl: issuer.url,
        boundIssuer: issuer.url,
        boundAudiences: AUDIENCE,
        boundSubject: "repo:acme/infra:ref:refs/heads/*",
        boundClaims: {},
        accessTokenTTL: 600,
        accessTokenMaxTTL: 600,
    };
}

beforeAll(async () => {
    backend = await start({ seed: { organizations: 2, identitiesPerOrg: 1, unleashInstances: 1 } });
    Object.assign(secrets, credentialsOf(backend.ready));
    const attached = await api("POST", `${backend.ready.infisical.url}/api/v1/auth/oidc-auth/identities/${identity()}`, `Bearer ${org().token}`, attachBody());
    expect(attached.status).toBe(200);
});

beforeEach(async () => {
    clearLoginEnv();
    setStackConfig(undefined);
    clearCredentialChecks();
    await resetProviderProcess();
});

afterAll(async () => {
    process.env = savedEnv;
    try {
        assertNoLeaks(produced, secrets);
    } finally {
        await resetProviderProcess();
        await backend?.stop();
    }
});

describe("oidc", () => {
    test("from INFISICAL_AUTH_JWT (Terraform's name), with the method from INFISICAL_AUTH_METHOD and the identity from INFISICAL_MACHINE_IDENTITY_ID", async () => {
        process.env.INFISICAL_HOST = backend.ready.infisical.url;
        process.env.INFISICAL_AUTH_METHOD = "oidc";
        process.env.INFISICAL_MACHINE_IDENTITY_ID = identity();
        process.env.INFISICAL_AUTH_JWT = await mint();
        const before = loginCounts.oidc;
        const res = await readOwnAuth(undefined);
        expect(res.status).toBe(200);
        await readOwnAuth(undefined);
        expect(loginCounts.oidc - before).toBe(1); // cached for the process
    });

    test("from the variable INFISICAL_OIDC_AUTH_TOKEN_KEY_NAME names; the JWT is read again at each login", async () => {
        process.env.INFISICAL_OIDC_AUTH_TOKEN_KEY_NAME = "MY_CI_JWT";
        process.env.MY_CI_JWT = await mint();
        const client = infisicalClient(resolveInfisical({ host: backend.ready.infisical.url, auth: "oidc", identityId: identity() }));
        const read = () => client.request({ method: "GET", path: `/api/v1/auth/oidc-auth/identities/${identity()}` });
        expect((await read()).status).toBe(200);
        // The identity's OIDC auth is replaced (its tokens revoked) by one that trusts another branch only, and the
        // job's variable now holds a token of that branch: the same client must log in again with the new token.
        const auth = `${backend.ready.infisical.url}/api/v1/auth/oidc-auth/identities/${identity()}`;
        const before = (await api("GET", auth, `Bearer ${org().token}`)).json.identityOidcAuth;
        expect((await api("DELETE", auth, `Bearer ${org().token}`)).status).toBe(200);
        const release = { ...attachBody(), boundSubject: "repo:acme/infra:ref:refs/heads/release" };
        expect((await api("POST", auth, `Bearer ${org().token}`, release)).status).toBe(200);
        try {
            process.env.MY_CI_JWT = await mint({ sub: "repo:acme/infra:ref:refs/heads/release" });
            const logins = loginCounts.oidc;
            expect((await read()).status).toBe(200);
            expect(loginCounts.oidc - logins).toBe(1);
        } finally {
            await api("DELETE", auth, `Bearer ${org().token}`);
            expect((await api("POST", auth, `Bearer ${org().token}`, attachBody())).status).toBe(200);
            expect(before.boundSubject).toBe(attachBody().boundSubject);
        }
    });

    test("in a GitHub Actions job: the token endpoint is asked with the request token and the configured audience", async () => {
        const asked: Array<{ url: string; auth?: string }> = [];
        const requestToken = "gha-request-token-3b7c9d0e";
        secrets.requestToken = requestToken;
        const github = http.createServer(async (req, res) => {
            asked.push({ url: req.url ?? "", auth: req.headers.authorization });
            const u = new URL(req.url ?? "/", "http://x");
            if (req.headers.authorization !== `Bearer ${requestToken}`) {
                res.statusCode = 401;
                return res.end("{}");
            }
            res.setHeader("content-type", "application/json");
            res.end(JSON.stringify({ value: await mint({ aud: u.searchParams.get("audience") ?? "https://github.com/acme" }) }));
        });
        await new Promise<void>((resolve) => github.listen(0, "127.0.0.1", resolve));
        try {
            process.env.GITHUB_ACTIONS = "true";
            process.env.ACTIONS_ID_TOKEN_REQUEST_URL = `http://127.0.0.1:${(github.address() as AddressInfo).port}/_apis/distributedtask/idtoken?api-version=2.0`;
            process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = requestToken;
            setStackConfig({ get: (k) => ({ "infisical:host": backend.ready.infisical.url, "infisical:auth": "oidc", "infisical:identityId": identity(), "infisical:oidcAudience": AUDIENCE })[k] });
            expect((await readOwnAuth(undefined)).status).toBe(200);
            expect(asked).toHaveLength(1);
            const u = new URL(asked[0].url, "http://x");
            expect(u.pathname).toBe("/_apis/distributedtask/idtoken");
            expect(u.searchParams.get("api-version")).toBe("2.0");
            expect(u.searchParams.get("audience")).toBe(AUDIENCE);

            // Without the configured audience GitHub's default is minted: the identity's bound audience refuses it.
            setStackConfig({ get: (k) => ({ "infisical:host": backend.ready.infisical.url, "infisical:auth": "oidc", "infisical:identityId": identity() })[k] });
            await resetProviderProcess();
            const err = await rejection(readOwnAuth(undefined));
            produced.refused = err;
            expect(err.message).toContain("POST /api/v1/auth/oidc-auth/login returned 401 Unauthorized: Access denied: OIDC audience not allowed.");
            expect(err.message).toMatch(/How to fix: the oidc login of identity .* \(from stack config infisical:identityId\) was refused: check that the identity has OIDC auth whose issuer, subject, audiences and claims match/);
        } finally {
            github.closeAllConnections();
            await new Promise<void>((resolve) => github.close(() => resolve()));
        }
    });

    test("no JWT: the message names the variable and the fix of the platform the job runs on", () => {
        const conn = { host: backend.ready.infisical.url, auth: "oidc", identityId: identity() };
        const plain = (() => resolveInfisical(conn)) as () => unknown;
        expect(plain).toThrow(/Infisical oidc login \(chosen by the resource's connection.auth\): oidc login \(identity [^)]+\) has no JWT: the environment variable INFISICAL_AUTH_JWT is not set/);
        process.env.GITHUB_ACTIONS = "true";
        expect(plain).toThrow(/give the job `permissions: id-token: write`/);
        delete process.env.GITHUB_ACTIONS;
        process.env.GITLAB_CI = "true";
        expect(plain).toThrow(/declare it in .gitlab-ci.yml: `id_tokens: \{ INFISICAL_AUTH_JWT: \{ aud: <the identity's bound audience> \} \}`/);
    });

    test("a malformed JWT and a missing identity id are said before any request", () => {
        process.env.INFISICAL_AUTH_JWT = "not-a-jwt-value";
        expect(() => resolveInfisical({ host: backend.ready.infisical.url, auth: "oidc", identityId: identity() })).toThrow(
            /the JWT in the environment variable INFISICAL_AUTH_JWT is not a JWT/,
        );
        expect(() => resolveInfisical({ host: backend.ready.infisical.url, auth: "oidc" })).toThrow(
            /oidc login needs the machine identity id: set connection.identityId, `pulumi config set infisical:identityId …`, the environment variable INFISICAL_MACHINE_IDENTITY_ID/,
        );
    });
});

describe("choosing the method", () => {
    test("a wrong method name: the valid ones, and the closest", () => {
        process.env.INFISICAL_AUTH_METHOD = "oidcc";
        expect(() => resolveInfisical(undefined)).toThrow(
            'unknown Infisical login method "oidcc" (from environment variable INFISICAL_AUTH_METHOD) (did you mean "oidc"?): use one of token, universal, oidc, kubernetes, aws_iam',
        );
    });

    test("an identity id without a method: which methods take one", () => {
        process.env.INFISICAL_MACHINE_IDENTITY_ID = "c0ffee00-0000-4000-8000-000000000000";
        expect(() => resolveInfisical(undefined)).toThrow(
            /environment variable INFISICAL_MACHINE_IDENTITY_ID is set but no Infisical login method is chosen: set connection.auth, `pulumi config set infisical:auth …`, the environment variable INFISICAL_AUTH_METHOD to one of oidc, kubernetes, aws_iam/,
        );
    });

    test("the connection's auth wins over the stack config's credentials, which win over the environment's", () => {
        process.env.INFISICAL_TOKEN = "env-token-value-1";
        setStackConfig({ get: (k) => ({ "infisical:clientId": "cfg-client-id", "infisical:clientSecret": "cfg-client-secret" })[k] });
        expect(resolveInfisical(undefined).auth).toEqual({ method: "universal", clientId: "cfg-client-id", clientSecret: "cfg-client-secret" });
        process.env.INFISICAL_KUBERNETES_SERVICE_ACCOUNT_TOKEN_PATH = "/tmp/sa-token";
        expect(resolveInfisical({ auth: "kubernetes", identityId: "id-1" }).auth).toEqual({ method: "kubernetes", identityId: "id-1", serviceAccountTokenPath: "/tmp/sa-token" });
    });
});

describe("kubernetes", () => {
    const k8s = () => org().kubernetesIdentity!;

    test("from a token file (INFISICAL_KUBERNETES_SERVICE_ACCOUNT_TOKEN_PATH), read again at each login; a refused token: the review's reason and the fix", async () => {
        const file = tokenFile(await serviceAccountToken(k8s().namespace, k8s().serviceAccountName));
        process.env.INFISICAL_HOST = backend.ready.infisical.url;
        process.env.INFISICAL_AUTH_METHOD = "kubernetes";
        process.env.INFISICAL_MACHINE_IDENTITY_ID = k8s().identityId;
        process.env.INFISICAL_KUBERNETES_SERVICE_ACCOUNT_TOKEN_PATH = file;
        const before = loginCounts.kubernetes;
        expect((await readOwnAuth(undefined)).status).toBe(200);
        expect(loginCounts.kubernetes - before).toBe(1);

        // The kubelet rotated the file to a token of another service account: the next login sends the new one.
        fs.writeFileSync(file, await serviceAccountToken(k8s().namespace, "someone-else"));
        await resetProviderProcess();
        const err = await rejection(readOwnAuth(undefined));
        produced.k8sRefused = err;
        expect(err.message).toContain("POST /api/v1/auth/kubernetes-auth/login returned 401 Unauthorized: Access denied: K8s name not allowed.");
        expect(err.message).toContain(
            `How to fix: the kubernetes login of identity ${k8s().identityId} (from environment variable INFISICAL_MACHINE_IDENTITY_ID) was refused: check that the identity has Kubernetes auth, that its allowed namespaces, service-account names and audience match this pod's token (${file} (from environment variable INFISICAL_KUBERNETES_SERVICE_ACCOUNT_TOKEN_PATH))`,
        );
    });

    test("an unreadable token file: the file, where its name came from, and the fix", async () => {
        const missing = path.join(os.tmpdir(), `no-such-sa-token-${process.pid}`);
        const err = await rejection(readOwnAuth({ host: backend.ready.infisical.url, auth: "kubernetes", identityId: identity(), serviceAccountTokenPath: missing }));
        produced.k8s = err;
        expect(err.message).toBe(
            `kubernetes login cannot read the service-account token file ${missing} (from the resource's connection.serviceAccountTokenPath): ENOENT. Fix: run inside a pod whose service account token is mounted (automountServiceAccountToken, or a projected volume), or set connection.serviceAccountTokenPath, \`pulumi config set infisical:serviceAccountTokenPath …\`, the environment variable INFISICAL_KUBERNETES_SERVICE_ACCOUNT_TOKEN_PATH to the token's file, or the token itself in INFISICAL_KUBERNETES_SERVICE_ACCOUNT_TOKEN`,
        );
        const empty = tokenFile("\n");
        expect((await rejection(readOwnAuth({ host: backend.ready.infisical.url, auth: "kubernetes", identityId: identity(), serviceAccountTokenPath: empty }))).message).toBe(
            `kubernetes login: the service-account token file ${empty} (from the resource's connection.serviceAccountTokenPath) is empty`,
        );
    });

    test("the default file is Kubernetes' mount", async () => {
        if (fs.existsSync("/var/run/secrets/kubernetes.io/serviceaccount/token")) return; // inside a pod: nothing to prove here
        const err = await rejection(readOwnAuth({ host: backend.ready.infisical.url, auth: "kubernetes", identityId: identity() }));
        expect(err.message).toContain("token file /var/run/secrets/kubernetes.io/serviceaccount/token (the default): ENOENT");
    });
});

describe("aws_iam", () => {
    const aws = (i = 0) => backend.ready.infisical.organizations[i].awsIdentity!;
    const conn = () => ({ host: backend.ready.infisical.url, auth: "aws_iam", identityId: aws().identityId });

    test("from environment credentials: an IAM user's key, then an assumed role's temporary key (AWS_SESSION_TOKEN)", async () => {
        awsEnv(aws().user);
        const before = loginCounts.aws_iam;
        expect((await readOwnAuth(conn())).status).toBe(200);
        delete process.env.AWS_ACCESS_KEY_ID;
        awsEnv(aws().assumedRole);
        await resetProviderProcess();
        expect((await readOwnAuth(conn())).status).toBe(200);
        expect(loginCounts.aws_iam - before).toBe(2);
    });

    test("a principal the identity does not allow: the refusal and the fix", async () => {
        awsEnv(aws(1).user); // another account's IAM user
        const err = await rejection(readOwnAuth(conn()));
        produced.awsRefused = err;
        expect(err.message).toContain("POST /api/v1/auth/aws-auth/login returned 401 Unauthorized: Access denied: AWS account ID not allowed.");
        expect(err.message).toContain(`How to fix: the aws_iam login of identity ${aws().identityId} (from the resource's connection.identityId) was refused: check that the identity has AWS auth whose allowed account ids and principal ARNs include this job's AWS role`);
    });

    test("STS refuses the signature (a wrong secret key): Infisical's 500 gets its hint, and fails the preview's check", async () => {
        awsEnv({ ...aws().user, secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYWRONGKEY00" });
        secrets.wrongAwsSecret = process.env.AWS_SECRET_ACCESS_KEY!;
        const err = await rejection(readOwnAuth(conn()));
        produced.sts = err;
        expect(err.message).toContain("POST /api/v1/auth/aws-auth/login returned 500 Internal Server Error: Something went wrong");
        expect(err.message).toContain(
            "How to fix: Infisical answers 500 when AWS STS refuses the signed GetCallerIdentity request of an aws_iam login: check that AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN, for temporary credentials) are valid and not expired",
        );
        await resetProviderProcess();
        const problem = await credentialProblem(resolveInfisical(conn()));
        produced.stsCheck = problem;
        expect(problem).toMatch(/^the credentials check on .* failed: .*returned 500 .*How to fix: Infisical answers 500 when AWS STS refuses/);
    });

    test("no region, then no credentials: each says what to set", async () => {
        const noRegion = await rejection(readOwnAuth(conn()));
        expect(noRegion.message).toBe("aws_iam login needs the AWS region of the STS request: set AWS_REGION (or a region in the AWS profile)");
        process.env.AWS_REGION = "eu-west-1";
        await resetProviderProcess();
        const noCredentials = await rejection(readOwnAuth(conn()));
        expect(noCredentials.message).toMatch(/^aws_iam login found no AWS credentials in AWS's default chain \(.*\)\. Fix: run with an IAM role .* or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
    });
});

describe("organizationSlug", () => {
    const sub = () => org().subOrganizations[0];

    test("scopes the login to the sub-organization: its settings are reachable, the root's identities are not", async () => {
        const k8s = org().kubernetesIdentity!;
        process.env.INFISICAL_AUTH_ORGANIZATION_SLUG = sub().slug;
        const conn = { host: backend.ready.infisical.url, auth: "kubernetes", identityId: k8s.identityId, serviceAccountToken: await serviceAccountToken(k8s.namespace, k8s.serviceAccountName) };
        const client = infisicalClient(resolveInfisical(conn));
        // The sub-organization has no SSO config yet: its 404 comes after the token was accepted there.
        const sso = await rejection(client.request({ method: "GET", path: `/api/v1/sso/oidc/config?organizationId=${sub().id}` }));
        expect(sso.message).toContain("returned 404 Not Found: Failed to find OIDC SSO data");
        const own = await rejection(readOwnAuth(conn));
        expect(own.message).toContain("returned 403 Forbidden: Sub organization not authorized to access this identity");
    });

    test("an unknown slug, and an identity that is not a member there: the login is refused naming the setting", async () => {
        process.env.INFISICAL_AUTH_JWT = await mint();
        setStackConfig({ get: (k) => ({ "infisical:organizationSlug": "org-1-team-9" })[k] });
        const base = { host: backend.ready.infisical.url, auth: "oidc" };
        const unknown = await rejection(readOwnAuth({ ...base, identityId: identity() }));
        produced.unknownSlug = unknown;
        expect(unknown.message).toContain("POST /api/v1/auth/oidc-auth/login returned 404 Not Found: Sub organization with slug org-1-team-9 not found");
        expect(unknown.message).toContain(
            'How to fix: the login is scoped to the sub-organization "org-1-team-9" (from stack config infisical:organizationSlug): use the slug of a sub-organization of the identity\'s organization that the identity is a member of, or unset it',
        );

        // A target identity (not a member of the sub-organization) with OIDC auth of its own.
        const target = org().identityIds[0];
        expect((await api("POST", `${backend.ready.infisical.url}/api/v1/auth/oidc-auth/identities/${target}`, `Bearer ${org().token}`, attachBody())).status).toBe(200);
        setStackConfig({ get: (k) => ({ "infisical:organizationSlug": sub().slug })[k] });
        await resetProviderProcess();
        const problem = await credentialProblem(resolveInfisical({ ...base, identityId: target }));
        produced.notMember = problem;
        expect(problem).toContain(`returned 401 Unauthorized: Identity not authorized to access sub organization ${sub().slug}`);
        expect(problem).toContain(`How to fix: the login is scoped to the sub-organization "${sub().slug}" (from stack config infisical:organizationSlug)`);
    });
});

describe("the credential check of a preview", () => {
    /** Valid IdentityOidcAuth inputs, reached with `connection`. */
    const inputs = (connection: Record<string, string>) => ({
        identityId: identity(),
        oidcDiscoveryUrl: backend.ready.issuer.url,
        boundIssuer: backend.ready.issuer.url,
        boundAudiences: [AUDIENCE],
        boundSubject: SUBJECT,
        accessTokenTrustedIps: ["10.0.0.0/8"],
        accessTokenTTL: 600,
        accessTokenMaxTTL: 600,
        connection,
    });

    test("a wrong static token fails the provider's check with the hint; a user's token (checkAuth) and an identity's (identities/details) pass", async () => {
        const host = backend.ready.infisical.url;
        // A JWT like Infisical's identity access tokens, not signed by this server.
        const [h, p] = org().token.split(".");
        const forged = `${h}.${p}.${"x".repeat(43)}`;
        secrets.forged = forged;
        const refused = await provider("IdentityOidcAuth").check({}, inputs({ host, token: forged }));
        produced.staticToken = refused.failures; // (the inputs it echoes hold the token as the program gave it)
        expect(refused.failures).toEqual([
            {
                property: "connection",
                reason: expect.stringMatching(
                    /^the credentials check on http:\/\/127\.0\.0\.1:\d+ failed: Infisical API: POST \/api\/v1\/auth\/checkAuth returned 403 Forbidden: invalid signature.*How to fix: the token \(from the resource's connection\.token\) is expired or malformed: set a valid one with `pulumi config set --secret infisical:token`/,
                ),
            },
        ]);

        const login = await api("POST", `${host}/api/v1/auth/universal-auth/login`, "", org().universalAuth);
        secrets.identityToken = login.json.accessToken;
        backend.resetStats();
        for (const token of [org().token, login.json.accessToken as string]) {
            expect((await provider("IdentityOidcAuth").check({}, inputs({ host, token }))).failures ?? []).toEqual([]);
        }
        expect(backend.stats().byRoute).toEqual({ "POST /api/v1/auth/checkAuth": 1, "GET /api/v1/identities/details": 1 });
    });

    test("a refused oidc login fails the check with the hint; a good one passes; one login per process", async () => {
        process.env.INFISICAL_AUTH_JWT = await mint({ sub: "repo:someone-else/fork:ref:refs/heads/main" });
        const bad = await credentialProblem(resolveInfisical({ host: backend.ready.infisical.url, auth: "oidc", identityId: identity() }));
        produced.badCheck = bad;
        expect(bad).toMatch(/credentials check on .* failed: Infisical API: POST \/api\/v1\/auth\/oidc-auth\/login returned 403 Forbidden: Access denied: OIDC subject not allowed\..*How to fix: the oidc login of identity/);
        process.env.INFISICAL_AUTH_JWT = await mint();
        await resetProviderProcess();
        clearCredentialChecks();
        const before = loginCounts.oidc;
        const conn = resolveInfisical({ host: backend.ready.infisical.url, auth: "oidc", identityId: identity() });
        expect(await credentialProblem(conn)).toBeUndefined();
        expect(await credentialProblem(conn)).toBeUndefined();
        expect((await readOwnAuth({ host: backend.ready.infisical.url, auth: "oidc", identityId: identity() })).status).toBe(200);
        expect(loginCounts.oidc - before).toBe(1); // the check's login is the one the run uses
    });
});
