/**
 * How an OIDC login finds a claim named in boundClaims or claimMetadataMapping: Infisical's getValueByDot
 * (backend/src/lib/template/dot-access.ts) walks dotted paths through plain objects only, reads own properties
 * only, and returns only a string, number, boolean or array of strings. Anything else is "the token has no such
 * field" (401). A binding that worked only on the backend would make a test pass that fails on the real server.
 */
import { Backend, call, infisical, mint, Ready, start } from "./helpers";

let backend: Backend;
let ready: Ready;
let next = 0;

beforeAll(async () => {
    backend = await start({ seed: { organizations: 1, identitiesPerOrg: 16, unleashInstances: 1 } });
    ready = backend.ready;
});
afterAll(async () => {
    await backend?.stop();
});

/** A fresh identity with OIDC auth on the built-in issuer and the given bindings. */
async function identityWith(bindings: { boundClaims?: Record<string, string>; claimMetadataMapping?: Record<string, string> }): Promise<string> {
    const identityId = ready.infisical.identityIds[next++] as string;
    const res = await infisical(ready).postAuth(identityId, { oidcDiscoveryUrl: ready.issuer.url, boundIssuer: ready.issuer.url, boundClaims: {}, ...bindings });
    expect(res.status).toBe(200);
    return identityId;
}

async function login(identityId: string, claims: Record<string, unknown>) {
    const jwt = await mint(ready, { sub: "workload", claims });
    return call("POST", `${ready.infisical.url}/api/v1/auth/oidc-auth/login`, { body: { identityId, jwt } });
}

const absent = (claim: string) => ({ reqId: expect.any(String), statusCode: 401, message: `Access denied: token has no ${claim} field`, error: "UnauthorizedError" });

describe("boundClaims: what counts as a claim", () => {
    test.each([
        ["an array index (no walking into arrays)", "groups.0", { groups: ["admins"] }, "admins"],
        ["an inherited property (constructor)", "constructor", {}, "*"],
        ["an inherited property (toString)", "toString", {}, "*"],
        ["an object value", "team", { team: { name: "platform" } }, "*"],
        ["null", "team", { team: null }, "*"],
        ["an array that is not all strings", "groups", { groups: ["admins", 7] }, "admins"],
        ["an array of objects", "groups", { groups: [{ name: "admins" }] }, "*"],
        ["a path through a string", "repository.length", { repository: "example-org/infra" }, "*"],
        ["a path through an array", "groups.length", { groups: ["admins"] }, "*"],
    ])("%s is absent: 401", async (_what, claim, claims, policy) => {
        const identityId = await identityWith({ boundClaims: { [claim]: policy } });
        expect((await login(identityId, claims)).json).toEqual(absent(claim));
    });

    test("strings, numbers, booleans and string arrays are found, also nested in objects", async () => {
        const identityId = await identityWith({
            boundClaims: { repository: "example-org/*", run_number: "42", "ci.protected": "true", "org.teams": "platform-*" },
        });
        const claims = { repository: "example-org/infra", run_number: 42, ci: { protected: true }, org: { teams: ["finance", "platform-core"] } };
        expect((await login(identityId, claims)).status).toBe(200);
        expect((await login(identityId, { ...claims, org: { teams: ["finance"] } })).json.message).toBe("Access denied: OIDC claim not allowed.");
    });
});

describe("claimMetadataMapping: the same lookup, the value copied into the access token", () => {
    const tokenClaims = (accessToken: string) => JSON.parse(Buffer.from(accessToken.split(".")[1] as string, "base64url").toString("utf8")).identityAuth.oidc.claims;

    test("string arrays are joined with commas, numbers and booleans become strings", async () => {
        const identityId = await identityWith({ claimMetadataMapping: { groups: "groups", run: "run_number", protected: "ci.protected", repo: "repository" } });
        const res = await login(identityId, { groups: ["admins", "dev"], run_number: 7, ci: { protected: false }, repository: "example-org/infra" });
        // false is falsy: Infisical's `if (!value)` treats it as absent.
        expect(res.json).toEqual(absent("ci.protected"));
        const ok = await login(identityId, { groups: ["admins", "dev"], run_number: 7, ci: { protected: true }, repository: "example-org/infra" });
        expect(ok.status).toBe(200);
        expect(tokenClaims(ok.json.accessToken)).toEqual({ groups: "admins,dev", run: "7", protected: "true", repo: "example-org/infra" });
    });

    test.each([
        ["an object", "team", { team: { name: "platform" } }],
        ["an array index", "groups.0", { groups: ["admins"] }],
        ["an inherited property", "hasOwnProperty", {}],
    ])("%s is absent: 401", async (_what, claim, claims) => {
        const identityId = await identityWith({ claimMetadataMapping: { value: claim } });
        expect((await login(identityId, claims)).json).toEqual(absent(claim));
    });
});
