/**
 * The output types the generator derives are what the engine really records. Each resource is created with every
 * setting set (lists written as arrays, to be normalized) against the reference backend over real HTTP, then
 * refreshed; every output in the state must be declared by the generated class, with a value of the declared type.
 * A normalizer whose result does not fit the type derived from its schema, or an output the engine adds that the
 * class does not declare, fails here.
 */
import { sdkResource } from "../../scripts/gen-sdk";
import { descriptions } from "../../provider/resources";
import { SimulatedResource } from "../helpers/engine-sim";
import { Backend, configureStack, provider, Ready, resetProviderProcess, stackConfigFor, start } from "../integration/support";

let backend: Backend;
let ready: Ready;

beforeAll(async () => {
    backend = await start({ seed: { organizations: 1, identitiesPerOrg: 2, unleashInstances: 1 } });
    ready = backend.ready;
    await configureStack(stackConfigFor(ready));
});
afterAll(async () => {
    await resetProviderProcess();
    await backend?.stop();
});

/**
 * Every argument of each class, as programs would write them (lists as arrays, so that they are normalized): one set
 * of inputs per way of using the resource (an IdentityOidcAuth either names its identity provider or an auth template).
 */
function inputSets(kind: string): Array<Record<string, unknown>> {
    return kind === "IdentityOidcAuth" ? [fullInputs(kind), templateInputs()] : [fullInputs(kind)];
}

/** An IdentityOidcAuth whose identity provider settings come from the organization's auth template. */
function templateInputs(): Record<string, unknown> {
    const templateId = ready.infisical.organizations[0].oidcAuthTemplateId;
    if (!templateId) throw new Error("the reference backend seeded no OIDC auth template");
    return {
        identityId: ready.infisical.identityIds[1],
        templateId,
        boundSubject: "repo:acme/infra:ref:refs/heads/main",
        connection: { host: ready.infisical.url },
    };
}

function fullInputs(kind: string): Record<string, unknown> {
    const issuer = ready.issuer;
    switch (kind) {
        case "OidcSsoConfig":
            return {
                organizationId: ready.infisical.organizationId,
                configurationType: "custom",
                discoveryURL: issuer.discoveryUrl,
                issuer: issuer.url,
                authorizationEndpoint: issuer.authorizationEndpoint,
                jwksUri: issuer.jwksUri,
                tokenEndpoint: issuer.tokenEndpoint,
                userinfoEndpoint: issuer.userinfoEndpoint,
                clientId: "infisical-app",
                clientSecret: "sso-client-secret-0123456789",
                isActive: true,
                allowedEmailDomains: ["B.example.com", "a.example.com"],
                manageGroupMemberships: false,
                jwtSignatureAlgorithm: "RS256",
                adoptExisting: true,
                verifyDiscovery: false,
                acceptRisks: [],
                connection: { host: ready.infisical.url },
            };
        case "IdentityOidcAuth":
            return {
                identityId: ready.infisical.identityIds[0],
                oidcDiscoveryUrl: issuer.url,
                boundIssuer: issuer.url,
                boundAudiences: ["b-audience", "a-audience"],
                boundClaims: { repository: ["acme/b", "acme/a"] },
                boundSubject: "repo:acme/infra:ref:refs/heads/main",
                claimMetadataMapping: { team: "team" },
                caCert: "",
                accessTokenTrustedIps: ["10.1.2.3/8", { ipAddress: "192.168.1.1" }],
                accessTokenTTL: 3600,
                accessTokenMaxTTL: 7200,
                accessTokenNumUsesLimit: 5,
                adoptExisting: false,
                verifyDiscovery: false,
                acceptRisks: [],
                connection: { host: ready.infisical.url },
            };
        case "UnleashOidcSettings":
            return {
                enabled: true,
                discoverUrl: issuer.discoveryUrl,
                clientId: "unleash-app",
                secret: "unleash-client-secret-0123456789",
                autoCreate: true,
                enableSingleSignOut: false,
                defaultRootRole: "Editor",
                emailDomains: ["B.example.com", "a.example.com"],
                acrValues: ["phr", "mfa"],
                idTokenSigningAlgorithm: "RS256",
                enableGroupSyncing: true,
                groupJsonPath: "groups",
                addGroupsScope: true,
                enablePkce: true,
                extraScopes: ["offline_access", "groups"],
                adoptExisting: true,
                verifyDiscovery: false,
                acceptRisks: [],
                connection: { url: ready.unleash.url },
            };
        default:
            throw new Error(`no inputs for ${kind}: add them to tests/types/output-shapes.test.ts`);
    }
}

/** Each output that does not fit its class: undeclared, or with a value of another type. */
function misfits(kind: string, state: Record<string, unknown>): string[] {
    const declared = new Map(sdkResource(descriptions[kind]).properties.map((p) => [p.name, p.output.schema]));
    const out: string[] = [];
    for (const [key, value] of Object.entries(state)) {
        if (key.startsWith("__")) continue; // the engine's internal keys (__provider), not outputs of the class
        const schema = declared.get(key);
        if (!schema) out.push(`${key}: an output the class does not declare`);
        else if (!schema.safeParse(value).success) out.push(`${key}: ${JSON.stringify(value)} is not of the declared type`);
    }
    return out;
}

describe.each(Object.keys(descriptions))("%s", (kind) => {
    test("every argument of the class is exercised", () => {
        // A setting the server resolves from another one (Unleash's role id from the role) gets its value that way.
        const resolved = (name: string) => (descriptions[kind].fields[name] as { derivedFrom?: { sourceValue?: unknown } } | undefined)?.derivedFrom?.sourceValue !== undefined;
        const args = sdkResource(descriptions[kind]).properties.filter((p) => p.isArg && !resolved(p.name)).map((p) => p.name);
        const given = new Set(inputSets(kind).flatMap((inputs) => Object.keys(inputs)));
        expect([...given].sort()).toEqual([...args].sort());
    });

    test("after create and after refresh, every output is declared by the class with its type", async () => {
        const valued = new Set<string>();
        for (const inputs of inputSets(kind)) {
            const resource = new SimulatedResource(provider(kind as "OidcSsoConfig"));
            await resource.up(inputs);
            expect(misfits(kind, resource.state!)).toEqual([]);
            await resource.refresh();
            const state = resource.state!;
            expect(misfits(kind, state)).toEqual([]);
            for (const [key, value] of Object.entries(state)) if (value !== undefined) valued.add(key);
            await resource.destroy();
        }
        // Every setting has a value after the refreshes, so each declared type was checked against a real one.
        const settings = sdkResource(descriptions[kind]).properties.filter((p) => p.isArg && !["adoptExisting", "verifyDiscovery", "acceptRisks", "connection"].includes(p.name));
        expect(settings.filter((p) => !valued.has(p.name)).map((p) => p.name)).toEqual([]);
    });
});
