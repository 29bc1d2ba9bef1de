/**
 * Machine-identity Kubernetes auth: `POST/GET/PATCH/DELETE /api/v1/auth/kubernetes-auth/identities/:identityId` and
 * the login `POST /api/v1/auth/kubernetes-auth/login` {identityId, jwt, organizationSlug?}, after Infisical's
 * backend/src/server/routes/v1/identity-kubernetes-auth-router.ts and
 * backend/src/services/identity-kubernetes-auth/ (identity-kubernetes-auth-service.ts, -validators.ts, -fns.ts,
 * -error-handlers.ts).
 *
 * Login: the service-account token goes to `<kubernetesHost>/apis/authentication.k8s.io/v1/tokenreviews` with the
 * stored token reviewer JWT as Bearer (none stored: the workload's own token reviews itself) and, when
 * allowedAudience is set, `spec.audiences: [allowedAudience]`; TLS trusts caCert and, as Infisical, verifies the
 * server only when a CA certificate is stored (`rejectUnauthorized: Boolean(caCert)`). Then: a status `error`, 401
 * KubernetesTokenReviewError with it; not authenticated, 401 "Kubernetes token not authenticated"; the username
 * must be system:serviceaccount:<namespace>:<name> (401 KubernetesUsernameParseError); allowedNamespaces and
 * allowedNames (comma lists, exact match) and allowedAudience (one of the review's audiences) are checked with the
 * service's 401 messages; organizationSlug; the access token carries identityAuth.kubernetes {namespace, name}.
 * Network and HTTP failures of the review are answered with the error handler's names and messages
 * (KubernetesConnectionRefused, KubernetesTokenReviewerUnauthorized, …).
 *
 * Attach and update check, in the service's order: the identity (404), attached or not (400), TTLs (400),
 * permission (create / edit on identity), trusted IPs, the gateway (none exist here: 404), then, in API mode, the
 * host: the URL guard and `GET <host>/version` (validateKubernetesHostConnectivity; a failure is 400
 * KubernetesHost…), and the token reviewer JWT, if given, by a TokenReview of a test token
 * (validateTokenReviewerJwtPermissions; 401/403 from the API server are 400 TokenReviewerPermissionError).
 * Not modelled: gateways (tokenReviewMode "gateway" can be stored but never reviews), the login's telemetry.
 */
import { randomUUID } from "crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import type { Context } from "../context";
import { inf, InfisicalError } from "../errors";
import { send, SendError, type SendResult } from "../outgoing";
import type { IdentityKubernetesAuthRecord, State } from "../store";
import { issueAccessToken, loginScope, organizationSlugSchema } from "./access-tokens";
import { authenticate, requireOrgPermission } from "./auth";
import { jsonBody, parse } from "./common";
import {
    checkAttachTtl,
    checkUpdateTtl,
    DEFAULT_TRUSTED_IPS,
    DEFAULT_TTL,
    identityOf,
    paramsSchema,
    planOf,
    reformatTrustedIps,
    revokeAuthMethod,
    trustedIps,
    ttl,
    TTL_REFINE_MESSAGE,
} from "./identity-auth-common";
import { blockLocalAndPrivateIpAddresses } from "./url-guard";

export const KUBERNETES_AUTH = "kubernetes-auth";
const REVIEW_TIMEOUT_MS = 10000;

export const caCertContext = (authId: string) => `identity-kubernetes-auth:${authId}:caCert`;
export const reviewerJwtContext = (authId: string) => `identity-kubernetes-auth:${authId}:tokenReviewerJwt`;

// characterValidator([Alphabets, Numbers, Colon, Period, ForwardSlash, Hyphen]) of the router.
const HOST_CHARACTERS = /^[a-zA-Z0-9:./-]+$/;
const HOST_MESSAGE = "Kubernetes host must only contain alphabets, numbers, colons, periods, hyphen, and forward slashes.";
const kubernetesHost = z.string().trim().min(1).nullable();

export const attachSchema = z
    .object({
        kubernetesHost: kubernetesHost.refine((v) => v === null || HOST_CHARACTERS.test(v), { message: HOST_MESSAGE }),
        caCert: z.string().trim().default(""),
        tokenReviewerJwt: z.string().trim().optional(),
        tokenReviewMode: z.enum(["api", "gateway"]).default("api"),
        allowedNamespaces: z.string(),
        allowedNames: z.string(),
        allowedAudience: z.string(),
        gatewayId: z.string().uuid().optional().nullable(),
        accessTokenTrustedIps: trustedIps.default(DEFAULT_TRUSTED_IPS),
        accessTokenTTL: ttl.default(DEFAULT_TTL),
        accessTokenMaxTTL: ttl.default(DEFAULT_TTL),
        accessTokenNumUsesLimit: z.number().int().min(0).default(0),
    })
    .superRefine((data, zctx) => {
        if (data.tokenReviewMode === "api" && !data.kubernetesHost) {
            zctx.addIssue({ path: ["kubernetesHost"], code: "custom", message: "When token review mode is set to API, a Kubernetes host must be provided" });
        }
        if (data.tokenReviewMode === "gateway" && !data.gatewayId) {
            zctx.addIssue({ path: ["gatewayId"], code: "custom", message: "When token review mode is set to Gateway, a gateway must be selected" });
        }
        if (data.accessTokenTTL > data.accessTokenMaxTTL) zctx.addIssue({ path: ["accessTokenTTL"], code: "custom", message: TTL_REFINE_MESSAGE });
    });

export const updateSchema = z
    .object({
        kubernetesHost: kubernetesHost.optional().refine((v) => !v || HOST_CHARACTERS.test(v), { message: HOST_MESSAGE }),
        caCert: z.string().trim().optional(),
        tokenReviewerJwt: z.string().trim().nullable().optional(),
        tokenReviewMode: z.enum(["api", "gateway"]).optional(),
        allowedNamespaces: z.string().optional(),
        allowedNames: z.string().optional(),
        allowedAudience: z.string().optional(),
        gatewayId: z.string().uuid().optional().nullable(),
        accessTokenTrustedIps: trustedIps.optional(),
        accessTokenTTL: ttl.optional(),
        accessTokenNumUsesLimit: z.number().int().min(0).optional(),
        accessTokenMaxTTL: ttl.optional(),
    })
    .superRefine((data, zctx) => {
        if (data.tokenReviewMode === "gateway" && !data.gatewayId) {
            zctx.addIssue({ path: ["gatewayId"], code: "custom", message: "When token review mode is set to Gateway, a gateway must be selected" });
        }
        if (data.accessTokenMaxTTL && data.accessTokenTTL ? data.accessTokenTTL > data.accessTokenMaxTTL : false) {
            zctx.addIssue({ path: ["accessTokenTTL"], code: "custom", message: TTL_REFINE_MESSAGE });
        }
    });

const loginSchema = z.object({ identityId: z.string().trim(), jwt: z.string().trim(), organizationSlug: organizationSlugSchema });

// ERROR_CONTEXT_CONFIGS of identity-kubernetes-auth-error-handlers.ts.
const CONTEXTS = {
    host: { serviceName: "Kubernetes host", prefix: "KubernetesHost", defaultName: "KubernetesHostConnectionError" },
    apiServer: { serviceName: "Kubernetes API server", prefix: "Kubernetes", defaultName: "KubernetesConnectionError" },
} as const;
const DEFAULT_401 = "Token reviewer JWT is invalid or expired. Please verify the token reviewer JWT is correct and has not expired.";
const DEFAULT_403 = "Token reviewer JWT does not have permission to perform TokenReviews. Ensure the service account has the 'system:auth-delegator' ClusterRole binding.";

/** handleAxiosNetworkError / handleAxiosGenericError: a request that got no answer. */
function networkError(err: SendError, target: string, context: keyof typeof CONTEXTS): InfisicalError {
    const { serviceName, prefix, defaultName } = CONTEXTS[context];
    switch (err.code) {
        case "ECONNREFUSED":
            return new InfisicalError(400, `${prefix}ConnectionRefused`, `Failed to connect to ${serviceName} at ${target}: Connection refused. Verify the host URL and ensure the ${serviceName.toLowerCase()} is accessible.`);
        case "ENOTFOUND":
            return new InfisicalError(400, `${prefix}HostNotFound`, `Failed to resolve ${serviceName} hostname: ${target}. Verify the hostname is correct.`);
        case "ETIMEDOUT":
        case "ECONNABORTED":
            return new InfisicalError(400, `${prefix}ConnectionTimeout`, `Connection to ${serviceName} at ${target} timed out. Verify network connectivity and firewall rules.`);
        case "DEPTH_ZERO_SELF_SIGNED_CERT":
        case "SELF_SIGNED_CERT_IN_CHAIN":
            return new InfisicalError(400, `${prefix}CertificateError`, `SSL certificate verification failed for ${serviceName} at ${target}. The server uses a self-signed certificate. Please provide the CA certificate in the configuration.`);
        case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
        case "CERT_HAS_EXPIRED":
            return new InfisicalError(400, `${prefix}CertificateError`, `SSL certificate verification failed for ${serviceName} at ${target}. Verify the CA certificate is correct and the server certificate is valid.`);
        default:
            return new InfisicalError(400, defaultName, `Failed to communicate with ${serviceName} at ${target}: ${err.message}`);
    }
}

const STATUS_TEXT: Record<number, string> = { 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable" };

function jsonOf(text: string): unknown {
    try {
        return JSON.parse(text) as unknown;
    } catch {
        return text;
    }
}

/** handleAxiosHttpError: a non-2xx answer of the API server. */
function httpError(res: SendResult, context: keyof typeof CONTEXTS): InfisicalError {
    const data = jsonOf(res.text);
    let message = typeof data === "object" && data !== null ? (data as { message?: unknown }).message : undefined;
    if (!message && typeof data === "string" && data) message = data;
    const text = typeof message === "string" && message ? message : undefined;
    const { prefix } = CONTEXTS[context];
    if (res.status === 401) return new InfisicalError(401, `${prefix}TokenReviewerUnauthorized`, text ?? DEFAULT_401);
    if (res.status === 403) return new InfisicalError(401, `${prefix}TokenReviewerForbidden`, text ?? DEFAULT_403);
    if (text) return new InfisicalError(401, `${prefix}TokenReviewRequestError`, text);
    return new InfisicalError(400, `${prefix}TokenReviewRequestError`, `${prefix} returned HTTP ${res.status}: ${STATUS_TEXT[res.status] ?? "Unknown error"}`);
}

/** The TLS options of the service's https.Agent: trust caCert, verify only with one, SNI = the host's name. */
function tlsOf(host: string, caCert: string) {
    let servername = host.replace(/^https?:\/\//, "");
    const lastColon = servername.lastIndexOf(":");
    if (lastColon !== -1) servername = servername.substring(0, lastColon);
    return { ca: caCert || undefined, rejectUnauthorized: Boolean(caCert), servername };
}

/** validateKubernetesHostConnectivity (identity-kubernetes-auth-validators.ts). */
async function validateHostConnectivity(ctx: Context, host: string, caCert: string): Promise<void> {
    try {
        await blockLocalAndPrivateIpAddresses(host, ctx.allowInternalIpConnections);
        const res = await send(`${host}/version`, { method: "GET", timeoutMs: REVIEW_TIMEOUT_MS, ca: caCert || undefined, rejectUnauthorized: Boolean(caCert) });
        if (res.status >= 500) throw httpError(res, "host");
    } catch (err) {
        if (err instanceof SendError) throw networkError(err, host, "host");
        if (err instanceof InfisicalError && err.errorName !== "BadRequest") throw err;
        throw new InfisicalError(400, "KubernetesHostConnectionError", `Failed to connect to Kubernetes host at ${host}: ${(err as Error).message}`);
    }
}

/** validateTokenReviewerJwtPermissions (identity-kubernetes-auth-validators.ts): a TokenReview of a test token. */
async function validateTokenReviewer(ctx: Context, host: string, reviewerJwt: string, caCert: string): Promise<void> {
    const fail = (message: string) => new InfisicalError(400, "TokenReviewerPermissionError", message);
    let res: SendResult;
    try {
        await blockLocalAndPrivateIpAddresses(host, ctx.allowInternalIpConnections);
        res = await send(`${host}/apis/authentication.k8s.io/v1/tokenreviews`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${reviewerJwt}` },
            body: JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token: "test-token-for-permission-validation" } }),
            timeoutMs: REVIEW_TIMEOUT_MS,
            ca: caCert || undefined,
            rejectUnauthorized: Boolean(caCert),
        });
    } catch (err) {
        if (err instanceof InfisicalError && err.statusCode === 400) throw err;
        if (err instanceof SendError && (err.code === "ECONNREFUSED" || err.code === "ENOTFOUND" || err.code === "ETIMEDOUT")) {
            throw fail(`Unable to reach Kubernetes API server to validate token permissions: ${err.message}`);
        }
        throw fail(`Failed to validate token reviewer permissions: ${(err as Error).message}`);
    }
    const data = jsonOf(res.text) as { message?: string } | string;
    const message = typeof data === "object" && data !== null ? data.message : undefined;
    if (res.status === 401) throw fail("The token reviewer JWT is invalid or expired. Please provide a valid service account token with TokenReview permissions.");
    if (res.status === 403) {
        throw fail(`Token reviewer lacks required permissions: ${message || "The token reviewer JWT does not have permission to perform TokenReviews."}. Ensure the service account has the 'system:auth-delegator' ClusterRole binding.`);
    }
    if (res.status >= 200 && res.status < 300) return;
    throw fail(`Unexpected response from Kubernetes API: ${res.status} - ${message || STATUS_TEXT[res.status] || ""}`);
}

/** extractK8sUsername (identity-kubernetes-auth-fns.ts). */
export function extractK8sUsername(username: string): { namespace: string; name: string } {
    const parts = username.split(":");
    if (parts.length === 4 && parts[0] === "system" && parts[1] === "serviceaccount") return { namespace: parts[2] as string, name: parts[3] as string };
    throw new InfisicalError(401, "KubernetesUsernameParseError", `Invalid Kubernetes service account username format: "${username}". Expected format: system:serviceaccount:<namespace>:<name>`);
}

interface TokenReviewStatus {
    authenticated?: boolean;
    error?: string;
    user?: { username?: string };
    audiences?: string[];
}

/** The `identityKubernetesAuth` object of the responses (IdentityKubernetesAuthResponseSchema of the router). */
function view(rec: IdentityKubernetesAuthRecord, secrets?: { caCert: string; tokenReviewerJwt?: string }): Record<string, unknown> {
    const out: Record<string, unknown> = {
        id: rec.id,
        accessTokenTTL: rec.accessTokenTTL,
        accessTokenMaxTTL: rec.accessTokenMaxTTL,
        accessTokenNumUsesLimit: rec.accessTokenNumUsesLimit,
        accessTokenTrustedIps: rec.accessTokenTrustedIps,
        createdAt: rec.createdAt,
        updatedAt: rec.updatedAt,
        tokenReviewMode: rec.tokenReviewMode,
        identityId: rec.identityId,
        kubernetesHost: rec.kubernetesHost,
        allowedNamespaces: rec.allowedNamespaces,
        allowedNames: rec.allowedNames,
        allowedAudience: rec.allowedAudience,
        gatewayId: rec.gatewayId,
    };
    if (secrets) {
        out.caCert = secrets.caCert;
        if (secrets.tokenReviewerJwt !== undefined) out.tokenReviewerJwt = secrets.tokenReviewerJwt;
    }
    return out;
}

const authOf = (state: Readonly<State>, identityId: string) => state.infisical.identityKubernetesAuths.find((a) => a.identityId === identityId);

export function registerIdentityKubernetesAuthRoutes(app: FastifyInstance, ctx: Context): void {
    const onRequest = async (req: FastifyRequest) => {
        req.infisicalActor = await authenticate(ctx, req);
    };
    const path = "/api/v1/auth/kubernetes-auth/identities/:identityId";
    const decrypt = (rec: IdentityKubernetesAuthRecord) => ({
        caCert: rec.encryptedKubernetesCaCertificate ? ctx.vault.decrypt(rec.encryptedKubernetesCaCertificate, caCertContext(rec.id)) : "",
        tokenReviewerJwt: rec.encryptedKubernetesTokenReviewerJwt ? ctx.vault.decrypt(rec.encryptedKubernetesTokenReviewerJwt, reviewerJwtContext(rec.id)) : "",
    });
    const gatewayNotFound = (id: string) => inf.notFound(`Gateway with ID ${id} not found`);

    app.post(path, { onRequest }, async (req) => {
        const { identityId } = parse(paramsSchema, req.params);
        const body = parse(attachSchema, jsonBody(req));
        const actor = req.infisicalActor!;
        const identity = identityOf(ctx.store.state, actor, identityId);
        if (identity.authMethods.includes(KUBERNETES_AUTH)) throw inf.badRequest("Failed to add Kubernetes Auth to already configured identity");
        checkAttachTtl(body);
        requireOrgPermission(actor, identity.orgId, "create", "identity");
        const ips = reformatTrustedIps(body.accessTokenTrustedIps, planOf(ctx, identity.orgId));
        if (body.gatewayId) throw gatewayNotFound(body.gatewayId);
        if (body.tokenReviewMode === "api" && body.kubernetesHost) await validateHostConnectivity(ctx, body.kubernetesHost, body.caCert);
        if (body.tokenReviewerJwt && body.kubernetesHost && body.tokenReviewMode === "api") await validateTokenReviewer(ctx, body.kubernetesHost, body.tokenReviewerJwt, body.caCert);

        const rec = await ctx.store.update((draft) => {
            const current = identityOf(draft, actor, identityId);
            if (current.authMethods.includes(KUBERNETES_AUTH)) throw inf.badRequest("Failed to add Kubernetes Auth to already configured identity");
            const now = new Date().toISOString();
            const id = randomUUID();
            const record: IdentityKubernetesAuthRecord = {
                id,
                identityId,
                kubernetesHost: body.kubernetesHost,
                tokenReviewMode: body.tokenReviewMode,
                encryptedKubernetesCaCertificate: ctx.vault.encrypt(body.caCert, caCertContext(id)),
                encryptedKubernetesTokenReviewerJwt: body.tokenReviewerJwt ? ctx.vault.encrypt(body.tokenReviewerJwt, reviewerJwtContext(id)) : null,
                allowedNamespaces: body.allowedNamespaces,
                allowedNames: body.allowedNames,
                allowedAudience: body.allowedAudience,
                gatewayId: null,
                accessTokenTTL: body.accessTokenTTL,
                accessTokenMaxTTL: body.accessTokenMaxTTL,
                accessTokenNumUsesLimit: body.accessTokenNumUsesLimit,
                accessTokenTrustedIps: ips,
                createdAt: now,
                updatedAt: now,
            };
            draft.infisical.identityKubernetesAuths.push(record);
            current.authMethods.push(KUBERNETES_AUTH);
            return record;
        });
        return { identityKubernetesAuth: view(rec, { caCert: body.caCert, tokenReviewerJwt: body.tokenReviewerJwt }) };
    });

    app.get(path, { onRequest }, async (req) => {
        const { identityId } = parse(paramsSchema, req.params);
        const actor = req.infisicalActor!;
        const identity = identityOf(ctx.store.state, actor, identityId);
        const rec = authOf(ctx.store.state, identityId);
        if (!rec) throw inf.notFound(`Failed to find Kubernetes Auth for identity with ID ${identityId}`);
        if (!identity.authMethods.includes(KUBERNETES_AUTH)) throw inf.badRequest("The identity does not have Kubernetes Auth attached");
        requireOrgPermission(actor, identity.orgId, "read", "identity");
        return { identityKubernetesAuth: view(rec, decrypt(rec)) };
    });

    app.patch(path, { onRequest }, async (req) => {
        const { identityId } = parse(paramsSchema, req.params);
        const body = parse(updateSchema, jsonBody(req));
        const actor = req.infisicalActor!;
        const identity = identityOf(ctx.store.state, actor, identityId);
        if (!identity.authMethods.includes(KUBERNETES_AUTH)) throw inf.badRequest("Failed to update Kubernetes Auth");
        const existing = authOf(ctx.store.state, identityId);
        if (!existing) throw inf.badRequest("Failed to update Kubernetes Auth");
        checkUpdateTtl(body, existing);
        requireOrgPermission(actor, identity.orgId, "edit", "identity");
        const ips = body.accessTokenTrustedIps ? reformatTrustedIps(body.accessTokenTrustedIps, planOf(ctx, identity.orgId)) : undefined;
        if (body.gatewayId) throw gatewayNotFound(body.gatewayId);
        const mode = body.tokenReviewMode ?? existing.tokenReviewMode;
        const host = body.kubernetesHost !== undefined ? body.kubernetesHost : existing.kubernetesHost;
        const caCert = body.caCert !== undefined ? body.caCert : decrypt(existing).caCert;
        if (body.kubernetesHost && mode === "api") await validateHostConnectivity(ctx, body.kubernetesHost, caCert);
        if (body.tokenReviewerJwt && host && mode === "api") await validateTokenReviewer(ctx, host, body.tokenReviewerJwt, caCert);

        const rec = await ctx.store.update((draft) => {
            identityOf(draft, actor, identityId);
            const record = authOf(draft, identityId);
            if (!record) throw inf.badRequest("Failed to update Kubernetes Auth");
            const { caCert: newCa, tokenReviewerJwt, accessTokenTrustedIps: _ips, gatewayId, ...fields } = body;
            for (const [key, value] of Object.entries(fields)) {
                if (value !== undefined) (record as unknown as Record<string, unknown>)[key] = value;
            }
            if (body.kubernetesHost !== undefined) record.followsBackendUrl = false;
            if (gatewayId === null) record.gatewayId = null;
            if (ips) record.accessTokenTrustedIps = ips;
            if (newCa !== undefined) record.encryptedKubernetesCaCertificate = ctx.vault.encrypt(newCa, caCertContext(record.id));
            if (tokenReviewerJwt) record.encryptedKubernetesTokenReviewerJwt = ctx.vault.encrypt(tokenReviewerJwt, reviewerJwtContext(record.id));
            else if (tokenReviewerJwt === null) record.encryptedKubernetesTokenReviewerJwt = null;
            record.updatedAt = new Date().toISOString();
            return record;
        });
        return { identityKubernetesAuth: view(rec, decrypt(rec)) };
    });

    app.delete(path, { onRequest }, async (req) => {
        const { identityId } = parse(paramsSchema, req.params);
        const rec = await revokeAuthMethod<IdentityKubernetesAuthRecord>(ctx, req.infisicalActor!, identityId, { method: KUBERNETES_AUTH, list: "identityKubernetesAuths", what: "kubernetes auth", missing: "The identity does not have kubernetes auth" });
        return { identityKubernetesAuth: view(rec) };
    });

    app.post("/api/v1/auth/kubernetes-auth/login", async (req) => {
        const body = parse(loginSchema, jsonBody(req));
        const state = ctx.store.state.infisical;
        const auth = state.identityKubernetesAuths.find((a) => a.identityId === body.identityId);
        if (!auth) throw inf.notFound("Kubernetes auth method not found for identity, did you configure Kubernetes auth?");
        const identity = state.identities.find((i) => i.id === auth.identityId);
        if (!identity) throw inf.unauthorized("Identity not found");

        let status: TokenReviewStatus;
        try {
            status = await reviewToken(ctx, auth, body.jwt);
        } catch (err) {
            // The service's last catch: known errors as they are, anything else a 400 KubernetesAuthLoginError.
            if (err instanceof InfisicalError && [400, 401, 404].includes(err.statusCode)) throw err;
            throw new InfisicalError(400, "KubernetesAuthLoginError", (err as Error).message || "An unexpected error occurred during Kubernetes authentication");
        }
        if ("error" in status) throw new InfisicalError(401, "KubernetesTokenReviewError", String(status.error));
        if (!status.authenticated) throw new InfisicalError(401, "KubernetesTokenReviewError", "Kubernetes token not authenticated");
        const { namespace, name } = extractK8sUsername(String(status.user?.username ?? ""));
        const listHas = (list: string, value: string) => list.split(",").map((v) => v.trim()).some((v) => v === value);
        if (auth.allowedNamespaces && !listHas(auth.allowedNamespaces, namespace)) throw inf.unauthorized("Access denied: K8s namespace not allowed.");
        if (auth.allowedNames && !listHas(auth.allowedNames, name)) throw inf.unauthorized("Access denied: K8s name not allowed.");
        if (auth.allowedAudience && !(status.audiences ?? []).some((a) => a === auth.allowedAudience)) throw inf.unauthorized("Access denied: K8s audience not allowed.");
        const subOrganizationId = loginScope(ctx.store.state, identity, body.organizationSlug);

        return issueAccessToken(
            ctx,
            (draft) => {
                if (!draft.infisical.identityKubernetesAuths.some((a) => a.id === auth.id)) {
                    throw inf.notFound("Kubernetes auth method not found for identity, did you configure Kubernetes auth?");
                }
            },
            {
                identityId: auth.identityId,
                authMethod: KUBERNETES_AUTH,
                subOrganizationId,
                trustedIps: auth.accessTokenTrustedIps,
                accessTokenTTL: auth.accessTokenTTL,
                accessTokenMaxTTL: auth.accessTokenMaxTTL,
            },
            { identityAuth: { kubernetes: { namespace, name } } },
        );
    });
}

/** tokenReviewCallbackRaw of the service: the TokenReview of the workload's token. */
async function reviewToken(ctx: Context, auth: IdentityKubernetesAuthRecord, serviceAccountJwt: string): Promise<TokenReviewStatus> {
    if (auth.tokenReviewMode === "gateway") throw inf.badRequest("Gateway ID is required when token review mode is set to Gateway");
    const host = auth.kubernetesHost;
    if (!host) throw inf.badRequest("Kubernetes host is required when token review mode is set to API");
    const caCert = auth.encryptedKubernetesCaCertificate ? ctx.vault.decrypt(auth.encryptedKubernetesCaCertificate, caCertContext(auth.id)) : "";
    // No reviewer stored: the incoming token has to act as reviewer.
    const reviewerJwt = auth.encryptedKubernetesTokenReviewerJwt ? ctx.vault.decrypt(auth.encryptedKubernetesTokenReviewerJwt, reviewerJwtContext(auth.id)) : serviceAccountJwt;
    let res: SendResult;
    try {
        res = await send(`${host}/apis/authentication.k8s.io/v1/tokenreviews`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${reviewerJwt}` },
            body: JSON.stringify({
                apiVersion: "authentication.k8s.io/v1",
                kind: "TokenReview",
                spec: { token: serviceAccountJwt, ...(auth.allowedAudience ? { audiences: [auth.allowedAudience] } : {}) },
            }),
            timeoutMs: REVIEW_TIMEOUT_MS,
            ...tlsOf(host, caCert),
        });
    } catch (err) {
        if (err instanceof SendError) throw networkError(err, host, "apiServer");
        throw new InfisicalError(400, "KubernetesTokenReviewError", (err as Error).message || "Unexpected error during token review");
    }
    if (res.status < 200 || res.status >= 300) throw httpError(res, "apiServer");
    const data = jsonOf(res.text) as { status?: TokenReviewStatus };
    if (typeof data !== "object" || data === null || typeof data.status !== "object" || data.status === null) {
        throw new InfisicalError(400, "KubernetesAuthLoginError", "Cannot use 'in' operator to search for 'error' in undefined");
    }
    return data.status;
}
