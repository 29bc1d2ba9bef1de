/**
 * Issue #10: OidcSsoConfig and IdentityOidcAuth against how a real Infisical behaves (evidence:
 * /work/shared/real-servers/README.md "Infisical" and infisical-2024-07-transcript.md; today's source,
 * backend/src/ee/services/oidc/oidc-config-service.ts: GET returns clientSecret decrypted, every PATCH sets the
 * organization's authEnforced and scimEnabled to false, a PATCH without a config answers 200 with no body,
 * `isActive: true` is refused while Google OAuth is enforced or SMTP does not verify, "Local IPs not allowed as URL"
 * unless ALLOW_INTERNAL_IP_CONNECTIONS; backend/src/services/identity-oidc-auth: DELETE revokes the OIDC tokens).
 *
 * The provider talks to the reference backend through a forwarder on 127.0.0.1 that records each request's method,
 * path and JSON body (the backend's own log never carries bodies): that is how the tests see what a PATCH carries.
 */
import * as http from "http";
import type { AddressInfo } from "net";
import { ResourceEngine } from "../../provider/engine/engine";
import { warningsShown } from "../../provider/engine/log";
import { MASK } from "../../provider/engine/secrets";
import { assertNoLeaks, credentialsOf } from "../helpers/leak-scan";
import { SimulatedResource } from "../helpers/engine-sim";
import { api, Backend, configureStack, infisicalApi, provider, Ready, rejection, resetProviderProcess, start } from "./support";

interface Captured {
    method: string;
    path: string;
    body: unknown;
}

/** An HTTP forwarder to `target` that records every request (method, path, parsed JSON body). */
async function startRecordingForwarder(target: string): Promise<{ url: string; requests: Captured[]; close(): Promise<void> }> {
    const upstream = new URL(target);
    const requests: Captured[] = [];
    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const raw = Buffer.concat(chunks);
            let body: unknown;
            try {
                body = raw.length > 0 ? JSON.parse(raw.toString("utf8")) : undefined;
            } catch {
                body = raw.toString("utf8");
            }
            requests.push({ method: req.method ?? "", path: req.url ?? "", body });
            const forward = http.request(
                { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
                (answer) => {
                    res.writeHead(answer.statusCode ?? 502, answer.headers);
                    answer.pipe(res);
                },
            );
            forward.on("error", () => res.destroy());
            forward.end(raw);
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        requests,
        close: async () => {
            server.closeAllConnections();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}

let backend: Backend;
let guarded: Backend;
let ready: Ready;
let forwarder: Awaited<ReturnType<typeof startRecordingForwarder>>;
const SECRET = "sso-real-server-secret-9c0d";
const OTHER_SECRET = "sso-secret-changed-by-another-admin-1e2f";
const produced: Record<string, unknown> = {};

type Org = Ready["infisical"]["organizations"][number];
const org = (i: number): Org => ready.infisical.organizations[i];
const SSO_PATH = "/api/v1/sso/oidc/config";

function sso(o: Org, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        organizationId: o.id,
        configurationType: "discoveryURL",
        discoveryURL: ready.issuer.discoveryUrl,
        clientId: "infisical-real",
        clientSecret: SECRET,
        allowedEmailDomains: "example.com",
        // The organization's own token; the host is the stack's (the recording forwarder).
        connection: { token: o.token },
        ...extra,
    };
}

const admin = (path: string, method: "GET" | "PATCH" = "GET", body?: unknown) => api(method, `${ready.url}${path}`, `Bearer ${ready.admin.token}`, body);
const orgSettings = async (o: Org) => (await admin(`/_admin/infisical/organizations/${o.id}`)).json;
const ssoWrites = () => forwarder.requests.filter((r) => r.path.startsWith(SSO_PATH) && r.method !== "GET");

beforeAll(async () => {
    backend = await start({
        seed: {
            organizations: 6,
            identitiesPerOrg: 2,
            unleashInstances: 1,
            organizationSettings: [{}, { plan: { oidcSSO: false } }, { googleSsoAuthEnforced: true }, {}, {}, {}],
        },
    });
    ready = backend.ready;
    guarded = await start({ seed: { organizations: 1, identitiesPerOrg: 1, unleashInstances: 1 }, allowInternalIpConnections: false });
    forwarder = await startRecordingForwarder(ready.infisical.url);
    await configureStack({ "infisical:host": forwarder.url, "infisical:token": ready.infisical.token });
});
afterAll(async () => {
    produced.warnings = warningsShown();
    assertNoLeaks(produced, { ...credentialsOf(ready), ...credentialsOf(guarded?.ready), SECRET, OTHER_SECRET });
    await resetProviderProcess();
    await forwarder?.close();
    await guarded?.stop();
    await backend?.stop();
});

describe("issue #10: the SSO configuration's secret and its updates", () => {
    const res = new SimulatedResource(provider("OidcSsoConfig"));
    const o = () => org(0);

    test("the secret changed behind Pulumi's back shows at refresh (masked, the hash output moves) and up puts it back", async () => {
        await res.up(sso(o()));
        const hashBefore = res.state?.clientSecretHash;
        expect(hashBefore).toMatch(/^hmac-sha256\$/);
        expect(await res.refresh()).toBe("same");

        expect((await infisicalApi(ready, o().token).patchSso({ organizationId: o().id, clientSecret: OTHER_SECRET })).status).toBe(200);
        expect(await res.refresh()).toBe("changed");
        expect(res.state?.clientSecretHash).not.toBe(hashBefore);
        const preview = (await res.preview(sso(o()))) as { diffs?: string[]; details?: unknown[] };
        produced.secretDrift = preview;
        expect(preview.diffs).toEqual(["clientSecret"]);
        expect(preview.details).toEqual([{ property: "clientSecret", kind: "update", old: MASK, new: MASK }]);

        await res.up(sso(o()));
        expect((await infisicalApi(ready, o().token).getSso(o().id)).json.clientSecret).toBe(SECRET);
        expect(res.state?.clientSecretHash).toBe(hashBefore); // same value, same salt: the same hash
    });

    test("an update PATCHes organizationId and the changed field only (no isActive), and the preview warns about enforcement and SCIM", async () => {
        await admin(`/_admin/infisical/organizations/${o().id}`, "PATCH", { authEnforced: true, scimEnabled: true });
        forwarder.requests.length = 0;
        const preview = await res.preview(sso(o(), { allowedEmailDomains: "example.com, example.org" }));
        expect(preview?.diffs).toEqual(["allowedEmailDomains"]);
        expect(forwarder.requests).toEqual([]); // preview makes no request
        const warning = warningsShown().find((w) => w.startsWith(`OidcSsoConfig for organizationId ${o().id}`) && w.includes("authEnforced and scimEnabled become false"));
        expect(warning).toBeDefined();
        // Issue #26.3: with enforcement off, newer Infisical versions verify users' e-mail again at SSO login.
        expect(warning).toContain("ask users to verify their e-mail address again at their next SSO login");

        await res.up(sso(o(), { allowedEmailDomains: "example.com, example.org" }));
        const writes = ssoWrites();
        expect(writes.map((w) => w.method)).toEqual(["PATCH"]);
        expect(Object.keys(writes[0].body as object).sort()).toEqual(["allowedEmailDomains", "organizationId"]);
        expect(writes[0].body).toEqual({ organizationId: o().id, allowedEmailDomains: "example.com, example.org" });
        // What every PATCH does on the real server (the reason to send none that is not needed):
        expect(await orgSettings(o())).toMatchObject({ authEnforced: false, scimEnabled: false });
    });

    test("nothing changed: no request at all; credentials moved alone: an update that sends nothing", async () => {
        await admin(`/_admin/infisical/organizations/${o().id}`, "PATCH", { authEnforced: true, scimEnabled: true });
        forwarder.requests.length = 0;
        expect((await res.up(sso(o(), { allowedEmailDomains: "example.org, example.com" }))).op).toBe("same");
        expect(forwarder.requests).toEqual([]);

        // The same organization through universal auth of its automation identity: stored for refresh and delete only.
        const moved = await res.up(sso(o(), { allowedEmailDomains: "example.org, example.com", connection: { clientId: o().universalAuth.clientId, clientSecret: o().universalAuth.clientSecret } }));
        expect(moved).toMatchObject({ op: "update", diffs: ["connection"], replaces: [] });
        // The preview checks the new credentials once (a login, issue #24.5); nothing reaches the SSO configuration.
        expect(forwarder.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["POST /api/v1/auth/universal-auth/login"]);
        expect(await orgSettings(o())).toMatchObject({ authEnforced: true, scimEnabled: true });
    });

    test("SMTP not verifying: an unrelated update of an active config still works (isActive is not sent)", async () => {
        await admin("/_admin/infisical/instance", "PATCH", { smtpVerified: false });
        try {
            await res.up(sso(o(), { allowedEmailDomains: "example.net" }));
            expect(ssoWrites().pop()?.body).toEqual({ organizationId: o().id, allowedEmailDomains: "example.net" });
            expect((await infisicalApi(ready, o().token).getSso(o().id)).json).toMatchObject({ isActive: true, allowedEmailDomains: "example.net" });
        } finally {
            await admin("/_admin/infisical/instance", "PATCH", { smtpVerified: true });
        }
    });
});

describe("issue #10: configurations gone or inactive", () => {
    test("a config deleted behind Pulumi's back (PATCH answers 200 with no body): update creates it again and says so", async () => {
        const o = org(4);
        const engine = provider("OidcSsoConfig") as unknown as ResourceEngine;
        // The state a create recorded, for a configuration that is no longer on the server.
        const res = new SimulatedResource(provider("OidcSsoConfig"));
        const old = await res.checked(sso(o, { allowedEmailDomains: "old.example.com" }));
        res.id = o.id;
        res.inputs = old;
        res.state = await engine.recordedOutputs(old, { orgId: o.id, id: "deleted-config-id", isActive: true }, forwarder.url);
        expect((await infisicalApi(ready, o.token).getSso(o.id)).status).toBe(404);

        forwarder.requests.length = 0;
        expect((await res.up(sso(o))).op).toBe("update");
        expect(ssoWrites().map((w) => w.method)).toEqual(["PATCH", "POST"]);
        const live = (await infisicalApi(ready, o.token).getSso(o.id)).json;
        expect(live).toMatchObject({ orgId: o.id, isActive: true, clientId: "infisical-real", clientSecret: SECRET, allowedEmailDomains: "example.com" });
        expect(res.state?.configId).toBe(live.id);
        expect(warningsShown().some((w) => w.startsWith(`OidcSsoConfig for organizationId ${o.id}`) && w.includes("no longer exists: creating it"))).toBe(true);
    });

    test("delete of a config already inactive sends no PATCH (authEnforced stays as it is)", async () => {
        const o = org(3);
        const res = new SimulatedResource(provider("OidcSsoConfig"));
        await res.up(sso(o));
        expect((await infisicalApi(ready, o.token).patchSso({ organizationId: o.id, isActive: false })).status).toBe(200);
        await admin(`/_admin/infisical/organizations/${o.id}`, "PATCH", { authEnforced: true, scimEnabled: true });

        forwarder.requests.length = 0;
        await res.destroy();
        expect(forwarder.requests.map((r) => r.method)).toEqual(["GET"]);
        expect(await orgSettings(o)).toMatchObject({ authEnforced: true, scimEnabled: true });
    });
});

describe("issue #10: refusals say cause and fix", () => {
    test("an organization whose plan lacks OIDC SSO: the plan hint", async () => {
        const o = org(1);
        const err = await rejection(new SimulatedResource(provider("OidcSsoConfig")).up(sso(o)));
        produced.plan = err;
        expect(err.status).toBe(400);
        expect(err.message).toContain("plan restriction");
        expect(err.hint).toContain("oidcSSO");
        expect(err.hint).toMatch(/upgrade the plan/i);
    });

    // Today's message (oidc-config-service.ts): "You cannot enable OIDC SSO while Google OAuth is enforced. Disable
    // Google OAuth enforcement to enable OIDC SSO."
    test("Google SSO enforced: isActive true is refused with the Google enforcement hint", async () => {
        const o = org(2);
        const err = await rejection(new SimulatedResource(provider("OidcSsoConfig")).up(sso(o)));
        produced.google = err;
        expect(err.status).toBe(400);
        expect(err.message).toContain("Google OAuth is enforced");
        expect(err.hint).toMatch(/Google/);
        expect(err.hint).toMatch(/enforce/i);
    });

    test("Google SSO enforced: an inactive configuration is accepted", async () => {
        const o = org(2);
        expect((await new SimulatedResource(provider("OidcSsoConfig")).up(sso(o, { isActive: false }))).op).toBe("create");
        expect((await infisicalApi(ready, o.token).getSso(o.id)).json.isActive).toBe(false);
    });

    test("SMTP not verified: activating is refused with the SMTP hint", async () => {
        const o = org(5);
        const res = new SimulatedResource(provider("OidcSsoConfig"));
        await res.up(sso(o, { isActive: false }));
        await admin("/_admin/infisical/instance", "PATCH", { smtpVerified: false });
        try {
            forwarder.requests.length = 0;
            const err = await rejection(res.up(sso(o, { isActive: true })));
            produced.smtp = err;
            expect(ssoWrites().map((w) => w.body)).toEqual([{ organizationId: o.id, isActive: true }]);
            expect(err.status).toBe(400);
            expect(err.hint).toMatch(/SMTP/);
            expect(err.hint).toContain("isActive: false");
        } finally {
            await admin("/_admin/infisical/instance", "PATCH", { smtpVerified: true });
        }
        await res.up(sso(o, { isActive: true }));
        expect((await infisicalApi(ready, o.token).getSso(o.id)).json.isActive).toBe(true);
    });

    test("URL guard on (no ALLOW_INTERNAL_IP_CONNECTIONS): the 'Local IPs' refusal names the setting, for SSO and identity OIDC auth", async () => {
        const g = guarded.ready;
        const connection = { host: g.infisical.url, token: g.infisical.token };
        const ssoErr = await rejection(
            new SimulatedResource(provider("OidcSsoConfig")).up({ ...sso(g.infisical.organizations[0]), discoveryURL: g.issuer.discoveryUrl, connection }),
        );
        produced.guardSso = ssoErr;
        expect(ssoErr.message).toContain("Local IPs not allowed as URL");
        expect(ssoErr.hint).toContain("ALLOW_INTERNAL_IP_CONNECTIONS=true");
        expect(ssoErr.hint).toContain("discoveryURL");

        const idErr = await rejection(
            new SimulatedResource(provider("IdentityOidcAuth")).up({ identityId: g.infisical.identityIds[0], oidcDiscoveryUrl: g.issuer.url, boundIssuer: g.issuer.url, connection }),
        );
        produced.guardIdentity = idErr;
        expect(idErr.message).toContain("Local IPs not allowed as URL");
        expect(idErr.hint).toContain("ALLOW_INTERNAL_IP_CONNECTIONS=true");
        expect(idErr.hint).toContain("oidcDiscoveryUrl");
        expect(idErr.hint).not.toContain("organizationId");
    });
});

describe("issue #10: identity OIDC auth", () => {
    const identity = (i: number) => ready.infisical.identityIds[i];
    const auth = (i: number, extra: Record<string, unknown> = {}) => ({ identityId: identity(i), oidcDiscoveryUrl: ready.issuer.url, boundIssuer: ready.issuer.url, ...extra });

    test("claimMetadataMapping round-trips with no diff, and is cleared when removed from the program", async () => {
        const res = new SimulatedResource(provider("IdentityOidcAuth"));
        const mapping = { repository: "repo", team: "org.team" };
        await res.up(auth(0, { claimMetadataMapping: mapping }));
        expect((await infisicalApi(ready).getAuth(identity(0))).json.identityOidcAuth.claimMetadataMapping).toEqual(mapping);
        expect(res.state?.claimMetadataMapping).toEqual(mapping);
        expect(await res.refresh()).toBe("same");
        expect((await res.preview(auth(0, { claimMetadataMapping: { team: "org.team", repository: "repo" } })))?.changes).toBe(false);

        forwarder.requests.length = 0;
        const up = await res.up(auth(0));
        expect(up).toMatchObject({ op: "update", diffs: ["claimMetadataMapping"] });
        expect(forwarder.requests.filter((r) => r.method === "PATCH").map((r) => r.body)).toEqual([{ claimMetadataMapping: {} }]);
        const live = (await infisicalApi(ready).getAuth(identity(0))).json.identityOidcAuth.claimMetadataMapping;
        expect(live === null || Object.keys(live).length === 0).toBe(true);
        expect((await res.preview(auth(0)))?.changes).toBe(false);
    });

    test("delete revokes the token an OIDC login obtained, and the delete warning says so", async () => {
        const res = new SimulatedResource(provider("IdentityOidcAuth"));
        await res.up(auth(1, { boundAudiences: "reference-backend" }));
        const minted = await api("POST", `${ready.issuer.mintUrl}`, "", { sub: "workload-1", aud: "reference-backend" });
        const login = await api("POST", `${ready.infisical.url}/api/v1/auth/oidc-auth/login`, "", { identityId: identity(1), jwt: minted.json.id_token });
        expect(login.status).toBe(200);
        const accessToken: string = login.json.accessToken;
        // A member identity: authenticated, but not allowed to read identities.
        const before = await infisicalApi(ready, accessToken).getAuth(identity(1));
        expect(before.status).toBe(403);
        expect(before.json.error).toBe("PermissionDenied");

        await res.destroy();
        expect((await infisicalApi(ready).getAuth(identity(1))).status).toBe(400); // no OIDC auth attached any more
        const after = await infisicalApi(ready, accessToken).getAuth(identity(1));
        expect(after.status).toBe(401); // the token is revoked
        expect(warningsShown().some((w) => w.startsWith(`IdentityOidcAuth for identityId ${identity(1)}`) && /revokes the access tokens/.test(w))).toBe(true);
    });
});
