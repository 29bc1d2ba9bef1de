import { setStackConfig } from "../../provider/connection";
import { ResourceEngine } from "../../provider/engine/engine";
import { UNKNOWN } from "../../provider/engine/values";
import { identityOidcAuth, oidcSsoConfig, unleashOidcSettings } from "../../provider/resources";

const sso = new ResourceEngine(oidcSsoConfig);
const identity = new ResourceEngine(identityOidcAuth);
const unleash = new ResourceEngine(unleashOidcSettings);

const infisicalConn = { host: "https://infisical.example.com", token: "st.test-token-value" };
const unleashConn = { url: "https://unleash.example.com", apiToken: "*:*.admin-token-value" };

const ssoBase = {
    organizationId: "org-1",
    configurationType: "discoveryURL",
    discoveryURL: "https://login.example.com/.well-known/openid-configuration",
    clientId: "infisical",
    clientSecret: "sso-client-secret-value",
    connection: infisicalConn,
};
const identityBase = {
    identityId: "id-1",
    oidcDiscoveryUrl: "https://token.actions.example.com",
    boundIssuer: "https://token.actions.example.com",
    connection: infisicalConn,
};
const unleashBase = {
    discoverUrl: "https://login.example.com/.well-known/openid-configuration",
    clientId: "unleash",
    secret: "unleash-client-secret-value",
    connection: unleashConn,
};

type Failure = { property: string; reason: string };
async function failures(engine: ResourceEngine, news: Record<string, unknown>): Promise<Failure[]> {
    return ((await engine.check({}, news)).failures ?? []) as Failure[];
}
function byProperty(list: Failure[], property: string): Failure | undefined {
    return list.find((f) => f.property === property);
}

const savedEnv = { ...process.env };
beforeEach(() => {
    for (const k of Object.keys(process.env)) if (/^(INFISICAL_|UNLEASH_|AUTH_TOKEN)/.test(k)) delete process.env[k];
    setStackConfig(undefined);
});
afterAll(() => {
    process.env = savedEnv;
});

describe("check: valid inputs", () => {
    test("a minimal OidcSsoConfig passes and gets the API's defaults", async () => {
        const res = await sso.check({}, { ...ssoBase, __provider: "serialized" });
        expect(res.failures ?? []).toEqual([]);
        expect(res.inputs).toMatchObject({
            isActive: true,
            allowedEmailDomains: "",
            manageGroupMemberships: false,
            jwtSignatureAlgorithm: "RS256",
            issuer: "",
            adoptExisting: false,
            verifyDiscovery: false,
        });
        expect(res.inputs).not.toHaveProperty("__provider");
    });

    test("IdentityOidcAuth gets the documented defaults", async () => {
        const res = await identity.check({}, identityBase);
        expect(res.failures ?? []).toEqual([]);
        expect(res.inputs).toMatchObject({
            accessTokenTTL: 2592000,
            accessTokenMaxTTL: 2592000,
            accessTokenNumUsesLimit: 0,
            accessTokenTrustedIps: ["0.0.0.0/0", "::/0"],
            boundAudiences: "",
            boundClaims: {},
            boundSubject: "",
            caCert: "",
        });
    });

    test("UnleashOidcSettings passes; unset optional settings stay unset (unmanaged)", async () => {
        const res = await unleash.check({}, unleashBase);
        expect(res.failures ?? []).toEqual([]);
        expect(res.inputs).toMatchObject({ enabled: true, autoCreate: false, idTokenSigningAlgorithm: "RS256" });
        expect(res.inputs).not.toHaveProperty("defaultRootRole");
        expect(res.inputs).not.toHaveProperty("acrValues");
    });

    test("null counts as absent", async () => {
        const res = await sso.check({}, { ...ssoBase, allowedEmailDomains: null, isActive: null });
        expect(res.failures ?? []).toEqual([]);
        expect(res.inputs).toMatchObject({ allowedEmailDomains: "", isActive: true });
    });
});

describe("check: failures name the property and the rule", () => {
    test("required fields", async () => {
        const list = await failures(sso, { connection: infisicalConn, configurationType: "custom" });
        for (const field of ["organizationId", "clientId", "clientSecret"]) {
            expect(byProperty(list, field)?.reason).toBe(`${field} is required`);
        }
    });

    test("enums list their values", async () => {
        const list = await failures(sso, { ...ssoBase, configurationType: "saml", jwtSignatureAlgorithm: "none" });
        expect(byProperty(list, "configurationType")?.reason).toBe('must be one of "custom", "discoveryURL"');
        expect(byProperty(list, "jwtSignatureAlgorithm")?.reason).toBe('must be one of "RS256", "HS256", "RS512", "EdDSA"');
        const u = await failures(unleash, { ...unleashBase, defaultRootRole: "Owner", idTokenSigningAlgorithm: "ES256" });
        expect(byProperty(u, "defaultRootRole")?.reason).toContain('"Viewer", "Editor", "Admin"');
        expect(byProperty(u, "idTokenSigningAlgorithm")?.reason).toContain('"RS384"');
    });

    test('configurationType "custom" requires the issuer and every endpoint', async () => {
        const list = await failures(sso, { ...ssoBase, configurationType: "custom", discoveryURL: "", issuer: "https://login.example.com" });
        expect(list.map((f) => f.property).sort()).toEqual(["authorizationEndpoint", "jwksUri", "tokenEndpoint", "userinfoEndpoint"]);
        expect(byProperty(list, "jwksUri")?.reason).toBe('jwksUri is required when configurationType is "custom"');
    });

    test('configurationType "discoveryURL" requires discoveryURL', async () => {
        const list = await failures(sso, { ...ssoBase, discoveryURL: "" });
        expect(list).toEqual([{ property: "discoveryURL", reason: 'discoveryURL is required when configurationType is "discoveryURL"' }]);
    });

    test("URLs must be absolute http(s) URLs without credentials", async () => {
        const list = await failures(sso, { ...ssoBase, discoveryURL: "login.example.com/x", tokenEndpoint: "ftp://x.example.com", jwksUri: "https://u:p@x.example.com/jwks" });
        expect(byProperty(list, "discoveryURL")?.reason).toContain("absolute URL");
        expect(byProperty(list, "tokenEndpoint")?.reason).toBe("must be an http(s) URL");
        expect(byProperty(list, "jwksUri")?.reason).toContain("must not contain credentials");
        expect(byProperty(await failures(identity, { ...identityBase, oidcDiscoveryUrl: "" }), "oidcDiscoveryUrl")?.reason).toContain("must not be empty");
    });

    test("TTL ranges and accessTokenTTL <= accessTokenMaxTTL", async () => {
        const list = await failures(identity, { ...identityBase, accessTokenTTL: -1, accessTokenMaxTTL: 315360001, accessTokenNumUsesLimit: 1.5 });
        expect(byProperty(list, "accessTokenTTL")?.reason).toBe("must be between 0 and 315360000");
        expect(byProperty(list, "accessTokenMaxTTL")?.reason).toBe("must be between 0 and 315360000");
        expect(byProperty(list, "accessTokenNumUsesLimit")?.reason).toBe("must be a whole number");
        const cross = await failures(identity, { ...identityBase, accessTokenTTL: 7200, accessTokenMaxTTL: 3600 });
        expect(cross).toEqual([{ property: "accessTokenTTL", reason: "accessTokenTTL (7200) must not be greater than accessTokenMaxTTL (3600)" }]);
        // The default max (2592000) applies when only the TTL is given.
        expect(await failures(identity, { ...identityBase, accessTokenTTL: 2592001 })).toEqual([
            { property: "accessTokenTTL", reason: "accessTokenTTL (2592001) must not be greater than accessTokenMaxTTL (2592000)" },
        ]);
        expect(await failures(identity, { ...identityBase, accessTokenTTL: 3600, accessTokenMaxTTL: 3600 })).toEqual([]);
    });

    test("trusted IPs: each entry an IP or CIDR, at least one", async () => {
        const list = await failures(identity, { ...identityBase, accessTokenTrustedIps: ["10.0.0.0/8", "10.0.0.0/33", { ipAddress: "nope" }] });
        expect(byProperty(list, "accessTokenTrustedIps[1]")?.reason).toContain('"10.0.0.0/33" is not a valid IPv4, IPv6 or CIDR block');
        expect(byProperty(list, "accessTokenTrustedIps[2]")?.reason).toContain('"nope"');
        expect(byProperty(await failures(identity, { ...identityBase, accessTokenTrustedIps: [] }), "accessTokenTrustedIps")?.reason).toContain("at least one");
    });

    test("comma lists of email domains are checked item by item", async () => {
        const list = await failures(sso, { ...ssoBase, allowedEmailDomains: "example.com, not a domain, @acme.com" });
        expect(byProperty(list, "allowedEmailDomains")?.reason).toBe('not an email domain (e.g. example.com): "not a domain", "@acme.com"');
        expect(await failures(sso, { ...ssoBase, allowedEmailDomains: ["example.com", "sub.acme.co.uk"] })).toEqual([]);
        expect(byProperty(await failures(unleash, { ...unleashBase, emailDomains: ["x"] }), "emailDomains")).toBeDefined();
    });

    test("bound claims must map names to strings or lists", async () => {
        const list = await failures(identity, { ...identityBase, boundClaims: { groups: 3 } });
        expect(list[0].property).toMatch(/^boundClaims/);
        expect(await failures(identity, { ...identityBase, boundClaims: { groups: ["a", "b"], repo: "acme/*" } })).toEqual([]);
    });

    test("caCert must be PEM", async () => {
        expect(byProperty(await failures(identity, { ...identityBase, caCert: "hello" }), "caCert")?.reason).toContain("PEM");
    });

    test("Unleash: discoverUrl is required when enabled; groupJsonPath with group syncing", async () => {
        expect(byProperty(await failures(unleash, { ...unleashBase, discoverUrl: undefined }), "discoverUrl")?.reason).toContain("required when enabled");
        expect(await failures(unleash, { ...unleashBase, discoverUrl: undefined, enabled: false })).toEqual([]);
        expect(byProperty(await failures(unleash, { ...unleashBase, enableGroupSyncing: true }), "groupJsonPath")).toBeDefined();
    });

    test("unknown properties are rejected, with a suggestion", async () => {
        const list = await failures(sso, { ...ssoBase, clientSecrett: "x", discoveryUrl: "https://x.example.com" });
        expect(byProperty(list, "clientSecrett")?.reason).toBe('unknown property of OidcSsoConfig: did you mean "clientSecret"?');
        expect(byProperty(list, "discoveryUrl")?.reason).toContain('did you mean "discoveryURL"?');
        const conn = await failures(sso, { ...ssoBase, connection: { ...infisicalConn, hots: "x" } });
        expect(byProperty(conn, "connection.hots")?.reason).toContain('did you mean "host"?');
    });

    test("wrong types are reported without echoing secret values", async () => {
        const list = await failures(sso, { ...ssoBase, clientSecret: 12345678 });
        expect(byProperty(list, "clientSecret")?.reason).toBe("must be a string");
        const u = await failures(unleash, { ...unleashBase, secret: "" });
        expect(byProperty(u, "secret")?.reason).toBe("must not be empty");
        expect(JSON.stringify(u)).not.toContain("unleash-client-secret-value");
    });
});

describe("check: connection", () => {
    test("no credentials anywhere is a failure on connection saying how to provide them", async () => {
        const list = await failures(sso, { ...ssoBase, connection: undefined });
        expect(byProperty(list, "connection")?.reason).toContain("infisical:token");
        expect(byProperty(list, "connection")?.reason).toContain("INFISICAL_TOKEN");
        const u = await failures(unleash, { ...unleashBase, connection: undefined });
        expect(byProperty(u, "connection")?.reason).toContain("unleash:url");
    });

    test("stack config and environment variables satisfy it", async () => {
        setStackConfig({ get: (k) => ({ "infisical:token": "cfg-token-value" } as Record<string, string>)[k] });
        expect(await failures(sso, { ...ssoBase, connection: undefined })).toEqual([]);
        setStackConfig(undefined);
        process.env.UNLEASH_URL = "https://unleash.example.com";
        process.env.AUTH_TOKEN = "env-token-value";
        expect(await failures(unleash, { ...unleashBase, connection: undefined })).toEqual([]);
    });

    test("a bad URL or half a universal-auth pair is reported", async () => {
        expect(byProperty(await failures(sso, { ...ssoBase, connection: { host: "app.infisical.com", token: "t-value" } }), "connection")?.reason).toContain(
            "connection.host must be an absolute URL",
        );
        const half = await failures(sso, { ...ssoBase, connection: { clientId: "abc-client" } });
        expect(byProperty(half, "connection")?.reason).toContain("clientSecret is missing");
    });
});

describe("check: preview-time unknowns pass through", () => {
    test("unknown values are not validated and are returned as unknown", async () => {
        const res = await sso.check({}, { ...ssoBase, organizationId: UNKNOWN, clientSecret: UNKNOWN });
        expect(res.failures ?? []).toEqual([]);
        expect(res.inputs?.organizationId).toBe(UNKNOWN);
        expect(res.inputs?.clientSecret).toBe(UNKNOWN);
    });

    test("cross-field rules wait for every field they read", async () => {
        // configurationType unknown: the endpoints cannot be judged yet.
        expect(await failures(sso, { ...ssoBase, configurationType: UNKNOWN, discoveryURL: "" })).toEqual([]);
        // TTL known, max unknown: no comparison.
        expect(await failures(identity, { ...identityBase, accessTokenTTL: 9999999, accessTokenMaxTTL: UNKNOWN })).toEqual([]);
    });

    test("nested unknowns (a list entry, a connection field) count as unknown", async () => {
        expect(await failures(identity, { ...identityBase, accessTokenTrustedIps: ["10.0.0.0/8", UNKNOWN] })).toEqual([]);
        expect(await failures(sso, { ...ssoBase, connection: { host: UNKNOWN, token: UNKNOWN } })).toEqual([]);
    });

    test("known invalid values are still reported next to unknown ones", async () => {
        const list = await failures(sso, { ...ssoBase, organizationId: UNKNOWN, jwtSignatureAlgorithm: "ES999" });
        expect(list.map((f) => f.property)).toEqual(["jwtSignatureAlgorithm"]);
    });
});
