/**
 * The whole lifecycle under the real Pulumi engine: the test program (tests/e2e/program) imports the package the
 * way a user's infra repo does, and talks to the reference backend started here, over real HTTP.
 */
import { createHash, createHmac } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { EngineEvent } from "@pulumi/pulumi/automation";
import { startBackend } from "../../reference-backend/src";
import { assertNoLeaks, credentialsOf } from "../helpers/leak-scan";
import { describeWithEngine, newStack, TestStack } from "./harness";
import { api } from "../helpers/direct-api";

type Backend = Awaited<ReturnType<typeof startBackend>>;

const programDir = path.join(__dirname, "program");
const SSO_SECRET_1 = "sso-client-secret-e2e-one-7d1f";
const SSO_SECRET_2 = "sso-client-secret-e2e-two-93ab";
const UNLEASH_SECRET = "unleash-client-secret-e2e-5c2e";


/**
 * Outputs that a refresh changed, by resource name. The engine's refresh events carry the old and new outputs but
 * no list of changed keys, so they are compared here; a masked secret's change shows through its `<field>Hash`.
 */
function changedKeys(events: EngineEvent[]): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const e of events) {
        const meta = e.resOutputsEvent?.metadata;
        if (!meta?.old || !meta.new) continue;
        const before = meta.old.outputs ?? {};
        const after = meta.new.outputs ?? {};
        const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => !k.startsWith("__"));
        const changed = keys.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k])).sort();
        if (changed.length > 0) out[meta.urn.split("::").pop()!] = changed;
    }
    return out;
}

describeWithEngine("end to end under the real engine", () => {
    let backend: Backend;
    let t: TestStack;
    let infisical: Backend["ready"]["infisical"];
    let org1Token: string;

    beforeAll(async () => {
        backend = await startBackend({ port: 0, allowInternalIpConnections: true });
        infisical = backend.ready.infisical;
        org1Token = `Bearer ${infisical.token}`;
        t = await newStack(programDir, "e2e");
        const { stack } = t;
        await stack.setAllConfig({
            "infisical:host": { value: infisical.url },
            "infisical:clientId": { value: infisical.universalAuth.clientId, secret: true },
            "infisical:clientSecret": { value: infisical.universalAuth.clientSecret, secret: true },
            "unleash:url": { value: backend.ready.unleash.url },
            "unleash:apiToken": { value: backend.ready.unleash.adminToken, secret: true },
            "e2e:issuerUrl": { value: backend.ready.issuer.url },
            "e2e:organizationId": { value: infisical.organizationId },
            "e2e:identityId": { value: infisical.identityIds[1] },
            "e2e:ssoClientSecret": { value: SSO_SECRET_1, secret: true },
            "e2e:unleashSecret": { value: UNLEASH_SECRET, secret: true },
        });
    }, 120_000);

    afterAll(async () => {
        await t?.cleanup();
        await backend?.stop();
    });

    test("1. up creates all three resources, with right outputs and secret outputs", async () => {
        const result = await t.stack.up({ color: "never" });
        expect(result.summary.result).toBe("succeeded");
        expect(result.summary.resourceChanges?.create).toBe(4); // the stack + 3 resources
        const out = result.outputs;
        expect(out.ssoOrganizationId.value).toBe(infisical.organizationId);
        expect(out.ssoAllowedEmailDomains.value).toBe("example.com,example.org");
        expect(out.ssoIsActive.value).toBe(true);
        expect(out.identityBoundAudiences.value).toBe("https://github.com/example-org,sts.example.com");
        expect(out.unleashEnabled.value).toBe(true);
        expect(out.ssoClientSecret.secret).toBe(true);
        expect(out.unleashSecret.secret).toBe(true);

        // The objects really exist in the backend, as the program described them.
        const sso = await api("GET", `${infisical.url}/api/v1/sso/oidc/config?organizationId=${infisical.organizationId}`, org1Token);
        expect(sso.status).toBe(200);
        expect(sso.json.isActive).toBe(true);
        expect(sso.json.clientId).toBe("infisical-e2e");
        const auth = await api("GET", `${infisical.url}/api/v1/auth/oidc-auth/identities/${infisical.identityIds[1]}`, org1Token);
        expect(auth.status).toBe(200);
        expect(auth.json.identityOidcAuth.boundSubject).toBe("repo:example-org/infra:ref:refs/heads/main");
        const unleash = await api("GET", `${backend.ready.unleash.url}/api/admin/auth/oidc/settings`, backend.ready.unleash.adminToken);
        expect(unleash.json).toMatchObject({ enabled: true, clientId: "unleash-e2e", autoCreate: true, enablePkce: true });
    });

    test("2. preview right after up shows no changes", async () => {
        const preview = await t.stack.preview({ expectNoChanges: true, color: "never" });
        expect(preview.changeSummary.update ?? 0).toBe(0);
        expect(preview.changeSummary.replace ?? 0).toBe(0);
    });

    test("3. an out-of-band change is seen by refresh (exactly the changed fields) and undone by up", async () => {
        const patched = await api("PATCH", `${infisical.url}/api/v1/sso/oidc/config`, org1Token, {
            organizationId: infisical.organizationId,
            allowedEmailDomains: "evil.example",
        });
        expect(patched.status).toBe(200);
        const current = await api("GET", `${backend.ready.unleash.url}/api/admin/auth/oidc/settings`, backend.ready.unleash.adminToken);
        await api("POST", `${backend.ready.unleash.url}/api/admin/auth/oidc/settings`, backend.ready.unleash.adminToken, {
            ...current.json,
            // As the admin UI saves a role: the id too (a stored id wins over the name on the real server).
            defaultRootRole: "Admin",
            defaultRootRoleId: 1,
        });

        // The plain Pulumi drift check fails...
        const check = await t.cli(["preview", "--refresh", "--expect-no-changes"], { allowFailure: true });
        expect(check.status).not.toBe(0);

        // ...and refresh reports exactly the fields that moved.
        const events: EngineEvent[] = [];
        await t.stack.refresh({ onEvent: (e) => events.push(e), color: "never" });
        const changed = changedKeys(events);
        expect(changed["sso"]).toEqual(["allowedEmailDomains"]);
        expect([...changed["unleash"]].sort()).toEqual(["defaultRootRole", "defaultRootRoleId"]);
        expect(changed["ci-identity"]).toBeUndefined();

        // up puts the desired settings back.
        const up = await t.stack.up({ color: "never" });
        expect(up.summary.resourceChanges?.update).toBe(2);
        const sso = await api("GET", `${infisical.url}/api/v1/sso/oidc/config?organizationId=${infisical.organizationId}`, org1Token);
        expect(sso.json.allowedEmailDomains).toBe("example.com, Example.org"); // as written, ", "-joined as Infisical stores it
        const unleash = await api("GET", `${backend.ready.unleash.url}/api/admin/auth/oidc/settings`, backend.ready.unleash.adminToken);
        expect(unleash.json.defaultRootRole).toBe("Viewer");
        expect(unleash.json.defaultRootRoleId).toBe(3); // the role users really get is the one asked for
        await t.stack.preview({ expectNoChanges: true, refresh: true, color: "never" });
    });

    test("4. a new client secret updates in place; a new identityId or organizationId replaces", async () => {
        const before = (await t.stack.outputs()).ssoConfigId.value;
        await t.stack.setConfig("e2e:ssoClientSecret", { value: SSO_SECRET_2, secret: true });
        const up = await t.stack.up({ color: "never" });
        expect(up.summary.resourceChanges).toMatchObject({ update: 1, same: 3 });
        expect(up.outputs.ssoConfigId.value).toBe(before);

        // A different identity: the auth moves (create the new one first, then revoke the old one).
        await t.stack.setConfig("e2e:identityId", { value: infisical.identityIds[2] });
        const replaced = await t.stack.up({ color: "never" });
        expect(replaced.summary.resourceChanges?.replace).toBe(1);
        const oldAuth = await api("GET", `${infisical.url}/api/v1/auth/oidc-auth/identities/${infisical.identityIds[1]}`, org1Token);
        expect(oldAuth.status).toBeGreaterThanOrEqual(400); // revoked: reading it is the API's "not attached" error
        expect(oldAuth.status).toBeLessThan(500);
        const newAuth = await api("GET", `${infisical.url}/api/v1/auth/oidc-auth/identities/${infisical.identityIds[2]}`, org1Token);
        expect(newAuth.status).toBe(200);

        // A different organization, with that organization's own token.
        const org2 = infisical.organizations[1];
        await t.stack.setAllConfig({
            "e2e:organizationId": { value: org2.id },
            "e2e:ssoOrgToken": { value: org2.token, secret: true },
        });
        const movedOrg = await t.stack.up({ color: "never" });
        expect(movedOrg.summary.resourceChanges?.replace).toBe(1);
        const org1Sso = await api("GET", `${infisical.url}/api/v1/sso/oidc/config?organizationId=${infisical.organizationId}`, org1Token);
        expect(org1Sso.json.isActive).toBe(false); // the old org's config was deactivated
        const org2Sso = await api("GET", `${infisical.url}/api/v1/sso/oidc/config?organizationId=${org2.id}`, `Bearer ${org2.token}`);
        expect(org2Sso.json.isActive).toBe(true);
    });

    test("5. an active singleton is adopted only with adoptExisting; get reads an existing object", async () => {
        // Someone configured SSO in org 1 by hand meanwhile (it was deactivated by the move above): reactivate it.
        const hand = await api("PATCH", `${infisical.url}/api/v1/sso/oidc/config`, org1Token, {
            organizationId: infisical.organizationId,
            isActive: true,
            clientId: "configured-by-hand",
        });
        expect(hand.status).toBe(200);
        await t.stack.setAllConfig({ "e2e:organizationId": { value: infisical.organizationId } });
        await t.stack.removeConfig("e2e:ssoOrgToken");
        await expect(t.stack.up({ color: "never" })).rejects.toThrow(/adoptExisting/);

        await t.stack.setConfig("e2e:adoptSso", { value: "true" });
        const adopted = await t.stack.up({ color: "never" });
        expect(adopted.summary.result).toBe("succeeded");
        const sso = await api("GET", `${infisical.url}/api/v1/sso/oidc/config?organizationId=${infisical.organizationId}`, org1Token);
        expect(sso.json.clientId).toBe("infisical-e2e");

        // A static get of an identity OIDC auth that exists.
        await t.stack.setConfig("e2e:existingIdentityAuthId", { value: infisical.identityIds[2] });
        const withGet = await t.stack.up({ color: "never" });
        expect(withGet.outputs.existingBoundSubject.value).toBe("repo:example-org/infra:ref:refs/heads/main");
        await t.stack.removeConfig("e2e:existingIdentityAuthId");
        await t.stack.up({ color: "never" });
    });

    test("6. the exported state holds no plaintext secret or credential, and __provider stays small", async () => {
        const exported = JSON.stringify((await t.stack.exportStack()).deployment);
        assertNoLeaks({ "stack export": JSON.parse(exported) }, { ...credentialsOf(backend.ready), SSO_SECRET_1, SSO_SECRET_2, UNLEASH_SECRET });
        const deployment = JSON.parse(exported);
        const providers = deployment.resources
            .filter((r: any) => r.type.startsWith("pulumi-nodejs:dynamic"))
            .map((r: any) => r.inputs.__provider as string);
        expect(providers.length).toBeGreaterThanOrEqual(3);
        for (const p of providers) expect(Buffer.byteLength(p)).toBeLessThan(2560); // the floor: see serialization.test.ts
    });

    test("6b. a secret's hash is keyed: the key is stored encrypted, and without it the plain hash checks no guess", async () => {
        // The state file as it lies on the backend (what a reader of a backup sees), not an export.
        const stacks = path.join(t.stateDir, "backend", ".pulumi", "stacks");
        const file = (fs.readdirSync(stacks, { recursive: true }) as string[]).map((f) => path.join(stacks, f)).find((f) => f.endsWith(".json") && fs.statSync(f).isFile());
        const onDisk = JSON.parse(fs.readFileSync(file!, "utf8")).checkpoint.latest.resources as Array<{ type: string; outputs?: Record<string, any> }>;
        const withHashes = onDisk.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic") && (r.outputs?.clientSecretHash || r.outputs?.secretHash));
        expect(withHashes.length).toBeGreaterThanOrEqual(2);
        const plainKeys = ((await t.stack.exportStack()).deployment.resources as Array<{ urn: string; outputs?: Record<string, any> }>)
            .map((r) => r.outputs?.hashKey?.plaintext ?? r.outputs?.hashKey)
            .filter((k): k is string => typeof k === "string")
            .map((k) => (k.startsWith('"') ? JSON.parse(k) : k));
        for (const r of withHashes) {
            const hash: string = r.outputs!.clientSecretHash ?? r.outputs!.secretHash;
            expect(hash).toMatch(/^hmac-sha256\$[A-Za-z0-9_-]{43}$/);
            expect(r.outputs!.hashKey).toEqual(expect.objectContaining({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: expect.any(String) }));
        }
        const raw = fs.readFileSync(file!, "utf8");
        expect(plainKeys.length).toBeGreaterThanOrEqual(2);
        for (const key of plainKeys) expect(raw).not.toContain(key);
        // The hash is the value's HMAC under that key: with the key the value checks, a guess without it cannot.
        const sso = onDisk.find((r) => r.outputs?.clientSecretHash)!;
        const mac = (key: string, value: string) => "hmac-sha256$" + createHmac("sha256", Buffer.from(key, "base64url")).update(value).digest("base64url");
        expect(plainKeys.some((key) => mac(key, SSO_SECRET_2) === sso.outputs!.clientSecretHash || mac(key, SSO_SECRET_1) === sso.outputs!.clientSecretHash)).toBe(true);
        expect(createHash("sha256").update(SSO_SECRET_2).digest("base64url")).not.toBe(sso.outputs!.clientSecretHash.split("$")[1]);
    });

    test("7. invalid input fails at preview naming the field; an API error surfaces with status and message", async () => {
        await t.stack.setConfig("e2e:accessTokenTTL", { value: "999999" }); // > accessTokenMaxTTL 7200
        await expect(t.stack.preview({ color: "never" })).rejects.toThrow(/accessTokenTTL/);
        await t.stack.removeConfig("e2e:accessTokenTTL");

        await t.stack.setConfig("e2e:identityId", { value: "00000000-0000-4000-8000-000000000000" });
        await expect(t.stack.up({ color: "never" })).rejects.toThrow(/404/);
        await t.stack.setConfig("e2e:identityId", { value: infisical.identityIds[2] });
        const back = await t.stack.up({ color: "never" });
        expect(back.summary.result).toBe("succeeded");
    });

    test("8. destroy leaves the documented safe state", async () => {
        await t.stack.destroy({ color: "never" });
        const sso = await api("GET", `${infisical.url}/api/v1/sso/oidc/config?organizationId=${infisical.organizationId}`, org1Token);
        expect(sso.json.isActive).toBe(false);
        const unleash = await api("GET", `${backend.ready.unleash.url}/api/admin/auth/oidc/settings`, backend.ready.unleash.adminToken);
        expect(unleash.json.enabled).toBe(false);
        const auth = await api("GET", `${infisical.url}/api/v1/auth/oidc-auth/identities/${infisical.identityIds[2]}`, org1Token);
        expect(auth.status).toBeGreaterThanOrEqual(400);
    });
});
