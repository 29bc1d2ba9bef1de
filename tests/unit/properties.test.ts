/**
 * Properties of the normalizers and of diff, over generated values (fast-check): equivalent spellings never
 * produce a diff, and a real change always does.
 */
import fc from "fast-check";
import { setStackConfig } from "../../provider/connection";
import { ResourceEngine } from "../../provider/engine/engine";
import * as n from "../../provider/engine/normalize";
import * as runtime from "../../provider/engine/runtime";
import { identityOidcAuth } from "../../provider/resources";

const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/);
const domain = fc.tuple(label, fc.constantFrom("com", "org", "io", "dev")).map(([a, b]) => `${a}.${b}`);
const spaces = fc.stringMatching(/^ {0,3}$/);

describe("normalizer properties", () => {
    test("comma lists: any order, spacing, case and duplication of the same domains is the same value", () => {
        fc.assert(
            fc.property(fc.uniqueArray(domain, { minLength: 0, maxLength: 6 }), fc.array(spaces, { minLength: 12, maxLength: 12 }), fc.boolean(), (domains, pads, upper) => {
                const norm = n.commaList({ lowercase: true });
                const shuffled = [...domains].reverse().concat(domains.slice(0, 1));
                const written = shuffled.map((d, i) => `${pads[i % pads.length]}${upper ? d.toUpperCase() : d}${pads[(i + 1) % pads.length]}`).join(",");
                expect(norm(written)).toBe(norm(domains));
                expect(norm(norm(written))).toBe(norm(written));
            }),
        );
    });

    test("trusted IPs: string, {ipAddress} and API shapes of the same CIDRs are the same value", () => {
        const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255), fc.integer({ min: 0, max: 32 }));
        fc.assert(
            fc.property(fc.array(v4, { minLength: 1, maxLength: 5 }), (entries) => {
                const strings = entries.map(([a, b, c, d, p]) => `${a}.${b}.${c}.${d}/${p}`);
                const objects = strings.map((s) => ({ ipAddress: s }));
                const api = entries.map(([a, b, c, d, p]) => ({ ipAddress: `${a}.${b}.${c}.${d}`, type: "ipv4", prefix: p }));
                expect(n.trustedIps(objects)).toEqual(n.trustedIps(strings));
                expect(n.trustedIps([...api].reverse())).toEqual(n.trustedIps(strings));
            }),
        );
    });

    test("URLs: trailing slashes and host case never matter; a different path always does", () => {
        fc.assert(
            fc.property(label, fc.array(label, { maxLength: 3 }), fc.integer({ min: 1, max: 3 }), (host, segments, slashes) => {
                const base = `https://${host}.example.com/${segments.join("/")}`;
                expect(n.url(`${base}${"/".repeat(slashes)}`)).toBe(n.url(base));
                expect(n.url(base.replace(host, host.toUpperCase()))).toBe(n.url(base));
                expect(n.url(`${base}/x`)).not.toBe(n.url(base));
            }),
        );
    });
});

describe("diff properties", () => {
    const engine = new ResourceEngine(identityOidcAuth);
    beforeAll(() => setStackConfig({ get: (k) => ({ "infisical:host": "https://infisical.example.com", "infisical:token": "prop-test-token" } as Record<string, string>)[k] }));
    afterAll(() => setStackConfig(undefined));

    const args = fc.record({
        boundAudiences: fc.uniqueArray(domain, { maxLength: 4 }),
        claimValues: fc.uniqueArray(label, { minLength: 1, maxLength: 3 }),
        ttl: fc.integer({ min: 0, max: 100000 }),
        extra: fc.integer({ min: 0, max: 100000 }),
    });

    test("the API's echo of any valid input, in its own formatting, is no change; one moved TTL is exactly one change", async () => {
        await fc.assert(
            fc.asyncProperty(args, async (a) => {
                const inputs = {
                    identityId: "id-1",
                    oidcDiscoveryUrl: "https://issuer.example.com",
                    boundIssuer: "https://issuer.example.com",
                    boundAudiences: a.boundAudiences,
                    boundClaims: { groups: a.claimValues },
                    accessTokenTTL: a.ttl,
                    accessTokenMaxTTL: a.ttl + a.extra,
                };
                const checked = await engine.check({}, inputs);
                expect(checked.failures ?? []).toEqual([]);
                // What Infisical answers: ", "-joined lists in its order, IP objects.
                const api = {
                    identityId: "id-1",
                    oidcDiscoveryUrl: "https://issuer.example.com",
                    boundIssuer: "https://issuer.example.com",
                    boundAudiences: [...a.boundAudiences].reverse().join(", "),
                    boundClaims: { groups: [...a.claimValues].reverse().join(", ") },
                    boundSubject: null,
                    caCert: "",
                    accessTokenTrustedIps: [{ ipAddress: "::", type: "ipv6", prefix: 0 }, { ipAddress: "0.0.0.0", type: "ipv4", prefix: 0 }],
                    accessTokenTTL: a.ttl,
                    accessTokenMaxTTL: a.ttl + a.extra,
                    accessTokenNumUsesLimit: 0,
                };
                const olds = await engine.recordedOutputs(checked.inputs as Record<string, unknown>, api, "https://infisical.example.com");
                const same = await engine.diff("id-1", olds, checked.inputs as Record<string, unknown>);
                expect(same.diffs).toEqual([]);
                const moved = await engine.diff("id-1", olds, { ...(checked.inputs as Record<string, unknown>), accessTokenTTL: a.ttl + 1 });
                expect(moved.diffs).toEqual(["accessTokenTTL"]);
            }),
            { numRuns: 60 },
        );
    });
});

describe("runtime", () => {
    test("serves the three kinds and names the known ones for an unknown kind", () => {
        expect([...runtime.kinds].sort()).toEqual(["IdentityOidcAuth", "OidcSsoConfig", "UnleashOidcSettings"]);
        expect(runtime.provider("OidcSsoConfig")).toBe(runtime.provider("OidcSsoConfig"));
        expect(() => runtime.provider("Nope")).toThrow(/unknown resource kind "Nope" \(known: OidcSsoConfig, IdentityOidcAuth, UnleashOidcSettings\)/);
        expect(runtime.version).toMatch(/^\d+\.\d+\.\d+/);
    });

    test("configure keeps the stack config the provider uses", async () => {
        await runtime.configure({ config: { get: (k: string) => (k === "unleash:url" ? "https://u.example.com/api" : undefined) } });
        const res = await runtime.provider("UnleashOidcSettings").check({}, { discoverUrl: "https://i.example.com", clientId: "c", secret: "s-value", connection: { apiToken: "tok-value" } });
        expect(res.failures ?? []).toEqual([]);
        await runtime.configure(undefined);
        const again = await runtime.provider("UnleashOidcSettings").check({}, { discoverUrl: "https://i.example.com", clientId: "c", secret: "s-value", connection: { apiToken: "tok-value" } });
        expect(again.failures?.[0]?.property).toBe("connection");
    });
});
