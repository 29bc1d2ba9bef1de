/**
 * IdentityOidcAuth against the reference backend over real HTTP: lifecycle, trusted-IP shapes, drift, revoke,
 * replace, adoption, get, error paths. Uses universal auth (client id/secret exchanged for an access token).
 */
import { universalAuthLogins } from "../../provider/connection";
import { warningsShown } from "../../provider/engine/log";
import { assertNoLeaks, credentialsOf } from "../helpers/leak-scan";
import { SimulatedResource } from "../helpers/engine-sim";
import { Backend, configureStack, infisicalApi, provider, Ready, rejection, resetProviderProcess, stackConfigFor, start } from "./support";

let backend: Backend;
let ready: Ready;
const produced: Record<string, unknown> = {};

function desired(identityId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        identityId,
        oidcDiscoveryUrl: ready.issuer.url,
        boundIssuer: ready.issuer.url,
        boundAudiences: ["sts.example.com", "https://github.com/example-org"],
        boundSubject: "repo:example-org/infra:ref:refs/heads/main",
        boundClaims: { repository: ["example-org/infra", "example-org/app"] },
        accessTokenTrustedIps: ["10.1.2.3/8", { ipAddress: "192.168.1.1" }],
        accessTokenTTL: 3600,
        accessTokenMaxTTL: 7200,
        ...extra,
    };
}

beforeAll(async () => {
    backend = await start({ seed: { organizations: 1, identitiesPerOrg: 5, unleashInstances: 1 } });
    ready = backend.ready;
    await configureStack(stackConfigFor(ready, "universal"));
});
afterAll(async () => {
    assertNoLeaks(produced, credentialsOf(ready));
    await resetProviderProcess();
    await backend?.stop();
});

describe("IdentityOidcAuth lifecycle (universal auth)", () => {
    const res = new SimulatedResource(provider("IdentityOidcAuth"));
    const id = (i: number) => ready.infisical.identityIds[i];
    const direct = () => infisicalApi(ready);

    test("create attaches OIDC auth as described; trusted IPs normalized", async () => {
        const loginsBefore = universalAuthLogins;
        expect((await res.up(desired(id(0)))).op).toBe("create");
        expect(universalAuthLogins - loginsBefore).toBe(1);
        expect(res.id).toBe(id(0));
        expect(res.state).toMatchObject({
            identityId: id(0),
            boundAudiences: "https://github.com/example-org,sts.example.com",
            boundClaims: { repository: "example-org/app,example-org/infra" },
            accessTokenTrustedIps: ["10.0.0.0/8", "192.168.1.1/32"],
            accessTokenTTL: 3600,
            accessTokenMaxTTL: 7200,
            accessTokenNumUsesLimit: 0,
        });
        expect(typeof res.state?.identityOidcAuthId).toBe("string");
        expect(typeof res.state?.createdAt).toBe("string");
        const live = await direct().getAuth(id(0));
        expect(live.status).toBe(200);
        expect(live.json.identityOidcAuth).toMatchObject({ identityId: id(0), boundSubject: "repo:example-org/infra:ref:refs/heads/main", accessTokenTTL: 3600 });
    });

    test("no diff afterwards, whatever shape the trusted IPs are written in; the access token is reused", async () => {
        const loginsBefore = universalAuthLogins;
        expect(await res.refresh()).toBe("same");
        expect((await res.preview(desired(id(0))))?.changes).toBe(false);
        const reshaped = desired(id(0), { accessTokenTrustedIps: [{ ipAddress: "192.168.1.1/32" }, "10.0.0.0/8"], boundAudiences: "sts.example.com,https://github.com/example-org" });
        expect((await res.preview(reshaped))?.changes).toBe(false);
        expect(universalAuthLogins).toBe(loginsBefore);
    });

    test("update: TTLs and trusted IPs", async () => {
        const up = await res.up(desired(id(0), { accessTokenTTL: 1800, accessTokenTrustedIps: ["10.0.0.0/8", "172.16.0.0/12"] }));
        expect(up.op).toBe("update");
        expect([...up.diffs].sort()).toEqual(["accessTokenTTL", "accessTokenTrustedIps"]);
        const live = (await direct().getAuth(id(0))).json.identityOidcAuth;
        expect(live.accessTokenTTL).toBe(1800);
        expect(res.state?.accessTokenTrustedIps).toEqual(["10.0.0.0/8", "172.16.0.0/12"]);
        expect(await res.refresh()).toBe("same");
    });

    test("out-of-band drift is seen and undone", async () => {
        const current = desired(id(0), { accessTokenTTL: 1800, accessTokenTrustedIps: ["10.0.0.0/8", "172.16.0.0/12"] });
        expect((await direct().patchAuth(id(0), { boundSubject: "repo:attacker/*", accessTokenNumUsesLimit: 5 })).status).toBe(200);
        expect(await res.refresh()).toBe("changed");
        const preview = (await res.preview(current)) as { diffs?: string[] };
        expect([...(preview.diffs ?? [])].sort()).toEqual(["accessTokenNumUsesLimit", "boundSubject"]);
        await res.up(current);
        expect((await direct().getAuth(id(0))).json.identityOidcAuth).toMatchObject({ boundSubject: "repo:example-org/infra:ref:refs/heads/main", accessTokenNumUsesLimit: 0 });
    });

    test("revoked out of band: reads as gone, and up attaches it again", async () => {
        const current = desired(id(0), { accessTokenTTL: 1800, accessTokenTrustedIps: ["10.0.0.0/8", "172.16.0.0/12"] });
        expect((await direct().deleteAuth(id(0))).status).toBe(200);
        expect(await res.refresh()).toBe("deleted");
        expect((await res.up(current)).op).toBe("create");
        expect((await direct().getAuth(id(0))).status).toBe(200);
    });

    test("replace: another identityId attaches there, then revokes the old one", async () => {
        const up = await res.up(desired(id(1), { accessTokenTTL: 1800, accessTokenTrustedIps: ["10.0.0.0/8", "172.16.0.0/12"] }));
        expect(up).toMatchObject({ op: "replace", replaces: ["identityId"] });
        expect((await direct().getAuth(id(1))).status).toBe(200);
        const old = await direct().getAuth(id(0));
        expect(old.status).not.toBe(200);
    });

    test("delete revokes it (the documented state), and a second delete is harmless", async () => {
        const state = { ...res.state };
        await res.destroy();
        const live = await direct().getAuth(id(1));
        expect(live.status).toBe(400);
        await provider("IdentityOidcAuth").delete(id(1), state);
    });
});

describe("IdentityOidcAuth adoption, get and errors", () => {
    const id = (i: number) => ready.infisical.identityIds[i];

    test("attached elsewhere: refused without adoptExisting, taken over with it", async () => {
        const attached = await infisicalApi(ready).postAuth(id(2), { oidcDiscoveryUrl: ready.issuer.url, boundIssuer: ready.issuer.url, boundClaims: {}, boundSubject: "manual" });
        expect(attached.status).toBe(200);
        const res = new SimulatedResource(provider("IdentityOidcAuth"));
        const err = await rejection(res.up(desired(id(2))));
        produced.adopt = err;
        expect(err.message).toContain(`IdentityOidcAuth for identityId ${id(2)} on ${ready.infisical.url.replace(/\/+$/, "")} already exists, is in use and differs`);
        expect(err.message).toContain("adoptExisting: true");
        await res.up(desired(id(2), { adoptExisting: true }));
        expect(res.state?.identityOidcAuthId).toBe(attached.json.identityOidcAuth.id);
        expect((await infisicalApi(ready).getAuth(id(2))).json.identityOidcAuth.boundSubject).toBe("repo:example-org/infra:ref:refs/heads/main");
    });

    test("get(name, identityId) reads it", async () => {
        const got = await SimulatedResource.get(provider("IdentityOidcAuth"), id(2));
        expect(got.id).toBe(id(2));
        expect(got.props).toMatchObject({ identityId: id(2), boundIssuer: ready.issuer.url.replace(/\/+$/, "") });
    });

    test("get of an identity without OIDC auth reads as gone", async () => {
        const got = await SimulatedResource.get(provider("IdentityOidcAuth"), id(3));
        expect(got.id).toBe("");
    });

    test("404: an identity that does not exist", async () => {
        const res = new SimulatedResource(provider("IdentityOidcAuth"));
        const err = await rejection(res.up(desired("00000000-0000-4000-8000-000000000404")));
        produced.err404 = err;
        expect(err.message).toMatch(/returned 404 Not Found: \S/);
        expect(err.message).toContain("How to fix: no machine identity with this identityId");
    });

    test("400: the API's validation message when a body gets past check", async () => {
        const err = await rejection(
            provider("IdentityOidcAuth").create({ ...desired(id(3)), accessTokenTTL: 9000, accessTokenMaxTTL: 60, accessTokenNumUsesLimit: 0, boundSubject: "", caCert: "" }),
        );
        produced.err400 = err;
        expect([400, 422]).toContain(err.status);
        expect(err.message).toMatch(/TTL/i);
        // Nothing was attached.
        expect((await infisicalApi(ready).getAuth(id(3))).status).toBe(400);
    });

    test("401: wrong universal-auth credentials say so without echoing them", async () => {
        const err = await rejection(
            new SimulatedResource(provider("IdentityOidcAuth")).up(desired(id(3), { connection: { clientId: ready.infisical.universalAuth.clientId, clientSecret: "wrong-client-secret-value" } })),
        );
        produced.err401 = err;
        expect(err.message).toContain("universal-auth/login returned 401");
        expect(err.message).toContain("universal auth login was refused");
        expect(err.message).not.toContain("wrong-client-secret-value");
    });
});

describe("issue #22: what happened to the object is said", () => {
    const id = (i: number) => ready.infisical.identityIds[i];

    test("an identical object taken over without a write is said, naming the object (a second stack would go unnoticed)", async () => {
        const attached = await infisicalApi(ready).postAuth(id(4), {
            oidcDiscoveryUrl: ready.issuer.url,
            boundIssuer: ready.issuer.url,
            boundAudiences: "sts.example.com, https://github.com/example-org",
            boundSubject: "repo:example-org/infra:ref:refs/heads/main",
            boundClaims: { repository: "example-org/infra, example-org/app" },
            accessTokenTrustedIps: [{ ipAddress: "10.0.0.0/8" }, { ipAddress: "192.168.1.1/32" }],
            accessTokenTTL: 3600,
            accessTokenMaxTTL: 7200,
        });
        expect(attached.status).toBe(200);
        const res = new SimulatedResource(provider("IdentityOidcAuth"));
        expect((await res.up(desired(id(4)))).op).toBe("create");
        expect(warningsShown()).toContainEqual(
            expect.stringMatching(new RegExp(`^IdentityOidcAuth for identityId ${id(4)} on \\S+ already existed with exactly the desired settings: taken over without a write`)),
        );
        expect(res.state?.identityOidcAuthId).toBe(attached.json.identityOidcAuth.id);

        // Someone deletes it and attaches it again between runs: a new server id. Refresh says it was replaced.
        expect((await infisicalApi(ready).deleteAuth(id(4))).status).toBe(200);
        const again = await infisicalApi(ready).postAuth(id(4), { oidcDiscoveryUrl: ready.issuer.url, boundIssuer: ready.issuer.url, boundClaims: {} });
        expect(again.status).toBe(200);
        expect(await res.refresh()).toBe("changed");
        expect(res.state?.identityOidcAuthId).toBe(again.json.identityOidcAuth.id);
        expect(warningsShown()).toContainEqual(
            expect.stringContaining(
                `IdentityOidcAuth for identityId ${id(4)} on ${ready.infisical.url.replace(/\/+$/, "")} was replaced outside Pulumi: its identityOidcAuthId changed from ${attached.json.identityOidcAuth.id} to ${again.json.identityOidcAuth.id}`,
            ),
        );
        await res.destroy();
    });
});
