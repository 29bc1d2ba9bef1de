/**
 * `/api/v1/sso/oidc/config` of the reference backend against the API documents (000, 001) and Infisical's router
 * and service: validation (422 ValidationFailure with zod issues), per-type required fields, defaults, response
 * shapes, one configuration per organization, 404s, and the write-only, encrypted client secret.
 */
import { promises as fs } from "fs";
import * as path from "path";
import { Backend, call, infisical, Ready, ssoBody, start } from "./helpers";

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

    test("an unknown property is refused (additionalProperties: false), on POST and PATCH", async () => {
        const post = await api(0).postSso(ssoBody(ready, org(0).id, { clientSecrett: "typo" }));
        expect(post.status).toBe(422);
        expect(issuesOf(post)).toEqual([{ path: "", message: 'Unrecognized key: "clientSecrett"', code: "unrecognized_keys" }]);
        const patch = await api(0).patchSso({ organizationId: org(0).id, enabled: true });
        expect(patch.status).toBe(422);
        expect(issuesOf(patch)[0].code).toBe("unrecognized_keys");
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
        expect(res.json).toEqual({ reqId: expect.any(String), statusCode: 404, message: `OIDC configuration for organization with ID '${org(0).id}' not found`, error: "NotFound" });
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

    test("GET returns the configuration with clientId, never clientSecret", async () => {
        const res = await api(0).getSso(org(0).id);
        expect(res.status).toBe(200);
        expect(res.json).toMatchObject({ id: configId, orgId: org(0).id, clientId: "reference-client", jwtSignatureAlgorithm: "RS256" });
        expect(res.json).not.toHaveProperty("clientSecret");
        expect(res.text).not.toContain(SECRET);
    });

    test("a second POST for the organization fails like Infisical's unique index (500)", async () => {
        const res = await api(0).postSso(ssoBody(ready, org(0).id, { clientId: "second" }));
        expect(res.status).toBe(500);
        expect(res.json).toEqual({ reqId: expect.any(String), statusCode: 500, message: "Something went wrong", error: "DatabaseError" });
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
            issuer: "https://idp.example.com",
            authorizationEndpoint: "https://idp.example.com/authorize",
            jwksUri: "https://idp.example.com/jwks",
            tokenEndpoint: "https://idp.example.com/token",
            userinfoEndpoint: "https://idp.example.com/userinfo",
            allowedEmailDomains: "",
        });
        expect(res.status).toBe(200);
        expect(res.json).toMatchObject({ configurationType: "custom", issuer: "https://idp.example.com", allowedEmailDomains: "" });
    });

    test("PATCH and GET where there is no configuration: 404; unknown organization: 404", async () => {
        const none = await api(1).patchSso({ organizationId: org(1).id, isActive: true });
        expect(none.status).toBe(404);
        expect(none.json.message).toBe(`OIDC configuration for organization with ID '${org(1).id}' not found`);
        const unknown = "00000000-0000-4000-8000-00000000dead";
        expect((await api(1).postSso(ssoBody(ready, unknown))).json).toMatchObject({ statusCode: 404, message: `Organization with ID '${unknown}' not found` });
        expect((await api(1).getSso(unknown)).status).toBe(404);
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
