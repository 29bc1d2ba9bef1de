/**
 * Shared setup of the integration suites: the reference backend in-process on port 0 (real HTTP), the provider
 * runtime configured like the dynamic-provider process would be, and direct API calls "as another admin".
 */
import { clearTokenCache } from "../../provider/connection";
import { closeAllAgents } from "../../provider/http/client";
import * as runtime from "../../provider/engine/runtime";
import { startBackend } from "../../reference-backend/src";
import { ProviderLike } from "../helpers/engine-sim";
import { api } from "../helpers/direct-api";

export { api };
export type { ApiResult } from "../helpers/direct-api";

export type Backend = Awaited<ReturnType<typeof startBackend>>;
export type Ready = Backend["ready"];

export { runtime };

export async function start(opts: Parameters<typeof startBackend>[0] = {}): Promise<Backend> {
    return startBackend({ port: 0, allowInternalIpConnections: true, ...opts });
}

/** Configures the runtime as `configure` would with this stack config (keys like "infisical:token"). */
export async function configureStack(values: Record<string, string | undefined>): Promise<void> {
    await runtime.configure({ config: { get: (key: string) => values[key] } });
}

/** The stack config a user would set for the backend's first organization and Unleash instance. */
export function stackConfigFor(ready: Ready, auth: "token" | "universal" = "token"): Record<string, string> {
    return {
        "infisical:host": ready.infisical.url,
        ...(auth === "token"
            ? { "infisical:token": ready.infisical.token }
            : { "infisical:clientId": ready.infisical.universalAuth.clientId, "infisical:clientSecret": ready.infisical.universalAuth.clientSecret }),
        "unleash:url": ready.unleash.url,
        "unleash:apiToken": ready.unleash.adminToken,
    };
}

export function provider(kind: "OidcSsoConfig" | "IdentityOidcAuth" | "UnleashOidcSettings"): ProviderLike {
    return runtime.provider(kind) as unknown as ProviderLike;
}


export function infisicalApi(ready: Ready, token = ready.infisical.token) {
    const base = ready.infisical.url;
    return {
        getSso: (orgId = ready.infisical.organizationId) => api("GET", `${base}/api/v1/sso/oidc/config?organizationId=${encodeURIComponent(orgId)}`, `Bearer ${token}`),
        postSso: (body: Record<string, unknown>) => api("POST", `${base}/api/v1/sso/oidc/config`, `Bearer ${token}`, body),
        patchSso: (body: Record<string, unknown>) => api("PATCH", `${base}/api/v1/sso/oidc/config`, `Bearer ${token}`, body),
        getAuth: (identityId: string) => api("GET", `${base}/api/v1/auth/oidc-auth/identities/${identityId}`, `Bearer ${token}`),
        postAuth: (identityId: string, body: Record<string, unknown>) => api("POST", `${base}/api/v1/auth/oidc-auth/identities/${identityId}`, `Bearer ${token}`, body),
        patchAuth: (identityId: string, body: Record<string, unknown>) => api("PATCH", `${base}/api/v1/auth/oidc-auth/identities/${identityId}`, `Bearer ${token}`, body),
        deleteAuth: (identityId: string) => api("DELETE", `${base}/api/v1/auth/oidc-auth/identities/${identityId}`, `Bearer ${token}`),
    };
}

export function unleashApi(url: string, token: string) {
    return {
        get: () => api("GET", `${url}/api/admin/auth/oidc/settings`, token),
        post: (body: Record<string, unknown>) => api("POST", `${url}/api/admin/auth/oidc/settings`, token, body),
    };
}

/** Resets process-wide provider state between suites. */
export async function resetProviderProcess(): Promise<void> {
    clearTokenCache();
    await closeAllAgents();
}

/** The error a promise rejects with (fails if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error & Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
    try {
        await p;
    } catch (err) {
        return err as Error & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    }
    throw new Error("expected the call to fail, but it succeeded");
}
