/**
 * Organization OIDC SSO configuration: `GET/POST/PATCH /api/v1/sso/oidc/config` (Infisical ee/routes/v1/oidc-router
 * and ee/services/oidc/oidc-config-service.ts, current source).
 *
 * - GET looks the configuration up before checking permissions: none is a 404 "Failed to find OIDC SSO data"
 *   whoever asks. It answers clientId and clientSecret decrypted, in clear (the route's response schema extends
 *   both).
 * - POST and PATCH check, in the service's order: the organization exists (404), the plan has `oidcSSO` (400),
 *   permissions (403), `isActive` while Google SSO is enforced (400), on PATCH `isActive` while the instance's SMTP
 *   does not verify (400), then the URL guard on discoveryURL, jwksUri, tokenEndpoint, userinfoEndpoint.
 * - One configuration per organization (a unique index on orgId): a second POST fails in the DAL's create, which
 *   Infisical answers 500 `{message: "Something went wrong", error: "Create"}`.
 * - PATCH updates whatever row matches: none is a 200 with an empty body. Either way it then sets the
 *   organization's authEnforced and scimEnabled to false.
 * - Unknown body properties are dropped (zod's default), not refused.
 */
import { randomUUID } from "crypto";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { Context } from "../context";
import { inf } from "../errors";
import { orgSettings, type OidcConfigRecord, type OrganizationRecord } from "../store";
import { authenticate, requireOrgPermission } from "./auth";
import { commaSpaced, jsonBody, parse } from "./common";
import { blockLocalAndPrivateIpAddresses } from "./url-guard";

const CONFIGURATION_TYPES = ["custom", "discoveryURL"] as const;
const JWT_ALGORITHMS = ["RS256", "HS256", "RS512", "EdDSA"] as const;

const GOOGLE_ENFORCED = "You cannot enable OIDC SSO while Google OAuth is enforced. Disable Google OAuth enforcement to enable OIDC SSO.";

const emailDomains = z.string().trim().transform(commaSpaced);
const optionalText = z.string().trim().optional().default("");

export const createSsoSchema = z
    .object({
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
export const updateSsoSchema = z.object({
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
    const organization = (orgId: string): OrganizationRecord => {
        const org = ctx.store.state.infisical.organizations.find((o) => o.id === orgId);
        if (!org) throw inf.notFound(`Organization with ID '${orgId}' not found`);
        return org;
    };
    const smtpVerified = () => ctx.store.state.infisical.instance?.smtpVerified ?? true;
    const guardUrls = async (body: { discoveryURL?: string; jwksUri?: string; tokenEndpoint?: string; userinfoEndpoint?: string }) => {
        // The service's order; empty values are skipped.
        for (const url of [body.discoveryURL, body.jwksUri, body.tokenEndpoint, body.userinfoEndpoint]) {
            if (url) await blockLocalAndPrivateIpAddresses(url, ctx.allowInternalIpConnections);
        }
    };

    app.get("/api/v1/sso/oidc/config", { onRequest }, async (req) => {
        const { organizationId } = parse(getQuerySchema, req.query);
        const cfg = ctx.store.state.infisical.oidcConfigs.find((c) => c.orgId === organizationId);
        if (!cfg) throw inf.notFound("Failed to find OIDC SSO data");
        requireOrgPermission(req.infisicalActor!, organizationId, "read", "sso");
        return {
            ...sanitized(cfg),
            clientId: ctx.vault.decrypt(cfg.encryptedClientId, secretContext(cfg.id, "clientId")),
            clientSecret: ctx.vault.decrypt(cfg.encryptedClientSecret, secretContext(cfg.id, "clientSecret")),
        };
    });

    app.post("/api/v1/sso/oidc/config", { onRequest }, async (req) => {
        const body = parse(createSsoSchema, jsonBody(req));
        const settings = orgSettings(organization(body.organizationId));
        if (!settings.plan.oidcSSO) throw inf.badRequest("Failed to create OIDC SSO configuration due to plan restriction. Upgrade plan to update SSO configuration.");
        requireOrgPermission(req.infisicalActor!, body.organizationId, "create", "sso");
        if (settings.googleSsoAuthEnforced && body.isActive) throw inf.badRequest(GOOGLE_ENFORCED);
        await guardUrls(body);
        const created = await ctx.store.update((draft) => {
            const configs = draft.infisical.oidcConfigs;
            // Infisical has no check here: the unique index on orgId refuses the insert, and the DAL's create
            // reports it as DatabaseError({name: "Create"}) → 500.
            if (configs.some((c) => c.orgId === body.organizationId)) throw inf.internal("Something went wrong", "Create");
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

    app.patch("/api/v1/sso/oidc/config", { onRequest }, async (req, reply) => {
        const body = parse(updateSsoSchema, jsonBody(req));
        const orgId = body.organizationId;
        const settings = orgSettings(organization(orgId));
        if (!settings.plan.oidcSSO) throw inf.badRequest("Failed to update OIDC SSO configuration due to plan restriction. Upgrade plan to update SSO configuration.");
        requireOrgPermission(req.infisicalActor!, orgId, "edit", "sso");
        if (settings.googleSsoAuthEnforced && body.isActive) throw inf.badRequest(GOOGLE_ENFORCED);
        if (body.isActive && !smtpVerified()) {
            throw inf.badRequest(
                "Cannot enable OIDC when there are issues with the instance's SMTP configuration. Bypass this by turning on trust for OIDC emails in the server admin console.",
            );
        }
        await guardUrls(body);
        const updated = await ctx.store.update((draft) => {
            const org = draft.infisical.organizations.find((o) => o.id === orgId);
            // Whatever the PATCH carries, and whether or not a row matched: orgDAL.updateById(org.id, {authEnforced: false, scimEnabled: false}).
            if (org) Object.assign(org, { authEnforced: false, scimEnabled: false });
            const cfg = draft.infisical.oidcConfigs.find((c) => c.orgId === orgId);
            if (!cfg) return undefined;
            const { organizationId: _org, clientId, clientSecret, ...fields } = body;
            for (const [key, value] of Object.entries(fields)) {
                if (value !== undefined && key in cfg) (cfg as unknown as Record<string, unknown>)[key] = value;
            }
            if (clientId !== undefined) cfg.encryptedClientId = ctx.vault.encrypt(clientId, secretContext(cfg.id, "clientId"));
            if (clientSecret !== undefined) cfg.encryptedClientSecret = ctx.vault.encrypt(clientSecret, secretContext(cfg.id, "clientSecret"));
            cfg.lastUsed = null;
            cfg.updatedAt = new Date().toISOString();
            return cfg;
        });
        // The update matched no row: the handler returns undefined and fastify answers 200 with an empty body.
        if (!updated) return reply.code(200).send();
        // The PATCH response schema of Infisical has no jwtSignatureAlgorithm.
        const { jwtSignatureAlgorithm: _alg, ...rest } = sanitized(updated);
        return rest;
    });
}
