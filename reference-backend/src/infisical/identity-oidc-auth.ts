/**
 * Machine-identity OIDC auth: `POST/GET/PATCH/DELETE /api/v1/auth/oidc-auth/identities/:identityId` (Infisical
 * server/routes/v1/identity-oidc-auth-router and services/identity-oidc-auth/identity-oidc-auth-service, current).
 *
 * Attach and update check, in the service's order: the identity (404), OIDC auth attached or not (400), the
 * TTLs (400), permissions (403), the auth template (templateId: the plan's machineIdentityAuthTemplates, the
 * attach-templates permission, the template itself (404), the identity's own subject or claim binding; without a
 * template the discovery URL and issuer are required), each trusted IP (the plan's `ipAllowlisting` first: anything
 * but exactly `0.0.0.0/0` or `::/0` needs it, then its validity), then the URL guard on oidcDiscoveryUrl. A linked
 * identity's discovery URL, issuer, audiences and CA certificate are the template's (auth-templates.ts) and may only
 * change with the link (templateId: null unlinks, another id relinks). Unknown body
 * properties are dropped. `claimMetadataMapping` (metadata key → claim path) is validated and formatted like
 * boundClaims (validateOidcBoundClaimsField) and read back as stored (null when never set).
 *
 * Identities are looked up within the caller's organization, so an identity of another organization is a 404
 * ("Failed to find identity with ID ..."), like an unknown one. Reading, changing or revoking OIDC auth that is
 * not attached is a 400 with the service's own messages; attaching it twice is a 400. Trusted IPs are validated
 * and returned as `{ipAddress, type, prefix?}`; audiences and claim values are stored as ", "-joined lists; the CA
 * certificate is stored encrypted.
 *
 * Revoking revokes the access tokens issued through OIDC auth, and only those: the current service deletes the
 * identity's OIDC-auth token rows and calls revokeTokensForIdentityAuthMethod({identityId, authMethod: OIDC_AUTH})
 * ("Tokens issued via other methods on the same identity stay valid"); older versions deleted the OIDC-auth token
 * rows only. revokeAllTokensForIdentity (every token) is used by identity deletion, not here.
 */
import { randomUUID } from "crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import type { Context } from "../context";
import { inf } from "../errors";
import type { IdentityOidcAuthRecord } from "../store";
import { authenticate, requireOrgPermission } from "./auth";
import { commaSpaced, jsonBody, parse } from "./common";
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
import { findOidcTemplate, oidcCaCertContext, readTemplateFields } from "./auth-templates";
import { SUBJECT } from "./permissions";
import { blockLocalAndPrivateIpAddresses } from "./url-guard";

export const OIDC_AUTH = "oidc-auth";

const audiences = z.string().trim().transform(commaSpaced);
const claims = z.record(z.string(), z.string()).transform((data) => Object.fromEntries(Object.entries(data).map(([k, v]) => [k, commaSpaced(v)])));

// Today's router leaves the four template-managed fields optional, without defaults, "so template-managed values
// can be detected" (identity-oidc-auth-service.ts attachOidcAuth); the service defaults them for the custom path.
export const attachSchema = z
    .object({
        templateId: z.string().uuid().optional(),
        oidcDiscoveryUrl: z.string().url().min(1).optional(),
        caCert: z.string().trim().optional(),
        boundIssuer: z.string().min(1).optional(),
        boundAudiences: audiences.optional(),
        boundClaims: claims,
        claimMetadataMapping: claims.optional(),
        boundSubject: z.string().optional().default(""),
        accessTokenTrustedIps: trustedIps.default(DEFAULT_TRUSTED_IPS),
        accessTokenTTL: ttl.default(DEFAULT_TTL),
        accessTokenMaxTTL: ttl.default(DEFAULT_TTL),
        accessTokenNumUsesLimit: z.number().int().min(0).default(0),
    })
    .refine((v) => v.accessTokenTTL <= v.accessTokenMaxTTL, TTL_REFINE_MESSAGE);

// PATCH: every field optional and without defaults (absent fields are left as they are).
export const updateSchema = z
    .object({
        // Tri-state: absent keeps the link, null unlinks, a uuid links.
        templateId: z.string().uuid().nullable().optional(),
        oidcDiscoveryUrl: z.string().url().min(1).optional(),
        caCert: z.string().trim().optional(),
        boundIssuer: z.string().min(1).optional(),
        boundAudiences: audiences.optional(),
        boundClaims: claims.optional(),
        claimMetadataMapping: claims.optional(),
        boundSubject: z.string().optional(),
        accessTokenTrustedIps: trustedIps.optional(),
        accessTokenTTL: ttl.optional(),
        accessTokenMaxTTL: ttl.optional(),
        accessTokenNumUsesLimit: z.number().int().min(0).optional(),
    })
    .refine((v) => (v.accessTokenMaxTTL && v.accessTokenTTL ? v.accessTokenTTL <= v.accessTokenMaxTTL : true), TTL_REFINE_MESSAGE);

export const caCertContext = oidcCaCertContext;

const TEMPLATE_PLAN = "Failed to use identity auth template due to plan restriction. Upgrade plan to access machine identity auth templates.";
const TEMPLATE_MANAGED =
    "This identity's OIDC identity provider settings are managed by an auth template. Update the template to change them, or unlink the template by setting templateId to null.";
const TEMPLATE_BINDING = "When using an auth template, set a subject or at least one claim binding to restrict which workloads can authenticate as this identity.";
const REQUIRED_WITHOUT_TEMPLATE = "OIDC discovery URL and issuer are required when not using an auth template.";

/** The `identityOidcAuth` object of the responses (IdentityOidcAuthResponseSchema). */
function view(rec: IdentityOidcAuthRecord, caCert?: string): Record<string, unknown> {
    const out: Record<string, unknown> = {
        id: rec.id,
        accessTokenTTL: rec.accessTokenTTL,
        accessTokenMaxTTL: rec.accessTokenMaxTTL,
        accessTokenNumUsesLimit: rec.accessTokenNumUsesLimit,
        accessTokenTrustedIps: rec.accessTokenTrustedIps,
        identityId: rec.identityId,
        oidcDiscoveryUrl: rec.oidcDiscoveryUrl,
        boundIssuer: rec.boundIssuer,
        boundAudiences: rec.boundAudiences,
        boundClaims: rec.boundClaims,
        claimMetadataMapping: rec.claimMetadataMapping,
        boundSubject: rec.boundSubject,
        templateId: rec.templateId ?? null,
        createdAt: rec.createdAt,
        updatedAt: rec.updatedAt,
    };
    if (caCert !== undefined) out.caCert = caCert;
    return out;
}

export function registerIdentityOidcAuthRoutes(app: FastifyInstance, ctx: Context): void {
    const onRequest = async (req: FastifyRequest) => {
        req.infisicalActor = await authenticate(ctx, req);
    };
    const path = "/api/v1/auth/oidc-auth/identities/:identityId";
    const decryptCa = (rec: IdentityOidcAuthRecord) => (rec.encryptedCaCertificate ? ctx.vault.decrypt(rec.encryptedCaCertificate, caCertContext(rec.id)) : "");

    app.post(path, { onRequest }, async (req) => {
        const { identityId } = parse(paramsSchema, req.params);
        const body = parse(attachSchema, jsonBody(req));
        const actor = req.infisicalActor!;
        const identity = identityOf(ctx.store.state, actor, identityId);
        if (identity.authMethods.includes(OIDC_AUTH)) throw inf.badRequest("Failed to add OIDC Auth to already configured identity");
        checkAttachTtl(body);
        requireOrgPermission(actor, identity.orgId, "create", "identity");
        const plan = planOf(ctx, identity.orgId);
        let { oidcDiscoveryUrl, caCert, boundIssuer, boundAudiences } = body;
        if (body.templateId) {
            if (!plan.machineIdentityAuthTemplates) throw inf.badRequest(TEMPLATE_PLAN);
            requireOrgPermission(actor, identity.orgId, "attach-templates", SUBJECT.authTemplate);
            const template = findOidcTemplate(ctx.store.state, identity.orgId, body.templateId);
            if (!template) throw inf.notFound(`OIDC auth template with ID '${body.templateId}' not found`);
            const fields = readTemplateFields(ctx.vault, template);
            oidcDiscoveryUrl = fields.oidcDiscoveryUrl;
            boundIssuer = fields.boundIssuer;
            boundAudiences = fields.boundAudiences ?? "";
            caCert = fields.caCert || "";
            if (!body.boundSubject && Object.keys(body.boundClaims).length === 0) throw inf.badRequest(TEMPLATE_BINDING);
        }
        if (!oidcDiscoveryUrl || !boundIssuer) throw inf.badRequest(REQUIRED_WITHOUT_TEMPLATE);
        const resolved = { oidcDiscoveryUrl, boundIssuer, caCert: caCert ?? "", boundAudiences: boundAudiences ?? "" };
        const ips = reformatTrustedIps(body.accessTokenTrustedIps, plan);
        await blockLocalAndPrivateIpAddresses(resolved.oidcDiscoveryUrl, ctx.allowInternalIpConnections);

        const rec = await ctx.store.update((draft) => {
            const current = identityOf(draft, actor, identityId);
            if (current.authMethods.includes(OIDC_AUTH)) throw inf.badRequest("Failed to add OIDC Auth to already configured identity");
            const now = new Date().toISOString();
            const id = randomUUID();
            const record: IdentityOidcAuthRecord = {
                id,
                identityId,
                templateId: body.templateId ?? null,
                oidcDiscoveryUrl: resolved.oidcDiscoveryUrl,
                encryptedCaCertificate: ctx.vault.encrypt(resolved.caCert, caCertContext(id)),
                boundIssuer: resolved.boundIssuer,
                boundAudiences: resolved.boundAudiences,
                boundClaims: body.boundClaims,
                claimMetadataMapping: body.claimMetadataMapping ?? null,
                boundSubject: body.boundSubject,
                accessTokenTTL: body.accessTokenTTL,
                accessTokenMaxTTL: body.accessTokenMaxTTL,
                accessTokenNumUsesLimit: body.accessTokenNumUsesLimit,
                accessTokenTrustedIps: ips,
                createdAt: now,
                updatedAt: now,
            };
            draft.infisical.identityOidcAuths.push(record);
            current.authMethods.push(OIDC_AUTH);
            return record;
        });
        return { identityOidcAuth: view(rec, resolved.caCert) };
    });

    app.get(path, { onRequest }, async (req) => {
        const { identityId } = parse(paramsSchema, req.params);
        const actor = req.infisicalActor!;
        const identity = identityOf(ctx.store.state, actor, identityId);
        if (!identity.authMethods.includes(OIDC_AUTH)) throw inf.badRequest("The identity does not have OIDC Auth attached");
        requireOrgPermission(actor, identity.orgId, "read", "identity");
        const rec = ctx.store.state.infisical.identityOidcAuths.find((a) => a.identityId === identityId);
        if (!rec) throw inf.badRequest("The identity does not have OIDC Auth attached");
        return { identityOidcAuth: view(rec, decryptCa(rec)) };
    });

    app.patch(path, { onRequest }, async (req) => {
        const { identityId } = parse(paramsSchema, req.params);
        const body = parse(updateSchema, jsonBody(req));
        const actor = req.infisicalActor!;
        const identity = identityOf(ctx.store.state, actor, identityId);
        if (!identity.authMethods.includes(OIDC_AUTH)) throw inf.badRequest("Failed to update OIDC Auth");
        const existing = ctx.store.state.infisical.identityOidcAuths.find((a) => a.identityId === identityId);
        if (!existing) throw inf.badRequest("Failed to update OIDC Auth");
        checkUpdateTtl(body, existing);
        requireOrgPermission(actor, identity.orgId, "edit", "identity");
        const plan = planOf(ctx, identity.orgId);
        const { templateId } = body;
        let { oidcDiscoveryUrl, caCert, boundIssuer, boundAudiences } = body;
        // The UI re-sends the current templateId on every save: only a link change needs the template checks.
        if (templateId && templateId !== existing.templateId) {
            if (!plan.machineIdentityAuthTemplates) throw inf.badRequest(TEMPLATE_PLAN);
            requireOrgPermission(actor, identity.orgId, "attach-templates", SUBJECT.authTemplate);
            const template = findOidcTemplate(ctx.store.state, identity.orgId, templateId);
            if (!template) throw inf.notFound(`OIDC auth template with ID '${templateId}' not found`);
            const fields = readTemplateFields(ctx.vault, template);
            oidcDiscoveryUrl = fields.oidcDiscoveryUrl;
            boundIssuer = fields.boundIssuer;
            boundAudiences = fields.boundAudiences ?? "";
            caCert = fields.caCert ?? "";
        } else if (templateId === undefined && existing.templateId) {
            if (oidcDiscoveryUrl !== undefined || boundIssuer !== undefined || boundAudiences !== undefined || caCert !== undefined) throw inf.badRequest(TEMPLATE_MANAGED);
        }
        // A linked identity must always carry its own principal binding.
        const templateIdAfterUpdate = templateId === undefined ? existing.templateId : templateId;
        if (templateIdAfterUpdate) {
            const subject = body.boundSubject !== undefined ? body.boundSubject : (existing.boundSubject ?? "");
            const boundClaims = body.boundClaims !== undefined ? body.boundClaims : (existing.boundClaims ?? {});
            if (!subject && Object.keys(boundClaims).length === 0) throw inf.badRequest(TEMPLATE_BINDING);
        }
        const ips = body.accessTokenTrustedIps ? reformatTrustedIps(body.accessTokenTrustedIps, plan) : undefined;
        if (oidcDiscoveryUrl) await blockLocalAndPrivateIpAddresses(oidcDiscoveryUrl, ctx.allowInternalIpConnections);

        const rec = await ctx.store.update((draft) => {
            identityOf(draft, actor, identityId);
            const record = draft.infisical.identityOidcAuths.find((a) => a.identityId === identityId);
            if (!record) throw inf.badRequest("Failed to update OIDC Auth");
            const { caCert: _ca, accessTokenTrustedIps: _ips, templateId: _t, oidcDiscoveryUrl: _u, boundIssuer: _i, boundAudiences: _a, ...fields } = body;
            for (const [key, value] of Object.entries({ ...fields, oidcDiscoveryUrl, boundIssuer, boundAudiences })) {
                if (value !== undefined) (record as unknown as Record<string, unknown>)[key] = value;
            }
            if (templateId !== undefined) record.templateId = templateId;
            if (ips) record.accessTokenTrustedIps = ips;
            if (caCert !== undefined) record.encryptedCaCertificate = ctx.vault.encrypt(caCert, caCertContext(record.id));
            record.updatedAt = new Date().toISOString();
            return record;
        });
        return { identityOidcAuth: view(rec, decryptCa(rec)) };
    });

    app.delete(path, { onRequest }, async (req) => {
        const { identityId } = parse(paramsSchema, req.params);
        const rec = await revokeAuthMethod<IdentityOidcAuthRecord>(ctx, req.infisicalActor!, identityId, { method: OIDC_AUTH, list: "identityOidcAuths", what: "oidc auth", missing: "The identity does not have OIDC auth", identityNotFound: "Failed to find identity" });
        return { identityOidcAuth: view(rec) };
    });
}
