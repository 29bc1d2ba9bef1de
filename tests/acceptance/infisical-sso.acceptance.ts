/**
 * Acceptance: OidcSsoConfig under the real Pulumi engine against the real Infisical named by INFISICAL_HOST.
 *
 * An organization's SSO configuration is a singleton that every member's login depends on, and every API update of it
 * switches off SSO enforcement and SCIM for the organization. So this suite runs ONLY when
 * ACCEPTANCE_DISPOSABLE_INFISICAL_ORG names the organization of ACCEPTANCE_INFISICAL_ORG_ID as disposable.
 *
 * Servers whose SSO routes take `orgSlug` (Infisical of 2024; they also accept user sessions only) cannot be managed by
 * this package: there the suite checks that `pulumi up` fails saying what the server needs, and nothing else. Whether
 * a server is of that era is found with one read (GET ?organizationId=), before anything is written.
 */
import { newStack, TestStack } from "../e2e/harness";
import { cleanupAll, describeAcceptance, infisicalBearer, infisicalDirect, infisicalTarget, InfisicalTarget, Issuer, note, oidcDrift, programDir, startIssuer, upFailure } from "./support";

const SUITE = "infisical sso";
const SECRET = "pulumi-oidc-acceptance-sso-secret-5e0b";

type Era = "organizationId" | "orgSlug" | "user-sessions-only";

/** The disposable organization, or why the suite does not run. */
function disposableTarget(): InfisicalTarget | string {
    const target = infisicalTarget();
    if (typeof target === "string") return target;
    if (!target.organizationId) return "set ACCEPTANCE_INFISICAL_ORG_ID (the organization of the credentials)";
    if (target.disposableOrg !== target.organizationId) {
        return (
            `the SSO configuration of organization ${target.organizationId} is changed only when ACCEPTANCE_DISPOSABLE_INFISICAL_ORG=${target.organizationId} ` +
            "says that organization is disposable (every SSO update switches off its SSO enforcement and SCIM)"
        );
    }
    return target;
}

describeAcceptance(`acceptance: OidcSsoConfig on ${process.env.INFISICAL_HOST ?? "(no server)"}`, disposableTarget(), (target) => {
    const orgId = target.organizationId!;
    let issuer: Issuer;
    let direct: ReturnType<typeof infisicalDirect>;
    let era: Era;
    let t: TestStack;
    const extraStacks: TestStack[] = [];
    const credentialKind = "token" in target.credentials ? "user or static token" : "machine identity (universal auth)";

    const credentialConfig = (c: InfisicalTarget["credentials"]) => ({
        "infisical:host": { value: target.host },
        ...("token" in c
            ? { "infisical:token": { value: c.token, secret: true } }
            : { "infisical:clientId": { value: c.clientId, secret: true }, "infisical:clientSecret": { value: c.clientSecret, secret: true } }),
    });
    const live = async () => {
        const res = await direct.getSso(orgId);
        return res.status === 200 ? (res.json as Record<string, unknown>) : undefined;
    };
    /** Runs a scenario of the organizationId API only; on an older server, says so in the report. */
    const current = (scenario: string, body: () => Promise<void>) => async () => {
        if (era !== "organizationId") {
            note(SUITE, scenario, `n/a: this server's SSO API is of the ${era} era`);
            return;
        }
        await body();
    };

    beforeAll(async () => {
        issuer = await startIssuer();
        direct = infisicalDirect(target.host, await infisicalBearer(target.host, target.credentials));
        const probe = await direct.getSso(orgId);
        const said = JSON.stringify(probe.json ?? "");
        if (probe.status === 200 || probe.status === 404) era = "organizationId";
        else if (/orgSlug/.test(said)) era = "orgSlug";
        // The SSO routes of the 2024 builds take user sessions only: 403 "Forbidden access to <url>" (2024-10,
        // verify-auth.ts ForbiddenRequestError) or "<url> Unauthorized Access" (2024-07, UnauthorizedError answered 403).
        else if (probe.status === 403 && /Forbidden access to|Unauthorized Access/.test(String(probe.json?.error))) era = "user-sessions-only";
        else throw new Error(`GET /api/v1/sso/oidc/config?organizationId= answered ${probe.status} ${said.slice(0, 300)}: cannot tell the SSO API's version`);
        note(SUITE, "probe", `GET ?organizationId= answered ${probe.status}: ${era} era (credentials: ${credentialKind})`);
        t = await newStack(programDir, "sso");
        await t.stack.setAllConfig({
            ...credentialConfig(target.credentials),
            "acc:kind": { value: "sso" },
            "acc:issuerUrl": { value: issuer.url },
            "acc:organizationId": { value: orgId },
            "acc:clientSecret": { value: SECRET, secret: true },
            // The organization is disposable: an SSO configuration it already has is taken over.
            "acc:adopt": { value: "true" },
        });
    }, 300_000);

    afterAll(async () => {
        await cleanupAll([
            ["pulumi destroy of the test stack (deactivates the configuration)", async () => t && era === "organizationId" && (await t.stack.destroy({ color: "never" }))],
            ["the stacks' files", async () => Promise.all([t, ...extraStacks].filter(Boolean).map((s) => s.cleanup()))],
            ["the test issuer", async () => issuer?.stop()],
        ]);
    }, 300_000);

    test("orgSlug-era server: up fails saying what the server needs (user token: a newer Infisical; machine identity: a user session or a newer Infisical)", async () => {
        if (era === "organizationId") {
            note(SUITE, "orgSlug era", "n/a: the server's SSO API takes organizationId");
            return;
        }
        const failure = await upFailure(t);
        note(SUITE, "orgSlug era", `up failed: ${failure?.match(/error: (Infisical API[^\n]*)/)?.[1] ?? "(no API error in the output)"}`);
        expect(failure).toBeDefined();
        expect(failure).toMatch(/How to fix: |older|upgrade/i);
        if ("token" in target.credentials) {
            expect(failure).toMatch(/orgSlug/);
            expect(failure).toMatch(/upgrade/i);
        } else {
            expect(failure).toMatch(/user (session|token|login)/i);
            expect(failure).toMatch(/newer|upgrade/i);
        }
        // Nothing was created: a refresh finds nothing to record, and a second run fails the same way.
        expect((await t.stack.exportStack()).deployment.resources?.filter((r: { type: string }) => r.type.includes("OidcSsoConfig")) ?? []).toEqual([]);
    });

    test("create: up writes the configuration as the program describes", current("create", async () => {
        const up = await t.stack.up({ color: "never" });
        expect(up.summary.result).toBe("succeeded");
        expect(await live()).toMatchObject({ orgId, configurationType: "discoveryURL", discoveryURL: issuer.discoveryUrl, clientId: "pulumi-oidc-acceptance", clientSecret: SECRET, isActive: false, allowedEmailDomains: "example.com" });
    }));

    test("no change: preview --expect-no-changes passes, before and after a refresh", current("no change", async () => {
        await t.cli(["preview", "--expect-no-changes"]);
        await t.cli(["preview", "--refresh", "--expect-no-changes"]);
    }));

    test("drift: a change made out of band is reported by oidc-drift (exactly that field), and up --refresh puts it back", current("drift", async () => {
        expect((await direct.patchSso({ organizationId: orgId, allowedEmailDomains: "changed-out-of-band.example" })).status).toBe(200);
        const drift = await oidcDrift(t, "sso");
        expect(drift.code).toBe(2);
        expect(drift.report?.drifted).toEqual([expect.objectContaining({ name: "sso", kind: "modified", fields: [{ field: "allowedEmailDomains", desired: "example.com", live: "changed-out-of-band.example", secret: false }] })]);
        await t.stack.up({ refresh: true, color: "never" });
        expect((await live())?.allowedEmailDomains).toBe("example.com");
        expect((await oidcDrift(t, "sso")).code).toBe(0);
    }));

    test("update: a changed setting is applied in place; then no change again", current("update", async () => {
        await t.stack.setConfig("acc:clientId", { value: "pulumi-oidc-acceptance-2" });
        const up = await t.stack.up({ color: "never" });
        expect(up.summary.resourceChanges).toMatchObject({ update: 1 });
        expect((await live())?.clientId).toBe("pulumi-oidc-acceptance-2");
        await t.cli(["preview", "--expect-no-changes"]);
    }));

    test("error: a wrong token fails with a hint about the token and changes nothing", async () => {
        const before = era === "organizationId" ? await live() : undefined;
        const s = await newStack(programDir, "sso-bad-token");
        extraStacks.push(s);
        await s.stack.setAllConfig({
            ...credentialConfig({ token: "pulumi-oidc-acceptance-not-a-token" }),
            "acc:kind": { value: "sso" },
            "acc:issuerUrl": { value: issuer.url },
            "acc:organizationId": { value: orgId },
            "acc:clientSecret": { value: SECRET, secret: true },
        });
        const failure = await upFailure(s);
        // 401/403 on most builds; the 2024-07 build answers a malformed token with 500 "jwt malformed".
        expect(failure).toMatch(/returned (40[13]|500 Internal Server Error: jwt malformed)/);
        expect(failure).toMatch(/How to fix: .*token/);
        if (era === "organizationId") expect(await live()).toEqual(before);
    });

    test("destroy: the configuration is left deactivated", current("destroy", async () => {
        await t.stack.destroy({ color: "never" });
        expect((await live())?.isActive).toBe(false);
    }));
});
