/**
 * Issue #16: the hint each error answer of the real servers gets, in this resource's words.
 *
 * A small HTTP server on 127.0.0.1 answers every request with one recorded body, verbatim; the request goes through
 * the real HttpClient of an ApiSession (provider/engine/api.ts), so the hint is the one a user would see. Bodies:
 * /work/shared/real-servers/infisical-2024-07-transcript.md and unleash-oss-8.2.0-responses.json as recorded; for
 * today's Infisical (422 ValidationFailure, PermissionDenied, ForbiddenError, TokenError, PermissionBoundaryError)
 * the shapes of backend/src/server/plugins/error-handler.ts with the messages of the services
 * (oidc-config-service.ts, identity-oidc-auth-service.ts, lib/casl/boundary.ts for missingPermissions); for Unleash
 * Enterprise's oidc route the BadDataError and raw joi shapes of the harness (unleash-enterprise-harness-vs-reference.md).
 */
import * as http from "http";
import type { AddressInfo } from "net";
import { ApiSession } from "../../provider/engine/api";
import { ResourceModel } from "../../provider/engine/model";
import type { RequestSpec } from "../../provider/engine/types";
import { closeAllAgents } from "../../provider/http/client";
import { ApiError } from "../../provider/http/errors";
import { descriptions } from "../../provider/resources";
import { assertNoLeaks } from "../helpers/leak-scan";

type Kind = "OidcSsoConfig" | "IdentityOidcAuth" | "UnleashOidcSettings";
type Op = "read" | "create" | "update" | "delete";

interface Case {
    name: string;
    kind: Kind;
    op: Op;
    status: number;
    body: unknown;
    /** The hint must match all of these. */
    hint: RegExp[];
    /** The hint must match none of these. */
    notHint?: RegExp[];
    /** The error's message must contain these (the API's words). */
    message?: string[];
}

const TOKEN = "infisical-token-for-hints-3f4a5b";
const UNLEASH_TOKEN = "*:*.unleash-token-for-hints-6c7d8e";
const ECHOED_SECRET = "echoed-client-secret-9f0a1b";
const ORG = "4c7e28f4-9845-40ea-b441-51646fdc40bd";
const IDENTITY = "4af14da4-83ca-4849-a393-26b7fe044dd0";

const infisicalError = (statusCode: number, error: string, message: unknown, extra: Record<string, unknown> = {}) => ({
    reqId: "req-Hn3kq1Zr8bW7xY",
    statusCode,
    ...(typeof message === "string" ? { message, error } : { error, message }),
    ...extra,
});
const unleashError = (name: string, message: string, details: unknown[] = [{ message }], extra: Record<string, unknown> = {}) => ({
    id: "df50a526-2845-4895-88ce-0a3855a8b42f",
    name,
    message,
    details,
    ...extra,
});

const INFISICAL_OBJECT: Record<Exclude<Kind, "UnleashOidcSettings">, RegExp> = {
    OidcSsoConfig: /may not manage the organization's SSO settings/,
    IdentityOidcAuth: /may not manage the machine identity's auth methods/,
};

const cases: Case[] = [
    // ------------------------------------------------------------------ Infisical: validation (2024 build 403, today 422)
    {
        name: "2024 ValidationFailure 403 (transcript: sso POST invalid) names the fields",
        kind: "OidcSsoConfig",
        op: "create",
        status: 403,
        body: infisicalError(403, "ValidationFailure", [
            { code: "invalid_type", expected: "string", received: "undefined", path: ["clientSecret"], message: "Required" },
            { code: "invalid_type", expected: "boolean", received: "string", path: ["isActive"], message: "Expected boolean, received string" },
        ]),
        hint: [/refused the value of clientSecret, isActive/, /of OidcSsoConfig/],
        notHint: [/may not manage/],
        message: ["clientSecret: Required", "isActive: Expected boolean, received string"],
    },
    {
        name: "2024 ValidationFailure 403 (transcript: ida POST invalid) names the fields",
        kind: "IdentityOidcAuth",
        op: "create",
        status: 403,
        body: infisicalError(403, "ValidationFailure", [
            { validation: "url", code: "invalid_string", message: "Invalid url", path: ["oidcDiscoveryUrl"] },
            { code: "invalid_type", expected: "string", received: "undefined", path: ["boundIssuer"], message: "Required" },
            { code: "invalid_type", expected: "object", received: "undefined", path: ["boundClaims"], message: "Required" },
        ]),
        hint: [/refused the value of oidcDiscoveryUrl, boundIssuer, boundClaims/, /of IdentityOidcAuth/],
        notHint: [/organizationId/],
    },
    {
        name: "today's ValidationFailure 422 names the field, a nested path by its top field",
        kind: "IdentityOidcAuth",
        op: "update",
        status: 422,
        body: infisicalError(422, "ValidationFailure", [
            { code: "invalid_string", validation: "ip", message: "Invalid IP address", path: ["accessTokenTrustedIps", 0, "ipAddress"] },
        ]),
        hint: [/refused the value of accessTokenTrustedIps:/],
        notHint: [/organizationId/, /ipAddress/],
    },
    {
        name: "today's ValidationFailure 422 on the SSO configuration",
        kind: "OidcSsoConfig",
        op: "update",
        status: 422,
        body: infisicalError(422, "ValidationFailure", [{ code: "invalid_string", validation: "url", message: "Invalid url", path: ["discoveryURL"] }]),
        hint: [/refused the value of discoveryURL:/],
    },
    // ------------------------------------------------------------------ Infisical: permissions and credentials
    ...(["OidcSsoConfig", "IdentityOidcAuth"] as const).flatMap((kind): Case[] => [
        {
            name: `PermissionDenied names the object of ${kind}`,
            kind,
            op: "update",
            status: 403,
            body: infisicalError(403, "PermissionDenied", kind === "OidcSsoConfig" ? "You are not allowed to edit on sso" : "You are not allowed to edit on identity", {
                details: [{ action: "read", inverted: false, subject: kind === "OidcSsoConfig" ? "sso" : "identity" }],
            }),
            hint: [INFISICAL_OBJECT[kind], /organization role that allows it/],
            notHint: kind === "IdentityOidcAuth" ? [/organizationId/, /SSO/] : [/identity's auth methods/],
        },
        {
            name: `ForbiddenError (another organization's token) on ${kind}`,
            kind,
            op: "read",
            status: 403,
            body: infisicalError(403, "ForbiddenError", "Invalid user token. Scoped to different organization."),
            hint: [/belong to another organization/],
            notHint: [/organizationId/, /may not manage/],
        },
        {
            name: `TokenError (expired token) on ${kind}`,
            kind,
            op: "read",
            status: 403,
            body: infisicalError(403, "TokenError", "Your token has expired. Please re-authenticate."),
            hint: [/expired or malformed/, /infisical:token/],
            notHint: [/organizationId/, /may not manage/],
        },
    ]),
    {
        name: "PermissionBoundaryError on DELETE lists the missing permissions and the identity's object",
        kind: "IdentityOidcAuth",
        op: "delete",
        status: 403,
        body: infisicalError(403, "PermissionBoundaryError", "Failed to revoke oidc auth of identity with more privileged role", {
            details: { missingPermissions: [{ action: "revoke-auth", subject: "identity" }, { action: "delete", subject: "identity" }] },
        }),
        // Issue #26.4: the privilege boundary in its own words (the identity's role outranks the caller's), and the fix.
        hint: [/role is more privileged than the credentials'/, /missing: revoke-auth identity, delete identity/, /at least the identity's role/],
        notHint: [/organizationId/],
    },
    // ------------------------------------------------------------------ Infisical: the SSO service's refusals
    {
        name: "plan restriction (SSO)",
        kind: "OidcSsoConfig",
        op: "create",
        status: 400,
        body: infisicalError(400, "BadRequest", "Failed to create OIDC SSO configuration due to plan restriction. Upgrade plan to update SSO configuration."),
        hint: [/oidcSSO/, /upgrade the plan/i],
    },
    {
        name: "plan restriction (identity trusted IPs, transcript)",
        kind: "IdentityOidcAuth",
        op: "create",
        status: 400,
        body: infisicalError(400, "BadRequest", "Failed to add IP access range to access token due to plan restriction. Upgrade plan to add IP access range."),
        hint: [/ipAllowlisting/, /accessTokenTrustedIps/],
        notHint: [/organizationId/, /oidcSSO/],
    },
    {
        name: "URL guard (SSO)",
        kind: "OidcSsoConfig",
        op: "create",
        status: 400,
        body: infisicalError(400, "BadRequest", "Local IPs not allowed as URL"),
        hint: [/ALLOW_INTERNAL_IP_CONNECTIONS=true/, /discoveryURL/],
    },
    {
        name: "URL guard (identity)",
        kind: "IdentityOidcAuth",
        op: "create",
        status: 400,
        body: infisicalError(400, "BadRequest", "Local IPs not allowed as URL"),
        hint: [/ALLOW_INTERNAL_IP_CONNECTIONS=true/, /oidcDiscoveryUrl/],
        notHint: [/organizationId/],
    },
    {
        name: "Google OAuth enforced (today's message)",
        kind: "OidcSsoConfig",
        op: "update",
        status: 400,
        body: infisicalError(400, "BadRequest", "You cannot enable OIDC SSO while Google OAuth is enforced. Disable Google OAuth enforcement to enable OIDC SSO."),
        hint: [/Google/, /enforce/i],
    },
    {
        name: "SMTP not verified (today's message)",
        kind: "OidcSsoConfig",
        op: "update",
        status: 400,
        body: infisicalError(
            400,
            "BadRequest",
            "Cannot enable OIDC when there are issues with the instance's SMTP configuration. Bypass this by turning on trust for OIDC emails in the server admin console.",
        ),
        hint: [/SMTP/, /isActive: false/],
    },
    {
        name: "unknown identity on create: identityId, never organizationId",
        kind: "IdentityOidcAuth",
        op: "create",
        status: 404,
        body: infisicalError(404, "NotFound", `Failed to find identity with ID ${IDENTITY}`),
        hint: [/identityId/],
        notHint: [/organizationId/],
    },
    // ------------------------------------------------------------------ Unleash
    {
        name: "BadDataError, a required property (path /body/<field>): this package's field name",
        kind: "UnleashOidcSettings",
        op: "create",
        status: 400,
        body: unleashError("BadDataError", "Request validation failed: your request body or params contain invalid data. Refer to the `details` list for more information.", [
            { path: "/body/clientId", message: "The `/body/clientId` property is required. It was not present on the data you sent." },
        ]),
        hint: [/refused the value of clientId:/, /of UnleashOidcSettings/],
        notHint: [/\/body/],
        message: ["property is required"],
    },
    {
        name: "BadDataError, an enum (path <field>)",
        kind: "UnleashOidcSettings",
        op: "update",
        status: 400,
        body: unleashError("BadDataError", "Request validation failed: your request body or params contain invalid data. Refer to the `details` list for more information.", [
            {
                path: "defaultRootRole",
                message: 'The `defaultRootRole` property must be equal to one of the allowed values: "Viewer", "Editor", "Admin". You provided "Owner", which is not valid. Please use one of the allowed values instead..',
            },
        ]),
        hint: [/refused the value of defaultRootRole:/],
        message: ["You provided \"Owner\""],
    },
    {
        name: "raw joi error: the detail's field and message, never the echoed body",
        kind: "UnleashOidcSettings",
        op: "update",
        status: 400,
        body: {
            _original: { enabled: true, discoverUrl: "https://idp.example.com/.well-known/openid-configuration", clientId: "c", secret: ECHOED_SECRET, emailDomains: "" },
            details: [{ message: '"emailDomains" is not allowed to be empty', path: ["emailDomains"], type: "string.empty", context: { label: "emailDomains", value: "", key: "emailDomains" } }],
        },
        hint: [/refused the value of emailDomains:/],
        message: ['"emailDomains" is not allowed to be empty'],
    },
    {
        name: "PermissionError with permissions (a Viewer's PAT, recorded)",
        kind: "UnleashOidcSettings",
        op: "read",
        status: 403,
        body: unleashError(
            "PermissionError",
            'You don\'t have the required permissions to perform this operation. To perform this action, you need the "ADMIN" permission.',
            undefined,
            { permissions: ["ADMIN"] },
        ),
        hint: [/may not manage the instance's OIDC settings/, /\(missing: ADMIN\)/, /admin API token/],
    },
    {
        name: "bare {message} 403 (a client token, recorded)",
        kind: "UnleashOidcSettings",
        op: "read",
        status: 403,
        body: { message: "invalid token: expected a different token type for this endpoint" },
        hint: [/may not manage the instance's OIDC settings/, /client and frontend tokens cannot/],
        message: ["expected a different token type"],
    },
    {
        name: "NotFoundError for the route (open-source Unleash, recorded)",
        kind: "UnleashOidcSettings",
        op: "read",
        status: 404,
        body: unleashError("NotFoundError", "The path you were looking for (/api/admin/auth/oidc/settings) is not available."),
        hint: [/Unleash Enterprise/],
        notHint: [/may not manage/, /refused the value/],
    },
    {
        name: "UnauthorizedError 401 (an unknown token, recorded)",
        kind: "UnleashOidcSettings",
        op: "read",
        status: 401,
        body: unleashError("UnauthorizedError", "You must log in to use Unleash."),
        hint: [/API token \(from the resource's connection.apiToken\) is missing or invalid/],
    },
    {
        name: "AuthenticationRequired 401 (no Authorization header, recorded)",
        kind: "UnleashOidcSettings",
        op: "read",
        status: 401,
        body: unleashError(
            "AuthenticationRequired",
            "You must log in to use Unleash. Your request had no authorization header, so we could not authorize you. Try logging in at /auth/simple/login",
            undefined,
            { path: "/auth/simple/login", type: "password", defaultHidden: false },
        ),
        hint: [/API token .* is missing or invalid/],
    },
    {
        name: "ContentTypeError 415 (recorded): the provider's fault, not the user's",
        kind: "UnleashOidcSettings",
        op: "update",
        status: 415,
        body: unleashError(
            "ContentTypeError",
            "We do not accept the content-type you provided (text/plain). Try using one of the content-types we do accept instead (application/json) and make sure the body is in the corresponding format.",
        ),
        hint: [/provider bug/],
        notHint: [/token/i, /refused the value/],
    },
    {
        name: "Infisical 401 UnauthorizedError (a revoked token) on IdentityOidcAuth",
        kind: "IdentityOidcAuth",
        op: "update",
        status: 401,
        body: infisicalError(401, "UnauthorizedError", "Token missing"),
        hint: [/token \(from the resource's connection.token\) is missing, invalid or expired/],
    },
    {
        name: 'BadDataError 400 "Could not load discoverUrl." (recorded): one period before the hint, not two',
        kind: "UnleashOidcSettings",
        op: "update",
        status: 400,
        // Without an error id (nothing between the message and the hint), where the two periods met.
        body: { name: "BadDataError", message: "Could not load discoverUrl.", details: [{ message: "Could not load discoverUrl." }] },
        hint: [/refused the settings of UnleashOidcSettings/],
        message: ["Could not load discoverUrl. How to fix: "],
    },
    {
        name: "malformed JSON 400 {message} (recorded): the parser's words, no field or credential blamed",
        kind: "UnleashOidcSettings",
        op: "update",
        status: 400,
        body: { message: "Unexpected end of JSON input" },
        hint: [],
        notHint: [/refused the value/, /token/i, /permission|may not manage/],
        message: ["Unexpected end of JSON input"],
    },
];

let server: http.Server;
let baseUrl: string;
let answer: { status: number; body: unknown } = { status: 500, body: {} };
const seen: Array<{ method: string; url: string }> = [];
const produced: Record<string, unknown> = {};

beforeAll(async () => {
    server = http.createServer((req, res) => {
        seen.push({ method: req.method ?? "", url: req.url ?? "" });
        req.resume();
        req.on("end", () => {
            res.writeHead(answer.status, { "content-type": "application/json; charset=utf-8" });
            res.end(JSON.stringify(answer.body));
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
    assertNoLeaks(produced, { TOKEN, UNLEASH_TOKEN, ECHOED_SECRET });
    await closeAllAgents();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** The request a lifecycle step sends for this resource, through the resource's ApiSession. */
async function failingCall(kind: Kind, op: Op, body?: Record<string, unknown>): Promise<Error & Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const model = new ResourceModel(descriptions[kind]);
    const connection = kind === "UnleashOidcSettings" ? { url: baseUrl, apiToken: UNLEASH_TOKEN } : { host: baseUrl, token: TOKEN };
    const session = ApiSession.forDesired(model, { connection });
    const key: Record<string, string> = kind === "OidcSsoConfig" ? { organizationId: ORG } : kind === "IdentityOidcAuth" ? { identityId: IDENTITY } : {};
    const api = model.desc.api;
    const spec: RequestSpec = op === "read" ? api.read : op === "create" ? api.create : op === "update" ? api.update : api.delete;
    const desired = body ?? (kind === "UnleashOidcSettings" ? { enabled: true, clientId: "c", secret: "s" } : { ...key });
    try {
        if (op === "read") await session.read(key);
        else await session.send(spec, { key, desired, current: {}, carried: {} });
    } catch (err) {
        return err as Error & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    }
    throw new Error(`${kind} ${op} succeeded against a ${answer.status} answer`);
}

describe("issue #16: the hint of each recorded error answer", () => {
    const check = async (c: Case) => {
        answer = { status: c.status, body: c.body };
        seen.length = 0;
        const err = await failingCall(c.kind, c.op);
        produced[c.name] = err;
        expect(seen).toHaveLength(1); // one answer, taken as it is (no retry of a 4xx)
        expect(err).toBeInstanceOf(ApiError);
        expect(err.status).toBe(c.status);
        const hint: string = err.hint ?? "";
        for (const re of c.hint) expect(hint).toMatch(re);
        for (const re of c.notHint ?? []) expect(hint).not.toMatch(re);
        if (c.kind === "IdentityOidcAuth") expect(hint).not.toMatch(/organizationId/); // an identity has no organization field
        if (c.hint.length > 0) expect(err.message).toContain(`How to fix: ${hint}`);
        for (const words of c.message ?? []) expect(err.message).toContain(words);
        expect(err.message).not.toContain(ECHOED_SECRET);
        expect(err.message).not.toContain("_original");
    };
    test.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => check(c));

    test("an old server's ValidationFailure about orgSlug: the message says the server is too old (and what to do)", async () => {
        // Transcript "sso: PATCH missing org key": the 2024 routes want orgSlug.
        answer = {
            status: 403,
            body: infisicalError(403, "ValidationFailure", [{ code: "invalid_type", expected: "string", received: "undefined", path: ["orgSlug"], message: "Required" }]),
        };
        const err = await failingCall("OidcSsoConfig", "update");
        produced.orgSlug = err;
        expect(err.message).toContain("returned 403");
        expect(err.message).toContain("this Infisical server is older: its SSO API takes orgSlug, not organizationId");
        expect(err.message).toMatch(/upgrade the Infisical server/);
    });
});

describe("the 2024-07 build's words (docs/compatibility.md, acceptance runs against it)", () => {
    test("a token that is not a JWT: 500 'jwt malformed' gets the token hint", async () => {
        answer = { status: 500, body: { statusCode: 500, message: "jwt malformed", error: "Internal Server Error" } };
        const err = await failingCall("IdentityOidcAuth", "read");
        produced.malformed2407 = err;
        expect(err.message).toContain("returned 500 Internal Server Error: jwt malformed");
        expect(err.message).toContain("How to fix: the token (from the resource's connection.token) is expired or malformed");
    });

    test("a machine identity of another organization: 403 'Identity not in org' gets the other-organization hint", async () => {
        answer = { status: 403, body: { statusCode: 403, message: "You are not allowed to access this resource", error: "Identity not in org" } };
        const err = await failingCall("IdentityOidcAuth", "read");
        expect(err.message).toContain("How to fix: the credentials (from the resource's connection.token) belong to another organization");
    });

    test("a machine identity on the SSO routes: 403 '<url> Unauthorized Access' gets the version message", async () => {
        answer = { status: 403, body: { statusCode: 403, message: "You are not allowed to access this resource", error: `/api/v1/sso/oidc/config?organizationId=${ORG} Unauthorized Access` } };
        const err = await failingCall("OidcSsoConfig", "read");
        expect(err.message).toContain("this Infisical server is older: its SSO API accepts only user sessions");
    });
});

describe("issue #26.6: a server without machine-identity auth templates", () => {
    test("it drops templateId and asks for the discovery URL (a 2024 build's 401 ValidationFailure): the hint says templates are missing", async () => {
        // The shape the 2024-10 build answers for a missing required field (recorded: 1.14 "orgSlug Required").
        answer = {
            status: 401,
            body: infisicalError(401, "ValidationFailure", [{ code: "invalid_type", expected: "string", received: "undefined", path: ["oidcDiscoveryUrl"], message: "Required" }]),
        };
        const err = await failingCall("IdentityOidcAuth", "create", { templateId: "0f3c2a1e-5b7d-4c9a-8e21-6d4f0b9a1c37", boundSubject: "repo:acme/*" });
        produced.noTemplates = err;
        expect(err.message).toContain("How to fix: this Infisical version has no machine-identity auth templates (templateId is not known to it)");
        // The same answer to a request without templateId is an ordinary validation failure.
        const plain = await failingCall("IdentityOidcAuth", "create", { boundSubject: "repo:acme/*" });
        expect(plain.message).not.toContain("auth templates");
        expect(plain.message).toContain("the API refused the value of oidcDiscoveryUrl");
    });
});

describe("what counts as gone (read answers recorded from the three Infisical versions)", () => {
    const gone: Array<[string, Kind, number, unknown]> = [
        ["SSO today: 404 Failed to find OIDC SSO data", "OidcSsoConfig", 404, infisicalError(404, "NotFound", "Failed to find OIDC SSO data")],
        ["SSO 2025: 404 OIDC configuration for organization … not found", "OidcSsoConfig", 404, infisicalError(404, "NotFound", `OIDC configuration for organization with ID '${ORG}' not found`)],
        ["SSO 2024 (transcript): 400 Failed to find organization OIDC configuration", "OidcSsoConfig", 400, { statusCode: 400, message: "Failed to find organization OIDC configuration", error: "BadRequest" }],
        ["identity (transcript): 400 The identity does not have OIDC Auth attached", "IdentityOidcAuth", 400, { statusCode: 400, message: "The identity does not have OIDC Auth attached", error: "BadRequest" }],
        ["identity today: 404 Failed to find identity with ID …", "IdentityOidcAuth", 404, infisicalError(404, "NotFound", `Failed to find identity with ID ${IDENTITY}`)],
    ];
    test.each(gone)("%s → gone", async (_name, kind, status, body) => {
        answer = { status, body };
        const model = new ResourceModel(descriptions[kind]);
        const session = ApiSession.forDesired(model, { connection: { host: baseUrl, token: TOKEN } });
        await expect(session.read(kind === "OidcSsoConfig" ? { organizationId: ORG } : { identityId: IDENTITY })).resolves.toBeUndefined();
    });

    const notGone: Array<[string, Kind, number, unknown]> = [
        // A wrong host or path prefix: fastify's own 404, which must not make refresh drop the resource.
        ["a route that does not exist (fastify 404)", "OidcSsoConfig", 404, { message: "Route GET:/api/v1/sso/oidc/config?organizationId=x not found", error: "Not Found", statusCode: 404 }],
        ["a route that does not exist (fastify 404), identity", "IdentityOidcAuth", 404, { message: `Route GET:/api/v1/auth/oidc-auth/identities/${IDENTITY} not found`, error: "Not Found", statusCode: 404 }],
        ["an unknown organization (transcript: 400 OrgNotFound)", "OidcSsoConfig", 400, { statusCode: 400, message: "Organization not found", error: "OrgNotFound" }],
    ];
    test.each(notGone)("%s → an error, not gone", async (_name, kind, status, body) => {
        answer = { status, body };
        const model = new ResourceModel(descriptions[kind]);
        const session = ApiSession.forDesired(model, { connection: { host: baseUrl, token: TOKEN } });
        const err = await session.read(kind === "OidcSsoConfig" ? { organizationId: ORG } : { identityId: IDENTITY }).then(
            () => undefined,
            (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(ApiError);
        expect((err as ApiError).status).toBe(status);
    });
});
