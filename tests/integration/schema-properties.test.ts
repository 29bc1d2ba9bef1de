/**
 * Properties over each resource's schema (fast-check), against the reference backend over real HTTP:
 * - every generated valid input round-trips: create, then a read (refresh) changes nothing, and the same input
 *   written differently (order, case, spacing of lists) previews as no change. Values the server rewrites (trims,
 *   ", "-joins) are generated with the spaces and commas it rewrites;
 * - a run killed after the API applied the create leaves an object that the next run takes over as its own (no
 *   `adoptExisting`, no "differs" refusal), whatever spelling that run uses;
 * - every generated input with one field broken is rejected at check, with a failure on that field.
 */
import fc from "fast-check";
import { SimulatedResource } from "../helpers/engine-sim";
import { assertNoLeaks, credentialsOf } from "../helpers/leak-scan";
import { Backend, configureStack, provider, Ready, resetProviderProcess, stackConfigFor, start } from "./support";

let backend: Backend;
let ready: Ready;
const produced: Record<string, unknown> = {};

beforeAll(async () => {
    backend = await start({ seed: { organizations: 1, identitiesPerOrg: 1, unleashInstances: 1 } });
    ready = backend.ready;
    await configureStack(stackConfigFor(ready));
});
afterAll(async () => {
    assertNoLeaks(produced, credentialsOf(ready));
    await resetProviderProcess();
    await backend?.stop();
});

const RUNS = { numRuns: 12 };

// ------------------------------------------------------------------------------------------------ generators

const label = fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/);
const domain = fc.tuple(label, fc.constantFrom("com", "org", "io")).map(([a, b]) => `${a}.${b}`);
const httpsUrl = fc.tuple(label, fc.array(label, { maxLength: 2 })).map(([host, path]) => `https://${host}.example.com/${path.join("/")}`);
const secret = fc.stringMatching(/^[A-Za-z0-9_-]{12,40}$/);
const text = fc.stringMatching(/^[A-Za-z0-9:/._-]{1,30}$/);
const pad = fc.constantFrom("", " ", "  ");
/** Text as a user may write it where the server trims it. */
const padded = fc.tuple(pad, text, pad).map(([a, t, b]) => `${a}${t}${b}`);
/** A comma list with the spacing the server rewrites (Infisical splits at ",", trims, joins with ", "). */
const spacedList = fc.tuple(fc.array(padded, { minLength: 1, maxLength: 3 }), pad).map(([parts, p]) => parts.join(`${p},`));

/** A list written as the user may write it: an array, or a comma string with random spacing and case. */
function writtenList(items: string[], style: { asArray: boolean; upper: boolean; pad: string }): string | string[] {
    const cased = style.upper ? items.map((i) => i.toUpperCase()) : items;
    return style.asArray ? [...cased].reverse() : cased.join(`${style.pad},${style.pad}`);
}
const listStyle = fc.record({ asArray: fc.boolean(), upper: fc.boolean(), pad: fc.constantFrom("", " ", "  ") });

const ssoInput = fc
    .record({
        custom: fc.boolean(),
        endpoints: fc.array(httpsUrl, { minLength: 5, maxLength: 5 }),
        clientId: padded,
        clientSecret: secret,
        isActive: fc.option(fc.boolean(), { nil: undefined }),
        domains: fc.uniqueArray(domain, { maxLength: 4 }),
        manageGroupMemberships: fc.option(fc.boolean(), { nil: undefined }),
        jwtSignatureAlgorithm: fc.option(fc.constantFrom("RS256", "HS256", "RS512", "EdDSA"), { nil: undefined }),
    })
    .map((v) => {
        const [issuer, authorizationEndpoint, jwksUri, tokenEndpoint, userinfoEndpoint] = v.endpoints;
        return {
            domains: v.domains,
            input: (style: { asArray: boolean; upper: boolean; pad: string }) => ({
                organizationId: ready.infisical.organizationId,
                ...(v.custom
                    ? { configurationType: "custom", issuer, authorizationEndpoint, jwksUri, tokenEndpoint, userinfoEndpoint }
                    : { configurationType: "discoveryURL", discoveryURL: `${issuer}.well-known/openid-configuration` }),
                clientId: v.clientId,
                clientSecret: v.clientSecret,
                allowedEmailDomains: writtenList(v.domains, style),
                ...(v.isActive === undefined ? {} : { isActive: v.isActive }),
                ...(v.manageGroupMemberships === undefined ? {} : { manageGroupMemberships: v.manageGroupMemberships }),
                ...(v.jwtSignatureAlgorithm === undefined ? {} : { jwtSignatureAlgorithm: v.jwtSignatureAlgorithm }),
            }),
        };
    });

const cidr = fc.oneof(
    fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255), fc.integer({ min: 8, max: 32 })).map(([a, b, c, d, p]) => `${a}.${b}.${c}.${d}/${p}`),
    fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map(([a, b, c, d]) => `${a}.${b}.${c}.${d}`),
    fc.constantFrom("::/0", "2001:db8::/32", "fe80::1"),
);

const identityInput = fc
    .record({
        discovery: httpsUrl,
        audiences: fc.uniqueArray(text, { maxLength: 3 }),
        subject: fc.option(text, { nil: undefined }),
        claims: fc.dictionary(label, fc.uniqueArray(padded, { minLength: 1, maxLength: 3 }), { maxKeys: 3 }),
        metadata: fc.option(fc.dictionary(label, spacedList, { maxKeys: 3 }), { nil: undefined }),
        ips: fc.uniqueArray(cidr, { minLength: 1, maxLength: 3 }),
        ipsAsObjects: fc.boolean(),
        ttls: fc.tuple(fc.integer({ min: 1, max: 315_360_000 }), fc.integer({ min: 1, max: 315_360_000 })),
        uses: fc.option(fc.nat(1000), { nil: undefined }),
    })
    .map((v) => ({
        audiences: v.audiences,
        input: (style: { asArray: boolean; upper: boolean; pad: string }) => ({
            identityId: ready.infisical.identityIds[0],
            oidcDiscoveryUrl: v.discovery,
            boundIssuer: v.discovery,
            boundAudiences: style.asArray ? [...v.audiences].reverse() : v.audiences.join(`${style.pad},${style.pad}`),
            ...(v.subject === undefined ? {} : { boundSubject: v.subject }),
            boundClaims: Object.fromEntries(Object.entries(v.claims).map(([k, vals]) => [k, style.asArray ? vals : vals.join(`,${style.pad}`)])),
            ...(v.metadata === undefined ? {} : { claimMetadataMapping: v.metadata }),
            accessTokenTrustedIps: v.ipsAsObjects ? v.ips.map((ipAddress) => ({ ipAddress })) : v.ips,
            accessTokenTTL: Math.min(...v.ttls),
            accessTokenMaxTTL: Math.max(...v.ttls),
            ...(v.uses === undefined ? {} : { accessTokenNumUsesLimit: v.uses }),
        }),
    }));

const unleashInput = fc
    .record({
        clientId: text,
        secret: secret,
        autoCreate: fc.option(fc.boolean(), { nil: undefined }),
        enableSingleSignOut: fc.option(fc.boolean(), { nil: undefined }),
        defaultRootRole: fc.option(fc.constantFrom("Viewer", "Editor", "Admin"), { nil: undefined }),
        domains: fc.uniqueArray(domain, { maxLength: 3 }),
        acr: fc.option(fc.uniqueArray(label, { minLength: 1, maxLength: 3 }), { nil: undefined }),
        idTokenSigningAlgorithm: fc.option(fc.constantFrom("RS256", "RS384", "RS512"), { nil: undefined }),
        groups: fc.option(fc.constantFrom("groups", "realm_access.roles", "custom-claims.team_list"), { nil: undefined }),
        addGroupsScope: fc.option(fc.boolean(), { nil: undefined }),
        enablePkce: fc.option(fc.boolean(), { nil: undefined }),
    })
    .map((v) => ({
        input: (style: { asArray: boolean; upper: boolean; pad: string }) => ({
            enabled: true,
            discoverUrl: ready.issuer.discoveryUrl,
            clientId: v.clientId,
            secret: v.secret,
            emailDomains: writtenList(v.domains, style),
            adoptExisting: true,
            ...(v.autoCreate === undefined ? {} : { autoCreate: v.autoCreate }),
            ...(v.enableSingleSignOut === undefined ? {} : { enableSingleSignOut: v.enableSingleSignOut }),
            ...(v.defaultRootRole === undefined ? {} : { defaultRootRole: v.defaultRootRole }),
            ...(v.acr === undefined ? {} : { acrValues: v.acr.join(style.pad === "" ? " " : `${style.pad} `) }),
            ...(v.idTokenSigningAlgorithm === undefined ? {} : { idTokenSigningAlgorithm: v.idTokenSigningAlgorithm }),
            ...(v.groups === undefined ? {} : { enableGroupSyncing: true, groupJsonPath: v.groups }),
            ...(v.addGroupsScope === undefined ? {} : { addGroupsScope: v.addGroupsScope }),
            ...(v.enablePkce === undefined ? {} : { enablePkce: v.enablePkce }),
        }),
    }));

// Broken values per field: each must be refused at check, on that field.
const broken: Record<string, Record<string, fc.Arbitrary<unknown>>> = {
    OidcSsoConfig: {
        configurationType: fc.constantFrom("oidc", "Custom", "", 3),
        discoveryURL: fc.constantFrom("not a url", "ftp://idp.example.com/.well-known/openid-configuration", "https://user:pw@idp.example.com/"),
        clientId: fc.constantFrom("", "   ", 42, true),
        clientSecret: fc.constantFrom("", 12345),
        isActive: fc.constantFrom("yes", 1, "true"),
        allowedEmailDomains: fc.constantFrom("not a domain!", "example.com, @example.org", "http://example.com", 5),
        jwtSignatureAlgorithm: fc.constantFrom("HS512", "rs256", "none"),
        manageGroupMemberships: fc.constantFrom("no", 0),
    },
    IdentityOidcAuth: {
        oidcDiscoveryUrl: fc.constantFrom("", "token.actions.githubusercontent.com", "file:///etc/passwd"),
        accessTokenTTL: fc.constantFrom(-1, 1.5, "3600", 315_360_001),
        accessTokenMaxTTL: fc.constantFrom(-5, 315_360_001, "x"),
        accessTokenTrustedIps: fc.constantFrom([], ["999.1.1.1"], ["10.0.0.0/33"], [{ ip: "10.0.0.1" }], "10.0.0.0/8"),
        boundClaims: fc.constantFrom("repo:x", ["a"], { "": "x" }, { sub: 5 }),
        accessTokenNumUsesLimit: fc.constantFrom(-1, 0.5, "10"),
    },
    UnleashOidcSettings: {
        defaultRootRole: fc.constantFrom("Owner", "viewer", ""),
        idTokenSigningAlgorithm: fc.constantFrom("HS256", "ES256", "rs256"),
        secret: fc.constantFrom("", 7),
        clientId: fc.constantFrom("", 7),
        discoverUrl: fc.constantFrom("not a url", "ftp://x.example.com/"),
        emailDomains: fc.constantFrom("no spaces allowed here", "a@b.com"),
        enabled: fc.constantFrom("true", 1),
        defaultRootRoleId: fc.constantFrom(-1, "2", 1.5),
    },
};

// ------------------------------------------------------------------------------------------------ properties

type Gen = fc.Arbitrary<{ input: (style: { asArray: boolean; upper: boolean; pad: string }) => Record<string, unknown> }>;
const kinds: Array<[string, Gen]> = [
    ["OidcSsoConfig", ssoInput],
    ["IdentityOidcAuth", identityInput],
    ["UnleashOidcSettings", unleashInput],
];

describe.each(kinds)("%s", (kind, gen) => {
    test("every valid input round-trips: create, read with no change, and any other spelling previews as no change", async () => {
        await fc.assert(
            fc.asyncProperty(gen, listStyle, listStyle, async (value, style, otherStyle) => {
                const res = new SimulatedResource(provider(kind as "OidcSsoConfig"));
                try {
                    expect((await res.up(value.input(style))).op).toBe("create");
                    expect(await res.refresh()).toBe("same");
                    const again = await res.preview(value.input(otherStyle));
                    expect(again?.changes).toBe(false);
                    // A killed run: the object exists, the state does not. The next run takes it over as its own.
                    const rerun = new SimulatedResource(provider(kind as "OidcSsoConfig"));
                    expect((await rerun.up(value.input(otherStyle))).op).toBe("create");
                    expect(await rerun.refresh()).toBe("same");
                    expect((await rerun.preview(value.input(style)))?.changes).toBe(false);
                } catch (err) {
                    produced[`${kind} round trip`] = err;
                    throw err;
                } finally {
                    await res.destroy();
                }
            }),
            RUNS,
        );
    }, 120_000);

    test("every input with one broken field is rejected at check, on that field", async () => {
        const fields = Object.keys(broken[kind]);
        const arb = fc.tuple(gen, fc.constantFrom(...fields)).chain(([value, field]) => broken[kind][field].map((bad) => ({ value, field, bad })));
        await fc.assert(
            fc.asyncProperty(arb, listStyle, async ({ value, field, bad }, style) => {
                const input = { ...value.input(style), [field]: bad };
                const res = await new SimulatedResource(provider(kind as "OidcSsoConfig")).checkOnly(input);
                const failures = res.failures ?? [];
                produced[`${kind} check`] = failures;
                const onField = failures.filter((f) => f.property === field || f.property.startsWith(`${field}.`) || f.property.startsWith(`${field}[`));
                expect({ field, bad, named: onField.length > 0 }).toEqual({ field, bad, named: true });
                for (const f of onField) expect(f.reason.length).toBeGreaterThan(5);
            }),
            { numRuns: 60 },
        );
    });
});
