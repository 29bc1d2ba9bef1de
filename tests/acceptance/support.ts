/**
 * Shared parts of the acceptance suites (`npm run test:acceptance`): which server the environment names, direct API
 * calls to it (out-of-band changes and cleanup, as another admin would make them), the test issuer, and running
 * `oidc-drift` on a stack. Nothing here runs unless a server is named; nothing here prints a credential.
 */
import { execFile, execFileSync } from "child_process";
import * as http from "http";
import * as https from "https";
import * as net from "net";
import type { AddressInfo } from "net";
import * as os from "os";
import * as fs from "fs";
import * as path from "path";
import { randomUUID } from "crypto";
import { startBackend } from "../../reference-backend/src";
import { api, ApiResult } from "../helpers/direct-api";
import { describeWithEngine, repoRoot, TestStack } from "../e2e/harness";

export const programDir = path.join(__dirname, "program");

const env = (name: string): string | undefined => {
    const v = process.env[name];
    return v && v.trim() !== "" ? v.trim() : undefined;
};

/** Where the site URL ends: no trailing slash, no /api (as the provider normalizes infisical:host). */
const siteUrl = (raw: string) => raw.replace(/\/+$/, "").replace(/\/api$/i, "");

// ------------------------------------------------------------------------------------------------ what the environment names

export type InfisicalCredentials = { token: string } | { clientId: string; clientSecret: string };

export interface InfisicalTarget {
    host: string;
    credentials: InfisicalCredentials;
    /** The organization of the credentials (needed to create a test identity, and for SSO). */
    organizationId?: string;
    /** An identity the user created for the test (else the suite creates one and deletes it afterwards). */
    identityId?: string;
    /** Credentials of a user or machine identity of ANOTHER organization (error case), if given. */
    foreign?: InfisicalCredentials;
    /** The organization whose SSO configuration the suite may change (must equal organizationId). */
    disposableOrg?: string;
}

function credentialsFrom(prefix: string): InfisicalCredentials | undefined {
    const token = env(`${prefix}TOKEN`);
    const clientId = env(`${prefix}CLIENT_ID`) ?? env(`${prefix}UNIVERSAL_AUTH_CLIENT_ID`);
    const clientSecret = env(`${prefix}CLIENT_SECRET`) ?? env(`${prefix}UNIVERSAL_AUTH_CLIENT_SECRET`);
    if (clientId && clientSecret) return { clientId, clientSecret };
    if (token) return { token };
    return undefined;
}

/** The Infisical server named by the environment, or why there is none. */
export function infisicalTarget(): InfisicalTarget | string {
    const host = env("INFISICAL_HOST");
    if (!host) return "no Infisical server named: set INFISICAL_HOST and INFISICAL_TOKEN (or INFISICAL_UNIVERSAL_AUTH_CLIENT_ID/SECRET)";
    const credentials = credentialsFrom("INFISICAL_");
    if (!credentials) return "INFISICAL_HOST is set but no credentials: set INFISICAL_TOKEN or INFISICAL_UNIVERSAL_AUTH_CLIENT_ID and INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET";
    return {
        host: siteUrl(host),
        credentials,
        organizationId: env("ACCEPTANCE_INFISICAL_ORG_ID"),
        identityId: env("ACCEPTANCE_INFISICAL_IDENTITY_ID"),
        foreign: credentialsFrom("ACCEPTANCE_INFISICAL_FOREIGN_"),
        disposableOrg: env("ACCEPTANCE_DISPOSABLE_INFISICAL_ORG"),
    };
}

export interface UnleashTarget {
    url: string;
    token: string;
    /** True only when ACCEPTANCE_DISPOSABLE_UNLEASH_URL names this very instance. */
    disposable: boolean;
    viewerToken?: string;
}

export function unleashTarget(): UnleashTarget | string {
    const url = env("UNLEASH_URL");
    if (!url) return "no Unleash server named: set UNLEASH_URL and AUTH_TOKEN (an admin API token)";
    const token = env("AUTH_TOKEN");
    if (!token) return "UNLEASH_URL is set but AUTH_TOKEN (an admin API token) is not";
    const disposable = env("ACCEPTANCE_DISPOSABLE_UNLEASH_URL");
    return {
        url: siteUrl(url),
        token,
        disposable: !!disposable && siteUrl(disposable) === siteUrl(url),
        viewerToken: env("ACCEPTANCE_UNLEASH_VIEWER_TOKEN"),
    };
}

/**
 * `describe` for an acceptance suite: skipped with a message when the environment names no server (or the engine is
 * missing), so that `npm run test:acceptance` without a server says what to set instead of failing.
 */
export function describeAcceptance<T>(name: string, target: T | string, body: (target: T) => void): void {
    if (typeof target === "string") {
        // eslint-disable-next-line no-console
        console.warn(`skipping "${name}": ${target}`);
        describe.skip(name, () => test("needs a server", () => undefined));
        return;
    }
    describeWithEngine(name, () => body(target));
}

// ------------------------------------------------------------------------------------------------ Infisical, directly

/** A bearer token for direct calls: the static token, or a universal-auth login. */
export async function infisicalBearer(host: string, credentials: InfisicalCredentials): Promise<string> {
    if ("token" in credentials) return `Bearer ${credentials.token}`;
    const res = await api("POST", `${host}/api/v1/auth/universal-auth/login`, "", credentials);
    if (res.status !== 200 || typeof res.json?.accessToken !== "string") {
        throw new Error(`universal auth login on ${host} answered ${res.status}: ${JSON.stringify(res.json?.message ?? res.json)}`);
    }
    return `Bearer ${res.json.accessToken}`;
}

export function infisicalDirect(host: string, bearer: string) {
    const auth = (id: string) => `${host}/api/v1/auth/oidc-auth/identities/${encodeURIComponent(id)}`;
    return {
        getAuth: (id: string) => api("GET", auth(id), bearer),
        patchAuth: (id: string, body: Record<string, unknown>) => api("PATCH", auth(id), bearer, body),
        deleteAuth: (id: string) => api("DELETE", auth(id), bearer),
        /** POST /api/v1/identities (backend/src/server/routes/v1/identity-router.ts): name, organizationId, role. */
        createIdentity: (organizationId: string, name: string) => api("POST", `${host}/api/v1/identities`, bearer, { name, organizationId, role: "member" }),
        deleteIdentity: (id: string) => api("DELETE", `${host}/api/v1/identities/${encodeURIComponent(id)}`, bearer),
        getSso: (organizationId: string) => api("GET", `${host}/api/v1/sso/oidc/config?organizationId=${encodeURIComponent(organizationId)}`, bearer),
        patchSso: (body: Record<string, unknown>) => api("PATCH", `${host}/api/v1/sso/oidc/config`, bearer, body),
        login: (identityId: string, jwt: string) => api("POST", `${host}/api/v1/auth/oidc-auth/login`, "", { identityId, jwt }),
    };
}

/** Whether an answer is "this identity has no OIDC auth" in any version's words (400 not attached, 404 gone). */
export function noOidcAuth(res: ApiResult): boolean {
    return (res.status === 400 && /does not have OIDC auth|not attached/i.test(String(res.json?.message))) || res.status === 404;
}

// ------------------------------------------------------------------------------------------------ the identity provider

export interface Issuer {
    /** Issuer URL (also the identity's oidcDiscoveryUrl). */
    url: string;
    discoveryUrl: string;
    /** PEM certificate to trust for an https issuer with a certificate of its own (the identity's caCert). */
    caCert?: string;
    /** Mints ID tokens, when the issuer is the built-in test issuer. */
    mint?: (token: { sub: string; aud: string; claims?: Record<string, unknown> }) => Promise<string>;
    stop(): Promise<void>;
}

async function freePort(): Promise<number> {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    return port;
}

/** A self-signed certificate for 127.0.0.1 (openssl), or undefined when openssl is not there. */
function selfSignedCertificate(): { key: string; cert: string } | undefined {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oidc-acceptance-tls-"));
    try {
        execFileSync("openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem"),
        ], { stdio: "ignore" });
        return { key: fs.readFileSync(path.join(dir, "key.pem"), "utf8"), cert: fs.readFileSync(path.join(dir, "cert.pem"), "utf8") };
    } catch {
        return undefined;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/**
 * The issuer the programs trust: ACCEPTANCE_OIDC_ISSUER_URL when set (a public one, for a server that refuses private
 * addresses), else the reference backend's test issuer on 127.0.0.1, which the server under test must be able to
 * reach for logins (Infisical identity OIDC login) and saves (Unleash loads the discovery document on save).
 *
 * `https: true` serves the test issuer over https with a self-signed certificate (given as `caCert`): Infisical's
 * identity OIDC login fetches the JWKS with an https agent, and the 2024 builds answer 500 ("Protocol \"http:\" not
 * supported") for an http JWKS (backend/src/services/identity-oidc-auth/identity-oidc-auth-service.ts, login).
 */
export async function startIssuer(options: { https?: boolean } = {}): Promise<Issuer> {
    const external = env("ACCEPTANCE_OIDC_ISSUER_URL");
    if (external) {
        const url = external.replace(/\/+$/, "");
        return { url, discoveryUrl: `${url}/.well-known/openid-configuration`, stop: async () => undefined };
    }
    const tls = options.https ? selfSignedCertificate() : undefined;
    let front: https.Server | undefined;
    let publicUrl: string | undefined;
    let backendPort = 0;
    if (tls) {
        // A TLS front on 127.0.0.1 that forwards to the backend; the backend advertises the front's URL.
        front = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
            const forward = http.request({ host: "127.0.0.1", port: backendPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
                res.writeHead(answer.statusCode ?? 502, answer.headers);
                answer.pipe(res);
            });
            forward.on("error", () => res.destroy());
            req.pipe(forward);
        });
        await new Promise<void>((resolve) => front!.listen(0, "127.0.0.1", resolve));
        publicUrl = `https://127.0.0.1:${(front.address() as AddressInfo).port}`;
    }
    // With a front, the backend advertises the front's URL, so its own port is chosen here (a free one on loopback).
    if (tls) backendPort = await freePort();
    const backend = await startBackend({ port: backendPort, publicUrl, seed: { organizations: 1, identitiesPerOrg: 1, unleashInstances: 1 } });
    const { issuer } = backend.ready;
    const mintUrl = tls ? issuer.mintUrl.replace(publicUrl!, `http://127.0.0.1:${backendPort}`) : issuer.mintUrl;
    return {
        url: issuer.url,
        discoveryUrl: issuer.discoveryUrl,
        caCert: tls?.cert,
        mint: async (token) => {
            const res = await api("POST", mintUrl, "", token);
            if (res.status !== 200) throw new Error(`mint answered ${res.status}`);
            return res.json.id_token as string;
        },
        stop: async () => {
            front?.closeAllConnections();
            await new Promise<void>((resolve) => (front ? front.close(() => resolve()) : resolve()));
            await backend.stop();
        },
    };
}

// ------------------------------------------------------------------------------------------------ running things

export const uniqueName = (what: string) => `pulumi-oidc-acceptance-${what}-${randomUUID().slice(0, 8)}`;

const cliPath = path.join(repoRoot, "dist", "cli", "oidc-drift.js");
const nodeBin = path.join(repoRoot, "node_modules", ".bin", "node");

export interface DriftField {
    field: string;
    desired: unknown;
    live: unknown;
    secret: boolean;
}

/** Runs the built `oidc-drift --json --quiet` on a stack, as a scheduled pipeline would. */
export function oidcDrift(t: TestStack, stackName: string): Promise<{ code: number; report?: { drifted: Array<{ name: string; kind: string; fields: DriftField[] }> }; stderr: string }> {
    if (!fs.existsSync(cliPath)) throw new Error(`${cliPath} is missing: build first (npm run build; npm run test:acceptance does)`);
    return new Promise((resolve) => {
        execFile(nodeBin, [cliPath, "--cwd", t.workDir, "--stack", stackName, "--json", "--quiet"], { env: { ...process.env, ...t.env }, encoding: "utf8", timeout: 300_000 }, (err, stdout, stderr) => {
            const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
            let report;
            try {
                report = JSON.parse(stdout);
            } catch {
                report = undefined;
            }
            resolve({ code, report, stderr });
        });
    });
}

/** What `pulumi up` failed with (its output), or undefined when it succeeded. */
export async function upFailure(t: TestStack, args: string[] = []): Promise<string | undefined> {
    const res = await t.cli(["up", "--yes", "--skip-preview", ...args], { allowFailure: true });
    return res.status === 0 ? undefined : `${res.stdout}\n${res.stderr}`;
}

/** A note for the compatibility table (which outcome a version-dependent scenario had), in ACCEPTANCE_REPORT if set. */
export function note(suite: string, scenario: string, text: string): void {
    // eslint-disable-next-line no-console
    console.log(`[acceptance] ${suite} / ${scenario}: ${text}`);
    const file = env("ACCEPTANCE_REPORT");
    if (file) fs.appendFileSync(file, `${JSON.stringify({ suite, scenario, note: text, at: new Date().toISOString() })}\n`);
}

/** Runs every cleanup step, each even when an earlier one failed; reports the failures together. */
export async function cleanupAll(steps: Array<[string, () => Promise<unknown>]>): Promise<void> {
    const failures: string[] = [];
    for (const [what, step] of steps) {
        try {
            await step();
        } catch (err) {
            failures.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
        }
    }
    if (failures.length > 0) throw new Error(`acceptance cleanup incomplete (remove these by hand):\n${failures.join("\n")}`);
}
