/**
 * Infisical machine-identity OIDC auth (`/api/v1/auth/oidc-auth/identities/{identityId}`): lets workloads that hold
 * an OIDC token from a trusted issuer (CI systems, Kubernetes, cloud workload identity) log in as the identity.
 *
 * One per identity. Deleting the resource revokes it (DELETE). Responses are wrapped in `{identityOidcAuth: ...}`;
 * trusted IPs come back as `{ipAddress, type, prefix}` objects, which normalize to the CIDR strings written.
 *
 * Real-server behaviour (today's source: backend/src/server/routes/v1/identity-oidc-auth-router.ts,
 * backend/src/services/identity-oidc-auth/): `boundIssuer`, `boundSubject` and `oidcDiscoveryUrl` are stored as sent,
 * not trimmed, and a token's `iss` is compared byte for byte, so they are sent and compared exactly; audiences and
 * claim values are stored ", "-joined; `caCert` is trimmed; DELETE revokes the tokens issued through OIDC auth
 * (`revokeTokensForIdentityAuthMethod`; some versions revoke every token of the identity); PATCH takes any subset.
 */
import { z } from "zod";
import * as f from "../engine/fields";
import * as n from "../engine/normalize";
import type { ResourceDescription } from "../engine/types";

/** Upper bound of both TTLs, in seconds (ten years), as the API enforces it. */
export const MAX_TTL_SECONDS = 315360000;
export const DEFAULT_TTL_SECONDS = 2592000;
export const DEFAULT_TRUSTED_IPS = ["0.0.0.0/0", "::/0"];

const schema = z.object({
    identityId: f.nonEmpty(),
    oidcDiscoveryUrl: f.httpUrl(),
    boundIssuer: f.nonEmpty(),
    boundAudiences: f.commaListInput().optional(),
    boundClaims: f.claimsInput().optional(),
    boundSubject: f.str().optional(),
    claimMetadataMapping: f.stringMapInput().optional(),
    caCert: f.pemInput().optional(),
    accessTokenTrustedIps: f.trustedIpsInput().optional(),
    accessTokenTTL: f.intRange(0, MAX_TTL_SECONDS).optional(),
    accessTokenMaxTTL: f.intRange(0, MAX_TTL_SECONDS).optional(),
    accessTokenNumUsesLimit: f.intRange(0).optional(),
});

const GONE_NOT_ATTACHED = { status: 400, message: /does not have OIDC auth|not attached|OIDC auth.*not found/i };
const GONE_NO_IDENTITY = { status: 404, message: /^(?!Route ).*identit/is };

export const identityOidcAuth: ResourceDescription = {
    kind: "IdentityOidcAuth",
    module: "infisical",
    type: "IdentityOidcAuth",
    service: "infisical",
    doc:
        "OIDC auth of an Infisical machine identity: which tokens (issuer, audiences, subject, claims) may log in as the " +
        "identity, and the lifetime and reach of the access tokens it gets. Deleting it revokes the OIDC auth method.",
    schema,
    fields: {
        identityId: {
            doc: "ID of the machine identity. Changing it replaces the resource.",
            forcesReplacement: true,
            inPath: true,
            normalize: n.text,
        },
        oidcDiscoveryUrl: {
            doc: "Base URL of the identity provider; Infisical reads `<url>/.well-known/openid-configuration` and its JWKS. Sent as written.",
            normalize: n.exact,
        },
        boundIssuer: {
            doc: 'Issuer (`iss`) the tokens must carry, exactly as they carry it: Infisical compares it byte for byte (a trailing "/" matters).',
            normalize: n.exact,
        },
        boundAudiences: {
            doc: 'Accepted audiences (`aud`), as "a, b" or ["a", "b"] (order and spacing do not matter). Empty accepts any. Output: "a,b" (sorted).',
            default: "",
            normalize: n.commaList(),
            toApi: f.joinList(", "),
        },
        boundClaims: {
            doc: 'Claims the tokens must carry: {claim: "allowed, values"} or {claim: ["allowed", "values"]}; values may be glob patterns. Output: each value as "v1,v2" (sorted).',
            default: {},
            normalize: n.claims,
            toApi: (v) => {
                const c = n.claims(v) as Record<string, string>;
                return Object.fromEntries(Object.entries(c).map(([k, val]) => [k, val.split(",").filter(Boolean).join(", ")]));
            },
        },
        boundSubject: { doc: "Subject (`sub`) the tokens must carry, compared exactly; may be a glob pattern. Empty accepts any.", default: "", normalize: n.exact },
        claimMetadataMapping: {
            doc:
                'Metadata attached to the identity\'s access tokens from the login token\'s claims: {metadataKey: "claim.path"}. ' +
                'Output: each value as Infisical stores it (split at ",", each part trimmed, joined with ", "). ' +
                "Empty maps nothing. Infisical versions without this setting (e.g. the 2024 builds) do not get it: the output " +
                "`unsupportedSettings` lists it and the provider says so when it is set.",
            default: {},
            normalize: n.commaSpacedMap,
            // The 2024-10 build drops the unknown field, and an update of it alone is empty: 500 "Update by id".
            availableOn: "Infisical versions from 2025 on",
        },
        caCert: { doc: "PEM CA certificate(s) to trust when Infisical talks to the identity provider. Empty uses the public CAs.", default: "", normalize: n.pem },
        accessTokenTrustedIps: {
            doc: 'IPs or CIDR ranges the access tokens may be used from, as strings or {ipAddress} objects. Default: anywhere (["0.0.0.0/0", "::/0"]). Output: canonical CIDRs, sorted ("1.2.3.4" → "1.2.3.4/32").',
            default: DEFAULT_TRUSTED_IPS,
            normalize: n.trustedIps,
            toApi: (v) => (n.trustedIps(v) as string[]).map((ipAddress) => ({ ipAddress })),
        },
        accessTokenTTL: { doc: `Lifetime of an access token in seconds (0..${MAX_TTL_SECONDS}, at most accessTokenMaxTTL; default ${DEFAULT_TTL_SECONDS}).`, default: DEFAULT_TTL_SECONDS, normalize: n.num },
        accessTokenMaxTTL: { doc: `Maximum lifetime of an access token, renewals included, in seconds (0..${MAX_TTL_SECONDS}; default ${DEFAULT_TTL_SECONDS}).`, default: DEFAULT_TTL_SECONDS, normalize: n.num },
        accessTokenNumUsesLimit: { doc: "How many times an access token can be used; 0 (default) means unlimited.", default: 0, normalize: n.num },
        identityOidcAuthId: { doc: "ID of the OIDC auth object in Infisical.", computed: true, objectId: true, responseName: "id" },
        createdAt: { doc: "When the OIDC auth was attached (ISO 8601).", computed: true },
        updatedAt: { doc: "When it was last changed (ISO 8601).", computed: true },
    },
    rules: [
        {
            fields: ["accessTokenTTL", "accessTokenMaxTTL"],
            check(v) {
                const ttl = v.accessTokenTTL as number;
                const max = v.accessTokenMaxTTL as number;
                return ttl > max ? [{ property: "accessTokenTTL", reason: `accessTokenTTL (${ttl}) must not be greater than accessTokenMaxTTL (${max})` }] : [];
            },
        },
    ],
    key: ["identityId"],
    adoptable: true,
    api: {
        unwrap: "identityOidcAuth",
        read: { method: "GET", path: "/api/v1/auth/oidc-auth/identities/{identityId}", gone: [GONE_NOT_ATTACHED, GONE_NO_IDENTITY] },
        create: {
            method: "POST",
            path: "/api/v1/auth/oidc-auth/identities/{identityId}",
            body: ({ desired }) => desired,
            idempotent: false,
            alreadyExists: [{ status: 400, message: /already/i }, { status: 409 }],
        },
        update: {
            method: "PATCH",
            path: "/api/v1/auth/oidc-auth/identities/{identityId}",
            body: ({ desired }) => desired,
            changedOnly: true,
            // The 2024-10 build's PATCH of an identity without OIDC auth (today's words are in `read.gone`).
            goneIfConfirmed: [{ status: 400, message: /^Failed to update OIDC Auth$/i }],
        },
        delete: { method: "DELETE", path: "/api/v1/auth/oidc-auth/identities/{identityId}", gone: [GONE_NOT_ATTACHED, GONE_NO_IDENTITY] },
    },
    deletedState: "the OIDC auth method is revoked from the identity (DELETE); the identity itself stays",
    objectName: "the machine identity's auth methods (Infisical permission: Identity, edit)",
    sideEffects: {
        delete:
            "Infisical revokes the access tokens issued through this OIDC auth when it is removed (some Infisical versions revoke every " +
            "token of the identity, universal auth ones included): workloads logged in this way lose access at once",
    },
    errors: [
        {
            status: 400,
            message: /plan restriction/i,
            hint:
                "the organization's Infisical plan does not include IP allowlisting (licence feature ipAllowlisting): leave " +
                'accessTokenTrustedIps at ["0.0.0.0/0", "::/0"], or upgrade the plan',
        },
        {
            status: 400,
            message: /Local IPs not allowed/i,
            hint:
                "Infisical refuses an oidcDiscoveryUrl that resolves to a loopback or private address; use a public address, or run " +
                "the Infisical server with ALLOW_INTERNAL_IP_CONNECTIONS=true (self-hosted)",
        },
        {
            status: 404,
            hint: "no machine identity with this identityId in the organization of the credentials: check identityId and infisical:host",
        },
    ],
    discovery: (v) =>
        typeof v.oidcDiscoveryUrl === "string"
            ? {
                  property: "oidcDiscoveryUrl",
                  discoveryUrl: v.oidcDiscoveryUrl,
                  // Infisical verifies `iss` against boundIssuer byte for byte (jsonwebtoken's `issuer` option).
                  expectedIssuer: typeof v.boundIssuer === "string" ? { value: v.boundIssuer, property: "boundIssuer", exact: true } : undefined,
              }
            : undefined,
};
