/**
 * organizationSlug on the machine-identity logins (what Infisical's Terraform provider sends for `organization_slug`,
 * internal/client/login.go): the slug of a sub-organization scopes the access token to it, as the login services do
 * (identity-oidc-auth-service.ts login: "Sub organization with slug … not found", "Identity not authorized to
 * access sub organization …"). The seeded automation and login identities are admins of `org-<n>-team-1`; the
 * target identities are not members there.
 */
import { Backend, bearer, call, infisical, mint, Ready, start, universalLogin } from "./helpers";

let backend: Backend;
let ready: Ready;

beforeAll(async () => {
    backend = await start({ seed: { organizations: 2, identitiesPerOrg: 2, unleashInstances: 1 } });
    ready = backend.ready;
});
afterAll(async () => {
    await backend?.stop();
});

const org = () => ready.infisical.organizations[0]!;
const sub = () => org().subOrganizations[0]!;
const ssoOf = (token: string, organizationId: string) =>
    call("GET", `${ready.infisical.url}/api/v1/sso/oidc/config?organizationId=${organizationId}`, { authorization: bearer(token) });

test("universal auth: a sub-organization's slug scopes the token to it; the own slug changes nothing", async () => {
    const scoped = await universalLogin(ready, { ...org().universalAuth, organizationSlug: sub().slug } as never);
    expect(scoped.status).toBe(200);
    // Identities of the root organization are not reachable from the sub-organization, even the caller itself.
    const own = await infisical(ready, scoped.json.accessToken).getAuth(org().automationIdentityId);
    expect(own.json).toMatchObject({ statusCode: 403, error: "ForbiddenError", message: "Sub organization not authorized to access this identity" });
    expect((await infisical(ready, scoped.json.accessToken).getAuth(org().identityIds[0] as string)).json).toMatchObject({ statusCode: 404 });
    // Its SSO settings are the sub-organization's (none), reachable as the sub-organization's admin.
    expect((await ssoOf(scoped.json.accessToken, sub().id)).json).toMatchObject({ statusCode: 404, message: "Failed to find OIDC SSO data" });

    const root = await universalLogin(ready, { ...org().universalAuth, organizationSlug: org().slug } as never);
    expect((await infisical(ready, root.json.accessToken).getAuth(org().automationIdentityId)).json).toMatchObject({ statusCode: 400, message: "The identity does not have OIDC Auth attached" });
});

test("an unknown slug, another organization's sub-organization, an invalid slug", async () => {
    const other = ready.infisical.organizations[1]!.subOrganizations[0]!.slug;
    for (const [slug, status, message] of [
        ["nope", 404, "Sub organization with slug nope not found"],
        [other, 404, `Sub organization with slug ${other} not found`],
    ] as const) {
        const res = await universalLogin(ready, { ...org().universalAuth, organizationSlug: slug } as never);
        expect({ status: res.status, message: res.json.message }).toEqual({ status, message });
    }
    const invalid = await universalLogin(ready, { ...org().universalAuth, organizationSlug: "Team_1" } as never);
    expect(invalid.status).toBe(422);
    expect(invalid.json.message[0]).toMatchObject({ path: ["organizationSlug"], message: "Slug field can only contain lowercase letters, numbers, and hyphens" });
});

test("OIDC login of an identity that is not a member of the sub-organization: 401, after the token was verified", async () => {
    const target = org().identityIds[0] as string;
    expect((await infisical(ready).postAuth(target, { oidcDiscoveryUrl: ready.issuer.url, boundIssuer: ready.issuer.url, boundClaims: {} })).status).toBe(200);
    const url = `${ready.infisical.url}/api/v1/auth/oidc-auth/login`;
    const refused = await call("POST", url, { body: { identityId: target, jwt: await mint(ready), organizationSlug: sub().slug } });
    expect(refused.json).toMatchObject({ statusCode: 401, error: "UnauthorizedError", message: `Identity not authorized to access sub organization ${sub().slug}` });
    // A bad token fails on the token first.
    const bad = await call("POST", url, { body: { identityId: target, jwt: await mint(ready, { expiresIn: -10 }), organizationSlug: sub().slug } });
    expect(bad.json.message).toBe("Access denied: jwt expired");
    expect((await call("POST", url, { body: { identityId: target, jwt: await mint(ready), organizationSlug: org().slug } })).status).toBe(200);
});

test("the Kubernetes login scopes its token the same way", async () => {
    const k8s = org().kubernetesIdentity!;
    const tokenUrl = ready.kubernetes.tokenRequestUrl.replace("{namespace}", k8s.namespace).replace("{name}", k8s.serviceAccountName);
    const jwt = (await call("POST", tokenUrl, { body: {} })).json.status.token as string;
    const res = await call("POST", `${ready.infisical.url}/api/v1/auth/kubernetes-auth/login`, { body: { identityId: k8s.identityId, jwt, organizationSlug: sub().slug } });
    expect(res.status).toBe(200);
    const own = await call("GET", `${ready.infisical.url}/api/v1/auth/kubernetes-auth/identities/${k8s.identityId}`, { authorization: bearer(res.json.accessToken) });
    expect(own.json).toMatchObject({ statusCode: 403, message: "Sub organization not authorized to access this identity" });
});
