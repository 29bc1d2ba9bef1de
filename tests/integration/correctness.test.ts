/**
 * Issue #18 reproductions, each against the reference backend over real HTTP and each failing on the old behaviour:
 * (1) a boundIssuer with a trailing slash is sent and kept exactly (Infisical compares `iss` byte for byte:
 *     backend/src/services/identity-oidc-auth/identity-oidc-auth-service.ts verifies with `issuer: boundIssuer`);
 * (2) another address of the same server is an update, never a replacement that deletes what the resource holds;
 * (3) a create over an active SSO config that differs only in its secret needs adoptExisting, and writes the secret;
 *     one owner per SSO config; (4) one owner per Unleash instance;
 * (5) refresh and delete never send stack credentials for one server to the object recorded on another;
 * (6) an unknown connection at preview is not a replacement; (7) Unleash fields removed from the program are cleared.
 */
import { resetClaims } from "../../provider/engine/claims";
import { OWNER_INPUT } from "../../provider/engine/model";

const SSO_TYPE = "pulumi-nodejs:dynamic/infisical:OidcSsoConfig";
const UNLEASH_TYPE = "pulumi-nodejs:dynamic/unleash:OidcSettings";
/** The URN the typed classes pass for a top-level resource of the program. */
const urn = (name: string, type: string) => `urn:pulumi:test::correctness::${type}::${name}`;
import { UNKNOWN } from "../../provider/engine/values";
import { assertNoLeaks, credentialsOf } from "../helpers/leak-scan";
import { SimulatedResource } from "../helpers/engine-sim";
import { api, Backend, configureStack, infisicalApi, provider, Ready, rejection, resetProviderProcess, stackConfigFor, start, unleashApi } from "./support";

let a: Backend;
let b: Backend;
let A: Ready;
let B: Ready;
const SECRET = "correctness-client-secret-2b3c";
const OTHER_SECRET = "correctness-other-secret-4d5e";
const produced: Record<string, unknown> = {};

const stripSlash = (u: string) => u.replace(/\/+$/, "");
/** The same server under another name: the backends listen on 127.0.0.1, which is what localhost resolves to here. */
const viaLocalhost = (u: string) => u.replace("://127.0.0.1:", "://localhost:");
const count = (backend: Backend, pattern: string) => backend.stats().byPattern[pattern] ?? 0;
const SSO = "/api/v1/sso/oidc/config";
const AUTH = "/api/v1/auth/oidc-auth/identities/:identityId";
const UNLEASH_SETTINGS = "/unleash/:instance/api/admin/auth/oidc/settings";

type Org = Ready["infisical"]["organizations"][number];
type Instance = Ready["unleash"]["instances"][number];

function sso(o: Org, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        organizationId: o.id,
        configurationType: "discoveryURL",
        discoveryURL: A.issuer.discoveryUrl,
        clientId: "infisical-correctness",
        clientSecret: SECRET,
        connection: { token: o.token },
        ...extra,
    };
}

function unleash(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { discoverUrl: `${A.issuer.url}/.well-known/openid-configuration`, clientId: "unleash-correctness", secret: SECRET, ...extra };
}
const unleashAt = (inst: Instance, extra: Record<string, unknown> = {}) => unleash({ connection: { url: inst.url, apiToken: inst.adminToken }, ...extra });

async function withStack<T>(config: Record<string, string>, fn: () => Promise<T>): Promise<T> {
    await configureStack(config);
    try {
        return await fn();
    } finally {
        await configureStack(stackConfigFor(A));
    }
}

beforeAll(async () => {
    a = await start({ seed: { organizations: 4, identitiesPerOrg: 3, unleashInstances: 6 } });
    b = await start({ seed: { organizations: 1, identitiesPerOrg: 1, unleashInstances: 1 } });
    A = a.ready;
    B = b.ready;
    await configureStack(stackConfigFor(A));
});
afterEach(() => resetClaims());
afterAll(async () => {
    assertNoLeaks(produced, { ...credentialsOf(A), ...credentialsOf(B), SECRET, OTHER_SECRET });
    await resetProviderProcess();
    await b?.stop();
    await a?.stop();
});

describe("#18 (1) a boundIssuer with a trailing slash", () => {
    test('is stored exactly, and a token whose iss has the slash logs in through the backend\'s login route', async () => {
        const identityId = A.infisical.identityIds[0];
        const issuerWithSlash = `${A.issuer.url}/`;
        const res = new SimulatedResource(provider("IdentityOidcAuth"));
        const args = { identityId, oidcDiscoveryUrl: A.issuer.url, boundIssuer: issuerWithSlash, boundAudiences: "reference-backend" };
        await res.up(args);
        expect((await infisicalApi(A).getAuth(identityId)).json.identityOidcAuth.boundIssuer).toBe(issuerWithSlash);
        expect(res.state?.boundIssuer).toBe(issuerWithSlash);
        expect((await res.preview(args))?.changes).toBe(false);
        expect((await res.preview({ ...args, boundIssuer: A.issuer.url }))?.diffs).toEqual(["boundIssuer"]); // another issuer to Infisical

        const login = async (iss: string) => {
            const minted = await api("POST", A.issuer.mintUrl, "", { claims: { iss }, sub: "ci-job", aud: "reference-backend" });
            return api("POST", `${A.infisical.url}/api/v1/auth/oidc-auth/login`, "", { identityId, jwt: minted.json.id_token });
        };
        const ok = await login(issuerWithSlash);
        expect(ok.status).toBe(200);
        expect(typeof ok.json.accessToken).toBe("string");
        const refused = await login(A.issuer.url); // byte for byte: without the slash it is not the bound issuer
        expect(refused.status).toBe(401);
        expect(refused.json.message).toContain("jwt issuer invalid");
    });
});

describe("#18 (2) another address of the same server", () => {
    test("SSO: an update that finds the identical object there and sends nothing; it stays active", async () => {
        const o = A.infisical.organizations[1];
        const res = new SimulatedResource(provider("OidcSsoConfig"));
        await res.up(sso(o));
        const localhost = viaLocalhost(A.infisical.url);
        await withStack({ ...stackConfigFor(A), "infisical:host": localhost }, async () => {
            a.resetStats();
            const up = await res.up(sso(o));
            expect(up).toMatchObject({ op: "update", diffs: ["targetUrl"], replaces: [] });
            expect(res.state?.targetUrl).toBe(stripSlash(localhost));
            // Read at the new address; nothing written. The preview's credential check of the new address (once per
            // process per server and credential: a static token's cheap authenticated request) is left out.
            const { ["POST /api/v1/auth/checkAuth"]: _check, ...sent } = a.stats().byRoute;
            expect(sent).toEqual({ [`GET ${SSO}`]: 1 });
            expect((await infisicalApi(A, o.token).getSso(o.id)).json.isActive).toBe(true);
            expect(await res.refresh()).toBe("same");

            // A change together with a move: only the difference is sent.
            a.resetStats();
            await res.up(sso(o, { allowedEmailDomains: "example.com" }));
            expect(count(a, `PATCH ${SSO}`)).toBe(1);
            expect(count(a, `POST ${SSO}`)).toBe(0);
            expect((await infisicalApi(A, o.token).getSso(o.id)).json).toMatchObject({ isActive: true, allowedEmailDomains: "example.com" });
        });
    });

    test("identity OIDC auth: no DELETE (which would revoke every workload's token); the auth stays", async () => {
        const identityId = A.infisical.identityIds[1];
        const res = new SimulatedResource(provider("IdentityOidcAuth"));
        const args = { identityId, oidcDiscoveryUrl: A.issuer.url, boundIssuer: A.issuer.url };
        await res.up(args);
        const before = (await infisicalApi(A).getAuth(identityId)).json.identityOidcAuth.id;
        await withStack({ ...stackConfigFor(A), "infisical:host": `${viaLocalhost(A.infisical.url)}/api` }, async () => {
            a.resetStats();
            expect(await res.up(args)).toMatchObject({ op: "update", replaces: [] });
            expect(count(a, `DELETE ${AUTH}`)).toBe(0);
            expect(count(a, `POST ${AUTH}`)).toBe(0);
        });
        expect((await infisicalApi(A).getAuth(identityId)).json.identityOidcAuth.id).toBe(before);
    });

    test("Unleash: an update that sends nothing when identical; login stays enabled", async () => {
        const res = new SimulatedResource(provider("UnleashOidcSettings"));
        await res.up(unleash());
        const localhost = viaLocalhost(A.unleash.url);
        await withStack({ ...stackConfigFor(A), "unleash:url": `${localhost}/` }, async () => {
            a.resetStats();
            expect(await res.up(unleash())).toMatchObject({ op: "update", diffs: ["targetUrl"], replaces: [] });
            expect(count(a, `POST ${UNLEASH_SETTINGS}`)).toBe(0);
            expect((await unleashApi(A.unleash.url, A.unleash.adminToken).get()).json.enabled).toBe(true);
            expect((await res.preview(unleash()))?.changes).toBe(false);
            expect(await res.refresh()).toBe("same");
            await res.destroy(); // at the address it is recorded on now
        });
        expect((await unleashApi(A.unleash.url, A.unleash.adminToken).get()).json.enabled).toBe(false);
    });

    test("Unleash on another server: set up there; the old server receives no request and keeps its settings", async () => {
        const from = A.unleash.instances[1];
        const to = B.unleash.instances[0];
        const res = new SimulatedResource(provider("UnleashOidcSettings"));
        await res.up(unleashAt(from));
        a.resetStats();
        b.resetStats();
        expect(await res.up(unleashAt(to))).toMatchObject({ op: "update", replaces: [] });
        // The only request on the old server is B's Unleash loading the discovery document from A's issuer.
        expect(Object.keys(a.stats().byPattern)).toEqual(["GET /oidc/.well-known/openid-configuration"]);
        expect((await unleashApi(to.url, to.adminToken).get()).json).toMatchObject({ enabled: true, clientId: "unleash-correctness", secret: SECRET });
        expect((await unleashApi(from.url, from.adminToken).get()).json.enabled).toBe(true);
    });

    test("Unleash moved onto an instance whose login another team set up: refused without adoptExisting, never overwritten", async () => {
        const from = A.unleash.instances[2];
        const to = A.unleash.instances[3];
        const theirs = { enabled: true, discoverUrl: `${A.issuer.url}/.well-known/openid-configuration`, clientId: "their-app", secret: OTHER_SECRET };
        expect((await unleashApi(to.url, to.adminToken).post(theirs)).status).toBe(200);
        const res = new SimulatedResource(provider("UnleashOidcSettings"));
        await res.up(unleashAt(from));
        const err = await rejection(res.up(unleashAt(to)));
        produced.movedOntoTheirs = err;
        expect(err.message).toContain("already exists, is in use and differs from the desired settings (clientId, secret)");
        expect((await unleashApi(to.url, to.adminToken).get()).json).toMatchObject({ clientId: "their-app", secret: OTHER_SECRET });
        expect((await res.up(unleashAt(to, { adoptExisting: true }))).op).toBe("update");
        expect((await unleashApi(to.url, to.adminToken).get()).json).toMatchObject({ clientId: "unleash-correctness", secret: SECRET });
    });
});

describe("#18 (3) one SSO configuration per organization", () => {
    test("an active config with the same settings but another secret: refused without adoptExisting; with it the secret is written", async () => {
        const o = A.infisical.organizations[2];
        const byHand = await infisicalApi(A, o.token).postSso({
            organizationId: o.id,
            configurationType: "discoveryURL",
            discoveryURL: A.issuer.discoveryUrl,
            clientId: "infisical-correctness",
            clientSecret: OTHER_SECRET,
            isActive: true,
        });
        expect(byHand.status).toBe(200);
        const res = new SimulatedResource(provider("OidcSsoConfig"));
        const err = await rejection(res.up(sso(o)));
        produced.differingSecret = err;
        expect(err.message).toContain(`OidcSsoConfig for organizationId ${o.id} on ${stripSlash(A.infisical.url)} already exists, is in use and differs from the desired settings (clientSecret)`);
        expect(err.message).toContain("adoptExisting: true");
        expect((await infisicalApi(A, o.token).getSso(o.id)).json.clientSecret).toBe(OTHER_SECRET); // nothing written

        expect((await res.up(sso(o, { adoptExisting: true }))).op).toBe("create");
        expect((await infisicalApi(A, o.token).getSso(o.id)).json).toMatchObject({ isActive: true, clientSecret: SECRET });
    });

    test("an identical active config (secret included) is taken over without adoptExisting and without a write", async () => {
        const o = A.infisical.organizations[3];
        await infisicalApi(A, o.token).postSso({ organizationId: o.id, configurationType: "discoveryURL", discoveryURL: A.issuer.discoveryUrl, clientId: "infisical-correctness", clientSecret: SECRET, isActive: true });
        a.resetStats();
        expect((await new SimulatedResource(provider("OidcSsoConfig")).up(sso(o))).op).toBe("create");
        expect(count(a, `PATCH ${SSO}`)).toBe(0);
    });

    test("two OidcSsoConfig resources for one organization: the second is refused at check, and at create when its key was unknown", async () => {
        const o = A.infisical.organizations[3];
        const first = new SimulatedResource(provider("OidcSsoConfig"));
        await first.up(sso(o, { [OWNER_INPUT]: urn("sso-main", SSO_TYPE) }));
        const second = new SimulatedResource(provider("OidcSsoConfig"));
        const checked = await second.checkOnly(sso(o, { [OWNER_INPUT]: urn("sso-copy", SSO_TYPE), clientId: "another-client" }));
        expect(checked.failures).toHaveLength(1);
        expect(checked.failures?.[0].property).toBe("organizationId");
        expect(checked.failures?.[0].reason).toContain(`resources "sso-main" (${SSO_TYPE}) and "sso-copy" (${SSO_TYPE}) both manage OidcSsoConfig for organizationId`);

        // organizationId from another resource's output: unknown at preview, so only create can tell.
        expect((await second.checkOnly(sso(o, { [OWNER_INPUT]: urn("sso-copy", SSO_TYPE), organizationId: UNKNOWN }))).failures ?? []).toEqual([]);
        a.resetStats();
        const err = await rejection(provider("OidcSsoConfig").create({ ...(await first.checked(sso(o))), [OWNER_INPUT]: urn("sso-copy", SSO_TYPE), clientId: "another-client" }));
        produced.ownerAtCreate = err;
        expect(err.message).toContain(`resources "sso-main" (${SSO_TYPE}) and "sso-copy" (${SSO_TYPE}) both manage`);
        expect(a.stats().total).toBe(0);
        expect((await infisicalApi(A, o.token).getSso(o.id)).json.clientId).toBe("infisical-correctness");
    });
});

describe("#18 (4) one UnleashOidcSettings per instance", () => {
    test("a second resource on the same instance is refused", async () => {
        const inst = A.unleash.instances[2];
        await new SimulatedResource(provider("UnleashOidcSettings")).up(unleashAt(inst, { [OWNER_INPUT]: urn("unleash-main", UNLEASH_TYPE) }));
        const checked = await new SimulatedResource(provider("UnleashOidcSettings")).checkOnly(unleashAt(inst, { [OWNER_INPUT]: urn("unleash-copy", UNLEASH_TYPE), autoCreate: true }));
        expect(checked.failures).toHaveLength(1);
        expect(checked.failures?.[0].property).toBe("connection");
        expect(checked.failures?.[0].reason).toContain(`resources "unleash-main" (${UNLEASH_TYPE}) and "unleash-copy" (${UNLEASH_TYPE}) both manage UnleashOidcSettings on ${stripSlash(inst.url)}`);
        // Another instance is another object.
        expect((await new SimulatedResource(provider("UnleashOidcSettings")).checkOnly(unleashAt(A.unleash.instances[3], { [OWNER_INPUT]: urn("unleash-copy", UNLEASH_TYPE) }))).failures ?? []).toEqual([]);
    });
});

describe("#18 (5) stack credentials for another server", () => {
    test("SSO: refresh and delete send no request anywhere and say what to set", async () => {
        const o = A.infisical.organizations[0];
        const res = new SimulatedResource(provider("OidcSsoConfig"));
        await res.up({ ...sso(o), connection: undefined }); // host and token from the stack
        await withStack(stackConfigFor(B), async () => {
            a.resetStats();
            b.resetStats();
            for (const step of [() => res.refresh(), () => res.destroy()]) {
                const err = await rejection(step());
                produced[`sso-${a.stats().total}-${b.stats().total}`] = err;
                expect(err.message).toContain(`OidcSsoConfig is recorded on ${stripSlash(A.infisical.url)}, but the credentials configured now are for ${stripSlash(B.infisical.url)}`);
                expect(err.message).toContain("stack config infisical:host");
            }
            expect(b.stats().total).toBe(0);
            expect(a.stats().total).toBe(0);
        });
        await res.destroy(); // with the right stack again
        expect((await infisicalApi(A, o.token).getSso(o.id)).json.isActive).toBe(false);
    });

    test("Unleash: refresh and delete send no request anywhere and name unleash:url", async () => {
        const inst = A.unleash.instances[3];
        const stackA = { ...stackConfigFor(A), "unleash:url": inst.url, "unleash:apiToken": inst.adminToken };
        const res = new SimulatedResource(provider("UnleashOidcSettings"));
        await withStack(stackA, () => res.up(unleash()));
        await withStack(stackConfigFor(B), async () => {
            a.resetStats();
            b.resetStats();
            for (const step of [() => res.refresh(), () => res.destroy()]) {
                const err = await rejection(step());
                produced.unleashOther = err;
                expect(err.message).toContain(`UnleashOidcSettings is recorded on ${stripSlash(inst.url)}`);
                expect(err.message).toContain("stack config unleash:url");
            }
            expect(b.stats().total).toBe(0);
            expect(a.stats().total).toBe(0);
        });
        expect((await unleashApi(inst.url, inst.adminToken).get()).json.enabled).toBe(true);
    });

    test("credentials in the resource's own connection (no URL) belong to the recorded object: refresh reads it there", async () => {
        const identityId = A.infisical.identityIds[2];
        const res = new SimulatedResource(provider("IdentityOidcAuth"));
        await res.up({ identityId, oidcDiscoveryUrl: A.issuer.url, boundIssuer: A.issuer.url, connection: { token: A.infisical.token } });
        await withStack(stackConfigFor(B), async () => {
            a.resetStats();
            b.resetStats();
            expect(await res.refresh()).toBe("same");
            expect(count(a, `GET ${AUTH}`)).toBe(1);
            expect(b.stats().total).toBe(0);
        });
    });
});

describe("#18 (6) an unknown connection at preview", () => {
    test("is an update at most, never a replacement (SSO, identity, Unleash)", async () => {
        const o = A.infisical.organizations[1];
        const ssoRes = new SimulatedResource(provider("OidcSsoConfig"));
        // Recorded state of the SSO config set up in (2) (taken over: identical).
        await withStack({ ...stackConfigFor(A), "infisical:host": viaLocalhost(A.infisical.url) }, () => ssoRes.up(sso(o, { allowedEmailDomains: "example.com" })));
        const identityRes = new SimulatedResource(provider("IdentityOidcAuth"));
        await identityRes.up({ identityId: A.infisical.identityIds[1], oidcDiscoveryUrl: A.issuer.url, boundIssuer: A.issuer.url });
        const unleashRes = new SimulatedResource(provider("UnleashOidcSettings"));
        await unleashRes.up(unleashAt(A.unleash.instances[4]));

        const previews = [
            await ssoRes.preview(sso(o, { allowedEmailDomains: "example.com", connection: UNKNOWN })),
            await ssoRes.preview(sso(o, { allowedEmailDomains: "example.com", connection: { host: UNKNOWN, token: o.token } })),
            await identityRes.preview({ identityId: A.infisical.identityIds[1], oidcDiscoveryUrl: A.issuer.url, boundIssuer: A.issuer.url, connection: UNKNOWN }),
            await unleashRes.preview(unleash({ connection: UNKNOWN })),
            await unleashRes.preview(unleash({ connection: { url: UNKNOWN, apiToken: A.unleash.instances[4].adminToken } })),
        ];
        produced.unknownPreviews = previews;
        for (const p of previews) {
            expect(p?.replaces).toEqual([]);
            expect(p?.diffs).toEqual(["connection"]);
        }
    });
});

describe("#18 (7) Unleash fields removed from the program", () => {
    test("acrValues and groupJsonPath are cleared live, once", async () => {
        const inst = A.unleash.instances[5];
        const res = new SimulatedResource(provider("UnleashOidcSettings"));
        await res.up(unleashAt(inst, { acrValues: ["urn:mfa"], enableGroupSyncing: true, groupJsonPath: "groups" }));
        expect((await unleashApi(inst.url, inst.adminToken).get()).json).toMatchObject({ acrValues: "urn:mfa", groupJsonPath: "groups", enableGroupSyncing: true });

        const up = await res.up(unleashAt(inst));
        expect([...up.diffs].sort()).toEqual(["acrValues", "enableGroupSyncing", "groupJsonPath"]);
        const live = (await unleashApi(inst.url, inst.adminToken).get()).json;
        expect(live.acrValues ?? "").toBe("");
        expect(live.groupJsonPath ?? "").toBe("");
        expect(live.enableGroupSyncing).toBe(false);
        expect((await res.up(unleashAt(inst))).op).toBe("same");
    });
});
