/**
 * Acceptance: IdentityOidcAuth under the real Pulumi engine against the real Infisical named by INFISICAL_HOST (plus
 * INFISICAL_TOKEN or INFISICAL_UNIVERSAL_AUTH_CLIENT_ID/SECRET). It works on a machine identity it creates for the
 * run (POST /api/v1/identities in ACCEPTANCE_INFISICAL_ORG_ID, deleted afterwards) or on one the user created for it
 * (ACCEPTANCE_INFISICAL_IDENTITY_ID, which must have no OIDC auth yet); it touches nothing else.
 *
 * The scenarios run in order on one stack (each builds on the state the previous one left), then the error cases on
 * stacks of their own. afterAll destroys the stacks and removes what the run created through the API directly, even
 * when a scenario failed.
 */
import { newStack, TestStack } from "../e2e/harness";
import {
    cleanupAll,
    describeAcceptance,
    infisicalBearer,
    infisicalDirect,
    InfisicalCredentials,
    infisicalTarget,
    Issuer,
    noOidcAuth,
    note,
    oidcDrift,
    programDir,
    startIssuer,
    uniqueName,
    upFailure,
} from "./support";

const SUITE = "infisical identity";
const SUBJECT = "repo:acceptance/infra:ref:refs/heads/main";
const AUDIENCE = "pulumi-oidc-acceptance";

function credentialConfig(host: string, c: InfisicalCredentials) {
    return {
        "infisical:host": { value: host },
        ...("token" in c
            ? { "infisical:token": { value: c.token, secret: true } }
            : { "infisical:clientId": { value: c.clientId, secret: true }, "infisical:clientSecret": { value: c.clientSecret, secret: true } }),
    };
}

describeAcceptance(`acceptance: IdentityOidcAuth on ${process.env.INFISICAL_HOST ?? "(no server)"}`, infisicalTarget(), (target) => {
    let issuer: Issuer;
    let direct: ReturnType<typeof infisicalDirect>;
    let identityId: string;
    let createdIdentity = false;
    let t: TestStack;
    const extraStacks: TestStack[] = [];

    const live = async () => (await direct.getAuth(identityId)).json?.identityOidcAuth as Record<string, any> | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any

    /** Runs a scenario; when it fails, `up --refresh` puts the object back as the program says, for the next ones. */
    async function repairing(scenario: () => Promise<void>): Promise<void> {
        try {
            await scenario();
        } catch (err) {
            await t.stack.up({ refresh: true, color: "never" }).catch(() => undefined);
            throw err;
        }
    }

    async function errorStack(name: string, credentials: InfisicalCredentials, id = identityId): Promise<TestStack> {
        const s = await newStack(programDir, name);
        extraStacks.push(s);
        await s.stack.setAllConfig({
            ...credentialConfig(target.host, credentials),
            "acc:kind": { value: "identity" },
            "acc:issuerUrl": { value: issuer.url },
            "acc:identityId": { value: id },
        });
        return s;
    }

    beforeAll(async () => {
        issuer = await startIssuer({ https: true });
        direct = infisicalDirect(target.host, await infisicalBearer(target.host, target.credentials));
        if (target.identityId) {
            identityId = target.identityId;
            const before = await direct.getAuth(identityId);
            if (!noOidcAuth(before) || before.status === 404) {
                throw new Error(
                    `ACCEPTANCE_INFISICAL_IDENTITY_ID ${identityId}: ${before.status === 404 ? "no such identity" : "already has OIDC auth"} ` +
                        `(GET answered ${before.status}); the suite only touches objects it creates: name an identity without OIDC auth`,
                );
            }
        } else {
            if (!target.organizationId) throw new Error("set ACCEPTANCE_INFISICAL_ORG_ID (to create a test identity) or ACCEPTANCE_INFISICAL_IDENTITY_ID");
            const created = await direct.createIdentity(target.organizationId, uniqueName("identity"));
            if (created.status !== 200) throw new Error(`creating the test identity answered ${created.status}: ${JSON.stringify(created.json)}`);
            identityId = created.json.identity.id;
            createdIdentity = true;
        }
        t = await newStack(programDir, "identity");
        await t.stack.setAllConfig({
            ...credentialConfig(target.host, target.credentials),
            "acc:kind": { value: "identity" },
            "acc:issuerUrl": { value: issuer.url },
            "acc:identityId": { value: identityId },
            ...(issuer.caCert ? { "acc:caCert": { value: issuer.caCert } } : {}),
        });
    }, 300_000);

    afterAll(async () => {
        await cleanupAll([
            ["pulumi destroy of the test stack", async () => t && (await t.stack.destroy({ color: "never" }))],
            [
                createdIdentity ? `the test identity ${identityId}` : `the OIDC auth of ${identityId}`,
                async () => {
                    if (!identityId || !direct) return;
                    if (createdIdentity) {
                        const res = await direct.deleteIdentity(identityId);
                        if (res.status !== 200 && res.status !== 404) throw new Error(`DELETE answered ${res.status}`);
                    } else if (!noOidcAuth(await direct.getAuth(identityId))) {
                        const res = await direct.deleteAuth(identityId); // attached by this run (checked absent before it)
                        if (res.status !== 200) throw new Error(`DELETE answered ${res.status}`);
                    }
                },
            ],
            ["the stacks' files", async () => Promise.all([t, ...extraStacks].filter(Boolean).map((s) => s.cleanup()))],
            ["the test issuer", async () => issuer?.stop()],
        ]);
    }, 300_000);

    test("create: up attaches OIDC auth to the identity as the program describes", async () => {
        const up = await t.stack.up({ color: "never" });
        expect(up.summary.result).toBe("succeeded");
        const obj = await live();
        expect(obj).toMatchObject({ oidcDiscoveryUrl: issuer.url, boundIssuer: issuer.url, boundSubject: SUBJECT, boundAudiences: AUDIENCE, accessTokenTTL: 3600, accessTokenMaxTTL: 7200 });
        expect(obj?.boundClaims).toEqual({ repository: "acceptance/infra" });
        if (issuer.caCert) expect(obj?.caCert).toBe(issuer.caCert.trim());
    });

    test("no change: preview --expect-no-changes passes, before and after a refresh", async () => {
        await t.cli(["preview", "--expect-no-changes"]);
        await t.cli(["preview", "--refresh", "--expect-no-changes"]);
    });

    test("a workload with a token of the trusted issuer can log in as the identity", async () => {
        if (!issuer.mint || !issuer.url.startsWith("https:")) {
            note(SUITE, "login", issuer.mint ? "not run: needs openssl for the https test issuer" : "not run: ACCEPTANCE_OIDC_ISSUER_URL names an issuer this suite cannot mint tokens for");
            return;
        }
        const jwt = await issuer.mint({ sub: SUBJECT, aud: AUDIENCE, claims: { repository: "acceptance/infra" } });
        const login = await direct.login(identityId, jwt);
        expect(login.status).toBe(200);
        expect(typeof login.json.accessToken).toBe("string");
        const wrong = await direct.login(identityId, await issuer.mint({ sub: "repo:someone-else/infra:ref:refs/heads/main", aud: AUDIENCE, claims: { repository: "acceptance/infra" } }));
        expect(wrong.status).toBeGreaterThanOrEqual(400);
    });

    test("drift: a change made out of band is reported by oidc-drift (exactly that field), and up --refresh puts it back", async () => {
        expect((await direct.patchAuth(identityId, { accessTokenTTL: 1800 })).status).toBe(200);
        const drift = await oidcDrift(t, "identity");
        expect(drift.code).toBe(2);
        expect(drift.report?.drifted).toEqual([expect.objectContaining({ name: "identity", kind: "modified", fields: [{ field: "accessTokenTTL", desired: 3600, live: 1800, secret: false }] })]);

        const up = await t.stack.up({ refresh: true, color: "never" });
        expect(up.summary.resourceChanges?.update).toBe(1);
        expect((await live())?.accessTokenTTL).toBe(3600);
        expect((await oidcDrift(t, "identity")).code).toBe(0);
    });

    test("update: a changed setting is applied in place; then no change again", async () => {
        const subject = "repo:acceptance/infra:environment:production";
        await t.stack.setConfig("acc:subject", { value: subject });
        const up = await t.stack.up({ color: "never" });
        expect(up.summary.resourceChanges).toMatchObject({ update: 1 });
        expect((await live())?.boundSubject).toBe(subject);
        await t.cli(["preview", "--expect-no-changes"]);
        await t.stack.removeConfig("acc:subject");
        await t.stack.up({ color: "never" });
        expect((await live())?.boundSubject).toBe(SUBJECT);
    });

    test("claimMetadataMapping: up succeeds and preview --expect-no-changes passes; a server without the setting is said to lack it", () => repairing(async () => {
        await t.stack.setConfig("acc:claimMetadataMapping", { value: JSON.stringify({ team: "repository_owner" }) });
        try {
            const up = await t.stack.up({ color: "never" });
            await t.cli(["preview", "--expect-no-changes"]);
            const mapping = (await live())?.claimMetadataMapping;
            const unsupported = up.outputs.unsupportedSettings?.value as string[] | undefined;
            note(SUITE, "claimMetadataMapping", mapping === undefined ? `server has no such setting; unsupportedSettings: ${JSON.stringify(unsupported)}` : `stored: ${JSON.stringify(mapping)}`);
            if (mapping === undefined) {
                expect(unsupported).toEqual(["claimMetadataMapping"]);
                expect(up.stdout).toMatch(/[^\n]*claimMetadataMapping[^\n]*(version|upgrade)|[^\n]*(version|upgrade)[^\n]*claimMetadataMapping/i);
            } else {
                expect(mapping).toEqual({ team: "repository_owner" });
                expect(unsupported ?? []).toEqual([]);
            }
        } finally {
            await t.stack.removeConfig("acc:claimMetadataMapping");
        }
        expect(await upFailure(t)).toBeUndefined();
        await t.cli(["preview", "--expect-no-changes"]);
    }));

    test("deleted out of band: up --refresh creates it again", async () => {
        expect((await direct.deleteAuth(identityId)).status).toBe(200);
        expect(noOidcAuth(await direct.getAuth(identityId))).toBe(true);
        const up = await t.stack.up({ refresh: true, color: "never" });
        expect(up.summary.resourceChanges?.create).toBe(1);
        expect((await live())?.boundSubject).toBe(SUBJECT);
    });

    test("deleted out of band, then up with a changed program (no refresh): created again with the new settings", () => repairing(async () => {
        expect((await direct.deleteAuth(identityId)).status).toBe(200);
        await t.stack.setConfig("acc:ttl", { value: "1800" });
        const failure = await upFailure(t);
        expect(failure).toBeUndefined();
        expect((await live())?.accessTokenTTL).toBe(1800);
        await t.cli(["preview", "--refresh", "--expect-no-changes"]);
    }));

    test("a value the server may refuse (accessTokenTTL 0): refused naming the field with the state left true, or applied", () => repairing(async () => {
        const before = await live();
        await t.stack.setConfig("acc:ttl", { value: "0" });
        const failure = await upFailure(t);
        if (failure) {
            note(SUITE, "accessTokenTTL 0", `refused: ${failure.match(/returned \d{3}[^\n]*/)?.[0] ?? "(no API status in the output)"}`);
            expect(failure).toMatch(/accessTokenTTL/);
            expect((await live())?.accessTokenTTL).toBe(before?.accessTokenTTL);
        } else {
            note(SUITE, "accessTokenTTL 0", "accepted");
            expect((await live())?.accessTokenTTL).toBe(0);
        }
        await t.stack.setConfig("acc:ttl", { value: "1800" });
        expect(await upFailure(t)).toBeUndefined();
        await t.cli(["preview", "--refresh", "--expect-no-changes"]);
    }));

    test("a setting the plan may not include (trusted IP range): refused with the plan hint and the state left true, or applied", () => repairing(async () => {
        await t.stack.setConfig("acc:trustedIps", { value: JSON.stringify(["10.0.0.0/8"]) });
        const failure = await upFailure(t);
        if (failure) {
            note(SUITE, "trusted IP range", `refused: ${failure.match(/returned \d{3}[^\n]*/)?.[0] ?? "(no API status in the output)"}`);
            expect(failure).toMatch(/ipAllowlisting|plan/);
            expect((await live())?.accessTokenTrustedIps).toEqual(expect.arrayContaining([expect.objectContaining({ ipAddress: "0.0.0.0", prefix: 0 })]));
        } else {
            note(SUITE, "trusted IP range", "accepted (the plan includes IP allowlisting)");
        }
        await t.stack.removeConfig("acc:trustedIps");
        expect(await upFailure(t)).toBeUndefined();
        await t.cli(["preview", "--refresh", "--expect-no-changes"]);
    }));

    test("error: a wrong token fails with a hint about the token and changes nothing", async () => {
        const before = await live();
        const s = await errorStack("bad-token", { token: "pulumi-oidc-acceptance-not-a-token" });
        const failure = await upFailure(s);
        note(SUITE, "wrong token", `up failed: ${failure?.match(/returned \d{3}[^\n]*/)?.[0] ?? "(no API status in the output)"}`);
        expect(failure).toBeDefined();
        // 401/403 on most builds; the 2024-07 build answers a malformed token with 500 "jwt malformed".
        expect(failure).toMatch(/How to fix: [^\n]*token/);
        expect(await live()).toEqual(before);
    });

    test("error: a wrong universal-auth client secret fails with the login hint", async () => {
        const clientId = "clientId" in target.credentials ? target.credentials.clientId : "00000000-0000-4000-8000-000000000000";
        const s = await errorStack("bad-secret", { clientId, clientSecret: "pulumi-oidc-acceptance-wrong-secret" });
        const failure = await upFailure(s);
        expect(failure).toMatch(/universal-auth\/login returned 4\d\d/);
        expect(failure).toMatch(/universal auth login was refused/);
    });

    test("error: an identity that does not exist: the error says so (404 with the identityId hint, or the server's own words)", async () => {
        const s = await errorStack("unknown-identity", target.credentials, "00000000-0000-4000-8000-000000000000");
        const failure = await upFailure(s);
        note(SUITE, "unknown identity", `up failed: ${failure?.match(/returned \d{3}[^\n]*/)?.[0] ?? "(no API status in the output)"}`);
        // 404 with the provider's hint; the 2024-07 build answers 400 "Failed to find identity", which says it itself.
        expect(failure).toMatch(/returned 404[^\n]*How to fix: [^\n]*identityId|returned 400[^\n]*Failed to find identity/);
    });

    test("error: credentials of another organization: refused saying so (403), or not found in their organization (404), with the server's own reason", async () => {
        if (!target.foreign) {
            note(SUITE, "another organization", "not run: set ACCEPTANCE_INFISICAL_FOREIGN_TOKEN or ACCEPTANCE_INFISICAL_FOREIGN_CLIENT_ID/SECRET");
            return;
        }
        const before = await live();
        // What the server says to these credentials (2024 builds: 403 "Identity is not apart of this organization";
        // today's source looks the identity up in the caller's organization: 404 "Failed to find identity with ID").
        const raw = await infisicalDirect(target.host, await infisicalBearer(target.host, target.foreign)).getAuth(identityId);
        note(SUITE, "another organization", `server: ${raw.status} ${JSON.stringify({ message: raw.json?.message, error: raw.json?.error })}`);
        expect([403, 404]).toContain(raw.status);
        const s = await errorStack("foreign-org", target.foreign);
        const failure = await upFailure(s);
        expect(failure).toMatch(new RegExp(`returned ${raw.status}`));
        expect(failure).toMatch(raw.status === 403 ? /another organization/i : /How to fix: .*identityId.*organization/i);
        // The server's `error` text, when it is a sentence and not a name, says the cause: it must reach the user.
        if (typeof raw.json?.error === "string" && /\s/.test(raw.json.error)) expect(failure).toContain(raw.json.error);
        expect(await live()).toEqual(before);
    });

    test("destroy: the OIDC auth is removed from the identity", async () => {
        await t.stack.destroy({ color: "never" });
        expect(noOidcAuth(await direct.getAuth(identityId))).toBe(true);
    });
});
