/**
 * The Unleash instances of the reference backend and `GET/POST <instance>/api/admin/auth/oidc/settings`, against
 * the API documents (003, 004) and the recorded Unleash behaviour (/work/shared/real-servers): the token auth, raw
 * or after "Bearer " (401 AuthenticationRequired / UnauthorizedError, 403 PermissionError for a Viewer, a bare
 * {message} for a client token), 415 ContentTypeError, the two validation layers (400 BadDataError from the
 * OpenAPI schema with type coercion; joi's raw error echoing the body), malformed JSON, defaults, the stored
 * defaultRootRoleId and version, extraScopes, discovery of the discoverUrl (also when disabling), the secret
 * encrypted at rest and never in the request log, isolated instances.
 */
import { promises as fs } from "fs";
import * as path from "path";
import { Backend, call, Ready, start } from "./helpers";

let backend: Backend;
let ready: Ready;
const SECRET = "unleash-oidc-secret-never-in-clear-9c1d";
const logLines: string[] = [];

beforeAll(async () => {
    backend = await start({ seed: { organizations: 1, identitiesPerOrg: 1, unleashInstances: 3 }, log: (line) => logLines.push(JSON.stringify(line)) });
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
    ...(status === 401 && name === "AuthenticationRequired" ? { path: expect.any(String), type: "password", defaultHidden: false } : {}),
});

describe("authentication and authorization", () => {
    test("no Authorization header: 401 AuthenticationRequired, on GET and POST", async () => {
        for (const res of [await call("GET", settingsUrl(0)), await call("POST", settingsUrl(0), { body: enabled() })]) {
            expect(res.status).toBe(401);
            expect(res.json).toEqual(errorShape("AuthenticationRequired", 401));
            expect(res.json.message).toContain("Your request had no authorization header");
        }
    });

    test("an unknown token, another instance's token (raw or with Bearer): 401 UnauthorizedError", async () => {
        for (const token of ["*:*.not-a-token-value", inst(1).adminToken, `Bearer ${inst(1).adminToken}`]) {
            const res = await get(0, token);
            expect(res.status).toBe(401);
            expect(res.json).toEqual(errorShape("UnauthorizedError", 401));
        }
    });

    test("a client token: 403 with a bare {message}; a Viewer's PAT: 403 PermissionError with the permissions", async () => {
        for (const res of [await get(0, inst(0).clientToken), await post(0, enabled(), inst(0).clientToken)]) {
            expect(res.status).toBe(403);
            expect(res.json).toEqual({ message: "invalid token: expected a different token type for this endpoint" });
        }
        for (const res of [await get(0, inst(0).readOnlyToken), await post(0, enabled(), `Bearer ${inst(0).readOnlyToken}`)]) {
            expect(res.status).toBe(403);
            expect(res.json).toEqual({ ...errorShape("PermissionError", 403), permissions: expect.arrayContaining(["ADMIN"]) });
            expect(res.json.message).toMatch(/^You don't have the required permissions to perform this operation\. To perform this action, you need one of the following permissions: "ADMIN", /);
        }
        expect((await get(0)).json).toEqual({});
    });

    test("admin API token and an Admin's PAT are accepted, raw or after Bearer", async () => {
        for (const token of [inst(0).adminToken, inst(0).personalAccessToken, `Bearer ${inst(0).adminToken}`, `bearer ${inst(0).personalAccessToken}`]) {
            expect((await get(0, token)).status).toBe(200);
        }
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
        ["an unknown root role", { defaultRootRole: "Owner" }, "defaultRootRole", 'The `defaultRootRole` property must be equal to one of the allowed values: "Viewer", "Editor", "Admin". You provided "Owner", which is not valid. Please use one of the allowed values instead..'],
        ["an unknown signing algorithm", { idTokenSigningAlgorithm: "HS256" }, "idTokenSigningAlgorithm", 'must be equal to one of the allowed values: "RS256", "RS384", "RS512"'],
        ["a string for a boolean", { autoCreate: "yes" }, "/body/autoCreate", 'The `/body/autoCreate` property must be boolean. You sent "yes".'],
        ["enabled without a client id", { clientId: undefined }, "/body/clientId", "The `/body/clientId` property is required. It was not present on the data you sent."],
        ["enabled without a secret", { secret: undefined }, "/body/secret", "The `/body/secret` property is required"],
        ["a discoverUrl that is not a URI", { discoverUrl: "not a url" }, "/body/discoverUrl", 'The `/body/discoverUrl` property must match format "uri". You sent "not a url".'],
        ["an empty discoverUrl", { discoverUrl: "" }, "/body/discoverUrl", 'must match format "uri"'],
        ["enabled not a boolean", { enabled: "yes" }, "enabled", 'The `enabled` property must be equal to one of the allowed values: "true". You provided "yes"'],
    ])("400 BadDataError (OpenAPI schema) for %s", async (_name, extra, field, message) => {
        const res = await post(0, enabled(extra));
        expect(res.status).toBe(400);
        expect(res.json).toEqual({ id: expect.any(String), name: "BadDataError", message: expect.stringMatching(/^Request validation failed/), details: expect.any(Array) });
        expect(res.json.details).toContainEqual({ path: field, message: expect.stringContaining(message) });
    });

    test("disabling with an empty discoverUrl fails the uri format of both oneOf branches", async () => {
        const res = await post(0, { enabled: false, discoverUrl: "", clientId: "c", secret: SECRET });
        expect(res.status).toBe(400);
        expect(res.json.name).toBe("BadDataError");
        expect(res.json.details).toEqual([
            { path: "enabled", message: 'The `enabled` property must be equal to one of the allowed values: "true". You provided "false", which is not valid. Please use one of the allowed values instead..' },
            { path: "/body/discoverUrl", message: 'The `/body/discoverUrl` property must match format "uri". You sent "".' },
        ]);
    });

    test.each([
        ["emailDomains", { emailDomains: "" }, "emailDomains", "string.empty", '"emailDomains" is not allowed to be empty'],
        ["clientId", { clientId: "" }, "clientId", "string.empty", '"clientId" is not allowed to be empty'],
        ["secret", { secret: "" }, "secret", "string.empty", '"secret" is not allowed to be empty'],
        ["an empty groupJsonPath", { groupJsonPath: "" }, "groupJsonPath", "string.empty", '"groupJsonPath" is not allowed to be empty'],
        ["a groupJsonPath that is not a lookup", { groupJsonPath: "$.groups" }, "groupJsonPath", "string.pattern.base", "Group Json Path must be a valid JSON lookup"],
        ["three empty strings (joi stops at the first)", { clientId: "", secret: "", emailDomains: "" }, "clientId", "string.empty", '"clientId" is not allowed to be empty'],
    ])("400 with joi's raw error for %s: the body echoed as _original, no top-level message", async (_name, extra, key, type, message) => {
        const body = enabled(extra);
        const res = await post(0, body);
        expect(res.status).toBe(400);
        expect(Object.keys(res.json).sort()).toEqual(["_original", "details"]);
        expect(res.json._original).toEqual(body); // the secret included: what the real server sends
        expect(res.json.details).toEqual([{ message, path: [key], type, context: expect.objectContaining({ label: key, key, value: (body as Record<string, unknown>)[key] }) }]);
    });

    test("a groupJsonPath that is a JSON lookup passes", async () => {
        const res = await post(2, enabled({ groupJsonPath: "claims.groups-list", enableGroupSyncing: true }));
        expect(res.status).toBe(200);
        expect(res.json.groupJsonPath).toBe("claims.groups-list");
    });

    test("a discoverUrl that does not load: 400 BadDataError \"Could not load discoverUrl.\", also when disabling", async () => {
        const res = await post(0, enabled({ discoverUrl: `${ready.issuer.url}/nope/.well-known/openid-configuration` }));
        expect(res.status).toBe(400);
        expect(res.json).toEqual({ id: expect.any(String), name: "BadDataError", message: "Could not load discoverUrl.", details: [{ message: "Could not load discoverUrl." }] });
        const disabling = await post(0, { enabled: false, discoverUrl: "http://127.0.0.1:1/.well-known/openid-configuration" });
        expect([disabling.status, disabling.json.message]).toEqual([400, "Could not load discoverUrl."]);
    });

    test("malformed JSON: 400 with a bare {message} that does not quote the body", async () => {
        const res = await call("POST", settingsUrl(0), { authorization: inst(0).adminToken, raw: `{"secret": "${SECRET}", `, contentType: "application/json" });
        expect(res.status).toBe(400);
        expect(res.json).toEqual({ message: expect.any(String) });
        expect(res.text).not.toContain(SECRET);
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

    test("strings are coerced like Unleash's validator does: \"true\" to a boolean, \"3\" to a number, a number to a string", async () => {
        const res = await post(1, { enabled: "true", discoverUrl: ready.issuer.discoveryUrl, clientId: 42, secret: SECRET, autoCreate: "false", defaultRootRoleId: "3" });
        expect(res.status).toBe(200);
        expect(res.json).toMatchObject({ enabled: true, clientId: "42", autoCreate: false, defaultRootRoleId: 3 });
        expect((await get(1)).json).toMatchObject({ enabled: true, clientId: "42", autoCreate: false, defaultRootRoleId: 3, defaultRootRole: "Editor" });
    });

    test("extraScopes is kept (7.6.5+), unknown properties are not", async () => {
        const res = await post(1, { ...enabled(), extraScopes: "groups offline_access", somethingElse: true });
        expect(res.status).toBe(200);
        const live = (await get(1)).json;
        expect(live.extraScopes).toBe("groups offline_access");
        expect(live).not.toHaveProperty("somethingElse");
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

    test("no secret ever appears in the request log (the joi error that echoes it goes to the client only)", () => {
        const log = logLines.join("\n");
        expect(logLines.length).toBeGreaterThan(20);
        expect(log).not.toContain(SECRET);
        for (const i of ready.unleash.instances) expect(log).not.toContain(i.adminToken);
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
