/**
 * One owner per object, keyed by URN, under the real engine: two resources named "sso" under components of different
 * types manage one organization's SSO configuration. Their short names are equal, so 0.2.0 accepted both and they
 * overwrote each other; the preview now fails and names both by name and type chain.
 */
import * as path from "path";
import { startBackend } from "../../reference-backend/src";
import { describeWithEngine, newStack, TestStack } from "./harness";

type Backend = Awaited<ReturnType<typeof startBackend>>;

describeWithEngine("one owner per object under the real engine", () => {
    let backend: Backend;
    let t: TestStack;

    beforeAll(async () => {
        backend = await startBackend({ port: 0, allowInternalIpConnections: true });
        const { infisical, issuer } = backend.ready;
        t = await newStack(path.join(__dirname, "owner-program"), "owner");
        await t.stack.setAllConfig({
            "infisical:host": { value: infisical.url },
            "infisical:token": { value: infisical.token, secret: true },
            "owner:organizationId": { value: infisical.organizationId },
            "owner:discoveryUrl": { value: issuer.discoveryUrl },
            "owner:clientSecret": { value: "owner-e2e-client-secret", secret: true },
        });
    }, 120_000);

    afterAll(async () => {
        await t?.cleanup();
        await backend?.stop();
    });

    test("two resources named sso under two components: preview fails naming both; one component passes", async () => {
        await t.stack.setConfig("owner:both", { value: "true" });
        const both = await t.cli(["preview"], { allowFailure: true });
        const text = both.stdout + both.stderr;
        expect(both.status).not.toBe(0);
        // Either may be checked first; the message names both, by name and type chain.
        const conflict = /resources "sso" \((acme:teams:\w+)\$pulumi-nodejs:dynamic\/infisical:OidcSsoConfig\) and "sso" \((acme:teams:\w+)\$pulumi-nodejs:dynamic\/infisical:OidcSsoConfig\) both manage OidcSsoConfig/.exec(text);
        expect(conflict).not.toBeNull();
        expect([conflict?.[1], conflict?.[2]].sort()).toEqual(["acme:teams:Platform", "acme:teams:Security"]);

        await t.stack.setConfig("owner:both", { value: "false" });
        const one = await t.cli(["preview"], { allowFailure: true });
        expect({ status: one.status, text: one.stdout + one.stderr }).toMatchObject({ status: 0 });
    }, 240_000);
});
