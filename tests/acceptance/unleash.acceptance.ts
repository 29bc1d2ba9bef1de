/**
 * Acceptance: UnleashOidcSettings under the real Pulumi engine against the Unleash named by UNLEASH_URL (plus
 * AUTH_TOKEN, an admin API token).
 *
 * An instance's OIDC settings are a singleton that every OIDC login of that instance depends on. The suite writes them
 * ONLY when ACCEPTANCE_DISPOSABLE_UNLEASH_URL names the same instance as disposable; without it, it runs the error case
 * that cannot write anything (a wrong token) and says that the rest was not run.
 *
 * The discovery URL must be loadable BY THE UNLEASH SERVER (it loads it on every save): the built-in test issuer listens
 * on 127.0.0.1, so for a remote Unleash set ACCEPTANCE_OIDC_ISSUER_URL to an issuer that server can reach.
 */
import { newStack, TestStack } from "../e2e/harness";
import { api } from "../helpers/direct-api";
import { cleanupAll, describeAcceptance, Issuer, note, oidcDrift, programDir, startIssuer, unleashTarget, upFailure } from "./support";

const SUITE = "unleash";
const SECRET = "pulumi-oidc-acceptance-unleash-secret-3c8d";

describeAcceptance(`acceptance: UnleashOidcSettings on ${process.env.UNLEASH_URL ?? "(no server)"}`, unleashTarget(), (target) => {
    let issuer: Issuer;
    let t: TestStack;
    const extraStacks: TestStack[] = [];
    const settingsUrl = `${target.url}/api/admin/auth/oidc/settings`;
    const live = async () => (await api("GET", settingsUrl, target.token)).json as Record<string, unknown>;
    /** A scenario that writes the instance's settings: only on a disposable instance. */
    const writing = (scenario: string, body: () => Promise<void>) => async () => {
        if (!target.disposable) {
            note(SUITE, scenario, "not run: ACCEPTANCE_DISPOSABLE_UNLEASH_URL does not name this instance");
            return;
        }
        await body();
    };

    async function stackWith(name: string, token: string): Promise<TestStack> {
        const s = await newStack(programDir, name);
        await s.stack.setAllConfig({
            "unleash:url": { value: target.url },
            "unleash:apiToken": { value: token, secret: true },
            "acc:kind": { value: "unleash" },
            "acc:issuerUrl": { value: issuer.url },
            "acc:secret": { value: SECRET, secret: true },
            // The instance is disposable (or nothing is written): settings it already has are taken over.
            "acc:adopt": { value: "true" },
        });
        return s;
    }

    beforeAll(async () => {
        issuer = await startIssuer();
        const probe = await api("GET", settingsUrl, target.token);
        note(SUITE, "probe", `GET ${new URL(settingsUrl).pathname} answered ${probe.status}${probe.status === 404 ? " (open-source Unleash: no OIDC settings API)" : ""}`);
        t = await stackWith("unleash", target.token);
    }, 300_000);

    afterAll(async () => {
        await cleanupAll([
            ["pulumi destroy of the test stack (disables OIDC)", async () => t && target.disposable && (await t.stack.destroy({ color: "never" }))],
            ["the stacks' files", async () => Promise.all([t, ...extraStacks].filter(Boolean).map((s) => s.cleanup()))],
            ["the test issuer", async () => issuer?.stop()],
        ]);
    }, 300_000);

    test("error: a wrong token fails with a hint about the token and changes nothing", async () => {
        const before = await live();
        const s = await stackWith("unleash-bad-token", "*:*.pulumi-oidc-acceptance-not-a-token");
        extraStacks.push(s);
        const failure = await upFailure(s);
        expect(failure).toMatch(/returned 401/);
        expect(failure).toMatch(/How to fix: .*token/);
        expect(await live()).toEqual(before);
    });

    test("create: up writes the settings as the program describes", writing("create", async () => {
        const up = await t.stack.up({ color: "never" });
        expect(up.summary.result).toBe("succeeded");
        expect(await live()).toMatchObject({ enabled: true, discoverUrl: issuer.discoveryUrl, clientId: "pulumi-oidc-acceptance", secret: SECRET, autoCreate: true, emailDomains: "example.com", defaultRootRoleId: 3 });
    }));

    test("no change: preview --expect-no-changes passes, before and after a refresh", writing("no change", async () => {
        await t.cli(["preview", "--expect-no-changes"]);
        await t.cli(["preview", "--refresh", "--expect-no-changes"]);
    }));

    test("drift: a change made out of band is reported by oidc-drift (exactly that field, a secret masked), and up --refresh puts it back", writing("drift", async () => {
        const current = await live();
        expect((await api("POST", settingsUrl, target.token, { ...current, clientId: "changed-out-of-band", secret: "rotated-out-of-band-7f1e" })).status).toBe(200);
        const drift = await oidcDrift(t, "unleash");
        expect(drift.code).toBe(2);
        const fields = drift.report?.drifted.find((d) => d.name === "unleash")?.fields ?? [];
        expect(fields.map((f) => f.field).sort()).toEqual(["clientId", "secret"]);
        expect(fields.find((f) => f.field === "clientId")).toMatchObject({ desired: "pulumi-oidc-acceptance", live: "changed-out-of-band" });
        expect(JSON.stringify(drift.report)).not.toContain("rotated-out-of-band-7f1e");
        await t.stack.up({ refresh: true, color: "never" });
        expect(await live()).toMatchObject({ clientId: "pulumi-oidc-acceptance", secret: SECRET });
        expect((await oidcDrift(t, "unleash")).code).toBe(0);
    }));

    test("update: a changed setting is applied in place (the role users get changes too); then no change again", writing("update", async () => {
        await t.stack.setAllConfig({ "acc:role": { value: "Editor" }, "acc:emailDomains": { value: "example.com, example.org" } });
        const up = await t.stack.up({ color: "never" });
        expect(up.summary.resourceChanges).toMatchObject({ update: 1 });
        expect(await live()).toMatchObject({ defaultRootRoleId: 2, emailDomains: expect.stringMatching(/example\.com.*example\.org|example\.org.*example\.com/) });
        await t.cli(["preview", "--expect-no-changes"]);
    }));

    test("reset out of band (the API has no delete: settings replaced by an empty, disabled object), then up --refresh restores them", writing("reset out of band", async () => {
        expect((await api("POST", settingsUrl, target.token, { enabled: false })).status).toBe(200);
        expect((await live()).enabled).toBe(false);
        const up = await t.stack.up({ refresh: true, color: "never" });
        expect(up.summary.result).toBe("succeeded");
        expect(await live()).toMatchObject({ enabled: true, clientId: "pulumi-oidc-acceptance", secret: SECRET, defaultRootRoleId: 2 });
        await t.cli(["preview", "--refresh", "--expect-no-changes"]);
    }));

    test("a value the server refuses (a discovery URL that does not answer): the error names it and the settings stay as they were", writing("refused value", async () => {
        const before = await live();
        await t.stack.setConfig("acc:discoverUrl", { value: `${issuer.url}/no-such-issuer/.well-known/openid-configuration` });
        const failure = await upFailure(t);
        note(SUITE, "refused value", `up failed: ${failure?.match(/returned \d{3}[^\n]*/)?.[0] ?? "(no API status in the output)"}`);
        expect(failure).toMatch(/returned 400/);
        expect(failure).toMatch(/error: [^\n]*discoverUrl/);
        expect(await live()).toEqual(before);
        await t.stack.removeConfig("acc:discoverUrl");
        await t.cli(["preview", "--refresh", "--expect-no-changes"]);
    }));

    test("error: a Viewer's token: 403 with the permission hint", writing("viewer token", async () => {
        if (!target.viewerToken) {
            note(SUITE, "viewer token", "not run: set ACCEPTANCE_UNLEASH_VIEWER_TOKEN (a Viewer's personal access token)");
            return;
        }
        const before = await live();
        const s = await stackWith("unleash-viewer", target.viewerToken);
        extraStacks.push(s);
        await s.stack.setConfig("acc:clientId", { value: "viewer-must-not-write-this" });
        const failure = await upFailure(s);
        expect(failure).toMatch(/returned 403/);
        expect(failure).toMatch(/How to fix: .*(admin|Admin)/);
        expect(await live()).toEqual(before);
    }));

    test("destroy: OIDC is disabled, the other settings stay", writing("destroy", async () => {
        await t.stack.destroy({ color: "never" });
        expect(await live()).toMatchObject({ enabled: false, clientId: "pulumi-oidc-acceptance" });
    }));
});
