/**
 * Issue #23, points 1–5: the provider engine against the answers of a real Infisical built from the upstream source of
 * 2024-10-24, replayed over real HTTP. The exchanges (tests/fixtures/infisical-2024-10/exchanges.json) are copied
 * from /work/shared/real-servers/infisical-2024-10.md: what that server answered to exactly these requests. The
 * replay server answers a request only with the recorded answer to that request (tests/helpers/replay-server.ts);
 * a request the real server was never asked gets 501 NotRecorded, so a provider that sends one fails the test.
 *
 * Where a step accepts any body, query or credential, the comment says why that server's answer does not depend on
 * it (read in the 2024-10 source: backend/src/server/plugins/auth/verify-auth.ts, backend/src/ee/routes/v1/oidc-router.ts,
 * backend/src/services/identity-oidc-auth/identity-oidc-auth-service.ts).
 */
import * as fs from "fs";
import * as path from "path";
import { ResourceEngine } from "../../provider/engine/engine";
import { warningsShown } from "../../provider/engine/log";
import { SimulatedResource } from "../helpers/engine-sim";
import { assertNoLeaks } from "../helpers/leak-scan";
import { RecordedExchange, ReplayServer, startReplayServer } from "../helpers/replay-server";
import { configureStack, provider, rejection, resetProviderProcess } from "./support";

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", "infisical-2024-10", "exchanges.json"), "utf8")) as {
    exchanges: RecordedExchange[];
};
const recorded = (ref: string) => fixture.exchanges.find((e) => e.ref === ref)!;
const answerOf = (ref: string) => (recorded(ref).response as { identityOidcAuth: Record<string, unknown> }).identityOidcAuth;

// Ids of the recording (infisical-2024-10.md, "IDs in this run").
const ORG1 = "b66d5627-9f67-4f49-93ab-ebd877f9d186";
const IDENTITY1 = "cef72f94-552a-4622-813b-20bfb3c93fa2";
const IDENTITY2 = "0942c348-a2f2-41a4-8c6a-828d901ef154";
const MACHINE1_CLIENT_ID = "a8327153-60b3-4b37-a35c-d36e9d082fb7";
const ORG2_MACHINE_CLIENT_ID = "79d13d91-164c-4b12-917c-72e707600fc6";
const IDP = "http://127.0.0.1:9/oidc";

// This test's own credential values, in place of the scrubbed ones.
const TOKENS = {
    "user-org1": "replay-user-jwt-org1-4c1d9e",
    "user-org2": "replay-user-jwt-org2-7b2a61",
    "machine-1": "replay-machine1-access-token-0f3e",
    "org2-machine": "replay-org2-machine-access-token-95d2",
};
const CLIENT_SECRETS = { "machine-1": "replay-machine1-client-secret-2a7c", "org2-machine": "replay-org2-client-secret-6e04" };
const CREDENTIALS = { ...TOKENS, ...Object.fromEntries(Object.entries(CLIENT_SECRETS).map(([k, v]) => [`${k} client secret`, v])) };

const asUser1 = { token: TOKENS["user-org1"] };
const asUser2 = { token: TOKENS["user-org2"] };
const asMachine1 = { clientId: MACHINE1_CLIENT_ID, clientSecret: CLIENT_SECRETS["machine-1"] };
const asOrg2Machine = { clientId: ORG2_MACHINE_CLIENT_ID, clientSecret: CLIENT_SECRETS["org2-machine"] };

/** The program whose create request is exactly the recorded POST 2b.1 (identity 1) / 2b.6 (identity 2). */
const identityAuth = (identityId: string, extra: Record<string, unknown> = {}) => ({
    identityId,
    oidcDiscoveryUrl: IDP,
    boundIssuer: IDP,
    boundAudiences: "aud1",
    boundClaims: {},
    boundSubject: "repo:org/*",
    connection: asUser1,
    ...extra,
});

/**
 * The provider may send every setting, defaults included; the recorded creates sent the minimal body. These are the
 * values that build filled in for the settings left out (the answers to 2b.1 and 2b.6 show them), so the same
 * request with them spelled out gets the same answer. `claimMetadataMapping` does not exist in that build: its route
 * schema strips it (2b.4, 2b.6), so an empty one changes nothing either.
 */
const SERVER_DEFAULTS = {
    claimMetadataMapping: {},
    caCert: "",
    accessTokenTrustedIps: [{ ipAddress: "0.0.0.0/0" }, { ipAddress: "::/0" }],
    accessTokenTTL: 2592000,
    accessTokenMaxTTL: 2592000,
    accessTokenNumUsesLimit: 0,
};
const create = (ref: "2b.1" | "2b.6") => ({ ref, bodyPlus: SERVER_DEFAULTS });

/**
 * The preview's credential check (issue #24.5: one cheap authenticated request per server and credential, per
 * process) goes to routes this recording never asked (POST /api/v1/auth/checkAuth for a user's token, GET
 * /api/v1/identities/details for an identity's); the 501 NotRecorded it gets reads as "cannot be checked here".
 * Every other request must be a recorded one.
 */
const CHECK_ROUTES = new Set(["POST /api/v1/auth/checkAuth", "GET /api/v1/identities/details"]);
const unrecorded = () => replay.unmatched().filter((r) => !CHECK_ROUTES.has(`${r.method} ${r.path}`));

// Why some steps accept any body/query/credential:
/** verifyAuth (an onRequest hook) refuses non-user sessions on the SSO routes before the body or query is validated. */
const SSO_AUTH_BEFORE_VALIDATION = "2024-10 SSO routes: onRequest verifyAuth([AuthMode.JWT]) answers 403 before validation (oidc-router.ts, verify-auth.ts)";
/** A re-creation after an out-of-band delete carries every desired setting; the answer is the server's to a POST of OIDC auth on that identity. */
const CREATE_ANSWER = "attachOidcAuth answers the created object; the test checks the body the provider sent itself";
/** Zod validation of the route schema runs before the handler's permission checks, for any valid token. */
const VALIDATION_BEFORE_PERMISSION = "route schema validation precedes the service's permission check (fastify lifecycle; identity-oidc-auth-router.ts)";

let replay: ReplayServer;
const produced: Record<string, unknown> = {};

beforeAll(async () => {
    // The provider checks a static token once per process before its first request (POST /api/v1/auth/checkAuth for a
    // user token): recorded on the same build (3.1, 3.2); for universal auth the login is the check.
    replay = await startReplayServer({
        exchanges: fixture.exchanges,
        tokens: TOKENS,
        clientSecrets: CLIENT_SECRETS,
        background: [
            { ref: "3.1", repeat: true },
            { ref: "3.2", repeat: true },
        ],
    });
    await configureStack({ "infisical:host": replay.url });
});
beforeEach(async () => {
    await resetProviderProcess(); // no universal-auth token carried from one test to the next
});
afterAll(async () => {
    produced.warnings = warningsShown();
    assertNoLeaks(produced, CREDENTIALS);
    await resetProviderProcess();
    await replay?.close();
});

/** A resource whose state records `answer` (as a create by this provider would have), without any request. */
async function recordedResource(kind: "IdentityOidcAuth" | "OidcSsoConfig", program: Record<string, unknown>, answer: Record<string, unknown>): Promise<SimulatedResource> {
    const engine = provider(kind) as unknown as ResourceEngine;
    const res = new SimulatedResource(provider(kind));
    const inputs = await res.checked(program);
    res.id = engine.model.idOf(engine.model.keyOf(inputs), replay.url);
    res.inputs = inputs;
    res.state = await engine.recordedOutputs(inputs, answer, replay.url);
    return res;
}

const writes = () => replay.requests.filter((r) => r.method !== "GET" && !r.path.includes("/universal-auth/login"));
const logins = () => replay.requests.filter((r) => r.path === "/api/v1/auth/universal-auth/login");

describe("23.1: an update after the OIDC auth was deleted out of band re-creates it", () => {
    test("PATCH 400 'Failed to update OIDC Auth' on an identity without OIDC auth: up creates it again, with every desired setting", async () => {
        replay.play([create("2b.6")]);
        const res = new SimulatedResource(provider("IdentityOidcAuth"));
        // The create request is the recorded one (claimMetadataMapping included, which this build drops).
        expect((await res.up(identityAuth(IDENTITY2, { claimMetadataMapping: { team: "repository_owner" } }))).op).toBe("create");
        expect(unrecorded()).toEqual([]);

        // Deleted out of band: the server now answers PATCH 2a.2, GET 2a.1 and, once re-created, POST.
        replay.play(["2a.2", "2a.1", { ref: "2b.6", anyBody: CREATE_ANSWER }]);
        const up = await res.up(identityAuth(IDENTITY2, { claimMetadataMapping: { team: "repository_owner" }, accessTokenTTL: 1800 }));
        expect(up.op).toBe("update");
        expect(unrecorded()).toEqual([]);
        const methods = replay.requests.map((r) => r.method);
        expect(methods[0]).toBe("PATCH");
        expect(methods[methods.length - 1]).toBe("POST");
        expect(methods.slice(1, -1).every((m) => m === "GET")).toBe(true); // read first when in doubt: allowed, nothing else
        const created = replay.requests[replay.requests.length - 1].body as Record<string, unknown>;
        expect(created).toMatchObject({ oidcDiscoveryUrl: IDP, boundIssuer: IDP, boundSubject: "repo:org/*", accessTokenTTL: 1800 });
        expect(warningsShown().some((w) => w.includes(`identityId ${IDENTITY2}`) && /no longer exists|creating it/.test(w))).toBe(true);
    });

    test("the same PATCH answer while a read shows the OIDC auth attached is not 'gone': the error surfaces and nothing is created", async () => {
        replay.play([create("2b.6")]);
        const res = new SimulatedResource(provider("IdentityOidcAuth"));
        await res.up(identityAuth(IDENTITY2, { claimMetadataMapping: { team: "repository_owner" } }));

        replay.play(["2a.2", { ref: "2b.7", repeat: true }]);
        const err = await rejection(res.up(identityAuth(IDENTITY2, { claimMetadataMapping: { team: "repository_owner" }, accessTokenTTL: 1800 })));
        produced.attachedButRefused = err.message;
        expect(err.message).toContain("Failed to update OIDC Auth");
        expect(replay.requests.filter((r) => r.method === "POST")).toEqual([]);
        expect(unrecorded()).toEqual([]);
    });

    test("destroy of an OIDC auth already gone (DELETE 400 'The identity does not have OIDC auth') succeeds", async () => {
        const res = await recordedResource("IdentityOidcAuth", identityAuth(IDENTITY2), answerOf("2b.7"));
        replay.play(["2a.3", "2a.1"]);
        await res.destroy();
        expect(unrecorded()).toEqual([]);
        expect(replay.requests.filter((r) => r.method === "POST" || r.method === "PATCH")).toEqual([]);
    });
});

describe("23.2: claimMetadataMapping on a server without that setting", () => {
    /** That build strips claimMetadataMapping from every request (its route schema has no such key: 2b.4–2b.7). */
    const DROPPED = ["claimMetadataMapping"];
    const mappingWarned = () => warningsShown().some((w) => w.includes("claimMetadataMapping") && /version/i.test(w));

    test("created with a mapping the server drops: said, no diff at the next preview, none after a refresh", async () => {
        replay.play([create("2b.6"), { ref: "2b.7", repeat: true }, "2b.2", "2b.3"]);
        const program = identityAuth(IDENTITY2, { claimMetadataMapping: { team: "repository_owner" } });
        const res = new SimulatedResource(provider("IdentityOidcAuth"));
        expect((await res.up(program)).op).toBe("create");
        expect(mappingWarned()).toBe(true);

        expect((await res.preview(program))?.changes).toBe(false);
        expect((await res.up(program)).op).toBe("same");
        await res.refresh();
        expect((await res.preview(program))?.changes).toBe(false);
        expect(writes()).toHaveLength(1); // the create only
        expect(unrecorded()).toEqual([]);
    });

    test("a change of the mapping alone sends nothing the server refuses (PATCH 500 'Update by id'), and preview --expect-no-changes passes after it", async () => {
        // The state after the recorded PATCH 2b.4 (accessTokenTTL 1800); from then on the server answers GET with 2b.5.
        // A PATCH of the mapping alone (2b.2) or of nothing (2b.3) gets that server's 500: an empty update.
        const base = identityAuth(IDENTITY1, { accessTokenTTL: 1800 });
        const res = await recordedResource("IdentityOidcAuth", base, answerOf("2b.4"));
        replay.play([{ ref: "2b.5", repeat: true }, "2b.2", "2b.3"]);

        const withMapping = { ...base, claimMetadataMapping: { team: "repository_owner" } };
        const up = await rejectionOrValue(res.up(withMapping));
        produced.mappingOnly = up;
        expect(up).not.toBeInstanceOf(Error);
        expect(mappingWarned()).toBe(true);
        expect((await res.preview(withMapping))?.changes).toBe(false);
        expect((await res.up(withMapping)).op).toBe("same");
        await res.refresh();
        expect((await res.preview(withMapping))?.changes).toBe(false);

        // Another mapping, then none: still nothing to send to this server.
        for (const next of [{ ...base, claimMetadataMapping: { team: "repository_owner", env: "environment" } }, base]) {
            const moved = await rejectionOrValue(res.up(next));
            expect(moved).not.toBeInstanceOf(Error);
            expect((await res.preview(next))?.changes).toBe(false);
        }
        expect(writes()).toEqual([]);
        expect(unrecorded()).toEqual([]);
    });

    test("an update that carries the mapping with another field sends the other field, and leaves no diff", async () => {
        const res = await recordedResource("IdentityOidcAuth", identityAuth(IDENTITY1), answerOf("2b.1"));
        replay.play([{ ref: "2b.4", bodyMayOmit: DROPPED }, { ref: "2b.5", repeat: true }, "2b.2", "2b.3"]);
        const program = identityAuth(IDENTITY1, { accessTokenTTL: 1800, claimMetadataMapping: { team: "repository_owner" } });
        expect((await res.up(program)).op).toBe("update");
        expect(replay.requests.find((r) => r.method === "PATCH")).toMatchObject({ answeredWith: "2b.4" });
        expect((await res.preview(program))?.changes).toBe(false);
        await res.refresh();
        expect((await res.preview(program))?.changes).toBe(false);
        expect(writes()).toHaveLength(1);
        expect(unrecorded()).toEqual([]);
    });
});

describe("23.3: a machine identity of another organization", () => {
    test("refresh and update say the identity belongs to another organization, with the server's own words", async () => {
        const res = await recordedResource("IdentityOidcAuth", identityAuth(IDENTITY1, { connection: asOrg2Machine }), answerOf("2b.1"));
        replay.play([{ ref: "2f.6", repeat: true }, "2f.7", "2f.8"]);

        const readErr = await rejection(res.refresh());
        produced.crossOrgRead = readErr.message;
        expect(readErr.status).toBe(403);
        expect(readErr.message).toContain("Identity is not apart of this organization");
        expect(readErr.hint).toMatch(/another organization/i);

        const updateErr = await rejection(res.up(identityAuth(IDENTITY1, { connection: asOrg2Machine, accessTokenTTL: 1800 })));
        produced.crossOrgUpdate = updateErr.message;
        expect(replay.requests.find((r) => r.method === "PATCH")).toMatchObject({ answeredWith: "2f.8", body: { accessTokenTTL: 1800 } });
        expect(updateErr.status).toBe(403);
        expect(updateErr.message).toContain("Identity is not apart of this organization");
        expect(updateErr.hint).toMatch(/another organization/i);
        expect(unrecorded()).toEqual([]);
    });

    test("a user token scoped to another organization keeps its hint (ForbiddenError)", async () => {
        const res = await recordedResource("IdentityOidcAuth", identityAuth(IDENTITY1, { connection: asUser2 }), answerOf("2b.1"));
        replay.play(["2f.9"]);
        const err = await rejection(res.refresh());
        expect(err.status).toBe(403);
        expect(err.hint).toMatch(/another organization/i);
        expect(unrecorded()).toEqual([]);
    });
});

describe("23.4: OidcSsoConfig on an orgSlug-era server", () => {
    const sso = (connection: Record<string, string>) => ({
        organizationId: ORG1,
        configurationType: "discoveryURL",
        discoveryURL: IDP,
        clientId: "cid",
        clientSecret: "s3cr3t",
        isActive: false,
        connection,
    });
    /** What the user must be told: the SSO routes of this server take user sessions only, or a newer Infisical. */
    const versionMessage = (message: string) => {
        expect(message).toMatch(/user (session|token|login)/i);
        expect(message).toMatch(/newer|upgrade|organizationId/i);
    };

    test("with machine-identity credentials: create and refresh say what is wrong, not a bare 403", async () => {
        replay.play([{ ref: "2e.4", repeat: true }, { ref: "2e.6", anyBody: SSO_AUTH_BEFORE_VALIDATION }, { ref: "2e.5", anyQuery: SSO_AUTH_BEFORE_VALIDATION, repeat: true }]);
        const createErr = await rejection(new SimulatedResource(provider("OidcSsoConfig")).up(sso(asMachine1)));
        produced.ssoMachineCreate = createErr.message;
        versionMessage(createErr.message);

        const res = await recordedResource("OidcSsoConfig", sso(asMachine1), { id: "188277c2-844f-49f4-939e-3f2bdc6496be", orgId: ORG1, isActive: false });
        const readErr = await rejection(res.refresh());
        produced.ssoMachineRead = readErr.message;
        versionMessage(readErr.message);
        expect(unrecorded()).toEqual([]);
    });

    test("with a user token: the version message (GET ?organizationId= answers 401 ValidationFailure, orgSlug Required)", async () => {
        const res = await recordedResource("OidcSsoConfig", sso(asUser1), { id: "188277c2-844f-49f4-939e-3f2bdc6496be", orgId: ORG1, isActive: false });
        replay.play(["2g.3"]);
        const err = await rejection(res.refresh());
        expect(err.message).toMatch(/orgSlug/);
        expect(err.message).toMatch(/upgrade/i);
        expect(unrecorded()).toEqual([]);
    });
});

describe("23.5: a 401 ValidationFailure is not an authentication failure", () => {
    test("universal auth: the refused update is sent once, with no second login, and the error names the field", async () => {
        const res = await recordedResource("IdentityOidcAuth", identityAuth(IDENTITY1, { connection: asMachine1 }), answerOf("2b.1"));
        replay.play([{ ref: "2e.4", repeat: true }, { ref: "2c.1", anyAuth: VALIDATION_BEFORE_PERMISSION, repeat: true }]);
        const err = await rejection(res.up(identityAuth(IDENTITY1, { connection: asMachine1, accessTokenTTL: 0 })));
        produced.validationUniversal = err.message;
        expect(replay.requests.filter((r) => r.method === "PATCH").map((r) => r.body)).toEqual([{ accessTokenTTL: 0 }]);
        expect(logins()).toHaveLength(1);
        expect(err.status).toBe(401);
        expect(err.message).toContain("accessTokenTTL must have a non zero number");
        expect(err.hint).toMatch(/accessTokenTTL/);
        expect(err.hint).not.toMatch(/token .*(rejected|expired|invalid)|log(ged)? in/i);
        expect(unrecorded()).toEqual([]);
    });

    test("static token: the refused update is sent once and the hint is about the field, not the token", async () => {
        const res = await recordedResource("IdentityOidcAuth", identityAuth(IDENTITY1), answerOf("2b.1"));
        replay.play([{ ref: "2c.1", repeat: true }]);
        const err = await rejection(res.up(identityAuth(IDENTITY1, { accessTokenTTL: 0 })));
        produced.validationToken = err.message;
        expect(replay.requests.filter((r) => r.method === "PATCH")).toHaveLength(1);
        expect(err.status).toBe(401);
        expect(err.hint).toMatch(/accessTokenTTL/);
        expect(err.hint).not.toMatch(/token \(from/i);
        expect(unrecorded()).toEqual([]);
    });
});

/** The value a promise resolves to, or the error it rejects with. */
async function rejectionOrValue<T>(p: Promise<T>): Promise<T | Error> {
    try {
        return await p;
    } catch (err) {
        return err as Error;
    }
}
