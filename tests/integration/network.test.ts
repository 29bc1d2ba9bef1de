/**
 * Issue #27, networks: every request honours HTTPS_PROXY/HTTP_PROXY/NO_PROXY (a real forward proxy, proxy-chain,
 * records the CONNECTs), a server behind a private CA is reached with the connection's caCert, a TLS error names the
 * host and what to set, a network error names where its URL came from (#24.6), and the proxy's credentials never
 * appear in a message.
 *
 * The reference backend serves HTTPS itself, with a certificate of a CA made in this test (tests/reference-backend/
 * test-ca.ts); a second one serves plain HTTP for the HTTP_PROXY case.
 */
import { clearCredentialChecks, infisicalClient, resolveInfisical, resolveUnleash, setStackConfig, unleashClient } from "../../provider/connection";
import { ApiError, NetworkError } from "../../provider/http/errors";
import { makeTestCa, type TestCa } from "../reference-backend/test-ca";
import { assertNoLeaks, credentialsOf } from "../helpers/leak-scan";
import { settle, startProxy, TestProxy } from "../helpers/network";
import { Backend, rejection, resetProviderProcess, start } from "./support";

let backend: Backend;
let ca: TestCa;
let httpsUrl = "";
const produced: Record<string, unknown> = {};
const PROXY_PASSWORD = "proxy-password-8d1e2f";
const savedEnv = { ...process.env };

function clearNetworkEnv(): void {
    for (const k of ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "INFISICAL_HOST", "INFISICAL_TOKEN", "UNLEASH_URL", "AUTH_TOKEN"]) delete process.env[k];
}

beforeAll(async () => {
    ca = await makeTestCa();
    backend = await start({ tls: ca, seed: { organizations: 1, identitiesPerOrg: 1, unleashInstances: 1 } });
    httpsUrl = backend.ready.url;
});

beforeEach(async () => {
    clearNetworkEnv();
    setStackConfig(undefined);
    clearCredentialChecks();
    await resetProviderProcess();
});

afterAll(async () => {
    process.env = savedEnv;
    try {
        assertNoLeaks(produced, { ...credentialsOf(backend.ready), PROXY_PASSWORD });
    } finally {
        await resetProviderProcess();
        await backend?.stop();
    }
});

const ssoPath = () => `/api/v1/sso/oidc/config?organizationId=${backend.ready.infisical.organizationId}`;

/** The status the server answered (a 4xx answer proves the request reached it, authenticated). */
async function answered(p: Promise<{ status: number }>): Promise<number> {
    try {
        return (await p).status;
    } catch (err) {
        if (err instanceof ApiError) return err.status;
        throw err;
    }
}

test("a private CA: a TLS error names the host and both ways to trust it; the connection's caCert works", async () => {
    const conn = { host: httpsUrl, token: backend.ready.infisical.token };
    const err = await rejection(infisicalClient(resolveInfisical(conn)).request({ method: "GET", path: ssoPath() }));
    produced.tls = err;
    expect(err).toBeInstanceOf(NetworkError);
    const host = new URL(httpsUrl).host;
    expect(err.message).toContain(`on ${httpsUrl} (from the resource's connection.host) failed: the TLS handshake failed`);
    expect(err.message).toContain(`How to fix: the certificate of ${host} is signed by a CA this machine does not trust (a private CA?): set NODE_EXTRA_CA_CERTS=/path/to/ca.pem`);
    expect(err.message).toContain("or put the CA's PEM bundle in connection.caCert, `pulumi config set infisical:caCert …` (this server only)");
    expect(err.attempts).toBe(1); // certain: not retried

    // No SSO configuration yet: Infisical's 404 "Failed to find OIDC SSO data", after the token was accepted.
    expect(await answered(infisicalClient(resolveInfisical({ ...conn, caCert: ca.ca })).request({ method: "GET", path: ssoPath() }))).toBe(404);
});

test("a caCert that is not PEM is refused at resolution, naming where it came from", () => {
    setStackConfig({ get: (k) => ({ "unleash:caCert": "not a certificate" })[k] });
    expect(() => resolveUnleash({ url: httpsUrl })).toThrow("Unleash caCert (from stack config unleash:caCert) must be a PEM bundle (-----BEGIN CERTIFICATE----- …)");
});

describe("through a forward proxy", () => {
    let proxy: TestProxy;
    beforeAll(async () => {
        proxy = await startProxy({ username: "ci-runner", password: PROXY_PASSWORD });
    });
    afterAll(async () => proxy?.close());

    test("HTTPS_PROXY carries every request (login included) as a CONNECT; NO_PROXY bypasses it", async () => {
        process.env.HTTPS_PROXY = proxy.url;
        const host = new URL(httpsUrl).host;
        proxy.connects.length = 0;
        const conn = {
            host: httpsUrl,
            caCert: ca.ca,
            clientId: backend.ready.infisical.universalAuth.clientId,
            clientSecret: backend.ready.infisical.universalAuth.clientSecret,
        };
        expect(await answered(infisicalClient(resolveInfisical(conn)).request({ method: "GET", path: ssoPath() }))).toBe(404);
        await settle();
        expect(proxy.connects.length).toBeGreaterThanOrEqual(1);
        expect(new Set(proxy.connects)).toEqual(new Set([host]));

        // Unleash too, and the lower-case name; NO_PROXY names the host: straight there.
        delete process.env.HTTPS_PROXY;
        process.env.https_proxy = proxy.url;
        await resetProviderProcess(); // a new process: no tunnel to reuse
        proxy.connects.length = 0;
        const unleashUrl = `${httpsUrl}${new URL(backend.ready.unleash.url).pathname}`;
        const unleash = unleashClient(resolveUnleash({ url: unleashUrl, apiToken: backend.ready.unleash.adminToken, caCert: ca.ca }));
        expect((await unleash.request({ method: "GET", path: "/api/admin/auth/oidc/settings" })).status).toBe(200);
        await settle();
        expect(proxy.connects).toEqual([host]);
        process.env.NO_PROXY = "127.0.0.1";
        await resetProviderProcess();
        proxy.connects.length = 0;
        const direct = unleashClient(resolveUnleash({ url: unleashUrl, apiToken: backend.ready.unleash.adminToken, caCert: ca.ca }));
        expect((await direct.request({ method: "GET", path: "/api/admin/auth/oidc/settings" })).status).toBe(200);
        await settle();
        expect(proxy.connects).toEqual([]);
    });

    test("HTTP_PROXY carries plain-http requests (undici tunnels them too)", async () => {
        const plain = await start({ seed: { organizations: 1, identitiesPerOrg: 1, unleashInstances: 1, loginIdentities: false, oidcAuthTemplates: false } });
        try {
            process.env.HTTP_PROXY = proxy.url;
            proxy.connects.length = 0;
            const unleash = unleashClient(resolveUnleash({ url: plain.ready.unleash.url, apiToken: plain.ready.unleash.adminToken }));
            expect((await unleash.request({ method: "GET", path: "/api/admin/auth/oidc/settings" })).status).toBe(200);
            await settle();
            expect(proxy.connects).toEqual([new URL(plain.ready.url).host]);
        } finally {
            await resetProviderProcess();
            await plain.stop();
        }
    });

    test("a proxy that refuses: the error names the proxy without its credentials, and the URL's source", async () => {
        const wrong = new URL(proxy.url);
        wrong.password = "wrong-proxy-password-0a9b";
        process.env.HTTPS_PROXY = wrong.toString();
        setStackConfig({ get: (k) => ({ "unleash:url": `${httpsUrl}/unleash/0`, "unleash:apiToken": backend.ready.unleash.adminToken, "unleash:caCert": ca.ca })[k] });
        const err = await rejection(
            unleashClient(resolveUnleash(undefined), { retry: { maxAttempts: 1 } }).request({ method: "GET", path: "/api/admin/auth/oidc/settings" }),
        );
        produced.proxyRefused = err;
        expect(err.message).toContain(`on ${httpsUrl} (from stack config unleash:url) failed`);
        expect(err.message).toContain(`HTTP(S)_PROXY is set: http://${new URL(proxy.url).host}`);
        expect(err.message).not.toContain("wrong-proxy-password-0a9b");
        expect(err.message).not.toContain("ci-runner");
    });
});

test("#24.6 a network error names where the URL came from", async () => {
    process.env.UNLEASH_URL = "http://127.0.0.1:9"; // discard port: refused
    process.env.AUTH_TOKEN = backend.ready.unleash.adminToken;
    const err = await rejection(unleashClient(resolveUnleash(undefined), { retry: { maxAttempts: 1 } }).request({ method: "GET", path: "/api/admin/auth/oidc/settings" }));
    produced.refused = err;
    expect(err.message).toBe(
        "Unleash API: GET /api/admin/auth/oidc/settings on http://127.0.0.1:9 (from environment variable UNLEASH_URL) failed: connection refused (ECONNREFUSED). " +
            "How to fix: check that the URL (from environment variable UNLEASH_URL) is right and the server is reachable from this machine",
    );
});
