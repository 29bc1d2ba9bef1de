/**
 * `POST /api/v1/auth/oidc-auth/login` of the reference backend with ID tokens minted by its built-in issuer:
 * the discovery document and JWKS are fetched over HTTP, the token verified (signature, expiry, issuer), then the
 * bindings checked with Infisical's rules and messages (subject 403; audiences, claims 401), globs with picomatch;
 * the URL guard on the discovery URL when internal IP connections are not allowed.
 */
import { promises as fs } from "fs";
import * as os from "os";
import * as path from "path";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { Backend, call, infisical, mint, Ready, start } from "./helpers";

let backend: Backend;
let ready: Ready;
const id = (i: number) => ready.infisical.identityIds[i];

const login = (identityId: string, jwt: string) => call("POST", `${ready.infisical.url}/api/v1/auth/oidc-auth/login`, { body: { identityId, jwt } });

const GOOD = () => ({
    sub: "repo:example-org/infra:ref:refs/heads/main",
    aud: "sts.example.com",
    claims: {
        repository: "example-org/infra",
        job_workflow_ref: "example-org/infra/.github/workflows/deploy.yml@refs/heads/main",
        team: { name: "platform" },
        groups: ["developers", "platform-core"],
        email_verified: true,
        run_number: 42,
    },
});

function withClaims(extra: Record<string, unknown>, drop: string[] = []) {
    const g = GOOD();
    const claims: Record<string, unknown> = { ...g.claims, ...extra };
    for (const k of drop) delete claims[k];
    return { ...g, claims };
}

beforeAll(async () => {
    backend = await start({ seed: { organizations: 1, identitiesPerOrg: 4, unleashInstances: 1 } });
    ready = backend.ready;
    const attached = await infisical(ready).postAuth(id(0), {
        oidcDiscoveryUrl: ready.issuer.url,
        boundIssuer: ready.issuer.url,
        boundAudiences: "sts.example.com, https://github.com/*",
        boundSubject: "repo:example-org/*:ref:refs/heads/main",
        boundClaims: {
            repository: "example-org/infra, example-org/app",
            job_workflow_ref: "example-org/*/.github/workflows/*.yml@refs/heads/*",
            "team.name": "platform",
            groups: "admins, platform-*",
            email_verified: "true",
            run_number: "42",
        },
        accessTokenTTL: 60,
        accessTokenMaxTTL: 120,
    });
    expect(attached.status).toBe(200);
});
afterAll(async () => {
    await backend?.stop();
});

test("a token that satisfies every binding logs in", async () => {
    const res = await login(id(0), await mint(ready, GOOD()));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ accessToken: expect.any(String), expiresIn: 60, accessTokenMaxTTL: 120, tokenType: "Bearer" });
    // The access token authenticates (the identity is a member: it may not read identities, 403 not 401).
    expect((await infisical(ready, res.json.accessToken).getAuth(id(0))).status).toBe(403);
});

test("globs: * stays within a path segment; array claims match any item; audience lists match any", async () => {
    expect((await login(id(0), await mint(ready, { ...GOOD(), sub: "repo:example-org/app:ref:refs/heads/main" }))).status).toBe(200);
    expect((await login(id(0), await mint(ready, { ...GOOD(), aud: ["other", "https://github.com/example-org"] }))).status).toBe(200);
    const crossSegment = await login(id(0), await mint(ready, { ...GOOD(), sub: "repo:example-org/a/b:ref:refs/heads/main" }));
    expect(crossSegment.status).toBe(403);
});

test.each([
    ["the subject", { ...GOOD(), sub: "repo:attacker/infra:ref:refs/heads/main" }, 403, "Access denied: OIDC subject not allowed."],
    ["the audience", { ...GOOD(), aud: "https://gitlab.com/example-org" }, 401, "Access denied: OIDC audience not allowed."],
    ["a claim value", withClaims({ repository: "attacker/infra" }), 401, "Access denied: OIDC claim not allowed."],
    ["a glob claim value", withClaims({ job_workflow_ref: "example-org/infra/.github/workflows/deploy.yaml@refs/heads/main" }), 401, "Access denied: OIDC claim not allowed."],
    ["a nested claim", withClaims({ team: { name: "finance" } }), 401, "Access denied: OIDC claim not allowed."],
    ["an array claim", withClaims({ groups: ["developers"] }), 401, "Access denied: OIDC claim not allowed."],
    ["a boolean claim (false counts as absent, as in Infisical)", withClaims({ email_verified: false }), 401, "Access denied: token has no email_verified field"],
    ["a number claim", withClaims({ run_number: 41 }), 401, "Access denied: OIDC claim not allowed."],
    ["a missing claim", withClaims({}, ["repository"]), 401, "Access denied: token has no repository field"],
])("refused when %s does not match", async (_what, body, status, message) => {
    const res = await login(id(0), await mint(ready, body));
    expect(res.status).toBe(status);
    expect(res.json).toEqual({ reqId: expect.any(String), statusCode: status, message, error: status === 403 ? "ForbiddenError" : "UnauthorizedError" });
});

test("the issuer must be boundIssuer", async () => {
    const res = await login(id(0), await mint(ready, withClaims({ iss: "https://token.actions.githubusercontent.com" })));
    expect(res.status).toBe(401);
    expect(res.json.message).toBe(`Access denied: jwt issuer invalid. expected: ${ready.issuer.url}`);
});

test("expired, tampered, foreign-key and malformed tokens", async () => {
    const expired = await login(id(0), await mint(ready, { ...GOOD(), expiresIn: -30 }));
    expect(expired.json.message).toBe("Access denied: jwt expired");

    const token = await mint(ready, GOOD());
    const [h, p] = token.split(".");
    const other = await mint(ready, { ...GOOD(), sub: "repo:example-org/app:ref:refs/heads/main" });
    const tampered = await login(id(0), `${h}.${p}.${other.split(".")[2]}`);
    expect(tampered.json.message).toBe("Access denied: invalid signature");

    const { privateKey } = await generateKeyPair("RS256");
    const foreign = await new SignJWT({ ...GOOD().claims, sub: GOOD().sub, aud: GOOD().aud, iss: ready.issuer.url })
        .setProtectedHeader({ alg: "RS256", kid: "somebody-elses-key" })
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(privateKey);
    const unknownKid = await login(id(0), foreign);
    expect(unknownKid.status).toBe(401);
    expect(unknownKid.json.message).toContain("The signing key 'somebody-elses-key' was not found in the OIDC provider's JWKS endpoint");

    const garbage = await login(id(0), "definitely-not-a-jwt");
    expect(garbage.json).toMatchObject({ statusCode: 401, message: "Invalid JWT" });
    for (const res of [expired, tampered]) expect(res.status).toBe(401);
    expect(typeof (await exportJWK(privateKey)).d).toBe("string"); // the foreign key really is a private key
});

test("no OIDC auth on the identity: 404; an unreachable identity provider: 401", async () => {
    const none = await login(id(1), await mint(ready, GOOD()));
    expect(none.status).toBe(404);
    expect(none.json.message).toBe("OIDC auth method not found for identity, did you configure OIDC auth?");

    expect((await infisical(ready).postAuth(id(2), { oidcDiscoveryUrl: "http://127.0.0.1:1", boundIssuer: ready.issuer.url, boundClaims: {} })).status).toBe(200);
    const down = await login(id(2), await mint(ready, GOOD()));
    expect(down.status).toBe(401);
    expect(down.json.message).toMatch(/^Access denied: Failed to fetch OIDC discovery document from http:\/\/127\.0\.0\.1:1\. /);
});

test("empty bindings accept any token of the issuer; a TTL of 0 gives a token without expiry", async () => {
    expect((await infisical(ready).postAuth(id(3), { oidcDiscoveryUrl: ready.issuer.url, boundIssuer: ready.issuer.url, boundClaims: {}, accessTokenTTL: 0, accessTokenMaxTTL: 0 })).status).toBe(200);
    const res = await login(id(3), await mint(ready, { sub: "anyone", aud: "anything" }));
    expect(res.status).toBe(200);
    expect(res.json.expiresIn).toBe(0);
    const payload = JSON.parse(Buffer.from(res.json.accessToken.split(".")[1], "base64url").toString("utf8"));
    expect(payload.exp).toBeUndefined();
    expect(payload).toMatchObject({ authTokenType: "identityAccessToken", identityId: id(3) });
});

test("the issuer's discovery document and JWKS", async () => {
    const doc = (await call("GET", ready.issuer.discoveryUrl)).json;
    expect(doc).toMatchObject({
        issuer: ready.issuer.url,
        jwks_uri: ready.issuer.jwksUri,
        authorization_endpoint: `${ready.issuer.url}/authorize`,
        token_endpoint: `${ready.issuer.url}/token`,
        userinfo_endpoint: `${ready.issuer.url}/userinfo`,
        id_token_signing_alg_values_supported: ["RS256"],
    });
    const jwks = (await call("GET", ready.issuer.jwksUri)).json;
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig", kid: expect.any(String) });
    expect(jwks.keys[0].d).toBeUndefined();
    const token = await mint(ready, { sub: "someone" });
    const info = await call("GET", `${ready.issuer.url}/userinfo`, { authorization: `Bearer ${token}` });
    expect(info.json).toMatchObject({ sub: "someone", iss: ready.issuer.url });
    expect((await call("GET", `${ready.issuer.url}/userinfo`, { authorization: "Bearer x" })).status).toBe(401);
    expect((await call("POST", ready.issuer.mintUrl, { body: { expiresIn: "soon" } })).status).toBe(400);
});

test("a server that does not allow internal IP connections refuses to fetch a discovery URL on loopback (400 before any fetch)", async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "rb-login-guard-"));
    try {
        // Attached while allowed, then the server runs without ALLOW_INTERNAL_IP_CONNECTIONS.
        let b = await start({ dataDir, seed: { organizations: 1, identitiesPerOrg: 1, unleashInstances: 1 } });
        const target = b.ready.infisical.identityIds[0];
        expect((await infisical(b.ready).postAuth(target, { oidcDiscoveryUrl: b.ready.issuer.url, boundIssuer: b.ready.issuer.url, boundClaims: {} })).status).toBe(200);
        const jwt = await mint(b.ready);
        await b.stop();
        b = await start({ dataDir, allowInternalIpConnections: false });
        try {
            b.resetStats();
            const res = await call("POST", `${b.ready.infisical.url}/api/v1/auth/oidc-auth/login`, { body: { identityId: target, jwt } });
            expect(res.status).toBe(400);
            expect(res.json).toEqual({ reqId: expect.any(String), statusCode: 400, message: "Local IPs not allowed as URL", error: "BadRequest" });
            // The backend did not fetch its own issuer's discovery document: the login is the only request it saw.
            expect(b.stats().total).toBe(1);
        } finally {
            await b.stop();
        }
    } finally {
        await fs.rm(dataDir, { recursive: true, force: true });
    }
});
