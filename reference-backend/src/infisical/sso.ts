/**
 * Organization OIDC SSO configuration: `GET/POST/PATCH /api/v1/sso/oidc/config` (Infisical ee/routes/v1/oidc-router
 * and ee/services/oidc/oidc-config-service).
 *
 * - One configuration per organization (a unique index on orgId): a second POST fails in the database layer,
 *   which Infisical answers with a 500.
 * - GET looks the configuration up before checking permissions (as the service does): no configuration is a 404
 *   whoever asks; an existing one of another organization is a 403.
 * - clientId and clientSecret are stored encrypted; GET returns clientId, never clientSecret (see README).
 * - Bodies are validated like the published OpenAPI document says (`additionalProperties: false`): unknown
 *   properties are a 422 ValidationFailure.
 */
import { randomUUID } from "crypto";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { Context } from "../context";
import { inf } from "../errors";
import type { OidcConfigRecord } from "../store";
import { authenticate, requireOrgPermission } from "./auth";
import { commaSpaced, jsonBody, parse } from "./common";

const CONFIGURATION_TYPES = ["custom", "discoveryURL"] as const;
const JWT_ALGORITHMS = ["RS256", "HS256", "RS512", "EdDSA"] as const;

const emailDomains = z.string().trim().transform(commaSpaced);
const optionalText = z.string().trim().optional().default("");

export const createSsoSchema = z
    .strictObject({
        allowedEmailDomains: emailDomains.optional().default(""),
        configurationType: z.enum(CONFIGURATION_TYPES),
        issuer: optionalText,
        discoveryURL: optionalText,
        authorizationEndpoint: optionalText,
        jwksUri: optionalText,
        tokenEndpoint: optionalText,
        userinfoEndpoint: optionalText,
        clientId: z.string().trim(),
        clientSecret: z.string().trim(),
        isActive: z.boolean(),
        organizationId: z.string().trim(),
        manageGroupMemberships: z.boolean().optional().default(false),
        jwtSignatureAlgorithm: z.enum(JWT_ALGORITHMS).optional().default("RS256"),
    })
    .superRefine((data, ctx) => {
        if (data.configurationType === "custom") {
            const required: Array<[keyof typeof data, string]> = [
                ["issuer", "Issuer is required"],
                ["authorizationEndpoint", "Authorization endpoint is required"],
                ["jwksUri", "JWKS URI is required"],
                ["tokenEndpoint", "Token endpoint is required"],
                ["userinfoEndpoint", "Userinfo endpoint is required"],
            ];
            for (const [field, message] of required) if (!data[field]) ctx.addIssue({ code: "custom", path: [field], message });
        } else if (!data.discoveryURL) {
            ctx.addIssue({ code: "custom", path: ["discoveryURL"], message: "Discovery URL is required" });
        }
    });

// PATCH: every field optional and without defaults (absent fields are left as they are).
export const updateSsoSchema = z.strictObject({
    allowedEmailDomains: emailDomains.optional(),
    discoveryURL: z.string().trim().optional(),
    configurationType: z.enum(CONFIGURATION_TYPES).optional(),
    issuer: z.string().trim().optional(),
    authorizationEndpoint: z.string().trim().optional(),
    jwksUri: z.string().trim().optional(),
    tokenEndpoint: z.string().trim().optional(),
    userinfoEndpoint: z.string().trim().optional(),
    clientId: z.string().trim().optional(),
    clientSecret: z.string().trim().optional(),
    isActive: z.boolean().optional(),
    manageGroupMemberships: z.boolean().optional(),
    jwtSignatureAlgorithm: z.enum(JWT_ALGORITHMS).optional(),
    organizationId: z.string(),
});

const getQuerySchema = z.object({ organizationId: z.string().trim() });

/** The fields every SSO response carries (SanitizedOidcConfigSchema). */
function sanitized(c: OidcConfigRecord) {
    return {
        id: c.id,
        issuer: c.issuer,
        authorizationEndpoint: c.authorizationEndpoint,
        configurationType: c.configurationType,
        discoveryURL: c.discoveryURL,
        jwksUri: c.jwksUri,
        tokenEndpoint: c.tokenEndpoint,
        userinfoEndpoint: c.userinfoEndpoint,
        orgId: c.orgId,
        isActive: c.isActive,
        allowedEmailDomains: c.allowedEmailDomains,
        manageGroupMemberships: c.manageGroupMemberships,
        jwtSignatureAlgorithm: c.jwtSignatureAlgorithm,
    };
}

const secretContext = (configId: string, field: "clientId" | "clientSecret") => `sso-config:${configId}:${field}`;

export function registerSsoRoutes(app: FastifyInstance, ctx: Context): void {
    const onRequest = async (req: Parameters<typeof authenticate>[1]) => {
        req.infisicalActor = await authenticate(ctx, req);
    };
    const orgExists = (orgId: string) => ctx.store.state.infisical.organizations.some((o) => o.id === orgId);

    app.get("/api/v1/sso/oidc/config", { onRequest }, async (req) => {
        const { organizationId } = parse(getQuerySchema, req.query);
        const cfg = ctx.store.state.infisical.oidcConfigs.find((c) => c.orgId === organizationId);
        if (!cfg) throw inf.notFound(`OIDC configuration for organization with ID '${organizationId}' not found`);
        requireOrgPermission(req.infisicalActor!, organizationId, "read", "sso");
        return { ...sanitized(cfg), clientId: ctx.vault.decrypt(cfg.encryptedClientId, secretContext(cfg.id, "clientId")) };
    });

    app.post("/api/v1/sso/oidc/config", { onRequest }, async (req) => {
        const body = parse(createSsoSchema, jsonBody(req));
        if (!orgExists(body.organizationId)) throw inf.notFound(`Organization with ID '${body.organizationId}' not found`);
        requireOrgPermission(req.infisicalActor!, body.organizationId, "create", "sso");
        const created = await ctx.store.update((draft) => {
            const configs = draft.infisical.oidcConfigs;
            // Infisical has no check here: the unique index on orgId refuses the insert (DatabaseError → 500).
            if (configs.some((c) => c.orgId === body.organizationId)) throw inf.internal("Something went wrong", "DatabaseError");
            const now = new Date().toISOString();
            const id = randomUUID();
            const record: OidcConfigRecord = {
                id,
                orgId: body.organizationId,
                configurationType: body.configurationType,
                discoveryURL: body.discoveryURL,
                issuer: body.issuer,
                authorizationEndpoint: body.authorizationEndpoint,
                jwksUri: body.jwksUri,
                tokenEndpoint: body.tokenEndpoint,
                userinfoEndpoint: body.userinfoEndpoint,
                allowedEmailDomains: body.allowedEmailDomains,
                isActive: body.isActive,
                manageGroupMemberships: body.manageGroupMemberships,
                jwtSignatureAlgorithm: body.jwtSignatureAlgorithm,
                encryptedClientId: ctx.vault.encrypt(body.clientId, secretContext(id, "clientId")),
                encryptedClientSecret: ctx.vault.encrypt(body.clientSecret, secretContext(id, "clientSecret")),
                lastUsed: null,
                createdAt: now,
                updatedAt: now,
            };
            configs.push(record);
            return record;
        });
        return sanitized(created);
    });

    app.patch("/api/v1/sso/oidc/config", { onRequest }, async (req) => {
        const body = parse(updateSsoSchema, jsonBody(req));
        const orgId = body.organizationId;
        if (!orgExists(orgId)) throw inf.notFound(`Organization with ID '${orgId}' not found`);
        requireOrgPermission(req.infisicalActor!, orgId, "edit", "sso");
        const updated = await ctx.store.update((draft) => {
            const cfg = draft.infisical.oidcConfigs.find((c) => c.orgId === orgId);
            // Infisical's update matches no row and answers without a configuration; a 404 says it plainly.
            if (!cfg) throw inf.notFound(`OIDC configuration for organization with ID '${orgId}' not found`);
            const { organizationId: _org, clientId, clientSecret, ...fields } = body;
            for (const [key, value] of Object.entries(fields)) {
                if (value !== undefined) (cfg as unknown as Record<string, unknown>)[key] = value;
            }
            if (clientId !== undefined) cfg.encryptedClientId = ctx.vault.encrypt(clientId, secretContext(cfg.id, "clientId"));
            if (clientSecret !== undefined) cfg.encryptedClientSecret = ctx.vault.encrypt(clientSecret, secretContext(cfg.id, "clientSecret"));
            cfg.lastUsed = null;
            cfg.updatedAt = new Date().toISOString();
            return cfg;
        });
        // The PATCH response schema of Infisical has no jwtSignatureAlgorithm.
        const { jwtSignatureAlgorithm: _alg, ...rest } = sanitized(updated);
        return rest;
    });
}

