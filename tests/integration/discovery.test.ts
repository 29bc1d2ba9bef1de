/**
 * The opt-in preview-time discovery check (`verifyDiscovery: true`) against the backend's built-in OIDC issuer:
 * issuer announced, JWKS reachable, a key usable for the chosen algorithm (imported with jose).
 */
import { UNKNOWN } from "../../provider/engine/values";
import { api, Backend, configureStack, provider, Ready, resetProviderProcess, stackConfigFor, start } from "./support";

let backend: Backend;
let ready: Ready;

beforeAll(async () => {
    backend = await start({ seed: { organizations: 1, identitiesPerOrg: 1, unleashInstances: 1 } });
    ready = backend.ready;
    await configureStack(stackConfigFor(ready));
});
afterAll(async () => {
    await resetProviderProcess();
    await backend?.stop();
});

type Failure = { property: string; reason: string };
async function failures(kind: "OidcSsoConfig" | "IdentityOidcAuth" | "UnleashOidcSettings", news: Record<string, unknown>): Promise<Failure[]> {
    return ((await provider(kind).check({}, news)).failures ?? []) as Failure[];
}

const sso = (extra: Record<string, unknown> = {}) => ({
    organizationId: ready.infisical.organizationId,
    configurationType: "discoveryURL",
    discoveryURL: ready.issuer.discoveryUrl,
    clientId: "discovery",
    clientSecret: "discovery-client-secret",
    verifyDiscovery: true,
    ...extra,
});

test("a working identity provider passes, for each resource", async () => {
    expect(await failures("OidcSsoConfig", sso())).toEqual([]);
    expect(await failures("OidcSsoConfig", sso({ discoveryURL: ready.issuer.url }))).toEqual([]); // the issuer works too
    expect(await failures("IdentityOidcAuth", { identityId: ready.infisical.identityIds[0], oidcDiscoveryUrl: ready.issuer.url, boundIssuer: ready.issuer.url, verifyDiscovery: true })).toEqual([]);
    expect(await failures("UnleashOidcSettings", { discoverUrl: ready.issuer.discoveryUrl, clientId: "u", secret: "discovery-unleash-secret", verifyDiscovery: true })).toEqual([]);
});

test("a custom configuration checks its JWKS directly", async () => {
    const custom = sso({
        configurationType: "custom",
        discoveryURL: "",
        issuer: ready.issuer.url,
        authorizationEndpoint: `${ready.issuer.url}/authorize`,
        tokenEndpoint: `${ready.issuer.url}/token`,
        userinfoEndpoint: `${ready.issuer.url}/userinfo`,
        jwksUri: ready.issuer.jwksUri,
    });
    expect(await failures("OidcSsoConfig", custom)).toEqual([]);
    const broken = await failures("OidcSsoConfig", { ...custom, jwksUri: `${ready.issuer.url}/no-such-jwks` });
    expect(broken).toHaveLength(1);
    expect(broken[0].property).toBe("jwksUri");
    expect(broken[0].reason).toMatch(/^discovery check: the JWKS \S+ answered 404/);
});

test("an issuer mismatch is reported on boundIssuer", async () => {
    const list = await failures("IdentityOidcAuth", {
        identityId: ready.infisical.identityIds[0],
        oidcDiscoveryUrl: ready.issuer.url,
        boundIssuer: "https://someone-else.example.com",
        verifyDiscovery: true,
    });
    expect(list).toHaveLength(1);
    expect(list[0].property).toBe("boundIssuer");
    expect(list[0].reason).toContain(`announces issuer "${ready.issuer.url}" and boundIssuer is "https://someone-else.example.com"`);
});

test("a boundIssuer that differs from the announced issuer only by a trailing slash is refused: the server compares byte for byte", async () => {
    const identityId = ready.infisical.identityIds[0];
    const settings = { identityId, oidcDiscoveryUrl: ready.issuer.url, boundIssuer: `${ready.issuer.url}/` };
    const list = await failures("IdentityOidcAuth", { ...settings, verifyDiscovery: true });
    expect(list).toHaveLength(1);
    expect(list[0].property).toBe("boundIssuer");
    // Both values are named, and the one to use.
    expect(list[0].reason).toContain(`announces issuer "${ready.issuer.url}" and boundIssuer is "${ready.issuer.url}/"`);
    expect(list[0].reason).toContain(`set boundIssuer to "${ready.issuer.url}"`);

    // What the check prevents: with that boundIssuer, every login is refused by the server.
    const base = ready.infisical.url;
    const auth = `Bearer ${ready.infisical.token}`;
    expect((await api("POST", `${base}/api/v1/auth/oidc-auth/identities/${identityId}`, auth, { oidcDiscoveryUrl: settings.oidcDiscoveryUrl, boundIssuer: settings.boundIssuer, boundClaims: {} })).status).toBe(200);
    try {
        const minted = await api("POST", `${ready.issuer.url}/mint`, "", { sub: "anyone" });
        const login = await api("POST", `${base}/api/v1/auth/oidc-auth/login`, "", { identityId, jwt: minted.json.id_token });
        expect(login.status).toBe(401);
        expect(JSON.stringify(login.json)).toContain("jwt issuer invalid");
    } finally {
        await api("DELETE", `${base}/api/v1/auth/oidc-auth/identities/${identityId}`, auth);
    }
});

test("no key for the chosen algorithm is reported (an RSA JWKS cannot verify EdDSA)", async () => {
    const list = await failures("OidcSsoConfig", sso({ jwtSignatureAlgorithm: "EdDSA" }));
    expect(list).toHaveLength(1);
    expect(list[0].property).toBe("discoveryURL");
    expect(list[0].reason).toMatch(/offers no key for EdDSA \(keys: RSA/);
    // HS256 signs with the client secret: no published key is needed.
    expect(await failures("OidcSsoConfig", sso({ jwtSignatureAlgorithm: "HS256" }))).toEqual([]);
});

test("an unreachable or wrong discovery URL is reported", async () => {
    const gone = await failures("OidcSsoConfig", sso({ discoveryURL: "http://127.0.0.1:1/.well-known/openid-configuration" }));
    expect(gone[0]).toMatchObject({ property: "discoveryURL" });
    expect(gone[0].reason).toContain("is unreachable (ECONNREFUSED)");
    const notFound = await failures("UnleashOidcSettings", { discoverUrl: `${ready.issuer.url}/nope/.well-known/openid-configuration`, clientId: "u", secret: "discovery-unleash-secret", verifyDiscovery: true });
    expect(notFound[0].reason).toMatch(/answered 404/);
});

test("off by default, and skipped while the URL is unknown at preview", async () => {
    expect(await failures("OidcSsoConfig", sso({ verifyDiscovery: undefined, discoveryURL: "http://127.0.0.1:1/x" }))).toEqual([]);
    expect(await failures("OidcSsoConfig", sso({ discoveryURL: UNKNOWN }))).toEqual([]);
});
