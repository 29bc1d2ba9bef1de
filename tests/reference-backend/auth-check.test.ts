/**
 * The routes that say whether a static token works, as Infisical's routers define them: `POST /api/v1/auth/checkAuth`
 * for a user's token (auth-router.ts), `GET /api/v1/identities/details` for an identity access token
 * (identity-router.ts `/details`); each refuses the other kind with verifyAuth's 403, and both refuse a token that
 * does not verify or is missing.
 */
import { Backend, bearer, call, Ready, start, universalLogin } from "./helpers";

let backend: Backend;
let ready: Ready;

beforeAll(async () => {
    backend = await start({ seed: { organizations: 2, identitiesPerOrg: 1, unleashInstances: 1 } });
    ready = backend.ready;
});
afterAll(async () => {
    await backend?.stop();
});

const checkAuth = (authorization?: string) => call("POST", `${ready.infisical.url}/api/v1/auth/checkAuth`, { authorization });
const details = (authorization?: string) => call("GET", `${ready.infisical.url}/api/v1/identities/details`, { authorization });
const org = (i = 0) => ready.infisical.organizations[i]!;

async function identityToken(i = 0, organizationSlug?: string): Promise<string> {
    const res = await universalLogin(ready, { ...org(i).universalAuth, ...(organizationSlug ? { organizationSlug } : {}) } as never);
    expect(res.status).toBe(200);
    return res.json.accessToken as string;
}

test("checkAuth: a user's token is Authenticated; an identity access token is refused by verifyAuth", async () => {
    for (const i of [0, 1]) {
        const res = await checkAuth(bearer(org(i).token));
        expect({ status: res.status, json: res.json }).toEqual({ status: 200, json: { message: "Authenticated" } });
    }
    const refused = await checkAuth(bearer(await identityToken()));
    expect(refused.status).toBe(403);
    expect(refused.json).toEqual({ reqId: expect.any(String), statusCode: 403, message: "You are not allowed to access this resource", error: "Forbidden access to /api/v1/auth/checkAuth" });
});

test("identities/details: the identity's organization; a sub-organization token still answers the root; a user's token is refused", async () => {
    for (const i of [0, 1]) {
        const res = await details(bearer(await identityToken(i)));
        expect(res.status).toBe(200);
        expect(res.json).toEqual({ identityDetails: { organization: { id: org(i).id, name: org(i).name, slug: org(i).slug } } });
    }
    const scoped = await details(bearer(await identityToken(0, org(0).subOrganizations[0]!.slug)));
    expect(scoped.json).toEqual({ identityDetails: { organization: { id: org(0).id, name: org(0).name, slug: org(0).slug } } });

    const refused = await details(bearer(org(0).token));
    expect(refused.status).toBe(403);
    expect(refused.json).toMatchObject({ statusCode: 403, message: "You are not allowed to access this resource", error: "Forbidden access to /api/v1/identities/details" });
});

test("both: no token 401, a token that does not verify 403 TokenError, a revoked identity access token 401", async () => {
    for (const ask of [checkAuth, details]) {
        expect((await ask()).json).toMatchObject({ statusCode: 401, error: "UnauthorizedError", message: "Token missing" });
        expect((await ask(bearer("not-a-token"))).json).toMatchObject({ statusCode: 403, error: "TokenError" });
        // A JWT of the right shape whose signature is not the server's.
        const [h, p] = org(0).token.split(".");
        expect((await ask(bearer(`${h}.${p}.${"A".repeat(43)}`))).json).toMatchObject({ statusCode: 403, error: "TokenError", message: "invalid signature" });
    }
    // Removing the Kubernetes auth revokes the tokens it issued: the details route refuses them like any route.
    const k8s = org(0).kubernetesIdentity!;
    const tokenUrl = ready.kubernetes.tokenRequestUrl.replace("{namespace}", k8s.namespace).replace("{name}", k8s.serviceAccountName);
    const jwt = (await call("POST", tokenUrl, { body: {} })).json.status.token as string;
    const login = await call("POST", `${ready.infisical.url}/api/v1/auth/kubernetes-auth/login`, { body: { identityId: k8s.identityId, jwt } });
    expect((await details(bearer(login.json.accessToken))).json.identityDetails.organization.id).toBe(org(0).id);
    expect((await call("DELETE", `${ready.infisical.url}/api/v1/auth/kubernetes-auth/identities/${k8s.identityId}`, { authorization: bearer(org(0).token) })).status).toBe(200);
    expect((await details(bearer(login.json.accessToken))).json).toMatchObject({ statusCode: 401, error: "UnauthorizedError" });
});
