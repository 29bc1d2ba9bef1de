/**
 * The reference backend: a local Infisical + Unleash OIDC API server, with a built-in OIDC issuer, fault injection
 * and persistence, for the provider's integration tests, the e2e tests and the demo.
 *
 *     const backend = await startBackend({ port: 0 });
 *     backend.ready.infisical.url;          // site URL, the API is under /api
 *     backend.faults.set([{ route: "POST /api/v1/sso/oidc/config", status: 503, times: 2 }]);
 *     backend.stats().byRoute["POST /api/v1/sso/oidc/config"];
 *     await backend.stop();
 *
 * `ready` is also what the CLI (main.ts) prints as its first stdout line. See reference-backend/README.md.
 */
import { promises as fs } from "fs";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import type { Context, LogLine } from "./context";
import { issuerUrl, unleashUrl } from "./context";
import { Faults, parseFaultRules, Stats, type FaultRule } from "./faults";
import { deriveJwtSecret, loadOrCreateMasterKey, Vault } from "./secrets";
import { seedSchema, seedState, type SeedOptions } from "./seed";
import { buildServer } from "./server";
import { lockDataDir, Store, type State } from "./store";

export type { FaultRule } from "./faults";
export type { SeedOptions } from "./seed";
export type { LogLine } from "./context";
export { startBackendProcess, type ProcessBackend, type ProcessBackendOptions } from "./process";

export interface BackendOptions {
    /** TCP port; 0 (the default) picks a free one. */
    port?: number;
    /** Address to listen on (default 127.0.0.1). */
    host?: string;
    /**
     * Directory of the persistent state (created if missing). The state is seeded only when the directory holds
     * none; later starts reuse it, with the same ids and credentials. Without it, a temporary directory is used and
     * removed by `stop()`.
     */
    dataDir?: string;
    /** What a fresh data directory is seeded with (ignored when it already holds a state). */
    seed?: SeedOptions;
    /** Fault rules active from the start. */
    faults?: FaultRule[];
    /** Where the request log lines go: a function, a stream (one JSON line each), or nothing (the default). */
    log?: ((line: LogLine) => void) | NodeJS.WritableStream | false;
    /** The base URL to advertise (ready line, issuer URLs) instead of http://<host>:<port>, e.g. behind a port mapping. */
    publicUrl?: string;
    /** Timeout of the backend's own requests to identity providers, in ms (default 5000). */
    outgoingTimeoutMs?: number;
    /**
     * Infisical's ALLOW_INTERNAL_IP_CONNECTIONS (default false): whether SSO and identity OIDC URLs may resolve to
     * loopback or private addresses. Off, such URLs (the built-in issuer on 127.0.0.1 among them) are refused with
     * 400 "Local IPs not allowed as URL", as a production Infisical refuses them.
     */
    allowInternalIpConnections?: boolean;
}

export interface ReadyOrganization {
    id: string;
    name: string;
    slug: string;
    /** Static token of the organization's admin user (`Authorization: Bearer <token>`). */
    token: string;
    /** The organization's machine identities without any auth method (targets for OIDC auth). */
    identityIds: string[];
    /** The organization's automation identity (org admin), which has universal auth. */
    automationIdentityId: string;
    universalAuth: { clientId: string; clientSecret: string };
}

export interface ReadyUnleashInstance {
    /** Base URL of the instance (everything before /api). */
    url: string;
    /** Admin API token (`*:*.<hex>`). */
    adminToken: string;
    /** Personal access token of an Admin user (`user:<hex>`). */
    personalAccessToken: string;
    /** Personal access token of a Viewer: valid, but not allowed to read or change OIDC settings (403). */
    readOnlyToken: string;
    /** Client API token: valid, but not for the admin API (403). */
    clientToken: string;
}

export interface Ready {
    ready: true;
    url: string;
    healthUrl: string;
    dataDir: string;
    infisical: {
        /** Site URL; the API is under `${url}/api`. */
        url: string;
        /** The first organization's values, for convenience. */
        token: string;
        organizationId: string;
        identityIds: string[];
        universalAuth: { clientId: string; clientSecret: string };
        organizations: ReadyOrganization[];
    };
    unleash: ReadyUnleashInstance & { instances: ReadyUnleashInstance[] };
    issuer: {
        url: string;
        discoveryUrl: string;
        jwksUri: string;
        authorizationEndpoint: string;
        tokenEndpoint: string;
        userinfoEndpoint: string;
        /** POST {claims?, sub?, aud?, expiresIn?} → {id_token}. */
        mintUrl: string;
    };
    admin: { token: string; faultsUrl: string; statsUrl: string };
}

export interface Backend {
    ready: Ready;
    faults: { set(rules: FaultRule[]): void; clear(): void; list(): FaultRule[] };
    stats(): { total: number; byRoute: Record<string, number>; byPattern: Record<string, number> };
    resetStats(): void;
    /** The current persisted state (read-only; for tests and diagnostics). */
    state(): Readonly<State>;
    stop(): Promise<void>;
}

function logger(option: BackendOptions["log"]): (line: LogLine) => void {
    if (!option) return () => undefined;
    if (typeof option === "function") return option;
    const stream = option;
    return (line) => {
        stream.write(`${JSON.stringify(line)}\n`);
    };
}

function urlFor(host: string, port: number): string {
    let h = host;
    if (h === "0.0.0.0" || h === "") h = "127.0.0.1";
    else if (h === "::") h = "[::1]";
    else if (h.includes(":") && !h.startsWith("[")) h = `[${h}]`;
    return `http://${h}:${port}`;
}

export async function startBackend(options: BackendOptions = {}): Promise<Backend> {
    const seed = seedSchema.parse(options.seed ?? {});
    const temporary = !options.dataDir;
    const dataDir = options.dataDir ? path.resolve(options.dataDir) : await fs.mkdtemp(path.join(os.tmpdir(), "reference-backend-"));
    await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });

    let app: Awaited<ReturnType<typeof buildServer>> | undefined;
    let unlock: (() => Promise<void>) | undefined;
    try {
        unlock = await lockDataDir(dataDir);
        const masterKey = await loadOrCreateMasterKey(dataDir);
        const vault = new Vault(masterKey);
        const jwtSecret = deriveJwtSecret(masterKey);
        const { store } = await Store.open(dataDir, () => seedState(seed, vault, jwtSecret));

        let baseUrl = options.publicUrl?.replace(/\/+$/, "") ?? "";
        const faults = new Faults();
        if (options.faults) faults.set(parseFaultRules(options.faults));
        const stats = new Stats();
        const ctx: Context = {
            store,
            vault,
            jwtSecret,
            faults,
            stats,
            log: logger(options.log),
            baseUrl: () => baseUrl,
            outgoingTimeoutMs: options.outgoingTimeoutMs ?? 5000,
            allowInternalIpConnections: options.allowInternalIpConnections ?? false,
        };
        const adminToken = vault.decrypt(store.state.adminTokenEnc, "admin-token");
        app = await buildServer(ctx, { adminToken });
        await app.listen({ port: options.port ?? 0, host: options.host ?? "127.0.0.1" });
        const address = app.server.address() as AddressInfo;
        if (!baseUrl) baseUrl = urlFor(options.host ?? "127.0.0.1", address.port);

        const ready = readyOf(ctx, dataDir, adminToken);
        let stopped: Promise<void> | undefined;
        const server = app;
        return {
            ready,
            faults: {
                set: (rules) => faults.set(parseFaultRules(rules)),
                clear: () => faults.clear(),
                list: () => faults.list(),
            },
            stats: () => stats.snapshot(),
            resetStats: () => stats.reset(),
            state: () => store.state,
            stop: () => {
                stopped ??= (async () => {
                    await server.close();
                    await store.flush();
                    await unlock?.();
                    if (temporary) await fs.rm(dataDir, { recursive: true, force: true });
                })();
                return stopped;
            },
        };
    } catch (err) {
        await app?.close().catch(() => undefined);
        await unlock?.().catch(() => undefined);
        if (temporary) await fs.rm(dataDir, { recursive: true, force: true }).catch(() => undefined);
        throw err;
    }
}

function readyOf(ctx: Context, dataDir: string, adminToken: string): Ready {
    const { vault } = ctx;
    const s = ctx.store.state;
    const url = ctx.baseUrl();
    const organizations: ReadyOrganization[] = s.infisical.organizations.map((org) => {
        const session = s.infisical.sessions.find((x) => x.orgId === org.id);
        const automation = s.infisical.identities.find((i) => i.orgId === org.id && i.authMethods.includes("universal-auth"));
        const ua = automation && s.infisical.universalAuths.find((u) => u.identityId === automation.id);
        if (!session || !automation || !ua) throw new Error(`the state of organization ${org.id} is incomplete`);
        return {
            id: org.id,
            name: org.name,
            slug: org.slug,
            token: vault.decrypt(session.tokenEnc, `session:${session.id}`),
            identityIds: s.infisical.identities.filter((i) => i.orgId === org.id && i.id !== automation.id).map((i) => i.id),
            automationIdentityId: automation.id,
            universalAuth: { clientId: ua.clientId, clientSecret: vault.decrypt(ua.clientSecretEnc, `universal-auth:${ua.id}`) },
        };
    });
    const instances: ReadyUnleashInstance[] = s.unleash.instances.map((inst) => {
        const token = (kind: string) => {
            const t = inst.tokens.find((x) => x.kind === kind);
            if (!t) throw new Error(`Unleash instance ${inst.index} has no ${kind} token`);
            return vault.decrypt(t.tokenEnc, `unleash-token:${t.id}`);
        };
        return {
            url: unleashUrl(ctx, inst.index),
            adminToken: token("admin"),
            personalAccessToken: token("admin-pat"),
            readOnlyToken: token("viewer-pat"),
            clientToken: token("client"),
        };
    });
    const first = organizations[0];
    const firstInstance = instances[0];
    if (!first || !firstInstance) throw new Error("the state has no organization or no Unleash instance");
    const issuer = issuerUrl(ctx);
    return {
        ready: true,
        url,
        healthUrl: `${url}/healthz`,
        dataDir,
        infisical: {
            url,
            token: first.token,
            organizationId: first.id,
            identityIds: first.identityIds,
            universalAuth: first.universalAuth,
            organizations,
        },
        unleash: { ...firstInstance, instances },
        issuer: {
            url: issuer,
            discoveryUrl: `${issuer}/.well-known/openid-configuration`,
            jwksUri: `${issuer}/jwks`,
            authorizationEndpoint: `${issuer}/authorize`,
            tokenEndpoint: `${issuer}/token`,
            userinfoEndpoint: `${issuer}/userinfo`,
            mintUrl: `${issuer}/mint`,
        },
        admin: { token: adminToken, faultsUrl: `${url}/_admin/faults`, statsUrl: `${url}/_admin/stats` },
    };
}
