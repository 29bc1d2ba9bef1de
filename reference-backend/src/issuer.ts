/**
 * The built-in OIDC identity provider, at `<url>/oidc`: a discovery document, a JWKS with one RS256 key
 * (generated on first start, kept encrypted in the state), and a mint route that signs ID tokens with any claims,
 * so that tests and demos can log in with OIDC auth without an outside identity provider.
 *
 * Interactive login is not implemented: /authorize and /token exist (the discovery document must name them) and
 * answer with OAuth errors; /userinfo returns the claims of a token minted here.
 */
import type { FastifyInstance } from "fastify";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK, type KeyLike } from "jose";
import { z } from "zod";
import { ISSUER_PREFIX, issuerUrl, type Context } from "./context";
import type { Vault } from "./secrets";
import type { IssuerKeyRecord } from "./store";

export async function generateIssuerKey(vault: Vault, now = new Date().toISOString()): Promise<IssuerKeyRecord> {
    const { privateKey } = await generateKeyPair("RS256", { modulusLength: 2048, extractable: true });
    const jwk = await exportJWK(privateKey);
    const kid = await calculateJwkThumbprint(jwk);
    return { kid, alg: "RS256", privateJwkEnc: vault.encrypt(JSON.stringify(jwk), `issuer-key:${kid}`), createdAt: now };
}

export interface LoadedKey {
    kid: string;
    privateKey: KeyLike | Uint8Array;
    publicKey: KeyLike | Uint8Array;
    publicJwk: JWK;
}

export async function loadKey(vault: Vault, record: IssuerKeyRecord): Promise<LoadedKey> {
    const jwk = JSON.parse(vault.decrypt(record.privateJwkEnc, `issuer-key:${record.kid}`)) as JWK;
    const privateKey = await importJWK(jwk, "RS256");
    const { kty, n, e } = jwk;
    const publicJwk: JWK = { kty, n, e, kid: record.kid, alg: "RS256", use: "sig" };
    return { kid: record.kid, privateKey, publicKey: await importJWK(publicJwk, "RS256"), publicJwk };
}

const mintSchema = z.strictObject({
    /** Claims of the token; `iss`, `iat` and `exp` are set unless given here. */
    claims: z.record(z.string(), z.unknown()).optional(),
    sub: z.string().optional(),
    aud: z.union([z.string(), z.array(z.string())]).optional(),
    /** Lifetime in seconds (default 300); 0 or less mints an already expired token. */
    expiresIn: z.number().int().min(-31536000).max(31536000).optional(),
});

export async function registerIssuer(app: FastifyInstance, ctx: Context): Promise<void> {
    const keys = await Promise.all(ctx.store.state.issuer.keys.map((k) => loadKey(ctx.vault, k)));
    const signing = keys[0];
    if (!signing) throw new Error("the state has no issuer key");
    const url = () => issuerUrl(ctx);

    const discovery = () => ({
        issuer: url(),
        authorization_endpoint: `${url()}/authorize`,
        token_endpoint: `${url()}/token`,
        userinfo_endpoint: `${url()}/userinfo`,
        jwks_uri: `${url()}/jwks`,
        response_types_supported: ["code", "id_token"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"],
        scopes_supported: ["openid", "profile", "email", "groups"],
        claims_supported: ["iss", "sub", "aud", "exp", "iat", "email", "name", "groups"],
        grant_types_supported: ["authorization_code"],
        code_challenge_methods_supported: ["S256"],
        token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
    });

    app.get(`${ISSUER_PREFIX}/.well-known/openid-configuration`, async () => discovery());
    app.get(`${ISSUER_PREFIX}/jwks`, async () => ({ keys: keys.map((k) => k.publicJwk) }));

    app.post(`${ISSUER_PREFIX}/mint`, async (req, reply) => {
        const parsed = mintSchema.safeParse(req.body ?? {});
        if (!parsed.success) {
            return reply.code(400).send({ error: "invalid_request", error_description: parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ") });
        }
        const body = parsed.data;
        const now = Math.floor(Date.now() / 1000);
        const expiresIn = body.expiresIn ?? 300;
        const claims: Record<string, unknown> = {
            iss: url(),
            sub: body.sub ?? "reference-backend-test-subject",
            aud: body.aud ?? "reference-backend",
            iat: expiresIn > 0 ? now : now + expiresIn - 60,
            exp: now + expiresIn,
            ...body.claims,
        };
        const idToken = await new SignJWT(claims).setProtectedHeader({ alg: "RS256", typ: "JWT", kid: signing.kid }).sign(signing.privateKey);
        return { id_token: idToken, token_type: "Bearer", expires_in: expiresIn };
    });

    app.get(`${ISSUER_PREFIX}/authorize`, async (_req, reply) =>
        reply.code(400).send({ error: "unsupported_response_type", error_description: "the reference backend's test issuer has no interactive login; mint tokens with POST /oidc/mint" }),
    );
    app.post(`${ISSUER_PREFIX}/token`, async (_req, reply) =>
        reply.code(400).send({ error: "unsupported_grant_type", error_description: "the reference backend's test issuer has no token exchange; mint tokens with POST /oidc/mint" }),
    );
    app.get(`${ISSUER_PREFIX}/userinfo`, async (req, reply) => {
        const header = req.headers.authorization ?? "";
        const token = /^Bearer\s+(.+)$/i.exec(header)?.[1];
        if (!token) return reply.code(401).header("www-authenticate", 'Bearer error="invalid_token"').send({ error: "invalid_token" });
        try {
            const { payload } = await jwtVerify(token, signing.publicKey, { issuer: url() });
            return payload;
        } catch {
            return reply.code(401).header("www-authenticate", 'Bearer error="invalid_token"').send({ error: "invalid_token" });
        }
    });
}
