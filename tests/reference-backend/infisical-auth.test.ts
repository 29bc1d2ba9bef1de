/**
 * Infisical authentication and authorization of the reference backend: 401 for missing and revoked tokens, 403
 * TokenError for JWTs that do not verify (malformed, forged, expired; Infisical's error handler), on every route;
 * organizations isolated from each other (403 ForbiddenError or, for identities looked up in the caller's
 * organization, 404); members without rights (403 PermissionDenied); universal-auth login and token expiry;
 * trusted IPs of access tokens.
 */
import { SignJWT } from "jose";
import { Backend, bearer, call, infisical, mint, Ready, sleep, ssoBody, start, universalLogin } from "./helpers";

let backend: Backend;
let ready: Ready;

beforeAll(async () => {
    backend = await start({ seed: { organizations: 2, identitiesPerOrg: 3, unleashInstances: 1, universalAuthAccessTokenTTL: 2 } });
    ready = backend.ready;
});
afterAll(async () => {
    await backend?.stop();
});

const routes = () => {
    const id = ready.infisical.identityIds[0];
    const org = ready.infisical.organizationId;
    return [
        ["GET", `/api/v1/sso/oidc/config?organizationId=${org}`, undefined],
        ["POST", "/api/v1/sso/oidc/config", ssoBody(ready, org)],
        ["PATCH", "/api/v1/sso/oidc/config", { organizationId: org, isActive: false }],
        ["GET", `/api/v1/auth/oidc-auth/identities/${id}`, undefined],
        ["POST", `/api/v1/auth/oidc-auth/identities/${id}`, { oidcDiscoveryUrl: ready.issuer.url, boundIssuer: ready.issuer.url, boundClaims: {} }],
        ["PATCH", `/api/v1/auth/oidc-auth/identities/${id}`, { boundSubject: "x" }],
        ["DELETE", `/api/v1/auth/oidc-auth/identities/${id}`, undefined],
    ] as const;
};

describe("401 or 403 TokenError on every protected route", () => {
    const forged = async () =>
        new SignJWT({ authTokenType: "accessToken", userId: "u", tokenVersionId: "t", organizationId: ready.infisical.organizationId })
            .setProtectedHeader({ alg: "HS256" })
            .sign(new TextEncoder().encode("not-the-server-secret-0123456789abcdef"));

    test.each([
        ["no Authorization header", undefined, "Token missing"],
        ["a header without Bearer", "Token abc", "malformed"],
        ["a service token", "Bearer st.not-a-valid-token-000", "service token"],
    ])("%s: 401", async (_name, authorization, message) => {
        for (const [method, path, body] of routes()) {
            const res = await call(method, `${ready.infisical.url}${path}`, { authorization, body });
            expect({ route: `${method} ${path}`, status: res.status }).toEqual({ route: `${method} ${path}`, status: 401 });
            expect(res.json).toEqual({ reqId: expect.stringMatching(/^req-\w{14}$/), statusCode: 401, message: expect.stringContaining(message), error: "UnauthorizedError" });
        }
    });

    test("a token that is not a JWT, a JWT signed with another key: 403 TokenError with the error handler's texts", async () => {
        const cases = [
            ["Bearer not-a-jwt", "The provided access token is malformed. Please use a valid token or generate a new one and try again."],
            [bearer(await forged()), "invalid signature"],
        ] as const;
        for (const [authorization, message] of cases) {
            for (const [method, path, body] of routes()) {
                const res = await call(method, `${ready.infisical.url}${path}`, { authorization, body });
                expect({ route: `${method} ${path}`, status: res.status }).toEqual({ route: `${method} ${path}`, status: 403 });
                expect(res.json).toEqual({ reqId: expect.stringMatching(/^req-\w{14}$/), statusCode: 403, message, error: "TokenError" });
            }
        }
    });

    test("nothing was changed by the refused requests", async () => {
        expect((await infisical(ready).getSso(ready.infisical.organizationId)).status).toBe(404);
        expect((await infisical(ready).getAuth(ready.infisical.identityIds[0])).status).toBe(400);
    });
});

describe("universal auth", () => {
    test("login answers an access token that works, and expires after its TTL", async () => {
        const login = await universalLogin(ready);
        expect(login.status).toBe(200);
        expect(login.json).toEqual({ accessToken: expect.any(String), expiresIn: 2, accessTokenMaxTTL: expect.any(Number), tokenType: "Bearer" });
        const api = infisical(ready, login.json.accessToken);
        expect((await api.getAuth(ready.infisical.identityIds[0])).status).toBe(400); // authenticated: "not attached"
        await sleep(2100);
        const expired = await api.getAuth(ready.infisical.identityIds[0]);
        expect(expired.status).toBe(403);
        expect(expired.json).toMatchObject({ error: "TokenError", message: "Your token has expired. Please re-authenticate." });
    });

    test("a wrong secret is 401 Invalid credentials, an unknown client id 404", async () => {
        const wrong = await universalLogin(ready, { ...ready.infisical.universalAuth, clientSecret: "0".repeat(64) });
        expect(wrong.status).toBe(401);
        expect(wrong.json).toMatchObject({ statusCode: 401, message: "Invalid credentials", error: "UnauthorizedError" });
        const unknown = await universalLogin(ready, { clientId: "00000000-0000-4000-8000-000000000000", clientSecret: "x" });
        expect(unknown.status).toBe(404);
        expect(unknown.json).toMatchObject({ message: "No identity with specified client ID was found", error: "NotFound" });
        const invalid = await call("POST", `${ready.infisical.url}/api/v1/auth/universal-auth/login`, { body: { clientId: 5 } });
        expect(invalid.status).toBe(422);
        expect(invalid.json.error).toBe("ValidationFailure");
    });

    test("the access token of organization 2's identity acts in organization 2 only", async () => {
        const org2 = ready.infisical.organizations[1];
        const login = await universalLogin(ready, org2.universalAuth);
        const api = infisical(ready, login.json.accessToken);
        expect((await api.postSso(ssoBody(ready, org2.id))).status).toBe(200);
        const other = await api.postSso(ssoBody(ready, ready.infisical.organizationId));
        expect(other.status).toBe(403);
        expect(other.json).toMatchObject({ statusCode: 403, error: "ForbiddenError", message: "Identity is not apart of this organization" });
    });
});

describe("organizations are isolated", () => {
    test("SSO of another organization: 403 with the organization's token", async () => {
        const [org1, org2] = ready.infisical.organizations;
        expect((await infisical(ready, org1.token).postSso(ssoBody(ready, org1.id))).status).toBe(200);
        const api2 = infisical(ready, org2.token);
        for (const res of [await api2.getSso(org1.id), await api2.postSso(ssoBody(ready, org1.id)), await api2.patchSso({ organizationId: org1.id, isActive: false })]) {
            expect(res.status).toBe(403);
            expect(res.json).toEqual({ reqId: expect.any(String), statusCode: 403, message: "Invalid user token. Scoped to different organization.", error: "ForbiddenError" });
        }
        expect((await infisical(ready, org1.token).getSso(org1.id)).json.isActive).toBe(true);
    });

    test("identities of another organization are not found (404), like unknown ones", async () => {
        const org2 = ready.infisical.organizations[1];
        const foreign = org2.identityIds[0];
        const api1 = infisical(ready);
        const attach = await api1.postAuth(foreign, { oidcDiscoveryUrl: ready.issuer.url, boundIssuer: ready.issuer.url, boundClaims: {} });
        expect(attach.status).toBe(404);
        expect(attach.json.message).toBe(`Failed to find identity with ID ${foreign}`);
        expect((await api1.getAuth(foreign)).status).toBe(404);
        expect((await api1.deleteAuth(foreign)).status).toBe(404);
        expect((await infisical(ready, org2.token).getAuth(foreign)).status).toBe(400); // exists there, not attached
    });
});

describe("members and access tokens from OIDC logins", () => {
    let memberToken: string;
    const target = () => ready.infisical.identityIds[1];

    beforeAll(async () => {
        const attach = await infisical(ready).postAuth(target(), {
            oidcDiscoveryUrl: ready.issuer.url,
            boundIssuer: ready.issuer.url,
            boundClaims: {},
            accessTokenTTL: 600,
            accessTokenMaxTTL: 600,
        });
        expect(attach.status).toBe(200);
        const login = await call("POST", `${ready.infisical.url}/api/v1/auth/oidc-auth/login`, { body: { identityId: target(), jwt: await mint(ready) } });
        expect(login.status).toBe(200);
        memberToken = login.json.accessToken;
    });

    test("a member identity is authenticated but may not read or change SSO or identities", async () => {
        const api = infisical(ready, memberToken);
        const read = await api.getAuth(target());
        expect(read.status).toBe(403);
        expect(read.json).toMatchObject({ error: "PermissionDenied", message: "You are not allowed to read on identity", details: [] });
        expect((await api.postSso(ssoBody(ready, ready.infisical.organizationId))).json.message).toBe("You are not allowed to create on sso");
    });

    test("revoking OIDC auth revokes the access tokens it issued", async () => {
        expect((await infisical(ready).deleteAuth(target())).status).toBe(200);
        const res = await infisical(ready, memberToken).getAuth(target());
        expect(res.status).toBe(401);
        expect(res.json.message).toMatch(/revoked/);
    });

    test("an access token used outside its trusted IPs is refused (403)", async () => {
        const id = ready.infisical.identityIds[2];
        expect(
            (await infisical(ready).postAuth(id, { oidcDiscoveryUrl: ready.issuer.url, boundIssuer: ready.issuer.url, boundClaims: {}, accessTokenTrustedIps: [{ ipAddress: "10.0.0.0/8" }] }))
                .status,
        ).toBe(200);
        const login = await call("POST", `${ready.infisical.url}/api/v1/auth/oidc-auth/login`, { body: { identityId: id, jwt: await mint(ready) } });
        expect(login.status).toBe(200);
        const res = await infisical(ready, login.json.accessToken).getAuth(id);
        expect(res.status).toBe(403);
        expect(res.json).toMatchObject({ error: "ForbiddenError", message: "You are not allowed to access this resource from the current IP address" });
    });
});
