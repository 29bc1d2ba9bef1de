/**
 * Persistence of the reference backend: a restart on the same data directory keeps ids, credentials, keys and
 * objects (the seed is not applied again); concurrent changes are serialized and all saved, the state file stays
 * valid JSON; writes leave no temp files; a temporary data directory is removed by stop().
 */
import { promises as fs } from "fs";
import * as os from "os";
import * as path from "path";
import { Backend, call, infisical, mint, ssoBody, start, universalLogin } from "./helpers";

let dataDir: string;
let backend: Backend | undefined;

beforeEach(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "rb-persistence-"));
});
afterEach(async () => {
    await backend?.stop();
    backend = undefined;
    await fs.rm(dataDir, { recursive: true, force: true });
});

async function readState(): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    return JSON.parse(await fs.readFile(path.join(dataDir, "state.json"), "utf8"));
}

test("a restart keeps credentials, ids, the issuer key and every object; the seed is not applied again", async () => {
    backend = await start({ dataDir, seed: { organizations: 2, identitiesPerOrg: 2, unleashInstances: 2 } });
    const first = backend.ready;
    const api = infisical(first);
    expect((await api.postSso({ organizationId: first.infisical.organizationId, configurationType: "discoveryURL", discoveryURL: first.issuer.discoveryUrl, clientId: "kept", clientSecret: "kept-secret-value", isActive: true })).status).toBe(200);
    expect((await api.postAuth(first.infisical.identityIds[0], { oidcDiscoveryUrl: first.issuer.url, boundIssuer: first.issuer.url, boundClaims: { a: "b" } })).status).toBe(200);
    const unleash = await call("POST", `${first.unleash.url}/api/admin/auth/oidc/settings`, { authorization: first.unleash.adminToken, body: { enabled: false, clientId: "u", secret: "unleash-kept-secret" } });
    expect(unleash.status).toBe(200);
    const uaToken = (await universalLogin(first)).json.accessToken as string;
    const jwks = (await call("GET", first.issuer.jwksUri)).json;
    await backend.stop();

    // Same port: the OIDC auth attached above names the issuer by URL.
    backend = await start({ dataDir, port: Number(new URL(first.url).port), seed: { organizations: 5, identitiesPerOrg: 5, unleashInstances: 5 } });
    const second = backend.ready;
    expect(second).toEqual(first); // same tokens, ids and secrets
    expect(second.infisical.organizations).toHaveLength(2);

    const api2 = infisical(second);
    expect((await api2.getSso(second.infisical.organizationId)).json).toMatchObject({ clientId: "kept", isActive: true });
    expect((await api2.getAuth(second.infisical.identityIds[0])).json.identityOidcAuth.boundClaims).toEqual({ a: "b" });
    expect((await call("GET", `${second.unleash.url}/api/admin/auth/oidc/settings`, { authorization: second.unleash.adminToken })).json).toMatchObject({ clientId: "u", secret: "unleash-kept-secret" });
    // An access token issued before the restart is still valid, and the issuer kept its key.
    expect((await infisical(second, uaToken).getAuth(second.infisical.identityIds[0])).status).toBe(200);
    expect((await call("GET", second.issuer.jwksUri)).json).toEqual(jwks);
    const login = await call("POST", `${second.infisical.url}/api/v1/auth/oidc-auth/login`, { body: { identityId: second.infisical.identityIds[0], jwt: await mint(second, { claims: { a: "b" } }) } });
    expect(login.status).toBe(200);
});

test("concurrent changes are all applied and saved; the file stays valid JSON and no temp file is left", async () => {
    backend = await start({ dataDir, seed: { organizations: 1, identitiesPerOrg: 20, unleashInstances: 1 } });
    const ready = backend.ready;
    const api = infisical(ready);
    const ids = ready.infisical.identityIds;
    await Promise.all(ids.map((id) => api.postAuth(id, { oidcDiscoveryUrl: ready.issuer.url, boundIssuer: ready.issuer.url, boundClaims: {} })));
    // 20 identities × 3 PATCHes each, all in flight at once, plus SSO and Unleash writes.
    const patches = ids.flatMap((id, i) => [1, 2, 3].map((n) => api.patchAuth(id, { boundSubject: `subject-${i}-${n}`, accessTokenNumUsesLimit: i * 10 + n })));
    const sso = api.postSso({ organizationId: ready.infisical.organizationId, configurationType: "discoveryURL", discoveryURL: ready.issuer.discoveryUrl, clientId: "c", clientSecret: "concurrent-secret", isActive: true });
    const results = await Promise.all([...patches, sso]);
    expect(results.map((r) => r.status).every((s) => s === 200)).toBe(true);

    const state = await readState();
    expect(state.infisical.identityOidcAuths).toHaveLength(20);
    for (const [i, id] of ids.entries()) {
        const rec = state.infisical.identityOidcAuths.find((a: { identityId: string }) => a.identityId === id);
        // Requests on one connection pool may be reordered, but every one landed: the last value is one of them.
        expect(rec.boundSubject).toMatch(new RegExp(`^subject-${i}-[123]$`));
        expect(rec.accessTokenNumUsesLimit % 10).toBe(Number(rec.boundSubject.slice(-1)));
    }
    expect(state.infisical.oidcConfigs).toHaveLength(1);
    // What the API reads is what the file holds.
    for (const id of ids.slice(0, 5)) {
        const live = (await api.getAuth(id)).json.identityOidcAuth;
        expect(live.boundSubject).toBe(state.infisical.identityOidcAuths.find((a: { identityId: string }) => a.identityId === id).boundSubject);
    }
    const files = await fs.readdir(dataDir);
    expect(files.sort()).toEqual(["lock", "master.key", "state.json"]);
});

test("a change that fails leaves state and file unchanged", async () => {
    backend = await start({ dataDir, seed: { organizations: 1, identitiesPerOrg: 1, unleashInstances: 1 } });
    const ready = backend.ready;
    const before = await fs.readFile(path.join(dataDir, "state.json"), "utf8");
    const api = infisical(ready);
    expect((await api.postAuth(ready.infisical.identityIds[0], { oidcDiscoveryUrl: ready.issuer.url, boundIssuer: ready.issuer.url, boundClaims: {}, accessTokenTrustedIps: [{ ipAddress: "999.0.0.0/8" }] })).status).toBe(400);
    expect((await api.postSso({ ...ssoBody(ready, ready.infisical.organizationId), discoveryURL: "http://user:pass@127.0.0.1/oidc" })).status).toBe(400);
    expect(await fs.readFile(path.join(dataDir, "state.json"), "utf8")).toBe(before);
});

test("a corrupt state file is reported, not overwritten", async () => {
    await fs.writeFile(path.join(dataDir, "state.json"), "{ half a file");
    await expect(start({ dataDir })).rejects.toThrow(/state\.json is not valid JSON/);
    expect(await fs.readFile(path.join(dataDir, "state.json"), "utf8")).toBe("{ half a file");
});

test("without a data directory a temporary one is used and removed by stop()", async () => {
    const b = await start({ seed: { organizations: 1, identitiesPerOrg: 1, unleashInstances: 1 } });
    const dir = b.ready.dataDir;
    expect((await fs.stat(path.join(dir, "state.json"))).isFile()).toBe(true);
    await b.stop();
    await b.stop(); // idempotent
    await expect(fs.stat(dir)).rejects.toThrow(/ENOENT/);
});

test("one backend per data directory; a stale lock is taken over; stop releases it", async () => {
    backend = await start({ dataDir, seed: { organizations: 1, identitiesPerOrg: 1, unleashInstances: 1 } });
    await expect(start({ dataDir })).rejects.toThrow(/already used by a backend of this process/);
    await backend.stop();
    backend = undefined;
    await expect(fs.stat(path.join(dataDir, "lock"))).rejects.toThrow(/ENOENT/);
    // A lock left by a process that is gone (a crash): taken over.
    await fs.writeFile(path.join(dataDir, "lock"), "2147483646\n");
    backend = await start({ dataDir });
    expect((await fs.readFile(path.join(dataDir, "lock"), "utf8")).trim()).toBe(String(process.pid));
});

test("firstOrgIdentities seeds the first organization with its own number of identities", async () => {
    const b = await start({ seed: { organizations: 3, identitiesPerOrg: 1, firstOrgIdentities: 5, unleashInstances: 1 } });
    try {
        expect(b.ready.infisical.organizations.map((o: { identityIds: string[] }) => o.identityIds.length)).toEqual([5, 1, 1]);
        expect(b.ready.infisical.identityIds).toHaveLength(5);
    } finally {
        await b.stop();
    }
});

test("seeded settings that name the backend itself follow it to a new port; ones set through the API stay as set", async () => {
    backend = await start({ dataDir, seed: { organizations: 1, identitiesPerOrg: 2, unleashInstances: 1 } });
    const first = backend.ready;
    const org = first.infisical.organizations[0]!;
    const target = org.identityIds[0] as string;
    expect((await infisical(first).postAuth(target, { templateId: org.oidcAuthTemplateId, boundSubject: "s", boundClaims: {} })).status).toBe(200);
    await backend.stop();

    backend = await start({ dataDir });
    const second = backend.ready;
    expect(second.url).not.toBe(first.url);
    const auth = (p: string) => call("GET", `${second.infisical.url}/api/v1/auth/${p}`, { authorization: `Bearer ${second.infisical.token}` });
    expect((await auth(`kubernetes-auth/identities/${org.kubernetesIdentity!.identityId}`)).json.identityKubernetesAuth.kubernetesHost).toBe(second.kubernetes.host);
    expect((await auth(`aws-auth/identities/${org.awsIdentity!.identityId}`)).json.identityAwsAuth.stsEndpoint).toBe(second.aws.stsEndpoint);
    // The template's issuer moved, and with it the identity linked to it: a token of the new issuer logs in.
    expect((await infisical(second).getAuth(target)).json.identityOidcAuth).toMatchObject({ oidcDiscoveryUrl: second.issuer.url, boundIssuer: second.issuer.url });
    const jwt = await mint(second, { sub: "s" });
    expect((await call("POST", `${second.infisical.url}/api/v1/auth/oidc-auth/login`, { body: { identityId: target, jwt } })).status).toBe(200);
    // A Kubernetes host changed through the API is the user's: it no longer follows the backend.
    const path = `${second.infisical.url}/api/v1/auth/kubernetes-auth/identities/${org.kubernetesIdentity!.identityId}`;
    expect((await call("PATCH", path, { authorization: `Bearer ${second.infisical.token}`, body: { kubernetesHost: second.kubernetes.host } })).status).toBe(200);
    const state = await readState();
    expect(state.infisical.identityKubernetesAuths.find((a: { identityId: string }) => a.identityId === org.kubernetesIdentity!.identityId).followsBackendUrl).toBe(false);
});
