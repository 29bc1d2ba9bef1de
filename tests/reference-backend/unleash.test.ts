/**
 * The Unleash instances of the reference backend and `GET/POST <instance>/api/admin/auth/oidc/settings`, against
 * the API documents (003, 004) and Unleash's controller: the raw-token auth (401 AuthenticationRequired /
 * UnauthorizedError, 403 NoAccessError), 415 ContentTypeError, 400 ValidationError bodies, defaults, the stored
 * defaultRootRoleId and version, discovery of the discoverUrl, the secret encrypted at rest, isolated instances.
 */
import { promises as fs } from "fs";
import * as path from "path";
import { Backend, call, Ready, start } from "./helpers";

let backend: Backend;
let ready: Ready;
const SECRET = "unleash-oidc-secret-never-in-clear-9c1d";

beforeAll(async () => {
    backend = await start({ seed: { organizations: 1, identitiesPerOrg: 1, unleashInstances: 3 } });
    ready = backend.ready;
});
afterAll(async () => {
    await backend?.stop();
});

const inst = (i: number) => ready.unleash.instances[i];
const settingsUrl = (i: number) => `${inst(i).url}/api/admin/auth/oidc/settings`;
const get = (i: number, token: string | undefined = inst(i).adminToken) => call("GET", settingsUrl(i), { authorization: token });
const post = (i: number, body: unknown, token: string = inst(i).adminToken) => call("POST", settingsUrl(i), { authorization: token, body });
const enabled = (extra: Record<string, unknown> = {}) => ({ enabled: true, discoverUrl: ready.issuer.discoveryUrl, clientId: "unleash-client", secret: SECRET, ...extra });

const errorShape = (name: string, status: number) => ({
    id: expect.stringMatching(/^[0-9a-f-]{36}$/),
    name,
    message: expect.any(String),
    details: expect.arrayContaining([expect.objectContaining({ message: expect.any(String) })]),
    ...(status === 401 && name === "AuthenticationRequired" ? { path: expect.any(String), type: "password" } : {}),
});

describe("authentication and authorization", () => {
    test("no Authorization header: 401 AuthenticationRequired, on GET and POST", async () => {
        for (const res of [await call("GET", settingsUrl(0)), await call("POST", settingsUrl(0), { body: enabled() })]) {
            expect(res.status).toBe(401);
            expect(res.json).toEqual(errorShape("AuthenticationRequired", 401));
            expect(res.json.message).toContain("Your request had no authorization header");
        }
    });

    test("an unknown token, a token with Bearer, another instance's token: 401 UnauthorizedError", async () => {
        for (const token of ["*:*.not-a-token-value", `Bearer ${inst(0).adminToken}`, inst(1).adminToken]) {
            const res = await get(0, token);
            expect(res.status).toBe(401);
            expect(res.json).toEqual(errorShape("UnauthorizedError", 401));
        }
    });

    test("valid tokens without admin rights (client token, a Viewer's PAT): 403 NoAccessError", async () => {
        for (const token of [inst(0).clientToken, inst(0).readOnlyToken]) {
            for (const res of [await get(0, token), await post(0, enabled(), token)]) {
                expect(res.status).toBe(403);
                expect(res.json).toEqual(errorShape("NoAccessError", 403));
            }
        }
        expect((await get(0)).json).toEqual({});
    });

    test("admin API token and an Admin's PAT are accepted", async () => {
        expect((await get(0, inst(0).adminToken)).status).toBe(200);
        expect((await get(0, inst(0).personalAccessToken)).status).toBe(200);
    });

    test("an instance that does not exist: 404", async () => {
        const res = await call("GET", `${ready.url}/unleash/99/api/admin/auth/oidc/settings`, { authorization: inst(0).adminToken });
        expect(res.status).toBe(404);
        expect(res.json.name).toBe("NotFoundError");
        expect((await call("GET", `${inst(0).url}/not-unleash/api/admin/auth/oidc/settings`, { authorization: inst(0).adminToken })).status).toBe(404);
    });
});

describe("POST validation", () => {
    test("a content type other than JSON: 415 ContentTypeError", async () => {
        for (const [raw, contentType] of [
            ["enabled=true", "application/x-www-form-urlencoded"],
            ['{"enabled":true}', "text/plain"],
        ]) {
            const res = await call("POST", settingsUrl(0), { authorization: inst(0).adminToken, raw, contentType });
            expect(res.status).toBe(415);
            expect(res.json).toEqual(errorShape("ContentTypeError", 415));
            expect(res.json.message).toContain(`We do not accept the content-type you provided (${contentType})`);
        }
    });

    test.each([
        ["an unknown root role", { defaultRootRole: "Owner" }, "defaultRootRole", 'The .defaultRootRole property must be equal to one of the allowed values. You sent "Owner".'],
        ["an unknown signing algorithm", { idTokenSigningAlgorithm: "HS256" }, "idTokenSigningAlgorithm", "must be equal to one of the allowed values"],
        ["a string for a boolean", { autoCreate: "yes" }, "autoCreate", 'The .autoCreate property must be boolean. You sent "yes".'],
        ["enabled without a client id", { clientId: undefined }, "clientId", "The clientId property is required. It was not present on the data you sent."],
        ["enabled without a secret", { secret: undefined }, "secret", "The secret property is required"],
        ["an empty client id", { clientId: "" }, "clientId", "is not allowed to be empty"],
        ["a discoverUrl that is not a URI", { discoverUrl: "not a url" }, "discoverUrl", 'must match format "uri"'],
    ])("400 ValidationError for %s", async (_name, extra, field, message) => {
        const res = await post(0, enabled(extra));
        expect(res.status).toBe(400);
        expect(res.json).toEqual(errorShape("ValidationError", 400));
        expect(res.json.details).toContainEqual(expect.objectContaining({ path: field, message: expect.stringContaining(message) }));
        expect(res.text).not.toContain(SECRET);
    });

    test("a secret of the wrong type is not echoed", async () => {
        const res = await post(0, enabled({ secret: 12345678901234 }));
        expect(res.status).toBe(400);
        expect(res.text).not.toContain("12345678901234");
    });

    test("a discoverUrl that does not load: 400 Could not load discoverUrl", async () => {
        const res = await post(0, enabled({ discoverUrl: `${ready.issuer.url}/nope/.well-known/openid-configuration` }));
        expect(res.status).toBe(400);
        expect(res.json.details).toEqual([{ message: "Could not load discoverUrl", description: "Could not load discoverUrl", path: "discoverUrl" }]);
        const unreachable = await post(0, enabled({ discoverUrl: "http://127.0.0.1:1/.well-known/openid-configuration" }));
        expect(unreachable.status).toBe(400);
    });

    test("nothing was stored by the refused requests", async () => {
        expect((await get(0)).json).toEqual({});
    });
});

describe("settings", () => {
    test("POST fills Unleash's defaults, trims, drops unknown properties, and answers what it validated", async () => {
        const res = await post(0, { ...enabled({ clientId: "  unleash-client  ", secret: ` ${SECRET} ` }), notASetting: 1, emailDomains: "example.com, Example.org" });
        expect(res.status).toBe(200);
        expect(res.json).toEqual({
            enabled: true,
            discoverUrl: ready.issuer.discoveryUrl,
            clientId: "unleash-client",
            secret: SECRET,
            autoCreate: false,
            defaultRootRole: "Editor",
            enableSingleSignOut: false,
            addGroupsScope: false,
            enableGroupSyncing: false,
            emailDomains: "example.com, Example.org",
        });
    });

    test("GET returns what is stored, with the resolved defaultRootRoleId and a version", async () => {
        const res = await get(0);
        expect(res.json).toMatchObject({ enabled: true, clientId: "unleash-client", secret: SECRET, defaultRootRole: "Editor", defaultRootRoleId: 2, version: expect.stringMatching(/^[0-9a-f]{16}$/) });
        expect(res.json).not.toHaveProperty("notASetting");
    });

    test("a full replace: a later POST without a setting resets it to its default; defaultRootRoleId takes precedence", async () => {
        const current = (await get(0)).json;
        const versionBefore = current.version;
        const res = await post(0, { ...current, defaultRootRole: "Viewer", autoCreate: true, enablePkce: true, acrValues: " urn:mfa ", idTokenSigningAlgorithm: "RS512" });
        expect(res.status).toBe(200);
        let live = (await get(0)).json;
        // The stored id (2, Editor) was sent back with the body: Unleash keeps it over the role name.
        expect(live).toMatchObject({ defaultRootRole: "Viewer", defaultRootRoleId: 2, autoCreate: true, enablePkce: true, acrValues: "urn:mfa", idTokenSigningAlgorithm: "RS512" });
        expect(live.version).not.toBe(versionBefore);
        await post(0, { enabled: false, discoverUrl: ready.issuer.discoveryUrl, clientId: "unleash-client", secret: SECRET, defaultRootRole: "Admin" });
        live = (await get(0)).json;
        expect(live).toMatchObject({ enabled: false, autoCreate: false, defaultRootRole: "Admin", defaultRootRoleId: 1 });
        expect(live).not.toHaveProperty("enablePkce");
    });

    test("disabled settings need no client id or secret, and no discovery", async () => {
        const res = await post(1, { enabled: false });
        expect(res.status).toBe(200);
        expect(res.json).toMatchObject({ enabled: false, clientId: "", secret: "", discoverUrl: "" });
    });

    test("instances are independent", async () => {
        await post(2, enabled({ clientId: "third" }));
        expect((await get(2)).json.clientId).toBe("third");
        expect((await get(0)).json.clientId).toBe("unleash-client");
        expect((await get(1)).json.enabled).toBe(false);
    });

    test("the secret is encrypted at rest", async () => {
        const file = await fs.readFile(path.join(ready.dataDir, "state.json"), "utf8");
        expect(file.includes(SECRET)).toBe(false);
        expect(file.includes(Buffer.from(SECRET).toString("base64").slice(0, 24))).toBe(false);
        for (const i of ready.unleash.instances) expect(file.includes(i.adminToken)).toBe(false);
    });

    test("each instance answers /health", async () => {
        expect((await call("GET", `${inst(1).url}/health`)).json).toEqual({ health: "GOOD" });
    });
});
