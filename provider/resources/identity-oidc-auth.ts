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

/** What a machine-identity auth template provides (Infisical's TOidcTemplateFields); output only while templateId is set. */
const TEMPLATE_FIELDS = ["oidcDiscoveryUrl", "boundIssuer", "boundAudiences", "caCert"] as const;
const fromTemplate = { field: "templateId" };

const schema = z.object({
    identityId: f.nonEmpty(),
    templateId: f.str().optional(),
    oidcDiscoveryUrl: f.httpUrl().optional(),
    boundIssuer: f.nonEmpty().optional(),
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
        templateId: {
            doc:
                "ID of a machine-identity auth template (OIDC) of the organization: the template then provides oidcDiscoveryUrl, " +
                "boundIssuer, boundAudiences and caCert, which are output only here (leave them out of the program); the subject " +
                "or claims stay this resource's, and one of them is required. Removing it unlinks the template (the program must " +
                "then set oidcDiscoveryUrl and boundIssuer). Needs an Infisical version with auth templates and the plan's feature.",
            normalize: n.text,
            clearedValue: "",
            toApi: (v) => (v === "" ? null : v), // null unlinks the template (undefined keeps the link)
            availableOn: "Infisical versions with machine-identity auth templates",
        },
        oidcDiscoveryUrl: {
            doc:
                "Base URL of the identity provider; Infisical reads `<url>/.well-known/openid-configuration` and its JWKS. Sent as " +
                "written. Required unless templateId is set (then it is the template's, output only).",
            normalize: n.exact,
            derivedFrom: fromTemplate,
        },
        boundIssuer: {
            doc:
                'Issuer (`iss`) the tokens must carry, exactly as they carry it: Infisical compares it byte for byte (a trailing "/" ' +
                "matters). Required unless templateId is set (then it is the template's, output only).",
            normalize: n.exact,
            derivedFrom: fromTemplate,
        },
        boundAudiences: {
            doc: 'Accepted audiences (`aud`), as "a, b" or ["a", "b"] (order and spacing do not matter). Empty accepts any. Output: "a,b" (sorted).',
            default: "",
            normalize: n.commaList(),
            toApi: f.joinList(", "),
            derivedFrom: fromTemplate,
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
        caCert: {
            doc: "PEM CA certificate(s) to trust when Infisical talks to the identity provider. Empty uses the public CAs. The template's while templateId is set.",
            default: "",
            normalize: n.pem,
            derivedFrom: fromTemplate,
        },
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
            // Infisical/infisical backend/src/services/identity-oidc-auth/identity-oidc-auth-service.ts attachOidcAuth and
            // updateOidcAuth: a template provides these four (a PATCH of one while linked is refused: "…managed by an auth
            // template…"), and without one the discovery URL and issuer are required.
            fields: ["templateId", ...TEMPLATE_FIELDS],
            check(v) {
                const linked = typeof v.templateId === "string" && v.templateId.trim() !== "";
                if (linked) {
                    return TEMPLATE_FIELDS.filter((field) => v[field] !== undefined).map((field) => ({
                        property: field,
                        reason: `${field} is provided by the auth template (templateId ${v.templateId}): remove it from the program, or remove templateId to set it here`,
                    }));
                }
                return (["oidcDiscoveryUrl", "boundIssuer"] as const)
                    .filter((field) => typeof v[field] !== "string" || (v[field] as string).trim() === "")
                    .map((field) => ({ property: field, reason: `${field} is required (unless templateId names an auth template that provides it)` }));
            },
        },
        {
            // The same service: a template's bindings name the issuer, not a workload, so a linked identity must narrow them.
            fields: ["templateId", "boundSubject", "boundClaims"],
            check(v) {
                const linked = typeof v.templateId === "string" && v.templateId.trim() !== "";
                const subject = typeof v.boundSubject === "string" && v.boundSubject !== "";
                const claims = typeof v.boundClaims === "object" && v.boundClaims !== null && Object.keys(v.boundClaims).length > 0;
                return linked && !subject && !claims
                    ? [{ property: "boundSubject", reason: "with an auth template (templateId), set boundSubject or at least one boundClaims entry: the template trusts its issuer's every token otherwise" }]
                    : [];
            },
        },
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
            // Infisical's privilege boundary (backend/src/ee/services/permission/permission-fns.ts,
            // validatePrivilegeChangeOperation; identity-oidc-auth-service.ts revokeOidcAuth): revoking the OIDC auth of an
            // identity whose role grants more than the caller's is 403 PermissionBoundaryError, details.missingPermissions.
            status: 403,
            errorName: "PermissionBoundaryError",
            hint: ({ missingPermissions }) =>
                "the machine identity's role is more privileged than the credentials' (Infisical's privilege boundary: you may only change the auth " +
                `methods of identities whose permissions you hold yourself)${missingPermissions.length > 0 ? `; missing: ${missingPermissions.join(", ")}` : ""}. ` +
                "Use credentials of a user or machine identity with at least the identity's role (e.g. an organization admin), or lower the identity's role first",
        },
        {
            // A server without auth templates drops templateId and asks for what the template would have provided.
            requestHas: "templateId",
            invalidField: "oidcDiscoveryUrl",
            hint: "this Infisical version has no machine-identity auth templates (templateId is not known to it): set oidcDiscoveryUrl and boundIssuer instead of templateId, or upgrade Infisical",
        },
        {
            status: 400,
            message: /OIDC discovery URL and issuer are required/i,
            hint: "set oidcDiscoveryUrl and boundIssuer, or templateId to take them from an auth template",
        },
        {
            status: 400,
            message: /managed by an auth template/i,
            hint: "the auth template (templateId) provides oidcDiscoveryUrl, boundIssuer, boundAudiences and caCert: change them in the template, or remove templateId from the program to manage them here",
        },
        {
            status: 400,
            message: /auth template due to plan restriction/i,
            hint: "the organization's Infisical plan does not include machine-identity auth templates: remove templateId and set the identity provider settings here, or upgrade the plan",
        },
        {
            status: 404,
            message: /auth template with ID/i,
            hint: "no OIDC auth template with this templateId in the identity's organization: check templateId (an OIDC template's ID)",
        },
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
