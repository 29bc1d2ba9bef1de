/**
 * A Kubernetes API server stand-in at `<url>/kubernetes`, for Infisical's Kubernetes auth to talk to over real HTTP:
 *
 * - `POST /apis/authentication.k8s.io/v1/tokenreviews` (the TokenReview API, what Infisical calls at login and to
 *   validate a token reviewer JWT). The caller must present a service-account token (`Authorization: Bearer`)
 *   whose service account may create TokenReviews (`state.kubernetes.authDelegators`, "namespace:name" or "*";
 *   the system:auth-delegator ClusterRole binding of a real cluster), else 401 / 403 with the API server's Status
 *   bodies. The reviewed token is verified as a service-account token: signed by the backend's issuer key, issuer
 *   SERVICE_ACCOUNT_ISSUER, not expired, `sub` = system:serviceaccount:<namespace>:<name>, and an audience in
 *   `spec.audiences` (or, when those are absent, in the API server's own audiences). The answer is 201 with
 *   `status: {authenticated: true, user: {username, uid, groups}, audiences}` or `status: {user: {}, error}`.
 * - `POST /api/v1/namespaces/:namespace/serviceaccounts/:name/token` (the TokenRequest API): mints a service-account
 *   token, `spec: {audiences?, expirationSeconds?}` (default the API audiences and 3600 s; at least 600 s, as the
 *   API server requires). Unlike a real cluster it needs no credentials (like the issuer's /oidc/mint).
 * - `GET /version`: what Infisical's host connectivity check reads.
 *
 * Tokens are signed with the built-in issuer's key (the same JWKS as /oidc/jwks), with `iss` the in-cluster issuer
 * name real clusters use by default, so the issuer URL (and the port) can change without invalidating them.
 * Not modelled: bound-object checks (pods, secrets), service-account existence, RBAC beyond the delegators list.
 */
import { createHash } from "crypto";
import type { FastifyInstance, FastifyReply } from "fastify";
import { errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from "jose";
import { z } from "zod";
import type { Context } from "../context";
import { loadKey, type LoadedKey } from "../issuer";

export const KUBERNETES_PREFIX = "/kubernetes";
/** The service-account issuer of a kubeadm cluster (also its default API audience). */
export const SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local";
export const TOKEN_REVIEWER = { namespace: "infisical", name: "token-reviewer" } as const;

export const kubernetesUrl = (ctx: Pick<Context, "baseUrl">) => `${ctx.baseUrl()}${KUBERNETES_PREFIX}`;

/** The stable uid of a service account (a real cluster assigns one at creation). */
export const serviceAccountUid = (namespace: string, name: string) => {
    const h = createHash("sha256").update(`${namespace}/${name}`).digest("hex");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

export interface ServiceAccountTokenOptions {
    namespace: string;
    name: string;
    audiences: string[];
    /** Lifetime in seconds; undefined: no expiry (a legacy secret-based token). */
    expiresIn?: number;
}

/** Signs a service-account token as the API server's TokenRequest does (projected-token claims). */
export async function signServiceAccountToken(key: LoadedKey, opts: ServiceAccountTokenOptions): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const claims: JWTPayload & Record<string, unknown> = {
        aud: opts.audiences,
        iat: now,
        nbf: now,
        iss: SERVICE_ACCOUNT_ISSUER,
        sub: `system:serviceaccount:${opts.namespace}:${opts.name}`,
        "kubernetes.io": { namespace: opts.namespace, serviceaccount: { name: opts.name, uid: serviceAccountUid(opts.namespace, opts.name) } },
    };
    if (opts.expiresIn !== undefined) claims.exp = now + opts.expiresIn;
    return new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: key.kid }).sign(key.privateKey);
}

type Review = { ok: true; namespace: string; name: string; audiences: string[] } | { ok: false; error: string };

/** Verifies a service-account token against the target audiences (the API server's token authenticator). */
async function review(keys: LoadedKey[], token: string, targetAudiences: string[]): Promise<Review> {
    const invalid = (why: string): Review => ({ ok: false, error: `[invalid bearer token, ${why}]` });
    const parts = token.split(".");
    if (parts.length !== 3) return invalid("square/go-jose: compact JWS format must have three parts");
    let payload: JWTPayload | undefined;
    for (const key of keys) {
        try {
            payload = (await jwtVerify(token, key.publicKey, { algorithms: ["RS256"] })).payload;
            break;
        } catch (err) {
            if (err instanceof joseErrors.JWTExpired) return invalid("service account token has expired");
            if (err instanceof joseErrors.JWSSignatureVerificationFailed) continue;
            return invalid("square/go-jose: error in cryptographic primitive");
        }
    }
    if (!payload) return invalid("square/go-jose: error in cryptographic primitive");
    if (payload.iss !== SERVICE_ACCOUNT_ISSUER) return invalid("token issuer is not a service account issuer");
    const match = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(typeof payload.sub === "string" ? payload.sub : "");
    if (!match) return invalid("token lookup failed");
    const tokenAudiences = typeof payload.aud === "string" ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud : [];
    const audiences = targetAudiences.filter((a) => tokenAudiences.includes(a));
    if (audiences.length === 0) {
        return invalid(`token audiences ${JSON.stringify(tokenAudiences)} is invalid for the target audiences ${JSON.stringify(targetAudiences)}`);
    }
    return { ok: true, namespace: match[1] as string, name: match[2] as string, audiences };
}

const status = (code: number, reason: string, message: string, details?: Record<string, unknown>) => ({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    ...(details ? { details } : {}),
    code,
});

const tokenReviewBody = z.object({
    apiVersion: z.string().optional(),
    kind: z.string().optional(),
    spec: z.object({ token: z.string().default(""), audiences: z.array(z.string()).optional() }),
});

const tokenRequestBody = z
    .object({
        apiVersion: z.string().optional(),
        kind: z.string().optional(),
        spec: z.object({ audiences: z.array(z.string()).optional(), expirationSeconds: z.number().int().optional() }).optional(),
    })
    .optional();

function bodyOf(raw: unknown): unknown {
    if (typeof raw !== "string") return raw;
    try {
        return JSON.parse(raw) as unknown;
    } catch {
        return undefined;
    }
}

export async function registerKubernetesApi(app: FastifyInstance, ctx: Context): Promise<void> {
    const keys = await Promise.all(ctx.store.state.issuer.keys.map((k) => loadKey(ctx.vault, k)));
    const signing = keys[0];
    if (!signing) throw new Error("the state has no issuer key");
    const apiAudiences = () => (ctx.store.state.kubernetes.apiAudiences.length > 0 ? ctx.store.state.kubernetes.apiAudiences : [SERVICE_ACCOUNT_ISSUER]);

    app.get(`${KUBERNETES_PREFIX}/version`, async () => ({
        major: "1",
        minor: "31",
        gitVersion: "v1.31.0+reference-backend",
        gitCommit: "0000000000000000000000000000000000000000",
        gitTreeState: "clean",
        buildDate: "2026-01-01T00:00:00Z",
        goVersion: "go1.22.0",
        compiler: "gc",
        platform: "linux/amd64",
    }));

    app.post(`${KUBERNETES_PREFIX}/apis/authentication.k8s.io/v1/tokenreviews`, async (req, reply: FastifyReply) => {
        const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "")?.[1];
        const caller = bearer ? await review(keys, bearer, apiAudiences()) : undefined;
        if (!caller?.ok) return reply.code(401).send(status(401, "Unauthorized", "Unauthorized"));
        const delegators = ctx.store.state.kubernetes.authDelegators;
        if (!delegators.includes("*") && !delegators.includes(`${caller.namespace}:${caller.name}`)) {
            const user = `system:serviceaccount:${caller.namespace}:${caller.name}`;
            return reply.code(403).send(
                status(403, "Forbidden", `tokenreviews.authentication.k8s.io is forbidden: User "${user}" cannot create resource "tokenreviews" in API group "authentication.k8s.io" at the cluster scope`, {
                    group: "authentication.k8s.io",
                    kind: "tokenreviews",
                }),
            );
        }
        const parsed = tokenReviewBody.safeParse(bodyOf(req.body));
        if (!parsed.success) return reply.code(400).send(status(400, "BadRequest", "the body of the request was in an unknown format"));
        const { spec } = parsed.data;
        const target = spec.audiences && spec.audiences.length > 0 ? spec.audiences : apiAudiences();
        const result = await review(keys, spec.token, target);
        const base = { kind: "TokenReview", apiVersion: "authentication.k8s.io/v1", metadata: { creationTimestamp: null }, spec };
        if (!result.ok) return reply.code(201).send({ ...base, status: { user: {}, error: result.error } });
        return reply.code(201).send({
            ...base,
            status: {
                authenticated: true,
                user: {
                    username: `system:serviceaccount:${result.namespace}:${result.name}`,
                    uid: serviceAccountUid(result.namespace, result.name),
                    groups: ["system:serviceaccounts", `system:serviceaccounts:${result.namespace}`, "system:authenticated"],
                },
                audiences: result.audiences,
            },
        });
    });

    app.post(`${KUBERNETES_PREFIX}/api/v1/namespaces/:namespace/serviceaccounts/:name/token`, async (req, reply: FastifyReply) => {
        const { namespace, name } = req.params as { namespace: string; name: string };
        const dns1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
        if (!dns1123.test(namespace) || !dns1123.test(name)) return reply.code(404).send(status(404, "NotFound", `serviceaccounts "${name}" not found`, { name, kind: "serviceaccounts" }));
        const parsed = tokenRequestBody.safeParse(bodyOf(req.body));
        if (!parsed.success) return reply.code(400).send(status(400, "BadRequest", "the body of the request was in an unknown format"));
        const spec = parsed.data?.spec ?? {};
        const expirationSeconds = spec.expirationSeconds ?? 3600;
        if (expirationSeconds < 600) {
            return reply.code(422).send(status(422, "Invalid", `TokenRequest.authentication.k8s.io "${name}" is invalid: spec.expirationSeconds: Invalid value: ${expirationSeconds}: may not specify a duration less than 10 minutes`));
        }
        const audiences = spec.audiences && spec.audiences.length > 0 ? spec.audiences : apiAudiences();
        const token = await signServiceAccountToken(signing, { namespace, name, audiences, expiresIn: expirationSeconds });
        return reply.code(201).send({
            kind: "TokenRequest",
            apiVersion: "authentication.k8s.io/v1",
            metadata: { name, namespace, creationTimestamp: null },
            spec: { audiences, expirationSeconds, boundObjectRef: null },
            status: { token, expirationTimestamp: new Date(Date.now() + expirationSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z") },
        });
    });
}
