/**
 * Checks of a JWT before it is sent to a login: it must be a JWT, and not expired (CI tokens live minutes; an expired
 * one would only come back as the server's "jwt expired"). Decoded with jose, never verified here: the server does that.
 */
import { ProviderError } from "../http/errors";

/**
 * jose's `decodeJwt` from its own entry (`jose/jwt/decode`: 7 modules, where the whole of jose loads 83 and is
 * needed only by the opt-in discovery check); its type is the main entry's.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const decodeJwt: typeof import("jose").decodeJwt = require("jose/jwt/decode").decodeJwt;

/** Seconds of slack: a token that expires in the next moment will have expired when the server checks it. */
const SKEW_SECONDS = 5;

export function checkJwt(jwt: string, what: string, fix: string, now = Date.now()): void {
    let exp: number | undefined;
    try {
        exp = decodeJwt(jwt).exp;
    } catch {
        throw new ProviderError(`${what} is not a JWT (three base64url parts): ${fix}`);
    }
    if (typeof exp === "number" && exp * 1000 <= now + SKEW_SECONDS * 1000) {
        throw new ProviderError(`${what} expired at ${new Date(exp * 1000).toISOString()}: ${fix}`);
    }
}

/** The token's expiry in epoch ms, when it is a JWT that says. */
export function jwtExpiry(token: string): number | undefined {
    try {
        const exp = decodeJwt(token).exp;
        return typeof exp === "number" ? exp * 1000 : undefined;
    } catch {
        return undefined;
    }
}
