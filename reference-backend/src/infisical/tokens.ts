/**
 * Infisical access tokens: HS256 JWTs signed with the server's auth secret, as Infisical issues them.
 *
 * - User session tokens (`authTokenType: "accessToken"`) are the seeded organizations' static tokens. They carry a
 *   `tokenVersionId` that must still name a session in the state.
 * - Identity access tokens (`authTokenType: "identityAccessToken"`) come from universal-auth and OIDC-auth logins;
 *   they expire after the auth method's access-token TTL (none when the TTL is 0) and must still have their record.
 */
import { errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from "jose";

export const AUTH_TOKEN_TYPE = { user: "accessToken", identity: "identityAccessToken" } as const;

export interface UserTokenClaims {
    authTokenType: typeof AUTH_TOKEN_TYPE.user;
    userId: string;
    tokenVersionId: string;
    organizationId: string;
    accessVersion: number;
}

export interface IdentityTokenClaims {
    authTokenType: typeof AUTH_TOKEN_TYPE.identity;
    identityId: string;
    identityAccessTokenId: string;
    clientSecretId?: string;
    identityAuth?: Record<string, unknown>;
}

export async function signToken(secret: Uint8Array, claims: UserTokenClaims | IdentityTokenClaims, ttlSeconds?: number, now = Date.now()): Promise<string> {
    const iat = Math.floor(now / 1000);
    const jwt = new SignJWT({ ...claims }).setProtectedHeader({ alg: "HS256", typ: "JWT" }).setIssuedAt(iat);
    if (ttlSeconds !== undefined && ttlSeconds > 0) jwt.setExpirationTime(iat + ttlSeconds);
    return jwt.sign(secret);
}

export type TokenCheck = { ok: true; payload: JWTPayload & Record<string, unknown> } | { ok: false; reason: "expired" | "malformed" | "signature" };

export async function verifyToken(secret: Uint8Array, token: string): Promise<TokenCheck> {
    try {
        const { payload } = await jwtVerify(token, secret, { algorithms: ["HS256"] });
        return { ok: true, payload: payload as JWTPayload & Record<string, unknown> };
    } catch (err) {
        if (err instanceof joseErrors.JWTExpired) return { ok: false, reason: "expired" };
        if (err instanceof joseErrors.JWSSignatureVerificationFailed) return { ok: false, reason: "signature" };
        return { ok: false, reason: "malformed" };
    }
}
