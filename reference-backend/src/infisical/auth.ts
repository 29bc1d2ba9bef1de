/**
 * Who is calling the Infisical API, and what they may do.
 *
 * `Authorization: Bearer <token>` carries either a user session token (the organizations' static tokens) or an
 * identity access token from a login. Every token is scoped to one organization: acting on another organization is
 * a 403 ForbiddenError, as in Infisical (tokens are "scoped to a different organization"). Within its organization
 * what the caller may do is its role's casl rules (permissions.ts): an admin may do everything; a member (the seeded
 * target identities, once they log in) may not read or change SSO or identity settings (403 PermissionDenied,
 * "You are not allowed to <action> on <subject>"); a custom role may what its rules say. A token from a login scoped
 * to a sub-organization (organizationSlug) acts in that sub-organization, with the identity's role there.
 *
 * A JWT that fails verification (expired, malformed, signed with another key) is jsonwebtoken's JsonWebTokenError,
 * which Infisical's error handler answers with 403 TokenError and these texts (server/plugins/error-handler.ts).
 */
import type { FastifyRequest } from "fastify";
import type { Context } from "../context";
import { inf } from "../errors";
import { isTrusted } from "../ip";
import type { OrgRole, PermissionRule, State } from "../store";
import { abilityOf, permissionDenied, rulesOf } from "./permissions";
import { AUTH_TOKEN_TYPE, verifyToken } from "./tokens";

export interface InfisicalActor {
    type: "user" | "identity";
    id: string;
    /** The organization the token acts in. */
    orgId: string;
    role: OrgRole;
    /** The role's rules in that organization. */
    permissions: PermissionRule[];
    /** The access-token record (identity tokens) or session (user tokens). */
    tokenId: string;
}

const orgById = (state: Readonly<State>, id: string) => state.infisical.organizations.find((o) => o.id === id);

declare module "fastify" {
    interface FastifyRequest {
        infisicalActor?: InfisicalActor;
    }
}

// The texts of Infisical's error handler for JWT failures.
const MALFORMED = "The provided access token is malformed. Please use a valid token or generate a new one and try again.";
const EXPIRED = "Your token has expired. Please re-authenticate.";

/** Resolves the caller; throws 401 (no token, revoked token), 403 TokenError (a JWT that does not verify) or 403 (untrusted IP). */
export async function authenticate(ctx: Context, req: FastifyRequest): Promise<InfisicalActor> {
    const header = req.headers.authorization;
    if (!header) throw inf.unauthorized("Token missing");
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw inf.unauthorized(MALFORMED);
    const token = match[1] as string;
    if (token.startsWith("st.")) throw inf.unauthorized("Failed to authorize: invalid service token");

    const checked = await verifyToken(ctx.jwtSecret, token);
    if (!checked.ok) throw inf.token(checked.reason === "expired" ? EXPIRED : checked.reason === "signature" ? "invalid signature" : MALFORMED);
    const claims = checked.payload;
    const state = ctx.store.state.infisical;

    if (claims.authTokenType === AUTH_TOKEN_TYPE.user) {
        const session = state.sessions.find((s) => s.id === claims.tokenVersionId);
        const user = session && state.users.find((u) => u.id === session.userId && u.id === claims.userId);
        if (!session || !user) throw inf.unauthorized("Failed to authorize: the session of this token no longer exists");
        return { type: "user", id: user.id, orgId: session.orgId, role: user.role, permissions: rulesOf(orgById(ctx.store.state, session.orgId), user.role), tokenId: session.id };
    }

    if (claims.authTokenType === AUTH_TOKEN_TYPE.identity) {
        const record = state.accessTokens.find((t) => t.id === claims.identityAccessTokenId);
        if (!record || record.identityId !== claims.identityId) throw inf.unauthorized("Failed to authorize: the identity access token was revoked");
        if (record.expiresAt !== null && Date.parse(record.expiresAt) <= Date.now()) throw inf.token(EXPIRED);
        const identity = state.identities.find((i) => i.id === record.identityId);
        if (!identity) throw inf.unauthorized("Failed to authorize: the identity no longer exists");
        if (!isTrusted(req.ip, record.trustedIps)) throw inf.forbidden("You are not allowed to access this resource from the current IP address");
        const orgId = record.subOrganizationId ?? identity.orgId;
        const role = orgId === identity.orgId ? identity.role : identity.subOrgMemberships?.find((m) => m.orgId === orgId)?.role;
        if (role === undefined) throw inf.unauthorized("Failed to authorize: the identity is no longer a member of the token's organization");
        return { type: "identity", id: identity.id, orgId, role, permissions: rulesOf(orgById(ctx.store.state, orgId), role), tokenId: record.id };
    }

    throw inf.token(MALFORMED);
}

/** Throws 403 unless the actor may do `action` on `subject` in organization `orgId`. */
export function requireOrgPermission(actor: InfisicalActor, orgId: string, action: string, subject: string): void {
    if (actor.orgId !== orgId) {
        throw inf.forbidden(actor.type === "user" ? "Invalid user token. Scoped to different organization." : "Identity is not apart of this organization");
    }
    const ability = abilityOf(actor.permissions);
    if (!ability.can(action, subject)) throw permissionDenied(ability, action, subject);
}
