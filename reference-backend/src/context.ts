/** What every part of the server shares. */
import type { Faults, Stats } from "./faults";
import type { Vault } from "./secrets";
import type { Store } from "./store";

export type LogLine = Record<string, unknown>;

export interface Context {
    store: Store;
    vault: Vault;
    /** HS256 key of Infisical access tokens. */
    jwtSecret: Uint8Array;
    faults: Faults;
    stats: Stats;
    log: (line: LogLine) => void;
    /** Base URL the server is reachable at (no trailing slash); known once it listens. */
    baseUrl: () => string;
    /** Timeout of the backend's own outgoing requests (OIDC discovery, JWKS), in ms. */
    outgoingTimeoutMs: number;
    /** Infisical's ALLOW_INTERNAL_IP_CONNECTIONS: URLs may point to loopback/private addresses. */
    allowInternalIpConnections: boolean;
}

export const ISSUER_PREFIX = "/oidc";
export const UNLEASH_PREFIX = "/unleash";

export function issuerUrl(ctx: Pick<Context, "baseUrl">): string {
    return `${ctx.baseUrl()}${ISSUER_PREFIX}`;
}

export function unleashUrl(ctx: Pick<Context, "baseUrl">, index: number): string {
    return `${ctx.baseUrl()}${UNLEASH_PREFIX}/${index}`;
}
