/**
 * `/api/v1/auth/oidc-auth/identities/:identityId` of the reference backend against the API document (002) and
 * Infisical's current router and service: defaults, response shape, trusted IPs as `{ipAddress, type, prefix?}`,
 * list formatting, claimMetadataMapping, unknown properties dropped, TTL ranges and the TTL/max-TTL rules, the
 * service's errors for attaching twice and for OIDC auth that is not attached, the encrypted CA certificate, the
 * plan's ipAllowlisting, the URL guard on oidcDiscoveryUrl, and which access tokens a revoke revokes.
 */
import { promises as fs } from "fs";
import * as path from "path";
import { Backend, call, infisical, mint, Ready, start, universalLogin } from "./helpers";

let backend: Backend;
let ready: Ready;

beforeAll(async () => {
    backend = await start({ seed: { organizations: 1, identitiesPerOrg: 6, unleashInstances: 1 } });
    ready = backend.ready;
});
afterAll(async () => {
    await backend?.stop();
});

const id = (i: number) => ready.infisical.identityIds[i];
const api = () => infisical(ready);
const minimal = () => ({ oidcDiscoveryUrl: ready.issuer.url, boundIssuer: ready.issuer.url, boundClaims: {} });
const CA = "-----BEGIN CERTIFICATE-----\nMIIBreferencebackendtestcertificate\n-----END CERTIFICATE-----";

describe("attach", () => {
    test("the documented defaults, and the response shape", async () => {
        const res = await api().postAuth(id(0), minimal());
        expect(res.status).toBe(200);
        expect(res.json).toEqual({
            identityOidcAuth: {
                id: expect.stringMatching(/^[0-9a-f-]{36}$/),
                accessTokenTTL: 2592000,
                accessTokenMaxTTL: 2592000,
                accessTokenNumUsesLimit: 0,
                accessTokenTrustedIps: [
                    { ipAddress: "0.0.0.0", type: "ipv4", prefix: 0 },
                    { ipAddress: "::", type: "ipv6", prefix: 0 },
                ],
                identityId: id(0),
                oidcDiscoveryUrl: ready.issuer.url,
                boundIssuer: ready.issuer.url,
                boundAudiences: "",
                boundClaims: {},
                claimMetadataMapping: null,
                boundSubject: "",
                templateId: null,
                createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
                updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
                caCert: "",
            },
        });
    });

    test("lists formatted with \", \", trusted IPs kept as written with type and prefix", async () => {
        const res = await api().postAuth(id(1), {
            ...minimal(),
            boundAudiences: "sts.example.com,https://github.com/example-org ",
            boundClaims: { repository: "example-org/infra,example-org/*", ref: "refs/heads/main" },
            boundSubject: "repo:example-org/*",
            accessTokenTrustedIps: [{ ipAddress: "10.1.2.3/8" }, { ipAddress: "192.168.1.1" }, { ipAddress: "2001:db8::/32" }],
            accessTokenTTL: 3600,
            accessTokenMaxTTL: 7200,
            accessTokenNumUsesLimit: 5,
            caCert: `  ${CA}\n`,
        });
        expect(res.status).toBe(200);
        expect(res.json.identityOidcAuth).toMatchObject({
            boundAudiences: "sts.example.com, https://github.com/example-org",
            boundClaims: { repository: "example-org/infra, example-org/*", ref: "refs/heads/main" },
            accessTokenTrustedIps: [
                { ipAddress: "10.1.2.3", type: "ipv4", prefix: 8 },
                { ipAddress: "192.168.1.1", type: "ipv4" },
                { ipAddress: "2001:db8::", type: "ipv6", prefix: 32 },
            ],
            accessTokenNumUsesLimit: 5,
            caCert: CA,
        });
        expect(res.json.identityOidcAuth.accessTokenTrustedIps[1]).not.toHaveProperty("prefix");
        const file = await fs.readFile(path.join(ready.dataDir, "state.json"), "utf8");
        expect(file).not.toContain("referencebackendtestcertificate");
    });

    test("attaching twice: 400 with Infisical's message", async () => {
        const res = await api().postAuth(id(0), minimal());
        expect(res.status).toBe(400);
        expect(res.json).toEqual({ reqId: expect.any(String), statusCode: 400, message: "Failed to add OIDC Auth to already configured identity", error: "BadRequest" });
    });

    test("an unknown identity: 404", async () => {
        const unknown = "00000000-0000-4000-8000-000000000404";
        const res = await api().postAuth(unknown, minimal());
        expect(res.status).toBe(404);
        expect(res.json).toMatchObject({ statusCode: 404, message: `Failed to find identity with ID ${unknown}`, error: "NotFound" });
    });

    test.each([
        ["a TTL above ten years", { accessTokenTTL: 315360001 }, "accessTokenTTL", "too_big"],
        ["a negative max TTL", { accessTokenMaxTTL: -1 }, "accessTokenMaxTTL", "too_small"],
        ["a fractional TTL", { accessTokenTTL: 1.5 }, "accessTokenTTL", "invalid_type"],
        ["a missing boundClaims", { boundClaims: undefined }, "boundClaims", "invalid_type"],
        ["a claim that is not a string", { boundClaims: { a: 1 } }, "boundClaims.a", "invalid_type"],
        ["an empty boundIssuer", { boundIssuer: "" }, "boundIssuer", "too_small"],
        ["a discovery URL that is not a URL", { oidcDiscoveryUrl: "not a url" }, "oidcDiscoveryUrl", "invalid_format"],
        ["an empty trusted IP list", { accessTokenTrustedIps: [] }, "accessTokenTrustedIps", "too_small"],
        ["a claimMetadataMapping that is not a record of strings", { claimMetadataMapping: { team: 7 } }, "claimMetadataMapping.team", "invalid_type"],
    ])("422 for %s", async (_name, extra, field, code) => {
        const res = await api().postAuth(id(2), { ...minimal(), ...extra });
        expect(res.status).toBe(422);
        expect(res.json.error).toBe("ValidationFailure");
        expect(res.json.message.map((i: { path: unknown[]; code: string }) => [i.path.join("."), i.code])).toContainEqual([field, code]);
    });

    test("TTL above the max TTL: 422 with the router's message", async () => {
        const res = await api().postAuth(id(2), { ...minimal(), accessTokenTTL: 9000, accessTokenMaxTTL: 60 });
        expect(res.status).toBe(422);
        expect(res.json.message[0].message).toBe("Access Token TTL cannot be greater than Access Token Max TTL.");
    });

    test("an invalid trusted IP or CIDR: 400", async () => {
        for (const ipAddress of ["10.0.0.0/33", "300.1.1.1", "fe80::/129", "10.0.0.0/", "example.com"]) {
            const res = await api().postAuth(id(2), { ...minimal(), accessTokenTrustedIps: [{ ipAddress }] });
            expect({ ipAddress, status: res.status, message: res.json.message }).toEqual({ ipAddress, status: 400, message: "The IP is not a valid IPv4, IPv6, or CIDR block" });
        }
        expect((await api().getAuth(id(2))).status).toBe(400); // nothing attached
    });
});

describe("claimMetadataMapping and unknown properties", () => {
    test("created, formatted like boundClaims, read back, updated; unknown properties are dropped", async () => {
        const res = await api().postAuth(id(4), { ...minimal(), claimMetadataMapping: { team: "team.name", repo: " repository " }, boundAudience: "typo" });
        expect(res.status).toBe(200);
        expect(res.json.identityOidcAuth.claimMetadataMapping).toEqual({ team: "team.name", repo: "repository" });
        expect(res.json.identityOidcAuth).not.toHaveProperty("boundAudience");
        expect((await api().getAuth(id(4))).json.identityOidcAuth.claimMetadataMapping).toEqual({ team: "team.name", repo: "repository" });
        const patched = await api().patchAuth(id(4), { claimMetadataMapping: { environment: "env" }, unknownField: true });
        expect(patched.status).toBe(200);
        expect(patched.json.identityOidcAuth.claimMetadataMapping).toEqual({ environment: "env" });
        // A PATCH without it leaves it as it is.
        expect((await api().patchAuth(id(4), { boundSubject: "s" })).json.identityOidcAuth.claimMetadataMapping).toEqual({ environment: "env" });
    });

    test("a login copies the mapped claims into the access token; a mapped claim missing from the token refuses it", async () => {
        const login = (jwt: string) => call("POST", `${ready.infisical.url}/api/v1/auth/oidc-auth/login`, { body: { identityId: id(4), jwt } });
        const ok = await login(await mint(ready, { sub: "s", claims: { env: "production" } }));
        expect(ok.status).toBe(200);
        const payload = JSON.parse(Buffer.from(ok.json.accessToken.split(".")[1], "base64url").toString("utf8"));
        expect(payload.identityAuth).toEqual({ oidc: { claims: { environment: "production" } } });
        const missing = await login(await mint(ready, { sub: "s" }));
        expect([missing.status, missing.json.message]).toEqual([401, "Access denied: token has no env field"]);
    });
});

describe("read, update, revoke", () => {
    test("GET, PATCH and DELETE where nothing is attached: 400 with the service's messages", async () => {
        expect((await api().getAuth(id(3))).json).toMatchObject({ statusCode: 400, message: "The identity does not have OIDC Auth attached", error: "BadRequest" });
        expect((await api().patchAuth(id(3), { boundSubject: "x" })).json).toMatchObject({ statusCode: 400, message: "Failed to update OIDC Auth" });
        expect((await api().deleteAuth(id(3))).json).toMatchObject({ statusCode: 400, message: "The identity does not have OIDC auth" });
        expect((await api().getAuth("00000000-0000-4000-8000-000000000404")).status).toBe(404);
    });

    test("PATCH changes the given fields only, keeps createdAt, moves updatedAt", async () => {
        const before = (await api().getAuth(id(1))).json.identityOidcAuth;
        const res = await api().patchAuth(id(1), { boundSubject: "repo:attacker/*", accessTokenTrustedIps: [{ ipAddress: "172.16.0.0/12" }] });
        expect(res.status).toBe(200);
        const after = res.json.identityOidcAuth;
        expect(after).toMatchObject({
            id: before.id,
            boundSubject: "repo:attacker/*",
            accessTokenTrustedIps: [{ ipAddress: "172.16.0.0", type: "ipv4", prefix: 12 }],
            boundAudiences: before.boundAudiences,
            accessTokenTTL: 3600,
            caCert: CA,
            createdAt: before.createdAt,
        });
        expect(Date.parse(after.updatedAt)).toBeGreaterThanOrEqual(Date.parse(before.updatedAt));
        expect((await api().getAuth(id(1))).json.identityOidcAuth).toEqual(after);
    });

    test("PATCH TTL rules: the router's (both given) and the service's (against the stored values)", async () => {
        const both = await api().patchAuth(id(1), { accessTokenTTL: 100, accessTokenMaxTTL: 50 });
        expect(both.status).toBe(422);
        // Stored: TTL 3600, max 7200. A new max below the stored TTL is refused by the service.
        const maxOnly = await api().patchAuth(id(1), { accessTokenMaxTTL: 60 });
        expect(maxOnly.status).toBe(400);
        expect(maxOnly.json.message).toBe("Access token TTL cannot be greater than max TTL");
        const ok = await api().patchAuth(id(1), { accessTokenTTL: 1800 });
        expect(ok.json.identityOidcAuth).toMatchObject({ accessTokenTTL: 1800, accessTokenMaxTTL: 7200 });
        const caCleared = await api().patchAuth(id(1), { caCert: "" });
        expect(caCleared.json.identityOidcAuth.caCert).toBe("");
    });

    test("DELETE revokes it and answers without caCert; it can be attached again", async () => {
        const res = await api().deleteAuth(id(1));
        expect(res.status).toBe(200);
        expect(res.json.identityOidcAuth).toMatchObject({ identityId: id(1), boundSubject: "repo:attacker/*" });
        expect(res.json.identityOidcAuth).not.toHaveProperty("caCert");
        expect((await api().getAuth(id(1))).status).toBe(400);
        expect((await api().postAuth(id(1), minimal())).status).toBe(200);
    });
});

describe("which access tokens a revoke revokes (current source: revokeTokensForIdentityAuthMethod)", () => {
    test("the identity's OIDC-issued tokens stop working; its universal-auth tokens keep working", async () => {
        const automation = ready.infisical.organizations[0].automationIdentityId;
        const ua = await universalLogin(ready);
        expect(ua.status).toBe(200);
        expect((await api().postAuth(automation, minimal())).status).toBe(200);
        const oidc = await call("POST", `${ready.infisical.url}/api/v1/auth/oidc-auth/login`, { body: { identityId: automation, jwt: await mint(ready) } });
        expect(oidc.status).toBe(200);
        // Both authenticate (the automation identity is an org admin).
        expect((await infisical(ready, ua.json.accessToken).getAuth(automation)).status).toBe(200);
        expect((await infisical(ready, oidc.json.accessToken).getAuth(automation)).status).toBe(200);

        expect((await api().deleteAuth(automation)).status).toBe(200);
        const revoked = await infisical(ready, oidc.json.accessToken).getAuth(automation);
        expect([revoked.status, revoked.json.error]).toEqual([401, "UnauthorizedError"]);
        // Authenticated, and answered by the service: OIDC auth is no longer attached.
        const still = await infisical(ready, ua.json.accessToken).getAuth(automation);
        expect([still.status, still.json.message]).toEqual([400, "The identity does not have OIDC Auth attached"]);
    });
});

describe("plan without ipAllowlisting, and the URL guard on oidcDiscoveryUrl (internal IPs not allowed)", () => {
    let strict: Backend;
    let sr: Ready;
    const PUBLIC = "https://93.184.215.14";
    const PLAN = "Failed to add IP access range to access token due to plan restriction. Upgrade plan to add IP access range.";
    const sapi = () => infisical(sr);
    const sid = (i: number) => sr.infisical.identityIds[i];
    const body = (extra: Record<string, unknown> = {}) => ({ oidcDiscoveryUrl: PUBLIC, boundIssuer: PUBLIC, boundClaims: {}, ...extra });

    beforeAll(async () => {
        strict = await start({ allowInternalIpConnections: false, seed: { organizations: 1, identitiesPerOrg: 3, unleashInstances: 1, organizationSettings: [{ plan: { ipAllowlisting: false } }] } });
        sr = strict.ready;
    });
    afterAll(async () => {
        await strict?.stop();
    });

    test("only exactly 0.0.0.0/0 and ::/0 pass; the plan is checked before the IP's validity", async () => {
        for (const ipAddress of ["10.0.0.0/8", "999.1.1.1", "0.0.0.0/00", "::/000"]) {
            const res = await sapi().postAuth(sid(0), body({ accessTokenTrustedIps: [{ ipAddress: "0.0.0.0/0" }, { ipAddress }] }));
            expect({ ipAddress, status: res.status, message: res.json.message }).toEqual({ ipAddress, status: 400, message: PLAN });
        }
        const ok = await sapi().postAuth(sid(0), body({ accessTokenTrustedIps: [{ ipAddress: "0.0.0.0/0" }, { ipAddress: "::/0" }] }));
        expect(ok.status).toBe(200);
        const patch = await sapi().patchAuth(sid(0), { accessTokenTrustedIps: [{ ipAddress: "192.168.0.0/16" }] });
        expect([patch.status, patch.json.message]).toEqual([400, PLAN]);
    });

    test("a discovery URL on loopback or a private address is refused on attach and update", async () => {
        const loopback = await sapi().postAuth(sid(1), body({ oidcDiscoveryUrl: sr.issuer.url }));
        expect([loopback.status, loopback.json.message]).toEqual([400, "Local IPs not allowed as URL"]);
        expect((await sapi().getAuth(sid(1))).status).toBe(400); // nothing attached
        expect((await sapi().postAuth(sid(1), body())).status).toBe(200);
        const patch = await sapi().patchAuth(sid(1), { oidcDiscoveryUrl: "http://172.16.5.4" });
        expect([patch.status, patch.json.message]).toEqual([400, "Local IPs not allowed as URL"]);
        expect((await sapi().getAuth(sid(1))).json.identityOidcAuth.oidcDiscoveryUrl).toBe(PUBLIC);
    });

    // Today's validateAndPinUrl (backend/src/lib/validator/safe-request.ts) strips IPv6 brackets and one trailing
    // dot before its checks; an IP literal is never looked up, so these fail on the address, not on DNS.
    test.each([
        ["IPv6 loopback in brackets", "http://[::1]:8080/"],
        ["an IPv6 unique-local address", "http://[fd00::1]/"],
        ["IPv4-mapped loopback (new URL writes it as ::ffff:7f00:1)", "http://[::ffff:127.0.0.1]/"],
        ["IPv6 link-local", "https://[fe80::1]/oidc"],
        ["localhost with a trailing dot", "http://localhost./oidc"],
        ["host.docker.internal with a trailing dot", "http://host.docker.internal./"],
        ["a private IPv4 literal with a trailing dot", "http://10.0.0.1./"],
    ])("%s is refused: %s", async (_what, url) => {
        const res = await sapi().postAuth(sid(2), body({ oidcDiscoveryUrl: url }));
        expect(res.json).toEqual({ reqId: expect.any(String), statusCode: 400, message: "Local IPs not allowed as URL", error: "BadRequest" });
    });

    test("a public IPv6 literal in brackets passes without a lookup", async () => {
        const res = await sapi().postAuth(sid(2), body({ oidcDiscoveryUrl: "https://[2606:4700::1]/oidc" }));
        expect(res.status).toBe(200);
        expect(res.json.identityOidcAuth.oidcDiscoveryUrl).toBe("https://[2606:4700::1]/oidc");
    });
});
