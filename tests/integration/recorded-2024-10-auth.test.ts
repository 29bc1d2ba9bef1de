/**
 * Issue #23.3 and #23.5: two answers of the Infisical 2024-10-24 build, replayed word for word over real HTTP by a
 * small local server (the bodies are the real server's, recorded in shared/real-servers/infisical-2024-10.md):
 *
 * - 2f.7/2f.8: a machine identity of another organization reading or updating an identity's OIDC auth gets 403
 *   "You are not allowed to access this resource" with `error: "Identity is not apart of this organization"`. The
 *   cause must be shown, with the "belongs to another organization" hint user tokens get.
 * - 1.23 (and every validation failure of that build): 401 `ValidationFailure`, the zod issues as `message`. With
 *   universal auth, a 401 used to be taken for an expired access token: the client logged in again and sent the
 *   refused request a second time. A validation failure refuses the request, not the token.
 *
 * The provider runs as under `pulumi up` (runtime + engine), logging in with universal auth at the local server.
 */
import * as http from "http";
import type { AddressInfo } from "net";
import { loginCounts } from "../../provider/connection";
import { assertNoLeaks } from "../helpers/leak-scan";
import { configureStack, provider, rejection, resetProviderProcess } from "./support";

const IDENTITY = "cef72f94-552a-4622-813b-20bfb3c93fa2";
const CLIENT_ID = "79d13d91-164c-4b12-917c-72e707600fc6";
const CLIENT_SECRET = "recorded-2024-10-client-secret-5f1a";
const ACCESS_TOKEN = "recorded-2024-10-access-token-77e2";

/** 2f.7 / 2f.8 (infisical-2024-10.md): org-2 machine identity on org-1's identity. */
const OTHER_ORG_403 = { statusCode: 403, message: "You are not allowed to access this resource", error: "Identity is not apart of this organization" };
/** 1.23 (infisical-2024-10.md and infisical-2024-10-responses.jsonl): POST/PATCH with an invalid URL. */
const VALIDATION_401 = {
    statusCode: 401,
    message: [{ validation: "url", code: "invalid_string", message: "Invalid url", path: ["oidcDiscoveryUrl"] }],
    error: "ValidationFailure",
};

interface Seen {
    method: string;
    url: string;
}

let server: http.Server;
let url = "";
let seen: Seen[] = [];
let answer: { status: number; body: unknown } = { status: 200, body: {} };

beforeAll(async () => {
    server = http.createServer((req, res) => {
        req.resume();
        req.on("end", () => {
            seen.push({ method: req.method ?? "", url: req.url ?? "" });
            res.setHeader("content-type", "application/json; charset=utf-8");
            if (req.url === "/api/v1/auth/universal-auth/login") {
                // 2f.6's answer shape: {accessToken, expiresIn, accessTokenMaxTTL, tokenType}.
                return res.end(JSON.stringify({ accessToken: ACCESS_TOKEN, expiresIn: 2592000, accessTokenMaxTTL: 2592000, tokenType: "Bearer" }));
            }
            if (req.headers.authorization !== `Bearer ${ACCESS_TOKEN}`) {
                res.statusCode = 401;
                return res.end(JSON.stringify({ statusCode: 401, message: "Token missing", error: "UnauthorizedError" }));
            }
            res.statusCode = answer.status;
            res.end(JSON.stringify(answer.body));
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await configureStack({ "infisical:host": url, "infisical:clientId": CLIENT_ID, "infisical:clientSecret": CLIENT_SECRET });
});

afterAll(async () => {
    await resetProviderProcess();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(async () => {
    seen = [];
    await resetProviderProcess();
});

const recordedState = {
    identityId: IDENTITY,
    oidcDiscoveryUrl: "http://127.0.0.1:9/oidc",
    boundIssuer: "http://127.0.0.1:9/oidc",
    boundAudiences: "",
    boundSubject: "",
    boundClaims: {},
    accessTokenTrustedIps: ["0.0.0.0/0", "::/0"],
    accessTokenTTL: 2592000,
    accessTokenMaxTTL: 2592000,
    accessTokenNumUsesLimit: 0,
    targetUrl: "",
};

test("#23.3 a machine identity of another organization: the server's cause is shown, with the other-organization hint", async () => {
    answer = { status: 403, body: OTHER_ORG_403 };
    const engine = provider("IdentityOidcAuth");
    const err = await rejection(engine.read(IDENTITY, { ...recordedState, targetUrl: url }));
    expect(err.message).toContain(
        `GET /api/v1/auth/oidc-auth/identities/${IDENTITY} returned 403 Forbidden: You are not allowed to access this resource (Identity is not apart of this organization)`,
    );
    expect(err.message).toMatch(/How to fix: the credentials \(from stack config infisical:clientSecret\) belong to another organization than the object this resource manages/);
    assertNoLeaks({ error: err }, { CLIENT_ID, CLIENT_SECRET, ACCESS_TOKEN });
});

test("#23.5 a 401 ValidationFailure is a refused request: no second login, the request is sent once, the field is named", async () => {
    answer = { status: 401, body: VALIDATION_401 };
    const logins = loginCounts.universal;
    const engine = provider("IdentityOidcAuth");
    const err = await rejection(
        engine.update(IDENTITY, { ...recordedState, targetUrl: url }, { ...recordedState, oidcDiscoveryUrl: "http://127.0.0.1:9/other" }),
    );
    const patches = seen.filter((r) => r.method === "PATCH");
    expect(patches).toHaveLength(1);
    expect(seen.filter((r) => r.url === "/api/v1/auth/universal-auth/login")).toHaveLength(1);
    expect(loginCounts.universal - logins).toBe(1);
    expect(err.message).toContain("returned 401 Unauthorized: oidcDiscoveryUrl: Invalid url");
    expect(err.message).toMatch(/How to fix: the API refused the value of oidcDiscoveryUrl/);
    expect(err.message).not.toMatch(/access token obtained|expired/);
});

test("a 401 that is not a validation failure still logs in once more and retries once", async () => {
    // The token is refused (as after a revocation): one new login, the request once more, then the error.
    answer = { status: 401, body: { statusCode: 401, message: "Token missing", error: "UnauthorizedError" } };
    const engine = provider("IdentityOidcAuth");
    const err = await rejection(engine.read(IDENTITY, { ...recordedState, targetUrl: url }));
    expect(seen.filter((r) => r.url === "/api/v1/auth/universal-auth/login")).toHaveLength(2);
    expect(seen.filter((r) => r.method === "GET")).toHaveLength(2);
    expect(err.message).toContain("returned 401 Unauthorized: Token missing");
});
