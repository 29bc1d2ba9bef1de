/**
 * The public classes under the SDK's mocks: type tokens, inputs as registered (secrets wrapped), outputs, `get`,
 * and the `__provider` text that `pulumi.dynamic.Resource` really serializes into the state.
 */
import * as pulumi from "@pulumi/pulumi";
import { IdentityOidcAuth, OidcSsoConfig, UnleashOidcSettings } from "../../provider";
import { forwarders } from "../../provider/engine/forwarder";
import { scanForLeaks } from "../helpers/leak-scan";

interface Registered {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
    id?: string;
}
const registered: Registered[] = [];

beforeAll(() => {
    pulumi.runtime.setMocks(
        {
            newResource: (args) => {
                registered.push({ type: args.type, name: args.name, inputs: args.inputs, id: args.id });
                return { id: args.id || `${args.name}-id`, state: { ...args.inputs, targetUrl: "https://mock.example.com" } };
            },
            call: () => ({}),
        },
        "project",
        "stack",
        false,
    );
});

function output<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => o.apply((v) => resolve(v)));
}
async function settled(): Promise<void> {
    await new Promise((r) => setTimeout(r, 50));
}
function find(name: string): Registered {
    const r = registered.find((x) => x.name === name);
    if (!r) throw new Error(`${name} was not registered`);
    return r;
}

const CREDENTIALS = {
    infisicalToken: "st.mock-token-0123456789",
    clientSecret: "sso-client-secret-0123456789",
    unleashToken: "*:*.mock-unleash-admin-token",
    unleashSecret: "unleash-oidc-secret-0123456789",
};

describe("public classes", () => {
    test("OidcSsoConfig: type token, registered inputs, secret outputs", async () => {
        const sso = new OidcSsoConfig("sso", {
            organizationId: "org-1",
            configurationType: "discoveryURL",
            discoveryURL: "https://login.example.com",
            clientId: "infisical",
            clientSecret: CREDENTIALS.clientSecret, // a plain string: still a secret output
            allowedEmailDomains: ["example.com"],
            connection: { host: "https://infisical.example.com", token: CREDENTIALS.infisicalToken },
        });
        expect(await output(sso.organizationId)).toBe("org-1");
        expect(await output(sso.id)).toBe("sso-id");
        await settled();
        const reg = find("sso");
        expect(reg.type).toBe("pulumi-nodejs:dynamic/infisical:OidcSsoConfig");
        expect(reg.inputs).toMatchObject({ organizationId: "org-1", allowedEmailDomains: ["example.com"] });
        expect(await pulumi.isSecret(sso.clientSecret)).toBe(true);
        expect(await pulumi.isSecret(sso.connection)).toBe(true);
        expect(await pulumi.isSecret(sso.organizationId)).toBe(false);
        expect(await output(sso.targetUrl)).toBe("https://mock.example.com");
    });

    test("IdentityOidcAuth and UnleashOidcSettings register under their tokens; Unleash's secret is secret", async () => {
        const auth = new IdentityOidcAuth("ci", { identityId: "id-1", oidcDiscoveryUrl: "https://token.example.com", boundIssuer: "https://token.example.com" });
        const unleash = new UnleashOidcSettings("unleash", {
            discoverUrl: "https://login.example.com/.well-known/openid-configuration",
            clientId: "unleash",
            secret: CREDENTIALS.unleashSecret,
            connection: { url: "https://unleash.example.com", apiToken: CREDENTIALS.unleashToken },
        });
        expect(await output(auth.identityId)).toBe("id-1");
        expect(await pulumi.isSecret(unleash.secret)).toBe(true);
        expect(await pulumi.isSecret(unleash.clientId)).toBe(false);
        await settled();
        expect(find("ci").type).toBe("pulumi-nodejs:dynamic/infisical:IdentityOidcAuth");
        expect(find("unleash").type).toBe("pulumi-nodejs:dynamic/unleash:OidcSettings");
    });

    test("static get reads by id", async () => {
        const got = OidcSsoConfig.get("existing", "org-9", { connection: { host: "https://infisical.example.com" } });
        expect(await output(got.id)).toBe("org-9");
        await settled();
        expect(find("existing").id).toBe("org-9");
        const u = UnleashOidcSettings.get("existing-unleash", "https://unleash.example.com");
        expect(await output(u.id)).toBe("https://unleash.example.com");
    });
});

describe("the serialized provider (__provider)", () => {
    test("is what pulumi.dynamic.Resource stores: small, credential-free, loading the runtime by package name", async () => {
        await settled();
        for (const name of ["sso", "ci", "unleash"]) {
            const text = find(name).inputs.__provider;
            expect(typeof text).toBe("string");
            const provider = text as string;
            expect(Buffer.byteLength(provider)).toBeLessThan(4096);
            expect(provider).toContain('"pulumi-oidc-settings/runtime"');
            expect(provider).toContain("createRequire");
            // No schema library, no SDK object, no machine path, no credential.
            expect(provider).not.toMatch(/zod|ZodObject|@pulumi\/pulumi|CustomResource|\/work\/|node_modules/);
            expect(scanForLeaks({ [`${name}.__provider`]: provider }, CREDENTIALS)).toEqual([]);
        }
        // One instance per type: the same object, hence the same text, for every resource of a type.
        expect(find("sso").inputs.__provider).not.toBe(find("ci").inputs.__provider);
    });

    test("serializes identically with the SDK's serializer (the path pulumi.dynamic.Resource takes)", async () => {
        const sizes: Record<string, number> = {};
        for (const [kind, provider] of Object.entries(forwarders)) {
            const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
            expect(sf.containsSecrets).toBe(false);
            sizes[kind] = Buffer.byteLength(sf.text);
            expect(sf.text).toContain(`"${kind}"`);
        }
        expect(Math.max(...Object.values(sizes))).toBeLessThan(4096);
    });
});
