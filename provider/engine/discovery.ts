/**
 * Optional preview-time check of the identity provider (`verifyDiscovery: true`): fetch the OIDC discovery
 * document, verify that it announces the expected issuer, that its JWKS is reachable, and that the JWKS offers a
 * key usable for the chosen signing algorithm (imported with `jose`, so a key that exists but cannot verify that
 * algorithm does not count). Failures are returned as check failures on the field they concern.
 */
import type { JWK } from "jose";
import { HttpClient } from "../http/client";
import { ApiError, NetworkError } from "../http/errors";
import { url as normalizeUrl } from "./normalize";
import type { DiscoveryTarget } from "./types";

const WELL_KNOWN = "/.well-known/openid-configuration";

/** The discovery document URL for an issuer or a discovery URL. */
export function discoveryDocumentUrl(value: string): string {
    const trimmed = value.trim().replace(/\/+$/, "");
    return trimmed.endsWith(WELL_KNOWN) ? trimmed : `${trimmed}${WELL_KNOWN}`;
}

function fetcher(target: string): { client: HttpClient; path: string } {
    const parsed = new URL(target);
    const client = new HttpClient({
        baseUrl: parsed.origin,
        service: "OIDC discovery",
        // A preview must not hang on an unreachable identity provider.
        retry: { maxAttempts: 2, budgetMs: 15_000 },
        timeouts: { headersMs: 10_000, bodyMs: 10_000, connectMs: 5_000 },
    });
    return { client, path: `${parsed.pathname}${parsed.search}` };
}

async function getJson(target: string): Promise<unknown> {
    const { client, path } = fetcher(target);
    const res = await client.request({ method: "GET", path, anonymous: true });
    return res.body;
}

function reason(err: unknown): string {
    if (err instanceof ApiError) return `answered ${err.status}`;
    if (err instanceof NetworkError) return `is unreachable (${err.code})`;
    return `failed (${err instanceof Error ? err.message : String(err)})`;
}

/** Whether one JWK can verify signatures made with `alg`. */
export async function keyUsableFor(jwk: JWK, alg: string): Promise<boolean> {
    if (jwk.use !== undefined && jwk.use !== "sig") return false;
    if (jwk.alg !== undefined && jwk.alg !== alg) return false;
    if (jwk.d !== undefined) return false; // a private key has no business in a published JWKS
    try {
        // Loaded on use (this check is opt-in): jose's key import alone, not the whole library.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { importJWK } = require("jose/key/import") as Pick<typeof import("jose"), "importJWK">;
        await importJWK(jwk, alg);
        return true;
    } catch {
        return false;
    }
}

/** Runs the check; returns failures (empty when the identity provider looks right). */
export async function verifyDiscovery(target: DiscoveryTarget): Promise<Array<{ property: string; reason: string }>> {
    const failures: Array<{ property: string; reason: string }> = [];
    const fail = (property: string, text: string) => failures.push({ property, reason: `discovery check: ${text}` });

    let jwksUri = target.jwksUri;
    let algorithms = target.algorithms;
    if (target.discoveryUrl) {
        const docUrl = discoveryDocumentUrl(target.discoveryUrl);
        let doc: unknown;
        try {
            doc = await getJson(docUrl);
        } catch (err) {
            fail(target.property, `the discovery document ${docUrl} ${reason(err)}`);
            return failures;
        }
        if (typeof doc !== "object" || doc === null || typeof (doc as { issuer?: unknown }).issuer !== "string") {
            fail(target.property, `${docUrl} is not an OIDC discovery document (no "issuer")`);
            return failures;
        }
        const d = doc as { issuer: string; jwks_uri?: unknown; id_token_signing_alg_values_supported?: unknown };
        const expected = target.expectedIssuer;
        if (expected && (expected.exact ? d.issuer !== expected.value : normalizeUrl(d.issuer) !== normalizeUrl(expected.value))) {
            fail(
                expected.property,
                expected.exact
                    ? `the identity provider announces issuer ${JSON.stringify(d.issuer)} and ${expected.property} is ${JSON.stringify(expected.value)}: ` +
                          `the server compares them byte for byte, so every login would fail ("jwt issuer invalid"); set ${expected.property} to ${JSON.stringify(d.issuer)}`
                    : `the identity provider announces issuer "${d.issuer}", not "${expected.value}": tokens would be rejected`,
            );
        }
        if (typeof d.jwks_uri !== "string" || d.jwks_uri === "") {
            fail(target.property, `${docUrl} has no jwks_uri`);
            return failures;
        }
        jwksUri = d.jwks_uri;
        if (!algorithms || algorithms.length === 0) {
            algorithms = Array.isArray(d.id_token_signing_alg_values_supported)
                ? d.id_token_signing_alg_values_supported.filter((a): a is string => typeof a === "string")
                : ["RS256"];
        }
    }
    if (!jwksUri) return failures;

    let jwks: unknown;
    try {
        jwks = await getJson(jwksUri);
    } catch (err) {
        fail(target.property, `the JWKS ${jwksUri} ${reason(err)}`);
        return failures;
    }
    const keys = typeof jwks === "object" && jwks !== null && Array.isArray((jwks as { keys?: unknown }).keys) ? ((jwks as { keys: JWK[] }).keys) : undefined;
    if (!keys) {
        fail(target.property, `${jwksUri} is not a JWKS (no "keys" array)`);
        return failures;
    }
    const wanted = (algorithms ?? ["RS256"]).filter((a) => !a.startsWith("HS"));
    if (wanted.length === 0) return failures; // HMAC: the client secret is the key, nothing to publish
    for (const alg of wanted) {
        for (const key of keys) {
            if (await keyUsableFor(key, alg)) return failures;
        }
    }
    const offered = keys.map((k) => [k.kty, k.alg, k.crv].filter(Boolean).join("/")).join(", ") || "none";
    fail(target.property, `the JWKS ${jwksUri} offers no key for ${wanted.join(" or ")} (keys: ${offered})`);
    return failures;
}
