/**
 * The reference backend served over HTTPS with a certificate from a CA made in the test: the advertised URLs are
 * https, a client that trusts the CA gets through and one that does not is refused, and the backend's requests to
 * itself (OIDC discovery and JWKS, the STS replay of an AWS login) trust the CA given as `tls.ca`. The CLI takes
 * the same as --tls-cert/--tls-key/--tls-ca (through startBackendProcess).
 */
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { Agent, request } from "undici";
import { startBackendProcess } from "../../reference-backend/src";
import { ensureBuilt } from "./build";
import { Backend, Ready, start } from "./helpers";
import { makeTestCa, type TestCa } from "./test-ca";

let tls: TestCa;
let backend: Backend;
let ready: Ready;
let trusting: Agent;

async function get(url: string, dispatcher?: Agent, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
    const res = await request(url, { method: (init.method ?? "GET") as "GET", headers: init.headers, body: init.body, dispatcher });
    const text = await res.body.text();
    return { status: res.statusCode, json: text ? (JSON.parse(text) as any) : undefined }; // eslint-disable-line @typescript-eslint/no-explicit-any
}
const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
    get(url, trusting, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

beforeAll(async () => {
    tls = await makeTestCa();
    trusting = new Agent({ connect: { ca: tls.ca } });
    backend = await start({ tls, seed: { organizations: 1, identitiesPerOrg: 2, unleashInstances: 1 } });
    ready = backend.ready;
});
afterAll(async () => {
    await backend?.stop();
    await trusting?.close();
});

test("the URLs are https; the CA's clients get through, others are refused", async () => {
    expect(ready.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(ready.issuer.url.startsWith("https://")).toBe(true);
    expect((await get(ready.healthUrl, trusting)).json).toEqual({ status: "ok" });
    await expect(get(ready.healthUrl)).rejects.toThrow(/self-signed certificate in certificate chain|unable to verify|SELF_SIGNED/i);
});

test("an OIDC login makes the backend fetch its own discovery document and JWKS over HTTPS (trusting tls.ca)", async () => {
    const identityId = ready.infisical.identityIds[0] as string;
    const auth = `Bearer ${ready.infisical.token}`;
    const attached = await post(`${ready.infisical.url}/api/v1/auth/oidc-auth/identities/${identityId}`, { oidcDiscoveryUrl: ready.issuer.url, boundIssuer: ready.issuer.url, boundClaims: {} }, { authorization: auth });
    expect(attached.status).toBe(200);
    const jwt = (await post(ready.issuer.mintUrl, { sub: "ci" })).json.id_token as string;
    const login = await post(`${ready.infisical.url}/api/v1/auth/oidc-auth/login`, { identityId, jwt });
    expect(login.status).toBe(200);
    expect(login.json.tokenType).toBe("Bearer");
});

test("an AWS login replays the signed request to the STS stand-in over HTTPS", async () => {
    const aws = ready.infisical.organizations[0]!.awsIdentity!;
    const u = new URL(ready.aws.stsEndpoint);
    const signer = new SignatureV4({ credentials: aws.user, region: ready.aws.region, service: "sts", sha256: Sha256 });
    const body = "Action=GetCallerIdentity&Version=2011-06-15";
    const signed = await signer.sign({ method: "POST", protocol: "https:", hostname: u.hostname, port: Number(u.port), path: u.pathname, query: {}, headers: { host: u.host, "content-type": "application/x-www-form-urlencoded; charset=utf-8" }, body });
    const login = await post(`${ready.infisical.url}/api/v1/auth/aws-auth/login`, {
        identityId: aws.identityId,
        iamHttpRequestMethod: "POST",
        iamRequestBody: Buffer.from(body).toString("base64"),
        iamRequestHeaders: Buffer.from(JSON.stringify(signed.headers)).toString("base64"),
    });
    expect(login.status).toBe(200);
});

test("the CLI serves the same certificate from --tls-cert/--tls-key/--tls-ca", async () => {
    await ensureBuilt();
    const child = await startBackendProcess({ tls, seed: { organizations: 1, identitiesPerOrg: 1, unleashInstances: 1 } });
    try {
        expect(child.ready.url.startsWith("https://")).toBe(true);
        expect((await get(child.ready.healthUrl, trusting)).status).toBe(200);
        // The admin calls of startBackendProcess trust the CA too.
        expect((await child.stats()).total).toBeGreaterThanOrEqual(1);
    } finally {
        await child.stop();
    }
}, 60_000);
