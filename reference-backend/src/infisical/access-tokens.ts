/**
 * What every machine-identity login ends with: the organization the token acts in (organizationSlug), and the
 * access token itself.
 *
 * organizationSlug (the login bodies of today's routers: `organizationSlug: slugSchema().optional()`, e.g.
 * routes/v1/identity-spiffe-auth-router.ts; the services: identity-oidc-auth-service.ts login): a slug other than
 * the identity's own organization's names one of its sub-organizations (organizations whose rootOrgId is the
 * identity's organization): unknown, 404 "Sub organization with slug <slug> not found"; the identity not a member
 * there, 401 "Identity not authorized to access sub organization <slug>"; else the token acts in that
 * sub-organization. The identity's own slug, or an identity that itself lives in a sub-organization, change
 * nothing. Infisical's Terraform provider and Go SDK send it for universal, OIDC, Kubernetes and AWS logins
 * (terraform-provider-infisical internal/client/login.go); the universal-auth service of today was not among the
 * stored sources, so the backend applies the same rule there.
 *
 * Each login answers {accessToken, expiresIn, accessTokenMaxTTL, tokenType: "Bearer"} (the login routes' response
 * schemas); the access token is an HS256 JWT {identityId, identityAccessTokenId, authTokenType, identityAuth?} that
 * expires after the auth method's access-token TTL (never when it is 0).
 */
import { randomUUID } from "crypto";
import { z } from "zod";
import type { Context } from "../context";
import { inf } from "../errors";
import type { AccessTokenRecord, IdentityRecord, State } from "../store";
import { AUTH_TOKEN_TYPE, signToken } from "./tokens";

/**
 * Infisical's slugSchema() (backend/src/server/lib/schemas.ts): trimmed, 1 to 64 characters, and unchanged by
 * @sindresorhus/slugify with lowercase, which for ASCII input is lowercase letters and digits in runs joined by
 * single hyphens.
 */
export const organizationSlugSchema = z
    .string()
    .trim()
    .min(1, { message: "Slug field must be at least 1 lowercase character" })
    .max(64, { message: "Slug field must be at most 64 lowercase characters" })
    .refine((v) => /^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(v), { message: "Slug field can only contain lowercase letters, numbers, and hyphens" })
    .optional();

/** The sub-organization a login is scoped to (null: the identity's own organization). */
export function loginScope(state: Readonly<State>, identity: IdentityRecord, organizationSlug: string | undefined): string | null {
    const org = state.infisical.organizations.find((o) => o.id === identity.orgId);
    if (!org) throw inf.unauthorized("Identity not found");
    if (org.rootOrgId) return org.id; // a sub-organization identity is always scoped to its organization
    if (!organizationSlug || org.slug === organizationSlug) return null;
    const subOrg = state.infisical.organizations.find((o) => o.rootOrgId === org.id && o.slug === organizationSlug);
    if (!subOrg) throw inf.notFound(`Sub organization with slug ${organizationSlug} not found`);
    if (!identity.subOrgMemberships?.some((m) => m.orgId === subOrg.id)) throw inf.unauthorized(`Identity not authorized to access sub organization ${organizationSlug}`);
    return subOrg.id;
}

export interface LoginAnswer {
    accessToken: string;
    expiresIn: number;
    accessTokenMaxTTL: number;
    tokenType: "Bearer";
}

/**
 * Records and signs an access token. `stillValid` runs inside the state change: it throws when the auth method was
 * revoked while the login was being verified.
 */
export async function issueAccessToken(
    ctx: Context,
    stillValid: (draft: State) => void,
    record: Omit<AccessTokenRecord, "id" | "createdAt" | "expiresAt">,
    extraClaims: Record<string, unknown> = {},
): Promise<LoginAnswer> {
    const now = Date.now();
    const full: AccessTokenRecord = {
        ...record,
        id: randomUUID(),
        createdAt: new Date(now).toISOString(),
        expiresAt: record.accessTokenTTL > 0 ? new Date(now + record.accessTokenTTL * 1000).toISOString() : null,
    };
    await ctx.store.update((draft) => {
        // Forget tokens that expired (they fail on their JWT expiry anyway).
        draft.infisical.accessTokens = draft.infisical.accessTokens.filter((t) => t.expiresAt === null || Date.parse(t.expiresAt) > now);
        draft.infisical.accessTokens.push(full);
        stillValid(draft);
    });
    const accessToken = await signToken(
        ctx.jwtSecret,
        { authTokenType: AUTH_TOKEN_TYPE.identity, identityId: full.identityId, identityAccessTokenId: full.id, ...extraClaims },
        full.accessTokenTTL,
        now,
    );
    return { accessToken, expiresIn: full.accessTokenTTL, accessTokenMaxTTL: full.accessTokenMaxTTL, tokenType: "Bearer" };
}
