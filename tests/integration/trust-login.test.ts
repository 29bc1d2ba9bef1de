/**
 * The `|` hole of issue #22.1 over real HTTP. The reference backend matches bound subjects and claims as Infisical
 * does (`value === pattern || picomatch.isMatch(value, pattern)`), so a stranger's token, minted by its built-in
 * issuer standing in for GitHub Actions or Google, logs in with these patterns: the hole is real. The provider's
 * check (what `pulumi preview` runs) refuses the same settings with the public issuer, naming the rule; with the
 * owner really pinned, the check passes and the backend refuses the stranger.
 */
import { request } from "undici";
import { Backend, configureStack, infisicalApi, provider, Ready, resetProviderProcess, stackConfigFor, start } from "./support";

let backend: Backend;
let ready: Ready;

async function mint(body: Record<string, unknown>): Promise<string> {
    const res = await request(ready.issuer.mintUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const json = (await res.body.json()) as { id_token: string };
    if (res.statusCode !== 200) throw new Error(`mint failed: ${res.statusCode}`);
    return json.id_token;
}

async function login(identityId: string, jwt: string): Promise<number> {
    const res = await request(`${ready.infisical.url}/api/v1/auth/oidc-auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ identityId, jwt }) });
    await res.body.dump();
    return res.statusCode;
}

beforeAll(async () => {
    backend = await start({ seed: { organizations: 1, identitiesPerOrg: 2, unleashInstances: 1 } });
    ready = backend.ready;
    await configureStack(stackConfigFor(ready));
    const attached = await infisicalApi(ready).postAuth(ready.infisical.identityIds[0], {
        oidcDiscoveryUrl: ready.issuer.url,
        boundIssuer: ready.issuer.url,
        boundAudiences: "sts.example.com",
        boundSubject: "repo:acme/infra:ref:refs/heads/main",
        boundClaims: {},
        accessTokenTTL: 60,
        accessTokenMaxTTL: 120,
    });
    expect(attached.status).toBe(200);
});
afterAll(async () => {
    await resetProviderProcess();
    await backend?.stop();
});

const GITHUB = "https://token.actions.githubusercontent.com";
const GOOGLE = "https://accounts.google.com";

const CASES: Array<{ what: string; issuer: string; bindings: { boundSubject: string; boundClaims: Record<string, string> }; stranger: { sub: string; claims?: Record<string, unknown> }; pinned: { boundSubject: string; boundClaims: Record<string, string> } }> = [
    {
        what: "GitHub subject main|* admits a custom subject template of any owner",
        issuer: GITHUB,
        bindings: { boundSubject: "repo:acme/infra:ref:refs/heads/main|*", boundClaims: {} },
        stranger: { sub: "repository_owner_id:999:repository_id:4242" },
        pinned: { boundSubject: "repo:acme/infra:ref:refs/heads/main", boundClaims: {} },
    },
    {
        what: "GitHub subject main|repo:*/** admits every repository",
        issuer: GITHUB,
        bindings: { boundSubject: "repo:acme/infra:ref:refs/heads/main|repo:*/**", boundClaims: {} },
        stranger: { sub: "repo:evil/anything:ref:refs/heads/main" },
        pinned: { boundSubject: "repo:acme/**", boundClaims: {} },
    },
    {
        what: "GitHub claim repository acme/infra|*/infra admits evil/infra",
        issuer: GITHUB,
        bindings: { boundSubject: "", boundClaims: { repository: "acme/infra|*/infra" } },
        stranger: { sub: "repo:evil/infra:ref:refs/heads/main", claims: { repository: "evil/infra" } },
        pinned: { boundSubject: "", boundClaims: { repository: "acme/infra" } },
    },
    {
        what: "Google claim email *@gmail.com|*@acme.com admits every Gmail user",
        issuer: GOOGLE,
        bindings: { boundSubject: "", boundClaims: { email: "*@gmail.com|*@acme.com" } },
        stranger: { sub: "104857600000000000001", claims: { email: "mallory@gmail.com" } },
        pinned: { boundSubject: "", boundClaims: { email: "*@acme.com" } },
    },
];

describe("a | in a bound subject or claim", () => {
    const id = () => ready.infisical.identityIds[0];

    test.each(CASES)("$what", async ({ issuer, bindings, stranger, pinned }) => {
        // The hole, over HTTP: the backend's issuer plays the public issuer.
        const patched = await infisicalApi(ready).patchAuth(id(), { ...bindings, boundClaims: bindings.boundClaims });
        expect(patched.status).toBe(200);
        const token = await mint({ sub: stranger.sub, aud: "sts.example.com", claims: stranger.claims ?? {} });
        expect(await login(id(), token)).toBe(200);

        // The same settings with the public issuer: the check refuses them, on the field, naming the rule.
        const settings = {
            identityId: id(),
            oidcDiscoveryUrl: issuer,
            boundIssuer: issuer,
            boundAudiences: issuer === GITHUB ? ["https://github.com/acme"] : ["sts.example.com"],
            accessTokenTrustedIps: ["10.0.0.0/8"],
            accessTokenTTL: 3600,
            accessTokenMaxTTL: 7200,
            ...bindings,
        };
        const refused = await provider("IdentityOidcAuth").check({}, settings);
        // (The finding sits on boundSubject whenever nothing pins, the claims' reasons included in its text.)
        expect(refused.failures).toEqual([{ property: "boundSubject", reason: expect.stringMatching(/^identity-public-issuer-unpinned: .*picomatch reads it as 2 alternatives/) }]);
        // Accepting the rule by id lets it through (a deliberate choice, recorded in the state).
        expect((await provider("IdentityOidcAuth").check({}, { ...settings, acceptRisks: ["identity-public-issuer-unpinned"] })).failures ?? []).toEqual([]);

        // Pinned for real: the check passes and the backend refuses the stranger.
        expect((await provider("IdentityOidcAuth").check({}, { ...settings, ...pinned })).failures ?? []).toEqual([]);
        expect((await infisicalApi(ready).patchAuth(id(), pinned)).status).toBe(200);
        expect(await login(id(), token)).not.toBe(200);
    });
});
