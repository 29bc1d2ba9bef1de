/** Shared helpers of the reference-backend suites: a backend on port 0 and plain HTTP calls with undici. */
import { request } from "undici";
import { startBackend, type BackendOptions } from "../../reference-backend/src";

export type Backend = Awaited<ReturnType<typeof startBackend>>;
export type Ready = Backend["ready"];

export function start(opts: BackendOptions = {}): Promise<Backend> {
    return startBackend({ port: 0, allowInternalIpConnections: true, ...opts });
}

export interface Res {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    text: string;
    json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface CallOptions {
    /** The whole Authorization header value. */
    authorization?: string;
    body?: unknown;
    /** Sent as is (not JSON-encoded) when `contentType` is given. */
    raw?: string;
    contentType?: string;
}

export async function call(method: string, url: string, opts: CallOptions = {}): Promise<Res> {
    const headers: Record<string, string> = {};
    if (opts.authorization !== undefined) headers.authorization = opts.authorization;
    let body: string | undefined;
    if (opts.raw !== undefined) {
        body = opts.raw;
        if (opts.contentType) headers["content-type"] = opts.contentType;
    } else if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
        headers["content-type"] = opts.contentType ?? "application/json";
    }
    const res = await request(url, { method: method as "GET", headers, body });
    const text = await res.body.text();
    let json: unknown;
    try {
        json = text ? JSON.parse(text) : undefined;
    } catch {
        json = undefined;
    }
    return { status: res.statusCode, headers: res.headers, text, json };
}

export const bearer = (token: string) => `Bearer ${token}`;

/** Direct Infisical calls with one organization's token. */
export function infisical(ready: Ready, token = ready.infisical.token) {
    const base = `${ready.infisical.url}/api/v1`;
    const auth = bearer(token);
    return {
        getSso: (orgId: string) => call("GET", `${base}/sso/oidc/config?organizationId=${encodeURIComponent(orgId)}`, { authorization: auth }),
        postSso: (body: unknown) => call("POST", `${base}/sso/oidc/config`, { authorization: auth, body }),
        patchSso: (body: unknown) => call("PATCH", `${base}/sso/oidc/config`, { authorization: auth, body }),
        getAuth: (identityId: string) => call("GET", `${base}/auth/oidc-auth/identities/${identityId}`, { authorization: auth }),
        postAuth: (identityId: string, body: unknown) => call("POST", `${base}/auth/oidc-auth/identities/${identityId}`, { authorization: auth, body }),
        patchAuth: (identityId: string, body: unknown) => call("PATCH", `${base}/auth/oidc-auth/identities/${identityId}`, { authorization: auth, body }),
        deleteAuth: (identityId: string) => call("DELETE", `${base}/auth/oidc-auth/identities/${identityId}`, { authorization: auth }),
    };
}

/** A complete, valid SSO configuration body for an organization. */
export function ssoBody(ready: Ready, organizationId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        organizationId,
        configurationType: "discoveryURL",
        discoveryURL: ready.issuer.discoveryUrl,
        clientId: "reference-client",
        clientSecret: "reference-sso-secret-0f3a9b",
        isActive: true,
        ...extra,
    };
}

/** An ID token from the backend's issuer. */
export async function mint(ready: Ready, body: Record<string, unknown> = {}): Promise<string> {
    const res = await call("POST", ready.issuer.mintUrl, { body });
    if (res.status !== 200) throw new Error(`mint failed: ${res.status} ${res.text}`);
    return res.json.id_token as string;
}

export async function universalLogin(ready: Ready, creds = ready.infisical.universalAuth): Promise<Res> {
    return call("POST", `${ready.infisical.url}/api/v1/auth/universal-auth/login`, { body: creds });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
