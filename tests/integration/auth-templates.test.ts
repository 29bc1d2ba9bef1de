/**
 * Issue #26.6: IdentityOidcAuth with a machine-identity auth template (`templateId`), against the reference backend's
 * templates over real HTTP (which follow Infisical's identity-oidc-auth-service.ts attachOidcAuth/updateOidcAuth):
 * the template provides the discovery URL, issuer, audiences and CA certificate, which are output only here and never
 * diffed; check refuses what the server refuses; unlinking and linking are updates; and the privilege boundary of a
 * destroy (#26.4) gets a hint that names the missing permissions.
 */
import { warningsShown } from "../../provider/engine/log";
import { SimulatedResource } from "../helpers/engine-sim";
import { assertNoLeaks, credentialsOf } from "../helpers/leak-scan";
import { api, Backend, configureStack, infisicalApi, provider, Ready, rejection, resetProviderProcess, stackConfigFor, start } from "./support";

let backend: Backend;
let ready: Ready;
const produced: Record<string, unknown> = {};
const EDITOR = { slug: "identity-editor", permissions: [{ subject: "identity", action: ["read", "create", "edit"] }] };

beforeAll(async () => {
    backend = await start({ seed: { organizations: 1, identitiesPerOrg: 6, unleashInstances: 1, customRoles: [EDITOR] } });
    ready = backend.ready;
    await configureStack(stackConfigFor(ready));
});
afterAll(async () => {
    produced.warnings = warningsShown();
    assertNoLeaks(produced, credentialsOf(ready));
    await resetProviderProcess();
    await backend?.stop();
});

const id = (i: number) => ready.infisical.identityIds[i];
const templateId = () => ready.infisical.organizations[0].oidcAuthTemplateId as string;
const admin = (path: string, method: string, body?: unknown) => api(method, `${ready.url}/_admin/infisical${path}`, `Bearer ${ready.admin.token}`, body);
const linked = (identityId: string, extra: Record<string, unknown> = {}) => ({ identityId, templateId: templateId(), boundSubject: "repo:acme/infra:ref:refs/heads/main", ...extra });
const failuresOf = async (inputs: Record<string, unknown>) => ((await new SimulatedResource(provider("IdentityOidcAuth")).checkOnly(inputs)).failures ?? []) as Array<{ property: string; reason: string }>;

describe("a template provides the identity provider settings", () => {
    const res = new SimulatedResource(provider("IdentityOidcAuth"));

    test("create links the template; its settings are recorded as outputs and nothing previews as a change", async () => {
        expect((await res.up(linked(id(0)))).op).toBe("create");
        const live = (await infisicalApi(ready).getAuth(id(0))).json.identityOidcAuth;
        expect(live).toMatchObject({ templateId: templateId(), boundSubject: "repo:acme/infra:ref:refs/heads/main" });
        expect(res.state).toMatchObject({ templateId: templateId(), oidcDiscoveryUrl: live.oidcDiscoveryUrl, boundIssuer: live.boundIssuer });
        expect(await res.refresh()).toBe("same");
        expect((await res.preview(linked(id(0))))?.changes).toBe(false);
    });

    test("the template edited by its owners: refresh records its new values, and the program still previews no change", async () => {
        const edited = await admin(`/organizations/${ready.infisical.organizationId}/auth-templates/${templateId()}`, "PATCH", { templateFields: { boundAudiences: "sts.example.com" } });
        expect(edited.status).toBe(200);
        expect(await res.refresh()).toBe("changed");
        expect(res.state?.boundAudiences).toBe("sts.example.com");
        expect((await res.preview(linked(id(0))))?.changes).toBe(false);
    });

    test("unlinking (templateId removed, the identity provider named) is one update that sends templateId: null", async () => {
        const up = await res.up({ identityId: id(0), oidcDiscoveryUrl: ready.issuer.url, boundIssuer: ready.issuer.url, boundSubject: "repo:acme/infra:ref:refs/heads/main" });
        expect(up).toMatchObject({ op: "update" });
        expect(up.diffs).toContain("templateId");
        const live = (await infisicalApi(ready).getAuth(id(0))).json.identityOidcAuth;
        expect(live.templateId).toBeNull();
        expect(live.boundAudiences).toBe(""); // the program's default, now its own
        expect((await res.preview({ identityId: id(0), oidcDiscoveryUrl: ready.issuer.url, boundIssuer: ready.issuer.url, boundSubject: "repo:acme/infra:ref:refs/heads/main" }))?.changes).toBe(false);
    });

    test("linking again is an update of templateId alone", async () => {
        const up = await res.up(linked(id(0)));
        expect(up).toMatchObject({ op: "update", diffs: ["templateId"] });
        expect((await infisicalApi(ready).getAuth(id(0))).json.identityOidcAuth.templateId).toBe(templateId());
        await res.destroy();
    });
});

describe("check refuses what the server refuses, naming the field and the rule", () => {
    test("a template-managed setting beside templateId", async () => {
        const failures = await failuresOf(linked(id(1), { oidcDiscoveryUrl: ready.issuer.url, caCert: "" }));
        expect(failures.map((f) => f.property).sort()).toEqual(["caCert", "oidcDiscoveryUrl"]);
        expect(failures[0].reason).toContain(`is provided by the auth template (templateId ${templateId()}): remove it from the program`);
    });

    test("a template without a subject or claim binding (it would trust every token of the template's issuer)", async () => {
        const failures = await failuresOf({ identityId: id(1), templateId: templateId() });
        expect(failures).toEqual([{ property: "boundSubject", reason: expect.stringContaining("with an auth template (templateId), set boundSubject or at least one boundClaims entry") }]);
    });

    test("no template and no identity provider", async () => {
        const failures = await failuresOf({ identityId: id(1), boundSubject: "x" });
        expect(failures.map((f) => f.property).sort()).toEqual(["boundIssuer", "oidcDiscoveryUrl"]);
        expect(failures[0].reason).toContain("is required (unless templateId names an auth template that provides it)");
    });
});

describe("the server's template answers get a hint", () => {
    test("an unknown templateId: 404 with what to check", async () => {
        const err = await rejection(new SimulatedResource(provider("IdentityOidcAuth")).up(linked(id(2), { templateId: "00000000-0000-4000-8000-000000000000" })));
        produced.unknownTemplate = err;
        expect(err.message).toContain("OIDC auth template with ID '00000000-0000-4000-8000-000000000000' not found");
        expect(err.message).toContain("How to fix: no OIDC auth template with this templateId in the identity's organization");
    });

    test("a plan without templates: 400 plan restriction, with the way out", async () => {
        await admin(`/organizations/${ready.infisical.organizationId}`, "PATCH", { plan: { machineIdentityAuthTemplates: false } });
        try {
            const err = await rejection(new SimulatedResource(provider("IdentityOidcAuth")).up(linked(id(3))));
            produced.plan = err;
            expect(err.message).toContain("plan restriction");
            expect(err.message).toContain("How to fix: the organization's Infisical plan does not include machine-identity auth templates");
        } finally {
            await admin(`/organizations/${ready.infisical.organizationId}`, "PATCH", { plan: { machineIdentityAuthTemplates: true } });
        }
    });
});

describe("#26.4 destroy refused by the privilege boundary", () => {
    test("the hint names the missing permissions and the fix; nothing is revoked", async () => {
        const res = new SimulatedResource(provider("IdentityOidcAuth"));
        await res.up({ identityId: id(4), oidcDiscoveryUrl: ready.issuer.url, boundIssuer: ready.issuer.url, boundSubject: "repo:acme/infra:ref:refs/heads/main" });
        const view = await admin(`/organizations/${ready.infisical.organizationId}`, "GET");
        const userId = view.json.users[0].id as string;
        await admin(`/identities/${id(4)}`, "PATCH", { role: "admin" });
        await admin(`/users/${userId}`, "PATCH", { role: EDITOR.slug });
        try {
            const err = await rejection(res.destroy());
            produced.boundary = err;
            expect(err.message).toContain("returned 403 Forbidden: Failed to revoke oidc auth of identity with more privileged role");
            expect(err.message).toContain("How to fix: the machine identity's role is more privileged than the credentials'");
            expect(err.message).toContain("missing: revoke-auth identity");
            expect(err.message).toContain("Use credentials of a user or machine identity with at least the identity's role");
        } finally {
            await admin(`/users/${userId}`, "PATCH", { role: "admin" });
        }
        expect((await infisicalApi(ready).getAuth(id(4))).status).toBe(200); // still attached
        await res.destroy();
    });
});
