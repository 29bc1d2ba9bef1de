/**
 * Revoking an identity's auth method is refused by Infisical's privilege boundary when the identity's role is more
 * privileged than the caller's (the revoke* functions of identity-oidc-auth-service.ts and its Kubernetes and AWS
 * siblings; validatePrivilegeChangeOperation and constructPermissionErrorMessage in
 * ee/services/permission/permission-fns.ts; the error handler's PermissionBoundaryError body). Roles are set up
 * through the seed (custom roles) and the admin routes (roles of users and identities, the organization's
 * shouldUseNewPrivilegeSystem).
 */
import { Backend, bearer, call, infisical, Ready, start } from "./helpers";

let backend: Backend;
let ready: Ready;
let userId: string;

const EDITOR = { slug: "identity-editor", permissions: [{ subject: "identity", action: ["read", "create", "edit"] }] };
const REVOKER = { slug: "identity-revoker", permissions: [{ subject: "identity", action: ["read", "create", "edit", "revoke-auth"] }] };

const admin = () => bearer(ready.admin.token);
const orgId = () => ready.infisical.organizationId;
const adminOrg = () => `${ready.url}/_admin/infisical/organizations/${orgId()}`;
const setRole = async (kind: "users" | "identities", id: string, role: string) => {
    const res = await call("PATCH", `${ready.url}/_admin/infisical/${kind}/${id}`, { authorization: admin(), body: { role } });
    expect(res.status).toBe(200);
};
const setNewPrivilegeSystem = async (on: boolean) => {
    expect((await call("PATCH", adminOrg(), { authorization: admin(), body: { shouldUseNewPrivilegeSystem: on } })).status).toBe(200);
};
const attachOidc = async (identityId: string) => {
    const res = await infisical(ready).postAuth(identityId, { oidcDiscoveryUrl: ready.issuer.url, boundIssuer: ready.issuer.url, boundClaims: {} });
    expect(res.status).toBe(200);
};

beforeAll(async () => {
    backend = await start({ seed: { organizations: 1, identitiesPerOrg: 6, unleashInstances: 1, customRoles: [EDITOR, REVOKER] } });
    ready = backend.ready;
    const view = await call("GET", adminOrg(), { authorization: admin() });
    userId = view.json.users[0].id;
    expect(view.json.customRoles.map((r: { slug: string }) => r.slug)).toEqual(["identity-editor", "identity-revoker"]);
});
afterAll(async () => {
    await backend?.stop();
});
afterEach(async () => {
    await setRole("users", userId, "admin");
    await setNewPrivilegeSystem(true);
});

const ADMIN_PERMISSIONS_AN_EDITOR_LACKS = [
    ...["read", "create", "edit", "delete"].map((action) => ({ action, subject: "sso" })),
    ...["delete", "grant-privileges", "revoke-auth", "create-token", "get-token", "delete-token"].map((action) => ({ action, subject: "identity" })),
    ...["list-templates", "create-templates", "edit-templates", "delete-templates", "unlink-templates", "attach-templates"].map((action) => ({ action, subject: "machine-identity-auth-template" })),
];

describe("OIDC auth of an admin identity, revoked by a caller whose role may edit identities but not revoke their auth", () => {
    test("new privilege system (the default): 403 PermissionBoundaryError naming revoke-auth on identity; nothing revoked", async () => {
        const target = ready.infisical.identityIds[0] as string;
        await attachOidc(target);
        await setRole("identities", target, "admin");
        await setRole("users", userId, EDITOR.slug);
        const res = await infisical(ready).deleteAuth(target);
        expect(res.status).toBe(403);
        expect(res.json).toEqual({
            reqId: expect.any(String),
            statusCode: 403,
            message: "Failed to revoke oidc auth of identity with more privileged role. Missing permission revoke-auth on identity",
            error: "PermissionBoundaryError",
            details: { missingPermissions: [{ action: "revoke-auth", subject: "identity" }] },
        });
        await setRole("users", userId, "admin");
        expect((await infisical(ready).getAuth(target)).status).toBe(200);
    });

    test("old privilege system: the caller must hold every permission of the identity's role; details list the ones it lacks", async () => {
        const target = ready.infisical.identityIds[1] as string;
        await attachOidc(target);
        await setRole("identities", target, "admin");
        await setNewPrivilegeSystem(false);
        await setRole("users", userId, REVOKER.slug); // revoke-auth is not enough there
        const res = await infisical(ready).deleteAuth(target);
        expect(res.status).toBe(403);
        expect(res.json.message).toBe("Failed to revoke oidc auth of identity with more privileged role");
        expect(res.json.error).toBe("PermissionBoundaryError");
        expect(res.json.details.missingPermissions).toEqual(ADMIN_PERMISSIONS_AN_EDITOR_LACKS.filter((p) => !(p.subject === "identity" && p.action === "revoke-auth")));
    });

    test("allowed: the new system with revoke-auth; the old system against a less privileged identity", async () => {
        const a = ready.infisical.identityIds[2] as string;
        const b = ready.infisical.identityIds[3] as string;
        await attachOidc(a);
        await attachOidc(b);
        await setRole("identities", a, "admin");
        await setRole("users", userId, REVOKER.slug);
        expect((await infisical(ready).deleteAuth(a)).status).toBe(200);
        await setNewPrivilegeSystem(false);
        await setRole("users", userId, EDITOR.slug);
        expect((await infisical(ready).deleteAuth(b)).status).toBe(200); // b is a member: nothing the editor lacks
    });

    test("a role without edit on identity is refused before the boundary: 403 PermissionDenied", async () => {
        const target = ready.infisical.identityIds[4] as string;
        await attachOidc(target);
        await setRole("users", userId, "no-access");
        const res = await infisical(ready).deleteAuth(target);
        expect(res.json).toMatchObject({ statusCode: 403, error: "PermissionDenied", message: "You are not allowed to edit on identity" });
    });
});

test("the Kubernetes and AWS auth of the seeded (admin) login identities: the same boundary, the services' own words", async () => {
    const org = ready.infisical.organizations[0]!;
    await setRole("users", userId, EDITOR.slug);
    const base = `${ready.infisical.url}/api/v1/auth`;
    const k8s = await call("DELETE", `${base}/kubernetes-auth/identities/${org.kubernetesIdentity!.identityId}`, { authorization: bearer(ready.infisical.token) });
    expect(k8s.json).toMatchObject({ statusCode: 403, error: "PermissionBoundaryError", message: "Failed to revoke kubernetes auth of identity with more privileged role. Missing permission revoke-auth on identity" });
    const aws = await call("DELETE", `${base}/aws-auth/identities/${org.awsIdentity!.identityId}`, { authorization: bearer(ready.infisical.token) });
    expect(aws.json).toMatchObject({ statusCode: 403, error: "PermissionBoundaryError", message: "Failed to revoke aws auth of identity with more privileged role. Missing permission revoke-auth on identity" });
    expect(aws.json.details).toEqual({ missingPermissions: [{ action: "revoke-auth", subject: "identity" }] });
});

test("the admin routes refuse a role the organization does not have", async () => {
    const res = await call("PATCH", `${ready.url}/_admin/infisical/users/${userId}`, { authorization: admin(), body: { role: "superuser" } });
    expect(res.status).toBe(400);
    expect(res.json.error).toContain("no role superuser");
});
