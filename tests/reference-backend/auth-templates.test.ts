/**
 * OIDC auth with a machine-identity auth template (templateId), after today's identity-oidc-auth-service.ts
 * (attachOidcAuth, updateOidcAuth): the template provides the discovery URL, issuer, audiences and CA certificate,
 * which the request may leave out and may not change while linked; a linked identity needs its own subject or
 * claim binding; the plan and the attach-templates permission gate linking. Templates are seeded (one on the
 * built-in issuer per organization) and managed through the admin routes; editing one propagates its settings,
 * deleting one unlinks its identities, which keep the copy.
 */
import { randomUUID } from "crypto";
import { Backend, bearer, call, infisical, mint, Ready, start } from "./helpers";

let backend: Backend;
let ready: Ready;

const MANAGED =
    "This identity's OIDC identity provider settings are managed by an auth template. Update the template to change them, or unlink the template by setting templateId to null.";
const BINDING = "When using an auth template, set a subject or at least one claim binding to restrict which workloads can authenticate as this identity.";
const REQUIRED = "OIDC discovery URL and issuer are required when not using an auth template.";

const org = () => ready.infisical.organizations[0]!;
const templateId = () => org().oidcAuthTemplateId!;
const id = (i: number) => org().identityIds[i] as string;
const api = () => infisical(ready);
const admin = () => bearer(ready.admin.token);
const templatesUrl = () => `${ready.url}/_admin/infisical/organizations/${org().id}/auth-templates`;
const login = async (identityId: string, token: Record<string, unknown> = {}) =>
    call("POST", `${ready.infisical.url}/api/v1/auth/oidc-auth/login`, { body: { identityId, jwt: await mint(ready, { sub: "repo:example/infra", ...token }) } });

beforeAll(async () => {
    backend = await start({
        seed: { organizations: 2, identitiesPerOrg: 8, unleashInstances: 1, customRoles: [{ slug: "identity-admin", permissions: [{ subject: "identity", action: ["read", "create", "edit", "delete"] }] }] },
    });
    ready = backend.ready;
});
afterAll(async () => {
    await backend?.stop();
});

describe("attach", () => {
    test("with a template: the four provider fields come from it; the answer names the template", async () => {
        const res = await api().postAuth(id(0), { templateId: templateId(), boundSubject: "repo:example/*", boundClaims: {} });
        expect(res.status).toBe(200);
        expect(res.json.identityOidcAuth).toMatchObject({
            templateId: templateId(),
            oidcDiscoveryUrl: ready.issuer.url,
            boundIssuer: ready.issuer.url,
            boundAudiences: "",
            caCert: "",
            boundSubject: "repo:example/*",
        });
        expect((await login(id(0))).status).toBe(200);
        expect((await api().getAuth(id(0))).json.identityOidcAuth).toMatchObject({ templateId: templateId(), oidcDiscoveryUrl: ready.issuer.url });
    });

    test("without a template the discovery URL and issuer are required: 400", async () => {
        for (const body of [{ boundClaims: {} }, { oidcDiscoveryUrl: ready.issuer.url, boundClaims: {} }, { boundIssuer: ready.issuer.url, boundClaims: {} }]) {
            expect((await api().postAuth(id(1), body)).json).toMatchObject({ statusCode: 400, error: "BadRequest", message: REQUIRED });
        }
    });

    test("a template needs the identity's own subject or claim binding", async () => {
        expect((await api().postAuth(id(1), { templateId: templateId(), boundClaims: {} })).json).toMatchObject({ statusCode: 400, message: BINDING });
        expect((await api().postAuth(id(1), { templateId: templateId(), boundClaims: { repository: "example/infra" } })).status).toBe(200);
    });

    test("unknown template, another organization's template, not a uuid", async () => {
        const unknown = randomUUID();
        expect((await api().postAuth(id(2), { templateId: unknown, boundSubject: "x", boundClaims: {} })).json).toMatchObject({
            statusCode: 404,
            message: `OIDC auth template with ID '${unknown}' not found`,
        });
        const foreign = ready.infisical.organizations[1]!.oidcAuthTemplateId!;
        expect((await api().postAuth(id(2), { templateId: foreign, boundSubject: "x", boundClaims: {} })).json.message).toBe(`OIDC auth template with ID '${foreign}' not found`);
        const notUuid = await api().postAuth(id(2), { templateId: "built-in-issuer", boundSubject: "x", boundClaims: {} });
        expect(notUuid.status).toBe(422);
        expect(notUuid.json.message[0].path).toEqual(["templateId"]);
    });

    test("the plan's machineIdentityAuthTemplates, then attach-templates on machine-identity-auth-template", async () => {
        const orgUrl = `${ready.url}/_admin/infisical/organizations/${org().id}`;
        await call("PATCH", orgUrl, { authorization: admin(), body: { plan: { machineIdentityAuthTemplates: false } } });
        try {
            expect((await api().postAuth(id(2), { templateId: templateId(), boundSubject: "x", boundClaims: {} })).json).toMatchObject({
                statusCode: 400,
                message: "Failed to use identity auth template due to plan restriction. Upgrade plan to access machine identity auth templates.",
            });
        } finally {
            await call("PATCH", orgUrl, { authorization: admin(), body: { plan: { machineIdentityAuthTemplates: true } } });
        }
        const userId = (await call("GET", orgUrl, { authorization: admin() })).json.users[0].id as string;
        await call("PATCH", `${ready.url}/_admin/infisical/users/${userId}`, { authorization: admin(), body: { role: "identity-admin" } });
        try {
            expect((await api().postAuth(id(2), { templateId: templateId(), boundSubject: "x", boundClaims: {} })).json).toMatchObject({
                statusCode: 403,
                error: "PermissionDenied",
                message: "You are not allowed to attach-templates on machine-identity-auth-template",
            });
            // Without a template the same role may attach.
            expect((await api().postAuth(id(2), { oidcDiscoveryUrl: ready.issuer.url, boundIssuer: ready.issuer.url, boundClaims: {} })).status).toBe(200);
        } finally {
            await call("PATCH", `${ready.url}/_admin/infisical/users/${userId}`, { authorization: admin(), body: { role: "admin" } });
        }
    });
});

describe("update of a linked identity", () => {
    beforeAll(async () => {
        expect((await api().postAuth(id(3), { templateId: templateId(), boundSubject: "repo:example/*", boundClaims: {} })).status).toBe(200);
    });

    test.each([
        ["oidcDiscoveryUrl", { oidcDiscoveryUrl: "https://token.actions.githubusercontent.com" }],
        ["boundIssuer", { boundIssuer: "https://token.actions.githubusercontent.com" }],
        ["boundAudiences", { boundAudiences: "sts.amazonaws.com" }],
        ["caCert", { caCert: "" }],
    ])("%s is managed by the template: 400", async (_field, body) => {
        expect((await api().patchAuth(id(3), body)).json).toMatchObject({ statusCode: 400, error: "BadRequest", message: MANAGED });
    });

    test("the identity's own fields stay editable; its binding may not go away", async () => {
        expect((await api().patchAuth(id(3), { accessTokenTTL: 600, boundClaims: { repository: "example/infra" } })).json.identityOidcAuth).toMatchObject({
            accessTokenTTL: 600,
            templateId: templateId(),
        });
        expect((await api().patchAuth(id(3), { boundSubject: "", boundClaims: {} })).json).toMatchObject({ statusCode: 400, message: BINDING });
    });

    test("editing the template propagates; unlinking (templateId null) keeps the copy and frees the fields; relinking copies again", async () => {
        const edited = await call("PATCH", `${templatesUrl()}/${templateId()}`, { authorization: admin(), body: { templateFields: { boundAudiences: "reference-backend,ci" } } });
        expect(edited.status).toBe(200);
        expect(edited.json.templateFields).toMatchObject({ boundIssuer: ready.issuer.url, boundAudiences: "reference-backend, ci" });
        expect((await api().getAuth(id(3))).json.identityOidcAuth.boundAudiences).toBe("reference-backend, ci");

        const unlinked = await api().patchAuth(id(3), { templateId: null });
        expect(unlinked.json.identityOidcAuth).toMatchObject({ templateId: null, boundAudiences: "reference-backend, ci", oidcDiscoveryUrl: ready.issuer.url });
        expect((await api().patchAuth(id(3), { boundAudiences: "other" })).json.identityOidcAuth.boundAudiences).toBe("other");

        const relinked = await api().patchAuth(id(3), { templateId: templateId() });
        expect(relinked.json.identityOidcAuth).toMatchObject({ templateId: templateId(), boundAudiences: "reference-backend, ci" });
    });

    test("deleting the template unlinks its identities, which keep the settings", async () => {
        const created = await call("POST", templatesUrl(), {
            authorization: admin(),
            body: { name: "second", templateFields: { oidcDiscoveryUrl: ready.issuer.url, boundIssuer: ready.issuer.url, boundAudiences: "aud-2" } },
        });
        expect(created.status).toBe(200);
        expect((await api().postAuth(id(4), { templateId: created.json.id, boundSubject: "s", boundClaims: {} })).json.identityOidcAuth.boundAudiences).toBe("aud-2");
        expect((await call("DELETE", `${templatesUrl()}/${created.json.id}`, { authorization: admin() })).status).toBe(200);
        expect((await api().getAuth(id(4))).json.identityOidcAuth).toMatchObject({ templateId: null, boundAudiences: "aud-2", oidcDiscoveryUrl: ready.issuer.url });
    });
});
