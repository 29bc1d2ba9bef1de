/**
 * UnleashOidcSettings against the reference backend over real HTTP: lifecycle, secret drift (masked), unmanaged
 * settings preserved by the full-replace POST, disable on delete, replace on a new instance URL, adoption, errors.
 */
import { MASK } from "../../provider/engine/secrets";
import { assertNoLeaks, credentialsOf } from "../helpers/leak-scan";
import { SimulatedResource } from "../helpers/engine-sim";
import { Backend, configureStack, provider, Ready, rejection, resetProviderProcess, stackConfigFor, start, unleashApi } from "./support";

let backend: Backend;
let ready: Ready;
const SECRET = "unleash-oidc-secret-integration-77aa";
const OTHER_SECRET = "unleash-secret-changed-by-hand-88bb";
const produced: Record<string, unknown> = {};

function desired(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        discoverUrl: `${ready.issuer.url}/.well-known/openid-configuration`,
        clientId: "unleash-integration",
        secret: SECRET,
        autoCreate: true,
        defaultRootRole: "Viewer",
        emailDomains: "example.com, Example.org",
        enablePkce: true,
        ...extra,
    };
}

beforeAll(async () => {
    backend = await start({ seed: { organizations: 1, identitiesPerOrg: 1, unleashInstances: 3 } });
    ready = backend.ready;
    await configureStack(stackConfigFor(ready));
});
afterAll(async () => {
    assertNoLeaks(produced, { ...credentialsOf(ready), SECRET, OTHER_SECRET });
    await resetProviderProcess();
    await backend?.stop();
});

describe("UnleashOidcSettings lifecycle", () => {
    const res = new SimulatedResource(provider("UnleashOidcSettings"));
    const direct = () => unleashApi(ready.unleash.url, ready.unleash.adminToken);
    const baseUrl = () => ready.unleash.url.replace(/\/+$/, "");

    test("create enables OIDC as described; the id is the instance URL", async () => {
        expect((await direct().get()).json?.enabled ?? false).toBe(false);
        expect((await res.up(desired())).op).toBe("create");
        expect(res.id).toBe(baseUrl());
        expect(res.state).toMatchObject({ enabled: true, clientId: "unleash-integration", emailDomains: "example.com,example.org", idTokenSigningAlgorithm: "RS256", targetUrl: baseUrl() });
        expect((await direct().get()).json).toMatchObject({ enabled: true, clientId: "unleash-integration", secret: SECRET, autoCreate: true, defaultRootRole: "Viewer", enablePkce: true });
        expect(await res.refresh()).toBe("same");
        expect((await res.preview(desired({ emailDomains: ["example.org", "EXAMPLE.com"] })))?.changes).toBe(false);
    });

    test("a secret changed by hand is detected, explained masked, and put back", async () => {
        const current = (await direct().get()).json;
        expect((await direct().post({ ...current, secret: OTHER_SECRET })).status).toBe(200);
        expect(await res.refresh()).toBe("changed");
        const preview = (await res.preview(desired())) as { diffs?: string[]; details?: unknown[] };
        produced.secretDiff = preview;
        expect(preview.diffs).toEqual(["secret"]);
        expect(preview.details).toEqual([{ property: "secret", kind: "update", old: MASK, new: MASK }]);
        await res.up(desired());
        expect((await direct().get()).json.secret).toBe(SECRET);
    });

    test("settings the program leaves unset are kept by updates (the POST replaces the whole object)", async () => {
        const current = (await direct().get()).json;
        expect((await direct().post({ ...current, acrValues: "urn:mfa", groupJsonPath: "groups" })).status).toBe(200);
        expect(await res.refresh()).toBe("changed");
        expect((await res.preview(desired()))?.changes).toBe(false); // unmanaged: not drift against the program
        const up = await res.up(desired({ autoCreate: false }));
        expect(up.diffs).toEqual(["autoCreate"]);
        expect((await direct().get()).json).toMatchObject({ autoCreate: false, acrValues: "urn:mfa", groupJsonPath: "groups" });
    });

    test("disabled out of band: reads as gone; up enables it again without adoptExisting", async () => {
        const current = (await direct().get()).json;
        await direct().post({ ...current, enabled: false });
        expect(await res.refresh()).toBe("deleted");
        expect((await res.up(desired({ autoCreate: false }))).op).toBe("create");
        expect((await direct().get()).json.enabled).toBe(true);
    });

    test("another instance URL: an update that sets it up there; the old instance (other credentials) is left as it was", async () => {
        const second = ready.unleash.instances[1];
        const up = await res.up(desired({ autoCreate: false, connection: { url: second.url, apiToken: second.adminToken } }));
        expect(up).toMatchObject({ op: "update", replaces: [] });
        expect(res.state?.targetUrl).toBe(second.url.replace(/\/+$/, ""));
        expect((await unleashApi(second.url, second.adminToken).get()).json).toMatchObject({ enabled: true, clientId: "unleash-integration" });
        expect((await direct().get()).json.enabled).toBe(true); // never touched: no request went to the old URL
        expect(await res.refresh()).toBe("same"); // read on the new URL with its own credentials
    });

    test("delete disables OIDC and keeps the other settings", async () => {
        const second = ready.unleash.instances[1];
        await res.destroy();
        expect((await unleashApi(second.url, second.adminToken).get()).json).toMatchObject({ enabled: false, clientId: "unleash-integration" });
    });
});

describe("UnleashOidcSettings adoption, get and errors", () => {
    const third = () => ready.unleash.instances[2];

    test("enabled by hand: refused without adoptExisting, taken over with it", async () => {
        const inst = third();
        expect((await unleashApi(inst.url, inst.adminToken).post({ enabled: true, clientId: "by-hand", secret: "by-hand-secret-value", discoverUrl: `${ready.issuer.url}/.well-known/openid-configuration`, groupJsonPath: "roles" })).status).toBe(200);
        const res = new SimulatedResource(provider("UnleashOidcSettings"));
        const args = desired({ connection: { url: inst.url, apiToken: inst.adminToken } });
        const err = await rejection(res.up(args));
        produced.adopt = err;
        expect(err.message).toContain(`UnleashOidcSettings on ${inst.url.replace(/\/+$/, "")} already exists, is in use and differs from the desired settings (clientId, secret`);
        expect(err.message).toContain("adoptExisting: true");
        await res.up({ ...args, adoptExisting: true });
        expect((await unleashApi(inst.url, inst.adminToken).get()).json).toMatchObject({ clientId: "unleash-integration", secret: SECRET, groupJsonPath: "roles" }); // not managed: carried over
    });

    test("get(name, url) reads an instance's settings", async () => {
        const inst = third();
        const got = await SimulatedResource.get(provider("UnleashOidcSettings"), inst.url, { connection: { apiToken: inst.adminToken } });
        expect(got.id).toBe(inst.url.replace(/\/+$/, ""));
        expect(got.props).toMatchObject({ enabled: true, clientId: "unleash-integration" });
    });

    /** The credential check at preview (issue #24.5): a wrong credential fails the check, on `connection`. */
    async function checkFailure(apiToken: string): Promise<string> {
        const checked = await new SimulatedResource(provider("UnleashOidcSettings")).checkOnly(desired({ connection: { apiToken } }));
        produced[`check ${apiToken.slice(0, 4)}`] = checked.failures;
        expect(checked.failures?.map((f) => f.property)).toEqual(["connection"]);
        return checked.failures![0].reason;
    }

    test("401: an unknown token fails the preview with the hint, without echoing it", async () => {
        const reason = await checkFailure("*:*.not-a-token-value");
        expect(reason).toMatch(/Unleash API: GET \S*\/api\/admin\/auth\/oidc\/settings returned 401 Unauthorized: \S/);
        expect(reason).toContain("How to fix: the API token (from the resource's connection.apiToken) is missing or invalid");
        expect(reason).not.toContain("not-a-token-value");
    });

    test("403: a token without admin rights fails the preview, with the API's message and the permissions it names", async () => {
        const reason = await checkFailure(ready.unleash.readOnlyToken);
        expect(reason).toContain("returned 403 Forbidden: ");
        expect(reason).toContain('you need one of the following permissions: "ADMIN"'); // the permissions the API named
        expect(reason).toContain("is valid but may not manage the OIDC settings: use an admin API token or the personal access token of an Admin user");
    });

    test("400: the API's validation message when a body gets past check", async () => {
        const err = await rejection(provider("UnleashOidcSettings").create({ ...desired(), defaultRootRole: "Owner", enabled: true, adoptExisting: true }));
        produced.err400 = err;
        expect(err.status).toBe(400);
        expect(err.message).toMatch(/returned 400 Bad Request: \S/);
        expect(err.message).not.toContain(SECRET);
    });

    test("404: a URL that is not an Unleash instance", async () => {
        const err = await rejection(new SimulatedResource(provider("UnleashOidcSettings")).up(desired({ connection: { url: `${ready.unleash.url}/not-unleash` } })));
        produced.err404 = err;
        expect(err.message).toMatch(/returned 404 Not Found/);
        expect(err.message).toContain("check that unleash:url is the base URL");
    });
});
