/**
 * Issue #11: UnleashOidcSettings against how a real Unleash Enterprise behaves (evidence:
 * /work/shared/real-servers/README.md "Unleash", unleash-enterprise-harness-vs-reference.md rows 04, 11-14, 23-25),
 * through the provider methods and the reference backend over real HTTP:
 * - empty strings are refused ("emailDomains" is not allowed to be empty), so a minimal program must still work;
 * - a stored defaultRootRoleId wins over defaultRootRole, so the role asked for must be the role users get, and a
 *   role changed behind Pulumi's back is drift on defaultRootRole;
 * - the POST replaces the whole object, so settings Pulumi does not manage (extraScopes set by hand) must survive;
 * - groupJsonPath has Unleash's pattern; every save with a discoverUrl loads the discovery document (also a disable);
 * - joi errors echo the request body (`_original`, secret included): never shown.
 */
import * as http from "http";
import type { AddressInfo } from "net";
import { unleashOidcSettings } from "../../provider/resources/unleash-oidc-settings";
import { ApiSession } from "../../provider/engine/api";
import { ResourceModel } from "../../provider/engine/model";
import { warningsShown } from "../../provider/engine/log";
import { ApiError } from "../../provider/http/errors";
import { assertNoLeaks, credentialsOf } from "../helpers/leak-scan";
import { SimulatedResource } from "../helpers/engine-sim";
import { Backend, configureStack, provider, Ready, rejection, resetProviderProcess, stackConfigFor, start, unleashApi } from "./support";

let backend: Backend;
let ready: Ready;
const SECRET = "unleash-real-server-secret-5e6f";
const JOI_SECRET = "unleash-joi-echo-secret-7a8b";
const produced: Record<string, unknown> = {};

type Instance = Ready["unleash"]["instances"][number];
const instance = (i: number): Instance => ready.unleash.instances[i];
const base = (inst: Instance) => inst.url.replace(/\/+$/, "");
const direct = (inst: Instance) => unleashApi(inst.url, inst.adminToken);

/** What a user writes at the least: the three settings Unleash needs to log anyone in. */
function minimal(inst: Instance, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        discoverUrl: `${ready.issuer.url}/.well-known/openid-configuration`,
        clientId: "unleash-real",
        secret: SECRET,
        connection: { url: inst.url, apiToken: inst.adminToken },
        ...extra,
    };
}

beforeAll(async () => {
    backend = await start({ seed: { organizations: 1, identitiesPerOrg: 1, unleashInstances: 6 } });
    ready = backend.ready;
    await configureStack(stackConfigFor(ready));
});
afterAll(async () => {
    produced.warnings = warningsShown();
    assertNoLeaks(produced, { ...credentialsOf(ready), SECRET, JOI_SECRET });
    await resetProviderProcess();
    await backend?.stop();
});

describe("issue #11: a minimal program and the root role", () => {
    const res = new SimulatedResource(provider("UnleashOidcSettings"));

    test("create with only clientId, secret and discoverUrl is accepted (no empty string is sent)", async () => {
        const inst = instance(0);
        expect((await res.up(minimal(inst))).op).toBe("create");
        const live = (await direct(inst).get()).json;
        expect(live).toMatchObject({ enabled: true, clientId: "unleash-real", secret: SECRET });
        // Unleash refuses "" for emailDomains (and clientId, secret, groupJsonPath): the provider left it out.
        expect(live.emailDomains).toBeUndefined();
        expect(await res.refresh()).toBe("same");
        expect((await res.preview(minimal(inst)))?.changes).toBe(false);
    });

    test("defaultRootRole Admin, then Viewer over the stored id: the live id is the role's (1, then 3)", async () => {
        const inst = instance(0);
        await res.up(minimal(inst, { defaultRootRole: "Admin" }));
        expect((await direct(inst).get()).json).toMatchObject({ defaultRootRole: "Admin", defaultRootRoleId: 1 });
        const up = await res.up(minimal(inst, { defaultRootRole: "Viewer" }));
        expect(up).toMatchObject({ op: "update", diffs: ["defaultRootRole"] });
        // Posting {...current, defaultRootRole: "Viewer"} would keep id 1 and users would still become Admins.
        expect((await direct(inst).get()).json).toMatchObject({ defaultRootRole: "Viewer", defaultRootRoleId: 3 });
        expect(res.state?.defaultRootRole).toBe("Viewer");
        expect(await res.refresh()).toBe("same");
    });

    test("another admin changes the role id: refresh shows it as drift on defaultRootRole; up puts Viewer back", async () => {
        const inst = instance(0);
        const current = (await direct(inst).get()).json;
        expect((await direct(inst).post({ ...current, defaultRootRole: "Editor", defaultRootRoleId: 2 })).status).toBe(200);
        expect(await res.refresh()).toBe("changed");
        expect(res.state?.defaultRootRole).toBe("Editor");
        const preview = await res.preview(minimal(inst, { defaultRootRole: "Viewer" }));
        expect(preview?.diffs).toEqual(["defaultRootRole"]);
        await res.up(minimal(inst, { defaultRootRole: "Viewer" }));
        expect((await direct(inst).get()).json.defaultRootRoleId).toBe(3);
    });

    test("another admin posts a role name over the stored id: Unleash keeps the id, so the role users get (Viewer) is no drift", async () => {
        const inst = instance(0);
        const current = (await direct(inst).get()).json;
        expect((await direct(inst).post({ ...current, defaultRootRole: "Admin" })).status).toBe(200);
        expect((await direct(inst).get()).json).toMatchObject({ defaultRootRole: "Admin", defaultRootRoleId: 3 });
        expect(await res.refresh()).toBe("same");
        expect(res.state?.defaultRootRole).toBe("Viewer");
    });
});

describe("issue #11: defaultRootRole removed from the program", () => {
    test("is cleared once: Unleash falls back to its default role (Editor, id 2), and the next preview shows no change", async () => {
        const inst = instance(0);
        const res = new SimulatedResource(provider("UnleashOidcSettings"));
        await res.up(minimal(inst, { defaultRootRole: "Viewer", adoptExisting: true }));
        expect((await direct(inst).get()).json.defaultRootRoleId).toBe(3);
        const preview = await res.preview(minimal(inst, { adoptExisting: true }));
        expect(preview?.diffs).toEqual(["defaultRootRole"]);
        await res.up(minimal(inst, { adoptExisting: true }));
        // Left out of the full-replace body, and the stored id not carried: Unleash's default applies.
        expect((await direct(inst).get()).json).toMatchObject({ defaultRootRole: "Editor", defaultRootRoleId: 2 });
        expect((await res.preview(minimal(inst, { adoptExisting: true })))?.changes).toBe(false);
    });
});

describe("issue #11: settings Pulumi does not manage, and managed extraScopes", () => {
    test("extraScopes set behind Pulumi's back survive an unrelated update and a destroy", async () => {
        const inst = instance(1);
        const res = new SimulatedResource(provider("UnleashOidcSettings"));
        await res.up(minimal(inst));
        const current = (await direct(inst).get()).json;
        expect((await direct(inst).post({ ...current, extraScopes: "offline_access groups" })).status).toBe(200);

        expect((await res.preview(minimal(inst)))?.changes).toBe(false); // not managed: not drift against the program
        const up = await res.up(minimal(inst, { autoCreate: true }));
        expect(up).toMatchObject({ op: "update", diffs: ["autoCreate"] });
        expect((await direct(inst).get()).json).toMatchObject({ autoCreate: true, extraScopes: "offline_access groups" });

        await res.destroy();
        expect((await direct(inst).get()).json).toMatchObject({ enabled: false, clientId: "unleash-real", extraScopes: "offline_access groups" });
    });

    test("extraScopes managed: sent, read back and compared with no diff", async () => {
        const inst = instance(2);
        const res = new SimulatedResource(provider("UnleashOidcSettings"));
        await res.up(minimal(inst, { extraScopes: ["offline_access", "groups"] }));
        expect((await direct(inst).get()).json.extraScopes).toBe("offline_access groups");
        expect(await res.refresh()).toBe("same");
        expect((await res.preview(minimal(inst, { extraScopes: "groups  offline_access" })))?.changes).toBe(false);
        expect((await res.preview(minimal(inst, { extraScopes: "groups" })))?.diffs).toEqual(["extraScopes"]);
    });

    test("acrValues, groupJsonPath and extraScopes removed from the program are cleared live; the next preview shows no change", async () => {
        const inst = instance(3);
        const res = new SimulatedResource(provider("UnleashOidcSettings"));
        const managed = { acrValues: "urn:mfa urn:phr", groupJsonPath: "realm_access.roles", extraScopes: "offline_access" };
        await res.up(minimal(inst, managed));
        expect((await direct(inst).get()).json).toMatchObject(managed);

        const preview = await res.preview(minimal(inst));
        expect([...(preview?.diffs ?? [])].sort()).toEqual(["acrValues", "extraScopes", "groupJsonPath"]);
        expect(preview?.replaces).toEqual([]);
        await res.up(minimal(inst));
        const live = (await direct(inst).get()).json;
        for (const field of Object.keys(managed)) expect(live[field] ?? "").toBe("");
        expect(live).toMatchObject({ enabled: true, clientId: "unleash-real" });

        expect((await res.preview(minimal(inst)))?.changes).toBe(false);
        await res.refresh();
        expect((await res.preview(minimal(inst)))?.changes).toBe(false);
    });
});

describe("issue #11: validation and the discovery document", () => {
    test('groupJsonPath "$.groups" is refused at check, naming the field, before any request', async () => {
        const inst = instance(4);
        backend.resetStats();
        const res = new SimulatedResource(provider("UnleashOidcSettings"));
        const checked = await res.checkOnly(minimal(inst, { enableGroupSyncing: true, groupJsonPath: "$.groups" }));
        expect(checked.failures).toHaveLength(1);
        expect(checked.failures?.[0].property).toBe("groupJsonPath");
        expect(checked.failures?.[0].reason).toContain('"$.groups" is refused');
        expect(backend.stats().total).toBe(0);
        // Unleash's pattern accepts a dotted path.
        expect((await res.checkOnly(minimal(inst, { enableGroupSyncing: true, groupJsonPath: "realm_access.roles" }))).failures ?? []).toEqual([]);
    });

    test("destroy while the discovery URL is unreachable disables login and warns that discoverUrl was cleared", async () => {
        const inst = instance(4);
        // A discovery document served on a port of its own, closed before the destroy.
        const discovery = http.createServer((_req, reply) => {
            reply.writeHead(200, { "content-type": "application/json" });
            reply.end(JSON.stringify({ issuer: "http://127.0.0.1/idp", jwks_uri: "http://127.0.0.1/idp/jwks" }));
        });
        await new Promise<void>((resolve) => discovery.listen(0, "127.0.0.1", resolve));
        const port = (discovery.address() as AddressInfo).port;
        const res = new SimulatedResource(provider("UnleashOidcSettings"));
        await res.up(minimal(inst, { discoverUrl: `http://127.0.0.1:${port}/.well-known/openid-configuration`, autoCreate: true }));
        expect((await direct(inst).get()).json.enabled).toBe(true);
        discovery.closeAllConnections();
        await new Promise<void>((resolve) => discovery.close(() => resolve()));

        // Unleash loads the document on every save with a discoverUrl, a disable included:
        const current = (await direct(inst).get()).json;
        const refused = await direct(inst).post({ ...current, enabled: false });
        expect(refused.status).toBe(400);
        expect(JSON.stringify(refused.json)).toContain("Could not load discoverUrl");

        await res.destroy();
        const live = (await direct(inst).get()).json;
        expect(live.enabled).toBe(false);
        expect(live.discoverUrl ?? "").toBe("");
        expect(live).toMatchObject({ clientId: "unleash-real", autoCreate: true }); // the rest stays
        expect(warningsShown().some((w) => w.includes(`UnleashOidcSettings on ${base(inst)}`) && /discoverUrl was cleared/.test(w))).toBe(true);
    });

    test("destroy while the live settings hold a value this Unleash now refuses disables login with that value cleared, and warns", async () => {
        const inst = instance(3);
        const res = new SimulatedResource(provider("UnleashOidcSettings"));
        await res.up(minimal(inst, { autoCreate: true, adoptExisting: true }));
        // Stored when an older Unleash accepted it; today's joi pattern refuses it on every save.
        const stored = backend.state().unleash.instances.find((i) => inst.url.endsWith(`/unleash/${i.index}`) || inst.url.endsWith(`/unleash/${i.index}/`));
        expect(stored?.oidcSettings).toBeTruthy();
        stored!.oidcSettings!.enableGroupSyncing = true;
        stored!.oidcSettings!.groupJsonPath = "$.groups";
        const current = (await direct(inst).get()).json;
        expect(current.groupJsonPath).toBe("$.groups");
        const refused = await direct(inst).post({ ...current, enabled: false });
        expect(refused.status).toBe(400);

        await res.destroy();
        const live = (await direct(inst).get()).json;
        expect(live.enabled).toBe(false);
        expect(live.groupJsonPath ?? "").toBe("");
        expect(live).toMatchObject({ clientId: "unleash-real", autoCreate: true, enableGroupSyncing: true }); // the rest stays
        expect(warningsShown().some((w) => w.includes(`UnleashOidcSettings on ${base(inst)}`) && /groupJsonPath cleared: this Unleash refuses the value stored there/.test(w))).toBe(true);
    });

    test("a joi refusal shows its details message, never the echoed body (secret included)", async () => {
        const inst = instance(5);
        // A value past check (an older program's state, a direct create): the provider's own path.
        const err = await rejection(provider("UnleashOidcSettings").create({ ...minimal(inst), enabled: true, groupJsonPath: "$.groups", adoptExisting: false }));
        produced.joiThroughEngine = err;
        expect(err).toBeInstanceOf(ApiError);
        expect(err.status).toBe(400);
        expect(err.message).toContain("Group Json Path must be a valid JSON lookup");
        expect(err.message).toContain("groupJsonPath");
        expect(err.message).not.toContain(SECRET);
        expect((await direct(inst).get()).json.enabled ?? false).toBe(false);

        // The HTTP layer itself, with no secret declared for redaction: the raw joi error's `_original` (the whole
        // body, secret included) is never read, so nothing has to be redacted from it.
        const session = ApiSession.forDesired(new ResourceModel(unleashOidcSettings), { connection: { url: inst.url, apiToken: inst.adminToken } });
        const raw = await direct(inst).post({ enabled: true, discoverUrl: `${ready.issuer.url}/.well-known/openid-configuration`, clientId: "c", secret: JOI_SECRET, emailDomains: "" });
        expect(raw.status).toBe(400);
        expect(JSON.stringify(raw.json._original)).toContain(JOI_SECRET); // what the server really answers
        const clientErr = await rejection(
            session.client.request({
                method: "POST",
                path: "/api/admin/auth/oidc/settings",
                body: { enabled: true, discoverUrl: `${ready.issuer.url}/.well-known/openid-configuration`, clientId: "c", secret: JOI_SECRET, emailDomains: "" },
            }),
        );
        produced.joiThroughClient = clientErr;
        expect(clientErr.message).toContain('"emailDomains" is not allowed to be empty');
        expect(clientErr.hint).toContain("emailDomains");
        expect(clientErr.message).not.toContain(JOI_SECRET);
    });
});
