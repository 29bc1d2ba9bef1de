/**
 * Machine-identity logins by universal auth and OIDC auth, which need no Authorization header (the Kubernetes and
 * AWS IAM logins live with their auth methods, identity-kubernetes-auth.ts and identity-aws-auth.ts):
 *
 * - `POST /api/v1/auth/universal-auth/login` {clientId, clientSecret} (services/identity-ua): unknown client id
 *   404, client secret used from an untrusted IP 403, wrong secret 401 "Invalid credentials".
 * - `POST /api/v1/auth/oidc-auth/login` {identityId, jwt} (services/identity-oidc-auth login): passes the URL guard
 *   on oidcDiscoveryUrl, fetches `<oidcDiscoveryUrl>/.well-known/openid-configuration`, passes the guard on its
 *   jwks_uri, fetches the JWKS over HTTP, verifies the token's signature,
 *   expiry and issuer (boundIssuer), then boundSubject (403), boundAudiences and boundClaims (401), with the
 *   service's messages. Values are matched exactly or as picomatch globs; comma lists allow any of their items.
 *
 * Both take an optional organizationSlug (access-tokens.ts) and answer {accessToken, expiresIn, accessTokenMaxTTL,
 * tokenType: "Bearer"}.
 */
import * as https from "https";
import type { FastifyInstance } from "fastify";
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from "jose";
import picomatch from "picomatch";
import { z } from "zod";
import { trustedCas, type Context } from "../context";
import { inf, InfisicalError } from "../errors";
import { isTrusted } from "../ip";
import { getJson } from "../outgoing";
import { verifySecret } from "../secrets";
import { issueAccessToken, loginScope, organizationSlugSchema } from "./access-tokens";
import { jsonBody, parse } from "./common";
import { caCertContext, OIDC_AUTH } from "./identity-oidc-auth";
import { blockLocalAndPrivateIpAddresses } from "./url-guard";

const uaLoginSchema = z.object({ clientId: z.string().trim(), clientSecret: z.string().trim(), organizationSlug: organizationSlugSchema });
const oidcLoginSchema = z.object({ identityId: z.string().trim(), jwt: z.string().trim(), organizationSlug: organizationSlugSchema });

type ClaimValue = string | number | boolean | string[];

/** Infisical's doesFieldValueMatchOidcPolicy. */
export function fieldMatches(value: unknown, policy: string): boolean {
    if (typeof value === "boolean") return value === (policy === "true");
    if (typeof value === "number") return value === Number.parseInt(policy, 10);
    if (Array.isArray(value)) return value.some((v) => typeof v === "string" && (v === policy || picomatch.isMatch(v, policy)));
    if (typeof value !== "string") return false;
    return value === policy || picomatch.isMatch(value, policy);
}

/** Infisical's doesAudValueMatchOidcPolicy. */
export function audienceMatches(aud: unknown, policy: string): boolean {
    if (Array.isArray(aud)) return aud.some((v) => typeof v === "string" && (v === policy || picomatch.isMatch(v, policy)));
    if (typeof aud !== "string") return false;
    return aud === policy || picomatch.isMatch(aud, policy);
}

/**
 * Infisical's getValueByDot (backend/src/lib/template/dot-access.ts): walks `a.b.c` through plain objects only
 * (an array on the way ends the walk: no `groups.0`), reads own properties only (`Object.hasOwn`: nothing
 * inherited, so `constructor` or `__proto__` find nothing), and returns the value only when it is a string, number,
 * boolean or an array of strings; anything else (an object, null, a mixed array) counts as absent, which the login
 * answers with 401 "token has no <claim> field".
 */
export function valueByDot(obj: Record<string, unknown>, path: string): ClaimValue | undefined {
    let current: unknown = obj;
    for (const part of path.split(".")) {
        if (typeof current !== "object" || current === null || Array.isArray(current)) return undefined;
        if (!Object.hasOwn(current, part)) return undefined;
        current = (current as Record<string, unknown>)[part];
    }
    if (typeof current === "string" || typeof current === "number" || typeof current === "boolean") return current;
    if (Array.isArray(current) && current.every((item) => typeof item === "string")) return current as string[];
    return undefined;
}

function denied(message: string): InfisicalError {
    return inf.unauthorized(`Access denied: ${message}`);
}

/** jose's verification errors as Infisical (jsonwebtoken, jwks-rsa) words them. */
function verificationError(err: unknown, kid: string | undefined, boundIssuer: string): InfisicalError {
    if (err instanceof joseErrors.JWKSNoMatchingKey) {
        return kid
            ? denied(`Unable to verify JWT signature. The signing key '${kid}' was not found in the OIDC provider's JWKS endpoint. This may indicate an invalid token or misconfigured OIDC provider.`)
            : denied("Unable to verify JWT signature with any available signing key. Invalid token");
    }
    if (err instanceof joseErrors.JWTExpired) return denied("jwt expired");
    if (err instanceof joseErrors.JWTClaimValidationFailed) {
        if (err.claim === "iss") return denied(`jwt issuer invalid. expected: ${boundIssuer}`);
        if (err.claim === "nbf") return denied("jwt not active");
        return denied(err.message);
    }
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) return denied("invalid signature");
    if (err instanceof joseErrors.JOSEAlgNotAllowed || err instanceof joseErrors.JOSENotSupported) return denied("invalid algorithm");
    if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) return denied("jwt malformed");
    if (err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid) {
        return denied(`Failed to retrieve signing key from OIDC provider: ${(err as Error).message}`);
    }
    return denied(`Failed to retrieve signing key from OIDC provider: ${err instanceof Error ? err.message : String(err)}`);
}

export function registerLoginRoutes(app: FastifyInstance, ctx: Context): void {
    app.post("/api/v1/auth/universal-auth/login", async (req) => {
        const body = parse(uaLoginSchema, jsonBody(req));
        const ua = ctx.store.state.infisical.universalAuths.find((u) => u.clientId === body.clientId);
        if (!ua) throw inf.notFound("No identity with specified client ID was found");
        if (!isTrusted(req.ip, ua.clientSecretTrustedIps)) throw inf.forbidden("You are not allowed to access this resource from the current IP address");
        if (!(await verifySecret(body.clientSecret, ua.clientSecretHash))) throw inf.unauthorized("Invalid credentials");
        const identity = ctx.store.state.infisical.identities.find((i) => i.id === ua.identityId);
        if (!identity) throw inf.unauthorized("Invalid credentials");
        const subOrganizationId = loginScope(ctx.store.state, identity, body.organizationSlug);
        return issueAccessToken(
            ctx,
            (draft) => {
                if (!draft.infisical.universalAuths.some((u) => u.id === ua.id)) throw inf.unauthorized("Invalid credentials");
            },
            {
                identityId: ua.identityId,
                authMethod: "universal-auth",
                subOrganizationId,
                trustedIps: ua.accessTokenTrustedIps,
                accessTokenTTL: ua.accessTokenTTL,
                accessTokenMaxTTL: ua.accessTokenMaxTTL,
            },
            { clientSecretId: ua.clientSecretId },
        );
    });

    app.post("/api/v1/auth/oidc-auth/login", async (req) => {
        const body = parse(oidcLoginSchema, jsonBody(req));
        const state = ctx.store.state.infisical;
        const auth = state.identityOidcAuths.find((a) => a.identityId === body.identityId);
        if (!auth) throw inf.notFound("OIDC auth method not found for identity, did you configure OIDC auth?");
        const identity = state.identities.find((i) => i.id === auth.identityId);
        if (!identity) throw inf.unauthorized("Identity not found");

        const caCert = auth.encryptedCaCertificate ? ctx.vault.decrypt(auth.encryptedCaCertificate, caCertContext(auth.id)) : "";
        const useCa = caCert !== "" && auth.oidcDiscoveryUrl.includes("https");

        // Current source: both URLs pass the guard before they are fetched (a 400, not an "Access denied").
        await blockLocalAndPrivateIpAddresses(auth.oidcDiscoveryUrl, ctx.allowInternalIpConnections);
        let discovery: unknown;
        try {
            discovery = await getJson(`${auth.oidcDiscoveryUrl}/.well-known/openid-configuration`, { timeoutMs: ctx.outgoingTimeoutMs, ca: trustedCas(ctx, useCa ? caCert : undefined) });
        } catch (err) {
            throw denied(`Failed to fetch OIDC discovery document from ${auth.oidcDiscoveryUrl}. ${err instanceof Error ? err.message : String(err)}`);
        }
        const jwksUri = typeof discovery === "object" && discovery !== null ? (discovery as { jwks_uri?: unknown }).jwks_uri : undefined;
        if (typeof jwksUri !== "string" || jwksUri === "") {
            throw denied("OIDC discovery document does not contain a jwks_uri. The identity provider may be misconfigured.");
        }
        await blockLocalAndPrivateIpAddresses(jwksUri, ctx.allowInternalIpConnections);

        let kid: string | undefined;
        try {
            kid = decodeProtectedHeader(body.jwt).kid;
            decodeJwt(body.jwt);
        } catch {
            throw inf.unauthorized("Invalid JWT");
        }

        let tokenData: JWTPayload & Record<string, ClaimValue | unknown>;
        try {
            const jwks = createRemoteJWKSet(new URL(jwksUri), {
                timeoutDuration: ctx.outgoingTimeoutMs,
                agent: jwksUri.startsWith("https:") && trustedCas(ctx, useCa ? caCert : undefined) ? new https.Agent({ ca: trustedCas(ctx, useCa ? caCert : undefined) }) : undefined,
            });
            tokenData = (await jwtVerify(body.jwt, jwks, { issuer: auth.boundIssuer })).payload;
        } catch (err) {
            throw verificationError(err, kid, auth.boundIssuer);
        }

        if (auth.boundSubject && !fieldMatches(tokenData.sub, auth.boundSubject)) {
            throw inf.forbidden("Access denied: OIDC subject not allowed.");
        }
        if (auth.boundAudiences && !auth.boundAudiences.split(", ").some((policy) => audienceMatches(tokenData.aud, policy))) {
            throw denied("OIDC audience not allowed.");
        }
        for (const [claim, allowed] of Object.entries(auth.boundClaims ?? {})) {
            const value = valueByDot(tokenData, claim);
            if (!value) throw denied(`token has no ${claim} field`);
            if (!allowed.split(", ").some((policy) => fieldMatches(value, policy))) throw denied("OIDC claim not allowed.");
        }
        const filteredClaims: Record<string, string> = {};
        for (const [name, claim] of Object.entries(auth.claimMetadataMapping ?? {})) {
            const value = valueByDot(tokenData, claim);
            if (!value) throw denied(`token has no ${claim} field`);
            filteredClaims[name] = String(value);
        }
        const subOrganizationId = loginScope(ctx.store.state, identity, body.organizationSlug);

        return issueAccessToken(
            ctx,
            (draft) => {
                // Revoked while we were verifying: refuse.
                if (!draft.infisical.identityOidcAuths.some((a) => a.id === auth.id)) throw inf.notFound("OIDC auth method not found for identity, did you configure OIDC auth?");
            },
            {
                identityId: auth.identityId,
                authMethod: OIDC_AUTH,
                subOrganizationId,
                trustedIps: auth.accessTokenTrustedIps,
                accessTokenTTL: auth.accessTokenTTL,
                accessTokenMaxTTL: auth.accessTokenMaxTTL,
            },
            { identityAuth: { oidc: { claims: filteredClaims } } },
        );
    });
}
