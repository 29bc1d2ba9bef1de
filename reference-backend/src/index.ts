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
import { secretContext, sessionTokenContext, stsUrl } from "./aws/sts";
import type { Context, LogLine } from "./context";
import { issuerUrl, unleashUrl } from "./context";
import { readTemplateFields, writeTemplateFields } from "./infisical/auth-templates";
import { KUBERNETES_PREFIX, kubernetesUrl, SERVICE_ACCOUNT_ISSUER } from "./kubernetes/api-server";
import { Faults, parseFaultRules, Stats, type FaultRule } from "./faults";
import { deriveJwtSecret, loadOrCreateMasterKey, Vault } from "./secrets";
import { awsAccountOf, K8S_NAMESPACE, k8sServiceAccountOf, seedSchema, seedState, type SeedOptions } from "./seed";
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
    /**
     * Serve HTTPS with this certificate chain and key (PEM) instead of HTTP; the advertised URLs become https. The
     * backend's requests to itself (discovery, the Kubernetes and STS stand-ins) then need to trust the issuing CA:
     * give it as `ca` (added to what the backend's own outgoing requests trust).
     */
    tls?: { cert: string; key: string; ca?: string };
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
    /** Its sub-organizations (organizationSlug logins); the automation and login identities are admins there. */
    subOrganizations: Array<{ id: string; name: string; slug: string }>;
    /**
     * An org-admin identity with Kubernetes auth on the backend's Kubernetes API stand-in: it accepts
     * service-account tokens of `namespace`/`serviceAccountName` (mint one with `ready.kubernetes.tokenRequestUrl`).
     */
    kubernetesIdentity?: { identityId: string; namespace: string; serviceAccountName: string };
    /**
     * An org-admin identity with AWS IAM auth on the backend's STS stand-in (`ready.aws.stsEndpoint`): the IAM user's
     * access key and an assumed role's temporary credentials are both allowed.
     */
    awsIdentity?: {
        identityId: string;
        account: string;
        user: { arn: string; accessKeyId: string; secretAccessKey: string };
        assumedRole: { arn: string; accessKeyId: string; secretAccessKey: string; sessionToken: string };
    };
    /** The OIDC auth template on the built-in issuer (attach OIDC auth with `templateId`). */
    oidcAuthTemplateId?: string;
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
    /** The Kubernetes API server stand-in (a Kubernetes auth's kubernetesHost). */
    kubernetes: {
        host: string;
        tokenReviewUrl: string;
        /** POST {spec: {audiences?, expirationSeconds?}} → {status: {token}}; replace {namespace} and {name}. */
        tokenRequestUrl: string;
        /** `iss` of its service-account tokens, and its default audiences. */
        issuer: string;
        apiAudiences: string[];
    };
    /** The STS stand-in (an AWS auth's stsEndpoint); sign requests for any region. */
    aws: { stsEndpoint: string; region: string };
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

function urlFor(host: string, port: number, tls: boolean): string {
    let h = host;
    if (h === "0.0.0.0" || h === "") h = "127.0.0.1";
    else if (h === "::") h = "[::1]";
    else if (h.includes(":") && !h.startsWith("[")) h = `[${h}]`;
    return `${tls ? "https" : "http"}://${h}:${port}`;
}

/**
 * Points the seeded settings that name the backend itself (followsBackendUrl) at the URL it listens on now: the
 * Kubernetes host, the STS endpoint, and the OIDC template's issuer (propagated to the identities linked to it).
 */
async function resolveSelfUrls(ctx: Context): Promise<void> {
    const s = ctx.store.state.infisical;
    const host = kubernetesUrl(ctx);
    const sts = stsUrl(ctx);
    const issuer = issuerUrl(ctx);
    const stale =
        s.identityKubernetesAuths.some((a) => a.followsBackendUrl && a.kubernetesHost !== host) ||
        s.identityAwsAuths.some((a) => a.followsBackendUrl && a.stsEndpoint !== sts) ||
        s.authTemplates.some((t) => t.followsBackendUrl && readTemplateFields(ctx.vault, t).boundIssuer !== issuer);
    if (!stale) return;
    await ctx.store.update((draft) => {
        for (const a of draft.infisical.identityKubernetesAuths) if (a.followsBackendUrl) a.kubernetesHost = host;
        for (const a of draft.infisical.identityAwsAuths) if (a.followsBackendUrl) a.stsEndpoint = sts;
        for (const t of draft.infisical.authTemplates) {
            if (t.followsBackendUrl) writeTemplateFields(draft, ctx.vault, t, { ...readTemplateFields(ctx.vault, t), oidcDiscoveryUrl: issuer, boundIssuer: issuer });
        }
    });
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
            extraCa: options.tls?.ca,
        };
        const adminToken = vault.decrypt(store.state.adminTokenEnc, "admin-token");
        app = await buildServer(ctx, { adminToken, tls: options.tls ? { cert: options.tls.cert, key: options.tls.key } : undefined });
        await app.listen({ port: options.port ?? 0, host: options.host ?? "127.0.0.1" });
        const address = app.server.address() as AddressInfo;
        if (!baseUrl) baseUrl = urlFor(options.host ?? "127.0.0.1", address.port, Boolean(options.tls));
        await resolveSelfUrls(ctx);

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
    const organizations: ReadyOrganization[] = s.infisical.organizations
        .filter((org) => !org.rootOrgId)
        .map((org, index) => {
            const session = s.infisical.sessions.find((x) => x.orgId === org.id);
            const automation = s.infisical.identities.find((i) => i.orgId === org.id && i.authMethods.includes("universal-auth"));
            const ua = automation && s.infisical.universalAuths.find((u) => u.identityId === automation.id);
            if (!session || !automation || !ua) throw new Error(`the state of organization ${org.id} is incomplete`);
            const seeded = (prefix: string) => s.infisical.identities.find((i) => i.orgId === org.id && new RegExp(`^pulumi-${prefix}-\\d+$`).test(i.name));
            const k8sAuth = s.infisical.identityKubernetesAuths.find((a) => a.identityId === seeded("kubernetes")?.id);
            const awsAuth = s.infisical.identityAwsAuths.find((a) => a.identityId === seeded("aws")?.id);
            const keys = s.aws.accessKeys.filter((k) => k.orgId === org.id);
            const userKey = keys.find((k) => k.sessionTokenEnc === null);
            const roleKey = keys.find((k) => k.sessionTokenEnc !== null);
            const template = s.infisical.authTemplates.find((t) => t.orgId === org.id && t.followsBackendUrl);
            // The seeded names carry the organization's number (org-<n>).
            const n = Number(/^org-(\d+)$/.exec(org.slug)?.[1] ?? index + 1);
            return {
                id: org.id,
                name: org.name,
                slug: org.slug,
                token: vault.decrypt(session.tokenEnc, `session:${session.id}`),
                // Targets for OIDC auth: the identities without any auth method when seeded (the members).
                identityIds: s.infisical.identities.filter((i) => i.orgId === org.id && i.id !== automation.id && !/^pulumi-(kubernetes|aws)-\d+$/.test(i.name)).map((i) => i.id),
                automationIdentityId: automation.id,
                universalAuth: { clientId: ua.clientId, clientSecret: vault.decrypt(ua.clientSecretEnc, `universal-auth:${ua.id}`) },
                subOrganizations: s.infisical.organizations.filter((o) => o.rootOrgId === org.id).map((o) => ({ id: o.id, name: o.name, slug: o.slug })),
                ...(k8sAuth ? { kubernetesIdentity: { identityId: k8sAuth.identityId, namespace: K8S_NAMESPACE, serviceAccountName: k8sServiceAccountOf(n) } } : {}),
                ...(awsAuth && userKey && roleKey
                    ? {
                          awsIdentity: {
                              identityId: awsAuth.identityId,
                              account: awsAccountOf(n),
                              user: { arn: userKey.arn, accessKeyId: userKey.accessKeyId, secretAccessKey: vault.decrypt(userKey.secretAccessKeyEnc, secretContext(userKey.accessKeyId)) },
                              assumedRole: {
                                  arn: roleKey.arn,
                                  accessKeyId: roleKey.accessKeyId,
                                  secretAccessKey: vault.decrypt(roleKey.secretAccessKeyEnc, secretContext(roleKey.accessKeyId)),
                                  sessionToken: vault.decrypt(roleKey.sessionTokenEnc as string, sessionTokenContext(roleKey.accessKeyId)),
                              },
                          },
                      }
                    : {}),
                ...(template ? { oidcAuthTemplateId: template.id } : {}),
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
        kubernetes: {
            host: kubernetesUrl(ctx),
            tokenReviewUrl: `${kubernetesUrl(ctx)}/apis/authentication.k8s.io/v1/tokenreviews`,
            tokenRequestUrl: `${url}${KUBERNETES_PREFIX}/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token`,
            issuer: SERVICE_ACCOUNT_ISSUER,
            apiAudiences: s.kubernetes.apiAudiences.length > 0 ? [...s.kubernetes.apiAudiences] : [SERVICE_ACCOUNT_ISSUER],
        },
        aws: { stsEndpoint: stsUrl(ctx), region: "us-east-1" },
        admin: { token: adminToken, faultsUrl: `${url}/_admin/faults`, statsUrl: `${url}/_admin/stats` },
    };
}
