/**
 * What a reviewer sees in `pulumi preview`: every planned update names the fields that change, under the resource.
 * The dynamic-provider host gives the engine no list of changed keys, so the engine labels an update by comparing
 * the old and new inputs; these are the cases where that comparison shows nothing (or the wrong field):
 * - a rotated secret (both sides are masked in the engine's events);
 * - a move to another URL of the same server (the inputs do not change: the URL comes from stack config);
 * - a value an older version recorded differently from the program (the inputs are equal; the state is not), with
 *   a setting that version did not have (0.1.0 had no claimMetadataMapping: it must not be labelled as added).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startBackend } from "../../reference-backend/src";
import { assertNoLeaks, credentialsOf } from "../helpers/leak-scan";
import { describeWithEngine, newStack, TestStack } from "./harness";

type Backend = Awaited<ReturnType<typeof startBackend>>;

const SSO_SECRET = "labels-sso-secret-one-41c2";
const ROTATED_SSO_SECRET = "labels-sso-secret-two-8e07";
const UNLEASH_SECRET = "labels-unleash-secret-77aa";

/** The Diagnostics section's lines under one resource (`<type> (<name>):`). */
function diagnosticsOf(output: string, type: string, name: string): string {
    const section = output.slice(output.indexOf("Diagnostics:"));
    const start = section.indexOf(`${type} (${name}):`);
    if (start < 0) return "";
    const rest = section.slice(start).split("\n");
    const lines = [rest[0]];
    for (const line of rest.slice(1)) {
        if (!/^\s{4,}\S/.test(line)) break;
        lines.push(line);
    }
    return lines.join("\n");
}

describeWithEngine("preview labels the fields an update changes", () => {
    let backend: Backend;
    let t: TestStack;
    const printed: string[] = [];

    async function preview(): Promise<string> {
        const res = await t.cli(["preview", "--diff"]);
        const plain = await t.cli(["preview"]);
        printed.push(res.stdout, res.stderr, plain.stdout, plain.stderr);
        return plain.stdout + plain.stderr;
    }

    beforeAll(async () => {
        backend = await startBackend({ port: 0, allowInternalIpConnections: true });
        const { infisical, unleash, issuer } = backend.ready;
        t = await newStack(path.join(__dirname, "program"), "labels");
        await t.stack.setAllConfig({
            "infisical:host": { value: infisical.url },
            "infisical:token": { value: infisical.token, secret: true },
            "unleash:url": { value: unleash.url },
            "unleash:apiToken": { value: unleash.adminToken, secret: true },
            "e2e:issuerUrl": { value: issuer.url },
            "e2e:organizationId": { value: infisical.organizationId },
            "e2e:identityId": { value: infisical.identityIds[1] },
            "e2e:ssoClientSecret": { value: SSO_SECRET, secret: true },
            "e2e:unleashSecret": { value: UNLEASH_SECRET, secret: true },
        });
        await t.stack.up({ color: "never" });
    }, 180_000);

    afterAll(async () => {
        assertNoLeaks({ printed: printed.join("\n") }, { ...credentialsOf(backend.ready), SSO_SECRET, ROTATED_SSO_SECRET, UNLEASH_SECRET });
        await t?.cleanup();
        await backend?.stop();
    });

    test("a rotated secret is named, masked", async () => {
        await t.stack.setConfig("e2e:ssoClientSecret", { value: ROTATED_SSO_SECRET, secret: true });
        const out = await preview();
        expect(diagnosticsOf(out, "pulumi-nodejs:dynamic/infisical:OidcSsoConfig", "sso")).toContain("update: clientSecret (secret) changed");
        await t.stack.setConfig("e2e:ssoClientSecret", { value: SSO_SECRET, secret: true });
    }, 120_000);

    test("another address of the same server is an update of targetUrl", async () => {
        const { infisical } = backend.ready;
        const moved = infisical.url.replace("127.0.0.1", "localhost");
        await t.stack.setConfig("infisical:host", { value: moved });
        const out = await preview();
        for (const [type, name] of [["pulumi-nodejs:dynamic/infisical:OidcSsoConfig", "sso"], ["pulumi-nodejs:dynamic/infisical:IdentityOidcAuth", "ci-identity"]]) {
            expect(diagnosticsOf(out, type, name)).toContain(`update: targetUrl: "${infisical.url}" => "${moved}"`);
        }
        await t.stack.setConfig("infisical:host", { value: infisical.url });
    }, 120_000);

    test("a value an older version recorded differently is named; a setting that version lacked is not", async () => {
        // Make the state what an older version left: the issuer recorded with a trailing slash, and no
        // claimMetadataMapping at all (0.1.0 did not have it).
        const exported = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "labels-")), "state.json");
        const state = JSON.parse((await t.cli(["stack", "export"])).stdout);
        const identity = state.deployment.resources.find((r: { urn: string }) => r.urn.endsWith("::ci-identity"));
        const issuer = identity.outputs.boundIssuer as string;
        identity.outputs.boundIssuer = `${issuer}/`;
        delete identity.outputs.claimMetadataMapping;
        delete identity.inputs.claimMetadataMapping;
        fs.writeFileSync(exported, JSON.stringify(state));
        await t.cli(["stack", "import", "--file", exported]);

        const out = await preview();
        const lines = diagnosticsOf(out, "pulumi-nodejs:dynamic/infisical:IdentityOidcAuth", "ci-identity");
        expect(lines).toContain(`update: boundIssuer: "${issuer}/" => "${issuer}"`);
        expect(lines).not.toContain("claimMetadataMapping");
        const diff = printed[printed.length - 4];
        expect(diff).not.toMatch(/\+ claimMetadataMapping/);
    }, 120_000);
});
