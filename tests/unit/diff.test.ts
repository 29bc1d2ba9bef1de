/**
 * Diff tables: for each resource, what the state recorded after the API answered (olds) against what the program
 * now says (news, after check). Nothing may be reported for values the server treats the same; exactly the moved
 * fields otherwise; replaces for the key fields only (a new URL is an update: see the apply tests).
 */
import { randomBytes, scryptSync } from "crypto";
import { setStackConfig } from "../../provider/connection";
import { EngineDiffResult, ResourceEngine } from "../../provider/engine/engine";
import { outputsFrom } from "../../provider/engine/outputs";
import { MASK } from "../../provider/engine/secrets";
import { UNKNOWN } from "../../provider/engine/values";
import { identityOidcAuth, oidcSsoConfig, unleashOidcSettings } from "../../provider/resources";

const sso = new ResourceEngine(oidcSsoConfig);
const identity = new ResourceEngine(identityOidcAuth);
const unleash = new ResourceEngine(unleashOidcSettings);

const INFISICAL = "https://infisical.example.com";
const UNLEASH = "https://unleash.example.com";
const infisicalConn = { host: INFISICAL, token: "st.test-token-value" };
const unleashConn = { url: UNLEASH, apiToken: "*:*.admin-token-value" };

type Props = Record<string, unknown>;

async function checked(engine: ResourceEngine, inputs: Props): Promise<Props> {
    const res = await engine.check({}, inputs);
    expect(res.failures ?? []).toEqual([]);
    return res.inputs as Props;
}

/** The state after create, when the API answered `api`. */
async function recorded(engine: ResourceEngine, inputs: Props, api: Props, target: string): Promise<Props> {
    return engine.recordedOutputs(await checked(engine, inputs), api, target);
}

async function diffOf(engine: ResourceEngine, olds: Props, news: Props): Promise<EngineDiffResult> {
    return engine.diff("id", { ...olds, __provider: "p1" }, { ...(await checked(engine, news)), __provider: "p2" });
}

beforeEach(() => {
    for (const k of Object.keys(process.env)) if (/^(INFISICAL_|UNLEASH_|AUTH_TOKEN)/.test(k)) delete process.env[k];
    setStackConfig(undefined);
});

// ------------------------------------------------------------------------------------------------ OidcSsoConfig

const ssoInputs: Props = {
    organizationId: "org-1",
    configurationType: "discoveryURL",
    discoveryURL: "https://login.example.com/.well-known/openid-configuration",
    clientId: "infisical",
    clientSecret: "sso-client-secret-value",
    allowedEmailDomains: "b.com, A.com",
    connection: infisicalConn,
};
/** How Infisical answers GET for those inputs: nulls for unset endpoints, its own list formatting. */
const ssoApi: Props = {
    id: "cfg-1",
    orgId: "org-1",
    configurationType: "discoveryURL",
    discoveryURL: "https://login.example.com/.well-known/openid-configuration",
    issuer: null,
    authorizationEndpoint: null,
    jwksUri: null,
    tokenEndpoint: null,
    userinfoEndpoint: null,
    isActive: true,
    allowedEmailDomains: "a.com, b.com",
    manageGroupMemberships: false,
    jwtSignatureAlgorithm: "RS256",
};

describe("OidcSsoConfig diff", () => {
    let olds: Props;
    beforeAll(async () => {
        olds = await recorded(sso, ssoInputs, ssoApi, INFISICAL);
    });

    test("the recorded state: normalized API values, a hash of the secret, the target", () => {
        expect(olds).toMatchObject({ organizationId: "org-1", configId: "cfg-1", issuer: "", allowedEmailDomains: "a.com,b.com", targetUrl: INFISICAL });
        expect(olds.clientSecretHash).toMatch(/^hmac-sha256\$/);
        expect(typeof olds.hashKey).toBe("string");
        expect(olds.clientSecretHash).not.toContain("sso-client-secret-value");
    });

    test.each<[string, Props]>([
        ["unchanged", {}],
        ["comma list order, spacing and case", { allowedEmailDomains: ["a.com", "  B.COM  "] }],
        ["surrounding spaces of a URL (Infisical trims)", { discoveryURL: " https://login.example.com/.well-known/openid-configuration  " }],
        ["null vs empty string", { issuer: "", jwksUri: null }],
        ["explicit defaults", { isActive: true, manageGroupMemberships: false, jwtSignatureAlgorithm: "RS256" }],
        ["the API URL instead of the site URL", { connection: { ...infisicalConn, host: `${INFISICAL}/api/` } }],
    ])("no diff: %s", async (_name, change) => {
        const res = await diffOf(sso, olds, { ...ssoInputs, ...change });
        expect(res).toMatchObject({ changes: false, diffs: [], replaces: [] });
    });

    test.each<[string, Props, string[], string[]]>([
        ["clientId", { clientId: "infisical-2" }, ["clientId"], []],
        ["a domain added", { allowedEmailDomains: "a.com,b.com,c.com" }, ["allowedEmailDomains"], []],
        ["deactivation", { isActive: false }, ["isActive"], []],
        ["two fields", { manageGroupMemberships: true, jwtSignatureAlgorithm: "RS512" }, ["manageGroupMemberships", "jwtSignatureAlgorithm"], []],
        ["the client secret", { clientSecret: "rotated-secret-value" }, ["clientSecret"], []],
        ["a trailing slash of a URL (sent and compared as written)", { discoveryURL: "https://login.example.com/.well-known/openid-configuration/" }, ["discoveryURL"], []],
        ["organizationId", { organizationId: "org-2" }, ["organizationId"], ["organizationId"]],
        ["the host (an update: the object may be the same)", { connection: { ...infisicalConn, host: "https://eu.infisical.example.com" } }, ["targetUrl"], []],
    ])("exactly the moved fields: %s", async (_name, change, diffs, replaces) => {
        const res = await diffOf(sso, olds, { ...ssoInputs, ...change });
        expect(res.changes).toBe(true);
        expect([...res.diffs].sort()).toEqual([...diffs].sort());
        expect(res.replaces).toEqual(replaces);
    });

    test("a changed secret is explained masked", async () => {
        const res = await diffOf(sso, olds, { ...ssoInputs, clientSecret: "rotated-secret-value" });
        expect(res.details).toEqual([{ property: "clientSecret", kind: "update", old: MASK, new: MASK }]);
        expect(JSON.stringify(res)).not.toContain("rotated-secret-value");
        expect(JSON.stringify(res)).not.toContain("sso-client-secret-value");
    });

    test("rotating only the token updates the stored connection, masked, without replacing", async () => {
        const res = await diffOf(sso, olds, { ...ssoInputs, connection: { ...infisicalConn, token: "st.new-token-value" } });
        expect(res.diffs).toEqual(["connection"]);
        expect(res.replaces).toEqual([]);
        expect(JSON.stringify(res)).not.toContain("new-token-value");
    });

    test("moving the target through stack config is an update of targetUrl, never a replacement", async () => {
        const noConn = { ...ssoInputs, connection: undefined };
        setStackConfig({ get: (k) => ({ "infisical:host": INFISICAL, "infisical:token": "cfg-token-value" } as Record<string, string>)[k] });
        const base = await recorded(sso, noConn, ssoApi, INFISICAL);
        expect((await diffOf(sso, base, noConn)).diffs).toEqual([]);
        setStackConfig({ get: (k) => ({ "infisical:host": "https://other.example.com", "infisical:token": "cfg-token-value" } as Record<string, string>)[k] });
        const res = await diffOf(sso, base, noConn);
        expect(res.diffs).toEqual(["targetUrl"]);
        expect(res.replaces).toEqual([]);
    });

    test("preview unknowns: a possible change, a replace when it is an identity field", async () => {
        const a = await sso.diff("id", olds, { ...(await checked(sso, ssoInputs)), clientId: UNKNOWN });
        expect(a).toMatchObject({ changes: true, diffs: ["clientId"], replaces: [] });
        const b = await sso.diff("id", olds, { ...(await checked(sso, ssoInputs)), organizationId: UNKNOWN });
        expect(b.replaces).toEqual(["organizationId"]);
    });

    test("drift read back (refresh) shows as a diff against the program", async () => {
        const drifted = await sso.recordedOutputs(await checked(sso, ssoInputs), { ...ssoApi, allowedEmailDomains: "a.com, b.com, evil.com", isActive: false }, INFISICAL);
        const res = await diffOf(sso, drifted, ssoInputs);
        expect([...res.diffs].sort()).toEqual(["allowedEmailDomains", "isActive"]);
    });
});

// ------------------------------------------------------------------------------------------------ IdentityOidcAuth

const identityInputs: Props = {
    identityId: "id-1",
    oidcDiscoveryUrl: "https://token.actions.example.com",
    boundIssuer: "https://token.actions.example.com",
    boundAudiences: ["sts.example.com", "api://infisical"],
    boundClaims: { repository: ["acme/infra", "acme/app"], ref: "refs/heads/main" },
    accessTokenTrustedIps: ["10.1.2.3/8", { ipAddress: "192.168.1.7" }],
    accessTokenTTL: 3600,
    accessTokenMaxTTL: 7200,
    connection: infisicalConn,
};
const identityApi: Props = {
    id: "auth-1",
    identityId: "id-1",
    oidcDiscoveryUrl: "https://token.actions.example.com",
    boundIssuer: "https://token.actions.example.com",
    boundAudiences: "api://infisical, sts.example.com",
    boundClaims: { ref: "refs/heads/main", repository: "acme/app, acme/infra" },
    boundSubject: "",
    caCert: "",
    accessTokenTrustedIps: [
        { ipAddress: "192.168.1.7", type: "ipv4" },
        { ipAddress: "10.0.0.0", type: "ipv4", prefix: 8 },
    ],
    accessTokenTTL: 3600,
    accessTokenMaxTTL: 7200,
    accessTokenNumUsesLimit: 0,
    createdAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:00.000Z",
};

describe("IdentityOidcAuth diff", () => {
    let olds: Props;
    beforeAll(async () => {
        olds = await recorded(identity, identityInputs, identityApi, INFISICAL);
    });

    test("recorded: trusted IPs as canonical CIDRs, computed ids and timestamps", () => {
        expect(olds).toMatchObject({
            identityOidcAuthId: "auth-1",
            createdAt: "2026-01-01T00:00:00.000Z",
            accessTokenTrustedIps: ["10.0.0.0/8", "192.168.1.7/32"],
            boundClaims: { ref: "refs/heads/main", repository: "acme/app,acme/infra" },
        });
    });

    test.each<[string, Props]>([
        ["unchanged", {}],
        ["trusted-IP shapes", { accessTokenTrustedIps: [{ ipAddress: "192.168.1.7/32" }, "10.0.0.0/8"] }],
        ["audiences as a string in another order", { boundAudiences: "api://infisical ,sts.example.com" }],
        ["claims as strings", { boundClaims: { repository: "acme/infra, acme/app", ref: ["refs/heads/main"] } }],
        ["explicit defaults", { boundSubject: "", caCert: "", accessTokenNumUsesLimit: 0 }],
    ])("no diff: %s", async (_name, change) => {
        const res = await diffOf(identity, olds, { ...identityInputs, ...change });
        expect(res).toMatchObject({ changes: false, diffs: [], replaces: [] });
    });

    test.each<[string, Props, string[], string[]]>([
        ["TTL", { accessTokenTTL: 1800 }, ["accessTokenTTL"], []],
        ["a trusted IP added", { accessTokenTrustedIps: ["10.0.0.0/8", "192.168.1.7", "172.16.0.0/12"] }, ["accessTokenTrustedIps"], []],
        ["a claim value", { boundClaims: { repository: "acme/infra", ref: "refs/heads/main" } }, ["boundClaims"], []],
        ["subject and audiences", { boundSubject: "repo:acme/*", boundAudiences: "sts.example.com" }, ["boundSubject", "boundAudiences"], []],
        ["identityId", { identityId: "id-2" }, ["identityId"], ["identityId"]],
        ["the issuer's trailing slash (Infisical compares iss byte for byte)", { boundIssuer: "https://token.actions.example.com/" }, ["boundIssuer"], []],
        ["the discovery URL's trailing slash", { oidcDiscoveryUrl: "https://token.actions.example.com/" }, ["oidcDiscoveryUrl"], []],
    ])("exactly the moved fields: %s", async (_name, change, diffs, replaces) => {
        const res = await diffOf(identity, olds, { ...identityInputs, ...change });
        expect(res.changes).toBe(true);
        expect([...res.diffs].sort()).toEqual([...diffs].sort());
        expect(res.replaces).toEqual(replaces);
    });
});

// ------------------------------------------------------------------------------------------------ UnleashOidcSettings

const unleashInputs: Props = {
    discoverUrl: "https://login.example.com/.well-known/openid-configuration",
    clientId: "unleash",
    secret: "unleash-client-secret-value",
    autoCreate: true,
    emailDomains: "example.com, Example.org",
    acrValues: "urn:okta:loa:2fa:any phr",
    connection: unleashConn,
};
const unleashApi: Props = {
    enabled: true,
    discoverUrl: "https://login.example.com/.well-known/openid-configuration",
    clientId: "unleash",
    secret: "unleash-client-secret-value",
    autoCreate: true,
    enableSingleSignOut: false,
    defaultRootRole: "Editor",
    emailDomains: "example.com,example.org",
    acrValues: "urn:okta:loa:2fa:any  phr",
    idTokenSigningAlgorithm: "RS256",
    enableGroupSyncing: false,
    addGroupsScope: false,
    enablePkce: false,
};

describe("UnleashOidcSettings diff", () => {
    let olds: Props;
    beforeAll(async () => {
        olds = await recorded(unleash, unleashInputs, unleashApi, UNLEASH);
    });

    test("recorded: every field the API returned, the instance URL as target", () => {
        expect(olds).toMatchObject({ defaultRootRole: "Editor", secret: "unleash-client-secret-value", targetUrl: UNLEASH, emailDomains: "example.com,example.org" });
    });

    test.each<[string, Props]>([
        ["unchanged", {}],
        ["domain list formatting", { emailDomains: ["EXAMPLE.org", "example.com"] }],
        ["acr whitespace", { acrValues: ["urn:okta:loa:2fa:any", "phr"] }],
        ["a setting left unmanaged (defaultRootRole is whatever the instance has)", { defaultRootRole: undefined }],
        ["explicit defaults", { enabled: true, enablePkce: false, idTokenSigningAlgorithm: "RS256" }],
    ])("no diff: %s", async (_name, change) => {
        const res = await diffOf(unleash, olds, { ...unleashInputs, ...change });
        expect(res).toMatchObject({ changes: false, diffs: [], replaces: [] });
    });

    test("the secret changed outside Pulumi: detected, explained masked", async () => {
        const drifted = await recorded(unleash, unleashInputs, { ...unleashApi, secret: "changed-by-someone-else" }, UNLEASH);
        const res = await diffOf(unleash, drifted, unleashInputs);
        expect(res.diffs).toEqual(["secret"]);
        expect(res.details).toEqual([{ property: "secret", kind: "update", old: MASK, new: MASK }]);
        expect(JSON.stringify(res)).not.toMatch(/changed-by-someone-else|unleash-client-secret-value/);
    });

    test.each<[string, Props, string[], string[]]>([
        ["autoCreate", { autoCreate: false }, ["autoCreate"], []],
        ["root role now managed", { defaultRootRole: "Viewer" }, ["defaultRootRole"], []],
        ["the instance URL (an update)", { connection: { ...unleashConn, url: "https://unleash-2.example.com" } }, ["targetUrl"], []],
    ])("exactly the moved fields: %s", async (_name, change, diffs, replaces) => {
        const res = await diffOf(unleash, olds, { ...unleashInputs, ...change });
        expect([...res.diffs].sort()).toEqual([...diffs].sort());
        expect(res.replaces).toEqual(replaces);
    });

    test("the instance URL from the environment also counts as the target", async () => {
        process.env.UNLEASH_URL = UNLEASH;
        process.env.AUTH_TOKEN = "env-token-value";
        const noConn = { ...unleashInputs, connection: undefined };
        const base = await recorded(unleash, noConn, unleashApi, UNLEASH);
        expect((await diffOf(unleash, base, noConn)).changes).toBe(false);
        process.env.UNLEASH_URL = `${UNLEASH}/api/`;
        expect((await diffOf(unleash, base, noConn)).changes).toBe(false);
        process.env.UNLEASH_URL = "https://elsewhere.example.com";
        const moved = await diffOf(unleash, base, noConn);
        expect(moved.diffs).toEqual(["targetUrl"]);
        expect(moved.replaces).toEqual([]);
    });
});

// ------------------------------------------------------------------------------------------------ secret hashes

describe("secret hashes across reads, updates and versions", () => {
    const read = (previous: Props, live: Props) => outputsFrom(sso.model, live, previous, previous, INFISICAL, previous);

    test("a read of the unchanged secret keeps the hash and the key; a changed one gets a new hash under the same key; restoring gives the first hash back", async () => {
        const created = await recorded(sso, ssoInputs, ssoApi, INFISICAL);
        const same = await read(created, { ...ssoApi, clientSecret: "sso-client-secret-value" });
        expect(same.clientSecretHash).toBe(created.clientSecretHash);
        expect(same.hashKey).toBe(created.hashKey);

        const drifted = await read(same, { ...ssoApi, clientSecret: "changed-outside-pulumi" });
        expect(drifted.clientSecretHash).not.toBe(created.clientSecretHash);
        expect(drifted.hashKey).toBe(created.hashKey);

        const restored = await read(drifted, { ...ssoApi, clientSecret: "sso-client-secret-value" });
        expect(restored.clientSecretHash).toBe(created.clientSecretHash);
    });

    test("each resource gets its own key: the same secret hashes differently on two resources", async () => {
        const a = await recorded(sso, ssoInputs, ssoApi, INFISICAL);
        const b = await recorded(sso, ssoInputs, ssoApi, INFISICAL);
        expect(a.hashKey).not.toBe(b.hashKey);
        expect(a.clientSecretHash).not.toBe(b.clientSecretHash);
    });

    test("a state written by an earlier version (salted scrypt hash, no key) keeps its hash while the secret is unchanged, and previews no change", async () => {
        const created = await recorded(sso, ssoInputs, ssoApi, INFISICAL);
        const salt = randomBytes(16);
        const legacyHash = `scrypt$${salt.toString("base64url")}$${scryptSync("sso-client-secret-value", salt, 32, { N: 1 << 14, r: 8, p: 1, maxmem: 64 << 20 }).toString("base64url")}`;
        const legacy: Props = { ...created, clientSecretHash: legacyHash };
        delete legacy.hashKey;

        const same = await read(legacy, { ...ssoApi, clientSecret: "sso-client-secret-value" });
        expect(same.clientSecretHash).toBe(legacyHash);
        expect(same.hashKey).toBeUndefined();
        expect((await diffOf(sso, legacy, ssoInputs)).changes).toBe(false);

        // Without the recorded value (a state that lacks it), the old hash is verified the slow way.
        const withoutValue: Props = { ...legacy };
        delete withoutValue.clientSecret;
        expect((await diffOf(sso, withoutValue, ssoInputs)).diffs).toEqual([]);
        expect((await diffOf(sso, withoutValue, { ...ssoInputs, clientSecret: "rotated" })).diffs).toEqual(["clientSecret"]);

        const drifted = await read(legacy, { ...ssoApi, clientSecret: "changed-outside-pulumi" });
        expect(drifted.clientSecretHash).toMatch(/^hmac-sha256\$/);
        expect(typeof drifted.hashKey).toBe("string");
    });
});
