/** What every part of the server shares. */
import { rootCertificates } from "tls";
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
    /**
     * A PEM CA the backend's own outgoing requests trust besides Node's roots (what NODE_EXTRA_CA_CERTS is to
     * Infisical): the CA of the backend's own certificate when it serves HTTPS, so it can reach itself.
     */
    extraCa?: string;
}

/** The CAs an outgoing https request trusts: the configured one alone, else Node's roots plus the extra CA. */
export function trustedCas(ctx: Pick<Context, "extraCa">, configured?: string): string | string[] | undefined {
    if (configured) return configured;
    return ctx.extraCa ? [...rootCertificates, ctx.extraCa] : undefined;
}

export const ISSUER_PREFIX = "/oidc";
export const UNLEASH_PREFIX = "/unleash";

export function issuerUrl(ctx: Pick<Context, "baseUrl">): string {
    return `${ctx.baseUrl()}${ISSUER_PREFIX}`;
}

export function unleashUrl(ctx: Pick<Context, "baseUrl">, index: number): string {
    return `${ctx.baseUrl()}${UNLEASH_PREFIX}/${index}`;
}
