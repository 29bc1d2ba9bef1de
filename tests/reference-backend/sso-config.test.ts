/**
 * `/api/v1/sso/oidc/config` of the reference backend against the API documents (000, 001) and Infisical's current
 * router and service (ee/services/oidc/oidc-config-service.ts): validation (422 ValidationFailure with zod issues,
 * unknown properties dropped), per-type required fields, defaults, response shapes, the client secret returned in
 * clear but encrypted at rest, one configuration per organization (500 "Create"), 404s, the empty 200 of a PATCH
 * without configuration, the organization's authEnforced/scimEnabled reset by every PATCH, the licence plan, Google
 * SSO enforcement, the instance's SMTP, and the URL guard.
 */
import { promises as fs } from "fs";
import * as path from "path";
import { Backend, bearer, call, infisical, Ready, ssoBody, start } from "./helpers";

let backend: Backend;
let ready: Ready;
let dataDir: string;
const SECRET = "sso-client-secret-never-in-clear-4d2e";

beforeAll(async () => {
    backend = await start({ seed: { organizations: 4, identitiesPerOrg: 1, unleashInstances: 1 } });
    ready = backend.ready;
    dataDir = ready.dataDir;
});
afterAll(async () => {
    await backend?.stop();
});

const org = (i: number) => ready.infisical.organizations[i];
const api = (i: number) => infisical(ready, org(i).token);

function issuesOf(res: { json: { message: Array<{ path: Array<string | number>; message: string; code: string }> } }) {
    return res.json.message.map((i) => ({ path: i.path.join("."), message: i.message, code: i.code }));
}

describe("validation (422 ValidationFailure, the zod issues as message)", () => {
    test("enums: configurationType and jwtSignatureAlgorithm", async () => {
        const res = await api(0).postSso(ssoBody(ready, org(0).id, { configurationType: "saml", jwtSignatureAlgorithm: "ES256" }));
        expect(res.status).toBe(422);
        expect(res.json).toMatchObject({ reqId: expect.any(String), statusCode: 422, error: "ValidationFailure" });
        expect(issuesOf(res).map((i) => [i.path, i.code])).toEqual([
            ["configurationType", "invalid_value"],
            ["jwtSignatureAlgorithm", "invalid_value"],
        ]);
    });

    test("required fields of the create body", async () => {
        const res = await api(0).postSso({ organizationId: org(0).id });
        expect(res.status).toBe(422);
        expect(issuesOf(res).map((i) => i.path).sort()).toEqual(["clientId", "clientSecret", "configurationType", "isActive"]);
    });

    test("custom needs its issuer and the four endpoints; discoveryURL needs the discovery URL", async () => {
        const custom = await api(0).postSso(ssoBody(ready, org(0).id, { configurationType: "custom", discoveryURL: "" }));
        expect(custom.status).toBe(422);
        expect(issuesOf(custom).map((i) => `${i.path}: ${i.message}`)).toEqual([
            "issuer: Issuer is required",
            "authorizationEndpoint: Authorization endpoint is required",
            "jwksUri: JWKS URI is required",
            "tokenEndpoint: Token endpoint is required",
            "userinfoEndpoint: Userinfo endpoint is required",
        ]);
        const discovery = await api(0).postSso(ssoBody(ready, org(0).id, { discoveryURL: "  " }));
        expect(issuesOf(discovery).map((i) => `${i.path}: ${i.message}`)).toEqual(["discoveryURL: Discovery URL is required"]);
    });

    test("unknown properties are dropped (zod's default), on POST and PATCH", async () => {
        const post = await api(3).postSso(ssoBody(ready, org(3).id, { clientSecrett: "typo", isActive: false }));
        expect(post.status).toBe(200);
        expect(post.json).not.toHaveProperty("clientSecrett");
        const patch = await api(3).patchSso({ organizationId: org(3).id, enabled: true });
        expect(patch.status).toBe(200);
        expect(patch.json).toMatchObject({ isActive: false });
        expect(patch.json).not.toHaveProperty("enabled");
    });

    test("wrong types and a missing organizationId on PATCH; a missing organizationId query on GET", async () => {
        const patch = await api(0).patchSso({ isActive: "yes" });
        expect(issuesOf(patch).map((i) => i.path).sort()).toEqual(["isActive", "organizationId"]);
        const get = await call("GET", `${ready.infisical.url}/api/v1/sso/oidc/config`, { authorization: `Bearer ${org(0).token}` });
        expect(get.status).toBe(422);
    });

    test("a body that is not JSON is refused", async () => {
        const res = await call("POST", `${ready.infisical.url}/api/v1/sso/oidc/config`, { authorization: `Bearer ${org(0).token}`, raw: "clientId=x", contentType: "text/plain" });
        expect(res.status).toBe(415);
        const broken = await call("POST", `${ready.infisical.url}/api/v1/sso/oidc/config`, { authorization: `Bearer ${org(0).token}`, raw: "{not json", contentType: "application/json" });
        expect(broken.status).toBe(400);
        expect(broken.json).toMatchObject({ statusCode: 400, error: "BadRequest", message: "The request body is not valid JSON" });
        expect(broken.text).not.toContain("not json"); // the body is never echoed
    });

    test("nothing was created by the refused requests", async () => {
        const res = await api(0).getSso(org(0).id);
        expect(res.status).toBe(404);
        expect(res.json).toEqual({ reqId: expect.any(String), statusCode: 404, message: "Failed to find OIDC SSO data", error: "NotFound" });
    });
});

describe("lifecycle", () => {
    let configId: string;

    test("POST creates with the documented defaults and answers the documented fields", async () => {
        const res = await api(0).postSso(ssoBody(ready, org(0).id, { clientSecret: SECRET, allowedEmailDomains: "example.com,acme.com , b.org" }));
        expect(res.status).toBe(200);
        expect(res.json).toEqual({
            id: expect.stringMatching(/^[0-9a-f-]{36}$/),
            issuer: "",
            authorizationEndpoint: "",
            configurationType: "discoveryURL",
            discoveryURL: ready.issuer.discoveryUrl,
            jwksUri: "",
            tokenEndpoint: "",
            userinfoEndpoint: "",
            orgId: org(0).id,
            isActive: true,
            allowedEmailDomains: "example.com, acme.com, b.org",
            manageGroupMemberships: false,
            jwtSignatureAlgorithm: "RS256",
        });
        configId = res.json.id;
    });

    test("GET returns the configuration with clientId and clientSecret decrypted, in clear (as Infisical does)", async () => {
        const res = await api(0).getSso(org(0).id);
        expect(res.status).toBe(200);
        expect(res.json).toMatchObject({ id: configId, orgId: org(0).id, clientId: "reference-client", clientSecret: SECRET, jwtSignatureAlgorithm: "RS256" });
    });

    test("a second POST for the organization fails like Infisical's unique index: 500, error \"Create\"", async () => {
        const res = await api(0).postSso(ssoBody(ready, org(0).id, { clientId: "second" }));
        expect(res.status).toBe(500);
        expect(res.json).toEqual({ reqId: expect.any(String), statusCode: 500, message: "Something went wrong", error: "Create" });
        expect((await api(0).getSso(org(0).id)).json.clientId).toBe("reference-client");
    });

    test("PATCH changes only the given fields and answers without jwtSignatureAlgorithm", async () => {
        const res = await api(0).patchSso({ organizationId: org(0).id, jwtSignatureAlgorithm: "RS512", isActive: false, clientId: "renamed" });
        expect(res.status).toBe(200);
        expect(Object.keys(res.json).sort()).toEqual(
            ["allowedEmailDomains", "authorizationEndpoint", "configurationType", "discoveryURL", "id", "isActive", "issuer", "jwksUri", "manageGroupMemberships", "orgId", "tokenEndpoint", "userinfoEndpoint"].sort(),
        );
        expect(res.json).toMatchObject({ id: configId, isActive: false, allowedEmailDomains: "example.com, acme.com, b.org" });
        const live = (await api(0).getSso(org(0).id)).json;
        expect(live).toMatchObject({ jwtSignatureAlgorithm: "RS512", isActive: false, clientId: "renamed", discoveryURL: ready.issuer.discoveryUrl });
    });

    test("PATCH of a custom configuration", async () => {
        const res = await api(0).patchSso({
            organizationId: org(0).id,
            configurationType: "custom",
            // Public addresses (the URL guard resolves host names; this sandbox has no DNS).
            issuer: "https://93.184.215.14",
            authorizationEndpoint: "https://93.184.215.14/authorize",
            jwksUri: "https://93.184.215.14/jwks",
            tokenEndpoint: "https://93.184.215.14/token",
            userinfoEndpoint: "https://93.184.215.14/userinfo",
            allowedEmailDomains: "",
        });
        expect(res.status).toBe(200);
        expect(res.json).toMatchObject({ configurationType: "custom", issuer: "https://93.184.215.14", allowedEmailDomains: "" });
    });

    test("PATCH where there is no configuration: 200 with an empty body, nothing created; GET: 404", async () => {
        const none = await api(1).patchSso({ organizationId: org(1).id, isActive: true });
        expect(none.status).toBe(200);
        expect(none.text).toBe("");
        expect(none.headers["content-length"]).toBe("0");
        const get = await api(1).getSso(org(1).id);
        expect([get.status, get.json.message]).toEqual([404, "Failed to find OIDC SSO data"]);
    });

    test("an unknown organization: 404 on POST and PATCH (the organization), on GET (the configuration)", async () => {
        const unknown = "00000000-0000-4000-8000-00000000dead";
        expect((await api(1).postSso(ssoBody(ready, unknown))).json).toMatchObject({ statusCode: 404, message: `Organization with ID '${unknown}' not found`, error: "NotFound" });
        expect((await api(1).patchSso({ organizationId: unknown, isActive: false })).json).toMatchObject({ statusCode: 404, message: `Organization with ID '${unknown}' not found` });
        expect((await api(1).getSso(unknown)).json).toMatchObject({ statusCode: 404, message: "Failed to find OIDC SSO data" });
    });

    test("the client secret is stored encrypted: not in the data file, in no encoding", async () => {
        await api(2).postSso(ssoBody(ready, org(2).id, { clientSecret: SECRET }));
        await api(2).patchSso({ organizationId: org(2).id, clientSecret: `${SECRET}-2` });
        const file = await fs.readFile(path.join(dataDir, "state.json"), "utf8");
        for (const needle of [SECRET, Buffer.from(SECRET).toString("base64").slice(0, 20), Buffer.from(SECRET).toString("base64url").slice(0, 20), Buffer.from(SECRET).toString("hex")]) {
            expect(file.includes(needle)).toBe(false);
        }
        expect(file).toContain("encryptedClientSecret");
        const stat = await fs.stat(path.join(dataDir, "state.json"));
        expect(stat.mode & 0o077).toBe(0);
    });
});

describe("the organization's authEnforced and scimEnabled", () => {
    const adminOrg = (i: number) => `${ready.url}/_admin/infisical/organizations/${org(i).id}`;
    const admin = () => bearer(ready.admin.token);

    test("are readable and settable through the admin routes (admin token only)", async () => {
        expect((await call("GET", adminOrg(2))).status).toBe(401);
        const res = await call("GET", adminOrg(2), { authorization: admin() });
        expect(res.json).toMatchObject({
            id: org(2).id,
            name: org(2).name,
            slug: org(2).slug,
            authEnforced: false,
            scimEnabled: false,
            googleSsoAuthEnforced: false,
            shouldUseNewPrivilegeSystem: true,
            plan: { oidcSSO: true, ipAllowlisting: true, machineIdentityAuthTemplates: true },
        });
        const set = await call("PATCH", adminOrg(2), { authorization: admin(), body: { authEnforced: true, scimEnabled: true } });
        expect(set.json).toMatchObject({ authEnforced: true, scimEnabled: true });
        expect((await call("GET", `${ready.url}/_admin/infisical/organizations/unknown`, { authorization: admin() })).status).toBe(404);
    });

    test("every SSO PATCH switches both off, whatever it changes", async () => {
        const patch = await api(2).patchSso({ organizationId: org(2).id, allowedEmailDomains: "unrelated.example" });
        expect(patch.status).toBe(200);
        expect((await call("GET", adminOrg(2), { authorization: admin() })).json).toMatchObject({ authEnforced: false, scimEnabled: false });
    });

    test("also a PATCH that matches no configuration; a refused PATCH changes nothing", async () => {
        await call("PATCH", adminOrg(1), { authorization: admin(), body: { authEnforced: true, scimEnabled: true } });
        expect((await api(1).patchSso({ organizationId: org(1).id, jwksUri: "http://user:pw@93.184.215.14/jwks" })).status).toBe(400);
        expect((await call("GET", adminOrg(1), { authorization: admin() })).json).toMatchObject({ authEnforced: true, scimEnabled: true });
        const none = await api(1).patchSso({ organizationId: org(1).id, isActive: false });
        expect([none.status, none.text]).toEqual([200, ""]);
        expect((await call("GET", adminOrg(1), { authorization: admin() })).json).toMatchObject({ authEnforced: false, scimEnabled: false });
    });
});

describe("licence plan, Google SSO enforcement, SMTP, URL guard (internal IPs not allowed: the default)", () => {
    let strict: Backend;
    let sr: Ready;
    const sorg = (i: number) => sr.infisical.organizations[i];
    const sapi = (i: number, tokenOf = i) => infisical(sr, sorg(tokenOf).token);
    // A public address: allowed by the guard without a DNS lookup.
    const PUBLIC = "https://93.184.215.14/.well-known/openid-configuration";
    const body = (i: number, extra: Record<string, unknown> = {}) => ({ ...ssoBody(sr, sorg(i).id), discoveryURL: PUBLIC, ...extra });

    beforeAll(async () => {
        strict = await start({
            allowInternalIpConnections: false,
            seed: {
                organizations: 4,
                identitiesPerOrg: 1,
                unleashInstances: 1,
                organizationSettings: [{ plan: { oidcSSO: false } }, { googleSsoAuthEnforced: true }, {}, {}],
                smtpVerified: false,
            },
        });
        sr = strict.ready;
    });
    afterAll(async () => {
        await strict?.stop();
    });

    test("without the plan's oidcSSO: 400 with the create and update messages, checked before permissions", async () => {
        for (const tokenOf of [0, 1]) {
            const post = await sapi(0, tokenOf).postSso(body(0));
            expect([post.status, post.json.error, post.json.message]).toEqual([400, "BadRequest", "Failed to create OIDC SSO configuration due to plan restriction. Upgrade plan to update SSO configuration."]);
            const patch = await sapi(0, tokenOf).patchSso({ organizationId: sorg(0).id, isActive: false });
            expect([patch.status, patch.json.message]).toEqual([400, "Failed to update OIDC SSO configuration due to plan restriction. Upgrade plan to update SSO configuration."]);
        }
    });

    test("while Google SSO is enforced: isActive true is refused on POST and PATCH; false passes", async () => {
        const GOOGLE = "You cannot enable OIDC SSO while Google OAuth is enforced. Disable Google OAuth enforcement to enable OIDC SSO.";
        const refused = await sapi(1).postSso(body(1, { isActive: true }));
        expect([refused.status, refused.json.message]).toEqual([400, GOOGLE]);
        expect((await sapi(1).postSso(body(1, { isActive: false }))).status).toBe(200);
        const patch = await sapi(1).patchSso({ organizationId: sorg(1).id, isActive: true });
        expect([patch.status, patch.json.message]).toEqual([400, GOOGLE]);
        expect((await sapi(1).getSso(sorg(1).id)).json.isActive).toBe(false);
    });

    test("while the instance's SMTP does not verify: PATCH with isActive true is refused (create has no such check)", async () => {
        expect((await sapi(2).postSso(body(2, { isActive: true }))).status).toBe(200);
        const patch = await sapi(2).patchSso({ organizationId: sorg(2).id, isActive: true, allowedEmailDomains: "x.example" });
        expect([patch.status, patch.json.message]).toEqual([
            400,
            "Cannot enable OIDC when there are issues with the instance's SMTP configuration. Bypass this by turning on trust for OIDC emails in the server admin console.",
        ]);
        expect((await sapi(2).getSso(sorg(2).id)).json.allowedEmailDomains).toBe("");
        expect((await sapi(2).patchSso({ organizationId: sorg(2).id, isActive: false })).status).toBe(200);
        // The admin route changes the instance's SMTP state.
        const smtp = await call("PATCH", `${sr.url}/_admin/infisical/instance`, { authorization: `Bearer ${sr.admin.token}`, body: { smtpVerified: true } });
        expect(smtp.json).toEqual({ smtpVerified: true });
        expect((await sapi(2).patchSso({ organizationId: sorg(2).id, isActive: true })).status).toBe(200);
    });

    test.each([
        ["discoveryURL on loopback (the built-in issuer)", () => ({ discoveryURL: sr.issuer.discoveryUrl }), 400, "Local IPs not allowed as URL"],
        ["discoveryURL on localhost", () => ({ discoveryURL: "http://localhost:8080/oidc" }), 400, "Local IPs not allowed as URL"],
        ["jwksUri on a private address", () => ({ configurationType: "custom", ...custom(), jwksUri: "http://10.1.2.3/jwks" }), 400, "Local IPs not allowed as URL"],
        ["tokenEndpoint on a link-local address", () => ({ configurationType: "custom", ...custom(), tokenEndpoint: "http://169.254.169.254/token" }), 400, "Local IPs not allowed as URL"],
        ["userinfoEndpoint on carrier-grade NAT", () => ({ configurationType: "custom", ...custom(), userinfoEndpoint: "http://100.64.0.1/userinfo" }), 400, "Local IPs not allowed as URL"],
        ["a URL with credentials", () => ({ discoveryURL: "https://user:pass@93.184.215.14/" }), 400, "URLs with user credentials (e.g., user:pass@) are not allowed"],
        ["a value that is not a URL (new URL throws)", () => ({ discoveryURL: "not a url" }), 500, "Something went wrong"],
    ])("POST refused: %s", async (_name, extra, status, message) => {
        const res = await sapi(3).postSso(body(3, extra()));
        expect([res.status, res.json.message]).toEqual([status, message]);
        expect((await sapi(3).getSso(sorg(3).id)).status).toBe(404);
    });

    const custom = () => ({
        discoveryURL: "",
        issuer: "http://127.0.0.1/not-guarded",
        authorizationEndpoint: "http://127.0.0.1/authorize-not-guarded",
        jwksUri: "https://93.184.215.14/jwks",
        tokenEndpoint: "https://93.184.215.14/token",
        userinfoEndpoint: "https://93.184.215.14/userinfo",
    });

    test("public addresses pass (issuer and authorizationEndpoint are not guarded); PATCH is guarded too", async () => {
        expect((await sapi(3).postSso(body(3, { configurationType: "custom", ...custom() }))).status).toBe(200);
        const patch = await sapi(3).patchSso({ organizationId: sorg(3).id, jwksUri: "http://192.168.0.10/jwks" });
        expect([patch.status, patch.json.message]).toEqual([400, "Local IPs not allowed as URL"]);
        expect((await sapi(3).getSso(sorg(3).id)).json.jwksUri).toBe("https://93.184.215.14/jwks");
        // A host name that does not resolve here (no DNS on these machines) counts as public: a documented difference.
        expect((await sapi(3).patchSso({ organizationId: sorg(3).id, jwksUri: "https://idp.invalid/jwks" })).status).toBe(200);
    });
});
