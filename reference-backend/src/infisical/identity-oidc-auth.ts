/**
 * Machine-identity OIDC auth: `POST/GET/PATCH/DELETE /api/v1/auth/oidc-auth/identities/:identityId` (Infisical
 * server/routes/v1/identity-oidc-auth-router and services/identity-oidc-auth/identity-oidc-auth-service, current).
 *
 * Attach and update check, in the service's order: the identity (404), OIDC auth attached or not (400), the
 * TTLs (400), permissions (403), each trusted IP (the plan's `ipAllowlisting` first: anything but exactly
 * `0.0.0.0/0` or `::/0` needs it, then its validity), then the URL guard on oidcDiscoveryUrl. Unknown body
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
import { extractIpDetails, isValidIpOrCidr } from "../ip";
import { orgSettings, type IdentityOidcAuthRecord, type IdentityRecord, type OrgPlan, type State, type TrustedIp } from "../store";
import { authenticate, requireOrgPermission, type InfisicalActor } from "./auth";
import { commaSpaced, jsonBody, parse } from "./common";
import { blockLocalAndPrivateIpAddresses } from "./url-guard";

export const MAX_TTL = 315360000;
export const DEFAULT_TTL = 2592000;
export const OIDC_AUTH = "oidc-auth";

const ttl = z.number().int().min(0).max(MAX_TTL);
const trustedIps = z.array(z.object({ ipAddress: z.string().trim() })).min(1);
const audiences = z.string().trim().transform(commaSpaced);
const claims = z.record(z.string(), z.string()).transform((data) => Object.fromEntries(Object.entries(data).map(([k, v]) => [k, commaSpaced(v)])));
const TTL_REFINE_MESSAGE = "Access Token TTL cannot be greater than Access Token Max TTL.";

export const attachSchema = z
    .object({
        oidcDiscoveryUrl: z.string().url().min(1),
        caCert: z.string().trim().default(""),
        boundIssuer: z.string().min(1),
        boundAudiences: audiences.default(""),
        boundClaims: claims,
        claimMetadataMapping: claims.optional(),
        boundSubject: z.string().optional().default(""),
        accessTokenTrustedIps: trustedIps.default([{ ipAddress: "0.0.0.0/0" }, { ipAddress: "::/0" }]),
        accessTokenTTL: ttl.default(DEFAULT_TTL),
        accessTokenMaxTTL: ttl.default(DEFAULT_TTL),
        accessTokenNumUsesLimit: z.number().int().min(0).default(0),
    })
    .refine((v) => v.accessTokenTTL <= v.accessTokenMaxTTL, TTL_REFINE_MESSAGE);

// PATCH: every field optional and without defaults (absent fields are left as they are).
export const updateSchema = z
    .object({
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

const paramsSchema = z.object({ identityId: z.string().trim() });

export const caCertContext = (authId: string) => `identity-oidc-auth:${authId}:caCert`;

/**
 * The trusted IPs of a request body in Infisical's stored form. Per IP, as the service does: without the plan's
 * ipAllowlisting anything but exactly "0.0.0.0/0" / "::/0" is a 400 (before its validity is looked at), then an
 * invalid one is a 400.
 */
export function reformatTrustedIps(list: Array<{ ipAddress: string }>, plan: OrgPlan): TrustedIp[] {
    return list.map(({ ipAddress }) => {
        if (!plan.ipAllowlisting && ipAddress !== "0.0.0.0/0" && ipAddress !== "::/0") {
            throw inf.badRequest("Failed to add IP access range to access token due to plan restriction. Upgrade plan to add IP access range.");
        }
        if (!isValidIpOrCidr(ipAddress)) throw inf.badRequest("The IP is not a valid IPv4, IPv6, or CIDR block");
        return extractIpDetails(ipAddress);
    });
}

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
        createdAt: rec.createdAt,
        updatedAt: rec.updatedAt,
    };
    if (caCert !== undefined) out.caCert = caCert;
    return out;
}

/** The identity, looked up in the caller's organization (membership scope), or a 404. */
function identityOf(state: Readonly<State>, actor: InfisicalActor, identityId: string, message = `Failed to find identity with ID ${identityId}`): IdentityRecord {
    const identity = state.infisical.identities.find((i) => i.id === identityId && i.orgId === actor.orgId);
    if (!identity) throw inf.notFound(message);
    return identity;
}

export function registerIdentityOidcAuthRoutes(app: FastifyInstance, ctx: Context): void {
    const onRequest = async (req: FastifyRequest) => {
        req.infisicalActor = await authenticate(ctx, req);
    };
    const path = "/api/v1/auth/oidc-auth/identities/:identityId";
    const planOf = (orgId: string): OrgPlan => {
        const org = ctx.store.state.infisical.organizations.find((o) => o.id === orgId);
        return org ? orgSettings(org).plan : { oidcSSO: true, ipAllowlisting: true };
    };
    const decryptCa = (rec: IdentityOidcAuthRecord) => (rec.encryptedCaCertificate ? ctx.vault.decrypt(rec.encryptedCaCertificate, caCertContext(rec.id)) : "");

    app.post(path, { onRequest }, async (req) => {
        const { identityId } = parse(paramsSchema, req.params);
        const body = parse(attachSchema, jsonBody(req));
        const actor = req.infisicalActor!;
        const identity = identityOf(ctx.store.state, actor, identityId);
        if (identity.authMethods.includes(OIDC_AUTH)) throw inf.badRequest("Failed to add OIDC Auth to already configured identity");
        if (body.accessTokenMaxTTL > 0 && body.accessTokenTTL > body.accessTokenMaxTTL) throw inf.badRequest("Access token TTL cannot be greater than max TTL");
        requireOrgPermission(actor, identity.orgId, "create", "identity");
        const ips = reformatTrustedIps(body.accessTokenTrustedIps, planOf(identity.orgId));
        await blockLocalAndPrivateIpAddresses(body.oidcDiscoveryUrl, ctx.allowInternalIpConnections);

        const rec = await ctx.store.update((draft) => {
            const current = identityOf(draft, actor, identityId);
            if (current.authMethods.includes(OIDC_AUTH)) throw inf.badRequest("Failed to add OIDC Auth to already configured identity");
            const now = new Date().toISOString();
            const id = randomUUID();
            const record: IdentityOidcAuthRecord = {
                id,
                identityId,
                oidcDiscoveryUrl: body.oidcDiscoveryUrl,
                encryptedCaCertificate: ctx.vault.encrypt(body.caCert, caCertContext(id)),
                boundIssuer: body.boundIssuer,
                boundAudiences: body.boundAudiences,
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
        return { identityOidcAuth: view(rec, body.caCert) };
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
        // The service's check, quirks included: an absent TTL falls back to the stored *max* TTL.
        const maxTtl = body.accessTokenMaxTTL || existing.accessTokenMaxTTL;
        if (maxTtl > 0 && (body.accessTokenTTL || existing.accessTokenMaxTTL) > maxTtl) throw inf.badRequest("Access token TTL cannot be greater than max TTL");
        requireOrgPermission(actor, identity.orgId, "edit", "identity");
        const ips = body.accessTokenTrustedIps ? reformatTrustedIps(body.accessTokenTrustedIps, planOf(identity.orgId)) : undefined;
        if (body.oidcDiscoveryUrl) await blockLocalAndPrivateIpAddresses(body.oidcDiscoveryUrl, ctx.allowInternalIpConnections);

        const rec = await ctx.store.update((draft) => {
            identityOf(draft, actor, identityId);
            const record = draft.infisical.identityOidcAuths.find((a) => a.identityId === identityId);
            if (!record) throw inf.badRequest("Failed to update OIDC Auth");
            const { caCert, accessTokenTrustedIps: _ips, ...fields } = body;
            for (const [key, value] of Object.entries(fields)) {
                if (value !== undefined) (record as unknown as Record<string, unknown>)[key] = value;
            }
            if (ips) record.accessTokenTrustedIps = ips;
            if (caCert !== undefined) record.encryptedCaCertificate = ctx.vault.encrypt(caCert, caCertContext(record.id));
            record.updatedAt = new Date().toISOString();
            return record;
        });
        return { identityOidcAuth: view(rec, decryptCa(rec)) };
    });

    app.delete(path, { onRequest }, async (req) => {
        const { identityId } = parse(paramsSchema, req.params);
        const actor = req.infisicalActor!;
        const identity = identityOf(ctx.store.state, actor, identityId, "Failed to find identity");
        if (!identity.authMethods.includes(OIDC_AUTH)) throw inf.badRequest("The identity does not have OIDC auth");
        requireOrgPermission(actor, identity.orgId, "edit", "identity");

        const rec = await ctx.store.update((draft) => {
            const current = identityOf(draft, actor, identityId, "Failed to find identity");
            const i = draft.infisical.identityOidcAuths.findIndex((a) => a.identityId === identityId);
            if (i < 0 || !current.authMethods.includes(OIDC_AUTH)) throw inf.badRequest("The identity does not have OIDC auth");
            const [removed] = draft.infisical.identityOidcAuths.splice(i, 1);
            current.authMethods = current.authMethods.filter((m) => m !== OIDC_AUTH);
            draft.infisical.accessTokens = draft.infisical.accessTokens.filter((t) => !(t.identityId === identityId && t.authMethod === OIDC_AUTH));
            return removed as IdentityOidcAuthRecord;
        });
        return { identityOidcAuth: view(rec) };
    });
}
