/**
 * The first example (examples/infisical-sso) as a user runs it, under the real engine against the reference backend:
 * both of its variants (a discovery URL, with the preview-time discovery check, and custom endpoints), a quiet
 * second preview, and destroy leaving the documented state.
 */
import * as path from "path";
import { request } from "undici";
import { startBackend } from "../../reference-backend/src";
import { assertNoLeaks, credentialsOf } from "../helpers/leak-scan";
import { describeWithEngine, newStack, repoRoot, TestStack } from "./harness";

type Backend = Awaited<ReturnType<typeof startBackend>>;
const exampleDir = path.join(repoRoot, "examples", "infisical-sso");

async function liveSso(backend: Backend, org: { id: string; token: string }) {
    const res = await request(`${backend.ready.infisical.url}/api/v1/sso/oidc/config?organizationId=${org.id}`, { headers: { authorization: `Bearer ${org.token}` } });
    return (await res.body.json()) as Record<string, unknown>;
}

describeWithEngine("examples/infisical-sso", () => {
    let backend: Backend;
    const stacks: TestStack[] = [];

    beforeAll(async () => {
        backend = await startBackend({ port: 0, allowInternalIpConnections: true });
    });
    afterAll(async () => {
        for (const t of stacks) await t.cleanup();
        await backend?.stop();
    });

    test.each([
        ["okta", "discoveryURL", 0],
        ["entra-custom", "custom", 1],
    ] as const)("the %s stack: up, a quiet preview, destroy", async (stackName, configurationType, orgIndex) => {
        const { infisical, issuer } = backend.ready;
        const org = infisical.organizations[orgIndex];
        const t = await newStack(exampleDir, stackName);
        stacks.push(t);
        // The example imports the package as an installed dependency; here it resolves to this repository, whose
        // build type-checks the example already (tsconfig paths), so the engine only transpiles it.
        t.stack.workspace.envVars.PULUMI_NODEJS_TRANSPILE_ONLY = "true";
        const clientSecret = `example-${stackName}-client-secret-8f2e`;
        await t.stack.setAllConfig({
            "infisical:host": { value: infisical.url },
            "infisical:token": { value: org.token, secret: true },
            "infisical-sso:organizationId": { value: org.id },
            "infisical-sso:configurationType": { value: configurationType },
            "infisical-sso:clientId": { value: `example-${stackName}` },
            "infisical-sso:clientSecret": { value: clientSecret, secret: true },
            "infisical-sso:allowedEmailDomains": { value: "example.com, Example.org" },
            ...(configurationType === "discoveryURL"
                ? { "infisical-sso:discoveryUrl": { value: issuer.discoveryUrl } }
                : {
                      "infisical-sso:issuer": { value: issuer.url },
                      "infisical-sso:authorizationEndpoint": { value: `${issuer.url}/authorize` },
                      "infisical-sso:tokenEndpoint": { value: `${issuer.url}/token` },
                      "infisical-sso:userinfoEndpoint": { value: `${issuer.url}/userinfo` },
                      "infisical-sso:jwksUri": { value: issuer.jwksUri },
                  }),
        });

        const up = await t.stack.up({ color: "never" });
        expect(up.summary.resourceChanges?.create).toBe(2);
        expect(up.outputs.ssoConfigurationType.value).toBe(configurationType);
        expect(up.outputs.allowedEmailDomains.value).toBe("example.com,example.org");
        expect(up.outputs.redirectUri.value).toBe(`${infisical.url.replace(/\/+$/, "")}/api/v1/sso/oidc/callback`);
        expect(await liveSso(backend, org)).toMatchObject({ isActive: true, configurationType, clientId: `example-${stackName}` });

        await t.stack.preview({ expectNoChanges: true, color: "never" });
        assertNoLeaks({ state: (await t.stack.exportStack()).deployment }, { ...credentialsOf(backend.ready), clientSecret });

        await t.stack.destroy({ color: "never" });
        expect((await liveSso(backend, org)).isActive).toBe(false);
    });
});
