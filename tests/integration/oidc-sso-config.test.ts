/**
 * OidcSsoConfig against the reference backend over real HTTP: the whole lifecycle through the provider methods,
 * out-of-band drift, the safe state after delete, adoption, a static get, and the error paths.
 */
import { ResourceEngine } from "../../provider/engine/engine";
import { MASK } from "../../provider/engine/secrets";
import { assertNoLeaks, credentialsOf } from "../helpers/leak-scan";
import { SimulatedResource } from "../helpers/engine-sim";
import { Backend, configureStack, infisicalApi, provider, Ready, rejection, resetProviderProcess, stackConfigFor, start } from "./support";

let backend: Backend;
let ready: Ready;
let orgId: string;
const SECRET_1 = "sso-client-secret-integration-1a2b";
const SECRET_2 = "sso-client-secret-integration-3c4d";

function desired(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        organizationId: orgId,
        configurationType: "discoveryURL",
        discoveryURL: `${ready.issuer.url}/.well-known/openid-configuration`,
        clientId: "infisical-integration",
        clientSecret: SECRET_1,
        allowedEmailDomains: "example.com, Example.org",
        ...extra,
    };
}

/** Every text the provider produced in a test, scanned for credentials at the end. */
const produced: Record<string, unknown> = {};

beforeAll(async () => {
    backend = await start({ seed: { organizations: 4, identitiesPerOrg: 2, unleashInstances: 1 } });
    ready = backend.ready;
    orgId = ready.infisical.organizationId;
    await configureStack(stackConfigFor(ready));
});
afterAll(async () => {
    assertNoLeaks(produced, { ...credentialsOf(ready), SECRET_1, SECRET_2 });
    await resetProviderProcess();
    await backend?.stop();
});

describe("OidcSsoConfig lifecycle", () => {
    const res = new SimulatedResource(provider("OidcSsoConfig"));
    const direct = () => infisicalApi(ready);

    test("create: the configuration exists as described; the id is the organization", async () => {
        expect((await res.up(desired())).op).toBe("create");
        expect(res.id).toBe(orgId);
        expect(res.state).toMatchObject({
            organizationId: orgId,
            configurationType: "discoveryURL",
            allowedEmailDomains: "example.com,example.org",
            isActive: true,
            jwtSignatureAlgorithm: "RS256",
            targetUrl: ready.infisical.url.replace(/\/+$/, ""),
        });
        expect(typeof res.state?.configId).toBe("string");
        expect(res.state?.clientSecretHash).toMatch(/^hmac-sha256\$/);

        const live = await direct().getSso();
        expect(live.status).toBe(200);
        expect(live.json).toMatchObject({ orgId, isActive: true, configurationType: "discoveryURL" });
        // Sent as written (Infisical stores the list ", "-joined); the state keeps the canonical form.
        expect(live.json.allowedEmailDomains).toBe("example.com, Example.org");
    });

    test("read right after create changes nothing, and preview shows no diff", async () => {
        expect(await res.refresh()).toBe("same");
        const preview = await res.preview(desired());
        expect(preview).toMatchObject({ changes: false, replaces: [] });
        // Equivalent spellings are still no change.
        expect((await res.preview(desired({ allowedEmailDomains: ["EXAMPLE.org", "example.com"], discoveryURL: ` ${ready.issuer.url}/.well-known/openid-configuration ` })))?.changes).toBe(false);
        // A trailing slash is another URL to the identity provider: a change, sent as written.
        expect((await res.preview(desired({ discoveryURL: `${ready.issuer.url}/.well-known/openid-configuration/` })))?.changes).toBe(true);
    });

    test("update: the moved fields are reported, applied and recorded", async () => {
        const hashBefore = res.state?.clientSecretHash;
        const up = await res.up(desired({ clientSecret: SECRET_2, allowedEmailDomains: "example.com", manageGroupMemberships: true }));
        expect(up.op).toBe("update");
        expect([...up.diffs].sort()).toEqual(["allowedEmailDomains", "clientSecret", "manageGroupMemberships"]);
        expect(res.state?.clientSecretHash).not.toBe(hashBefore);
        const live = await direct().getSso();
        expect(live.json).toMatchObject({ allowedEmailDomains: "example.com", manageGroupMemberships: true });
        expect((await res.preview(desired({ clientSecret: SECRET_2, allowedEmailDomains: "example.com", manageGroupMemberships: true })))?.changes).toBe(false);
    });

    test("out-of-band drift: refresh sees it, the diff names it, up puts it back", async () => {
        const current = desired({ clientSecret: SECRET_2, allowedEmailDomains: "example.com", manageGroupMemberships: true });
        expect((await direct().patchSso({ organizationId: orgId, allowedEmailDomains: "evil.example, example.com", jwtSignatureAlgorithm: "RS512" })).status).toBe(200);
        expect(await res.refresh()).toBe("changed");
        const preview = await res.preview(current);
        expect([...((preview as { diffs?: string[] })?.diffs ?? [])].sort()).toEqual(["allowedEmailDomains", "jwtSignatureAlgorithm"]);
        expect((await res.up(current)).op).toBe("update");
        expect((await direct().getSso()).json).toMatchObject({ allowedEmailDomains: "example.com", jwtSignatureAlgorithm: "RS256" });
        expect(await res.refresh()).toBe("same");
    });

    test("deactivated out of band: reads as gone; the next up takes the deactivated config back without adoptExisting", async () => {
        const current = desired({ clientSecret: SECRET_2, allowedEmailDomains: "example.com", manageGroupMemberships: true });
        const configId = res.state?.configId;
        expect((await direct().patchSso({ organizationId: orgId, isActive: false })).status).toBe(200);
        expect(await res.refresh()).toBe("deleted");
        expect((await res.up(current)).op).toBe("create");
        expect(res.state?.configId).toBe(configId);
        expect((await direct().getSso()).json.isActive).toBe(true);
    });

    test("replace: a new organizationId creates there first, then deactivates the old one", async () => {
        const org2 = ready.infisical.organizations[1];
        const up = await res.up(desired({ organizationId: org2.id, connection: { token: org2.token } }));
        expect(up).toMatchObject({ op: "replace", replaces: ["organizationId"] });
        expect(res.id).toBe(org2.id);
        expect((await infisicalApi(ready, org2.token).getSso(org2.id)).json.isActive).toBe(true);
        expect((await direct().getSso(orgId)).json.isActive).toBe(false);
        // The per-resource connection is kept (as a secret output) for refresh and delete.
        expect(res.state?.connection).toEqual({ token: org2.token });
        expect(await res.refresh()).toBe("same");
    });

    test("delete: the documented safe state (deactivated, not deleted)", async () => {
        const org2 = ready.infisical.organizations[1];
        await res.destroy();
        const live = await infisicalApi(ready, org2.token).getSso(org2.id);
        expect(live.status).toBe(200);
        expect(live.json.isActive).toBe(false);
        // Deleting again (e.g. a retried destroy) is harmless.
        await provider("OidcSsoConfig").delete(org2.id, { organizationId: org2.id, targetUrl: ready.infisical.url, connection: { token: org2.token } });
    });
});

describe("OidcSsoConfig adoption and get", () => {
    const org3 = () => ready.infisical.organizations[2];

    test("an active configuration made elsewhere: create refuses and says how to adopt; adoptExisting takes it over", async () => {
        const o = org3();
        const made = await infisicalApi(ready, o.token).postSso({
            organizationId: o.id,
            configurationType: "custom",
            issuer: "https://idp.example.com",
            authorizationEndpoint: "https://idp.example.com/authorize",
            jwksUri: "https://idp.example.com/jwks",
            tokenEndpoint: "https://idp.example.com/token",
            userinfoEndpoint: "https://idp.example.com/userinfo",
            clientId: "by-hand",
            clientSecret: "by-hand-secret-value",
            isActive: true,
        });
        expect(made.status).toBe(200);

        const res = new SimulatedResource(provider("OidcSsoConfig"));
        const args = desired({ organizationId: o.id, connection: { token: o.token } });
        const err = await rejection(res.up(args));
        produced.adoptError = err;
        expect(err.message).toContain(`OidcSsoConfig for organizationId ${o.id} on ${ready.infisical.url.replace(/\/+$/, "")} already exists, is in use and differs`);
        expect(err.message).toContain("adoptExisting: true");
        expect(res.id).toBeUndefined();

        expect((await res.up({ ...args, adoptExisting: true })).op).toBe("create");
        expect(res.state?.configId).toBe(made.json.id);
        const live = await infisicalApi(ready, o.token).getSso(o.id);
        expect(live.json).toMatchObject({ configurationType: "discoveryURL", isActive: true });
        expect((await res.preview({ ...args, adoptExisting: true }))?.changes).toBe(false);
    });

    test("get(name, id): reads an existing configuration by organization id", async () => {
        const o = org3();
        const got = await SimulatedResourceGet(o.id, { connection: { token: o.token } });
        expect(got.id).toBe(o.id);
        expect(got.props).toMatchObject({ organizationId: o.id, configurationType: "discoveryURL", isActive: true });
        // Infisical returns the client secret: it is read (a secret output) with its hash, so its drift shows.
        expect(got.props?.clientSecret).toBe(SECRET_1); // the adopted configuration carries the secret applied above
        expect(got.props?.clientSecretHash).toMatch(/^hmac-sha256\$/);
    });
});

async function SimulatedResourceGet(id: string, state: Record<string, unknown>) {
    return SimulatedResource.get(provider("OidcSsoConfig"), id, state);
}

describe("OidcSsoConfig error paths", () => {
    const engine = () => provider("OidcSsoConfig");

    async function createWith(args: Record<string, unknown>) {
        const checked = await (engine() as unknown as ResourceEngine).check({}, args);
        return engine().create({ ...(checked.inputs as Record<string, unknown>) });
    }

    test("401: an invalid token, with the API's message and how to fix it, without the token", async () => {
        const err = await rejection(createWith(desired({ connection: { token: "st.not-a-valid-token-000" } })));
        produced.err401 = err;
        expect(err.message).toMatch(/^Infisical API: POST \/api\/v1\/sso\/oidc\/config returned 401 Unauthorized: /); // create asks directly
        expect(err.message).toContain("(reqId: ");
        expect(err.message).toContain("How to fix: the token (from the resource's connection.token) is missing, invalid or expired");
        expect(err.message).not.toContain("not-a-valid-token");
    });

    test("403: a valid token of another organization", async () => {
        const other = ready.infisical.organizations[1];
        const err = await rejection(createWith(desired({ connection: { token: other.token } })));
        produced.err403 = err;
        expect(err.status).toBe(403);
        expect(err.message).toContain("returned 403 Forbidden: ");
        expect(err.errorName).toBe("ForbiddenError");
        expect(err.message).toContain("How to fix: the credentials (from the resource's connection.token) belong to another organization");
        expect(err.apiMessage).toBeTruthy();
    });

    test("400/422: the API's own validation message when a body gets past check", async () => {
        // Bypass check (as an older or newer API might disagree): custom without its endpoints.
        const o = ready.infisical.organizations[3]; // no configuration yet: the create POST is what gets rejected
        const err = await rejection(
            engine().create({ ...desired({ organizationId: o.id, configurationType: "custom", discoveryURL: "" }), connection: { token: o.token }, isActive: true }),
        );
        produced.err400 = err;
        expect([400, 422]).toContain(err.status);
        expect(err.message).toMatch(/returned (400 Bad Request|422 Unprocessable Entity): \S/);
        // The hint names the offending fields by this package's names.
        expect(err.message).toMatch(/How to fix: the API refused the value of [a-zA-Z, ]+: correct/);
        expect(err.message).not.toContain(SECRET_1);
        expect((await infisicalApi(ready, o.token).getSso(o.id)).status).toBe(404); // nothing was created
    });

    test("404: an organization that does not exist, through get", async () => {
        const got = await SimulatedResource.get(engine(), "00000000-0000-4000-8000-00000000dead", {}).catch((e) => e);
        produced.err404 = got;
        // Either the API says there is no such configuration (gone) or that the organization is not the token's.
        if (got instanceof Error) expect(got.message).toMatch(/returned (403|404)/);
        else expect(got.id).toBe("");
    });

    test("a diff explanation never shows the secret", async () => {
        const res = new SimulatedResource(engine());
        res.id = orgId;
        res.state = { ...(await (engine() as unknown as ResourceEngine).recordedOutputs(desired(), { orgId, isActive: true }, ready.infisical.url)) };
        const d = (await res.preview(desired({ clientSecret: "another-secret-value-x" }))) as { details?: unknown[] };
        produced.diffDetails = d;
        expect(d.details).toEqual([{ property: "clientSecret", kind: "update", old: MASK, new: MASK }]);
    });
});
