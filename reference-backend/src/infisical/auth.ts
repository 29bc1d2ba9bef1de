/**
 * Who is calling the Infisical API, and what they may do.
 *
 * `Authorization: Bearer <token>` carries either a user session token (the organizations' static tokens) or an
 * identity access token from a login. Every token is scoped to one organization: acting on another organization is
 * a 403 ForbiddenError, as in Infisical (tokens are "scoped to a different organization"). Within its organization
 * an admin may do everything; a member (the seeded target identities, once they log in) may not read or change SSO
 * or identity settings (403 PermissionDenied, "You are not allowed to <action> on <subject>").
 *
 * A JWT that fails verification (expired, malformed, signed with another key) is jsonwebtoken's JsonWebTokenError,
 * which Infisical's error handler answers with 403 TokenError and these texts (server/plugins/error-handler.ts).
 */
import type { FastifyRequest } from "fastify";
import type { Context } from "../context";
import { inf } from "../errors";
import { isTrusted } from "../ip";
import type { OrgRole } from "../store";
import { AUTH_TOKEN_TYPE, verifyToken } from "./tokens";

export interface InfisicalActor {
    type: "user" | "identity";
    id: string;
    orgId: string;
    role: OrgRole;
    /** The access-token record (identity tokens) or session (user tokens). */
    tokenId: string;
}

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
        return { type: "user", id: user.id, orgId: session.orgId, role: user.role, tokenId: session.id };
    }

    if (claims.authTokenType === AUTH_TOKEN_TYPE.identity) {
        const record = state.accessTokens.find((t) => t.id === claims.identityAccessTokenId);
        if (!record || record.identityId !== claims.identityId) throw inf.unauthorized("Failed to authorize: the identity access token was revoked");
        if (record.expiresAt !== null && Date.parse(record.expiresAt) <= Date.now()) throw inf.token(EXPIRED);
        const identity = state.identities.find((i) => i.id === record.identityId);
        if (!identity) throw inf.unauthorized("Failed to authorize: the identity no longer exists");
        if (!isTrusted(req.ip, record.trustedIps)) throw inf.forbidden("You are not allowed to access this resource from the current IP address");
        return { type: "identity", id: identity.id, orgId: identity.orgId, role: identity.role, tokenId: record.id };
    }

    throw inf.token(MALFORMED);
}

export type Action = "read" | "create" | "edit" | "delete";
export type Subject = "sso" | "identity";

/** Throws 403 unless the actor may do `action` on `subject` in organization `orgId`. */
export function requireOrgPermission(actor: InfisicalActor, orgId: string, action: Action, subject: Subject): void {
    if (actor.orgId !== orgId) {
        throw inf.forbidden(actor.type === "user" ? "Invalid user token. Scoped to different organization." : "Identity is not apart of this organization");
    }
    if (actor.role !== "admin") {
        throw inf.permissionDenied(`You are not allowed to ${action} on ${subject}`);
    }
}
