/**
 * Infisical organization OIDC SSO configuration (`/api/v1/sso/oidc/config`).
 *
 * One per organization. The API has no DELETE: deleting the resource deactivates the configuration
 * (`isActive: false`), which is the safe state; a deactivated configuration is taken over by a later create.
 *
 * Real-server behaviour this description encodes (observed on a real Infisical, 2024-07 build, and read in today's
 * source, backend/src/ee/routes/v1/oidc-router.ts and backend/src/ee/services/oidc/oidc-config-service.ts):
 * - GET returns `clientSecret` in clear, so a change of it outside Pulumi is drift;
 * - every PATCH sets the organization's `authEnforced` and `scimEnabled` to false, whatever it carries: updates send
 *   only the fields that changed, and the side effect is said at preview;
 * - a PATCH of a missing configuration answers 200 with an empty body; a second POST answers 500;
 * - "no configuration" is a 404 "Failed to find OIDC SSO data" today, a 404 "OIDC configuration for organization with
 *   ID '…' not found" in 2025, a 400 "Failed to find organization OIDC configuration" in 2024;
 * - the routes took `orgSlug` before they took `organizationId`;
 * - string fields are trimmed by the server; `allowedEmailDomains` is stored ", "-joined.
 */
import { z } from "zod";
import * as f from "../engine/fields";
import * as n from "../engine/normalize";
import type { ResourceDescription } from "../engine/types";

const CONFIGURATION_TYPES = ["custom", "discoveryURL"] as const;
const JWT_ALGORITHMS = ["RS256", "HS256", "RS512", "EdDSA"] as const;
const CUSTOM_ENDPOINTS = ["issuer", "authorizationEndpoint", "jwksUri", "tokenEndpoint", "userinfoEndpoint"] as const;

/** Every way an Infisical version says "this organization has no SSO configuration" (never a 404 for a missing route). */
const GONE = [
    { status: 404, message: /^(?!Route ).*(Failed to find OIDC SSO data|OIDC configuration for organization .* not found|not found|does not exist)/is },
    { status: 400, message: /Failed to find organization OIDC configuration/i },
];

const schema = z.object({
    organizationId: f.nonEmpty(),
    configurationType: f.oneOf(CONFIGURATION_TYPES),
    discoveryURL: f.httpUrl({ allowEmpty: true }).optional(),
    issuer: f.httpUrl({ allowEmpty: true }).optional(),
    authorizationEndpoint: f.httpUrl({ allowEmpty: true }).optional(),
    jwksUri: f.httpUrl({ allowEmpty: true }).optional(),
    tokenEndpoint: f.httpUrl({ allowEmpty: true }).optional(),
    userinfoEndpoint: f.httpUrl({ allowEmpty: true }).optional(),
    clientId: f.nonEmpty(),
    clientSecret: f.nonEmpty(),
    isActive: f.bool().optional(),
    allowedEmailDomains: f.emailDomains().optional(),
    manageGroupMemberships: f.bool().optional(),
    jwtSignatureAlgorithm: f.oneOf(JWT_ALGORITHMS).optional(),
});

export const oidcSsoConfig: ResourceDescription = {
    kind: "OidcSsoConfig",
    module: "infisical",
    type: "OidcSsoConfig",
    service: "infisical",
    doc:
        "The OIDC single sign-on configuration of an Infisical organization. One per organization: creating it where one is " +
        "already active needs `adoptExisting: true`. Deleting it deactivates it (the API has no delete).",
    schema,
    fields: {
        organizationId: {
            doc: "ID of the organization whose SSO is configured. Changing it replaces the resource.",
            forcesReplacement: true,
            responseName: "orgId",
            normalize: n.text,
        },
        configurationType: {
            doc: '"discoveryURL" (endpoints found through `discoveryURL`) or "custom" (issuer and every endpoint given explicitly).',
            normalize: n.text,
        },
        // URLs are sent as written: the identity provider compares the issuer byte for byte (a trailing "/" matters).
        discoveryURL: { doc: 'OIDC discovery URL of the identity provider; required when configurationType is "discoveryURL". Sent as written.', default: "", normalize: n.text },
        issuer: {
            doc: 'Issuer of the identity provider, exactly as its tokens carry it (a trailing "/" matters); required when configurationType is "custom".',
            default: "",
            normalize: n.text,
        },
        authorizationEndpoint: { doc: 'Authorization endpoint; required when configurationType is "custom".', default: "", normalize: n.text },
        jwksUri: { doc: 'JWKS URL of the identity provider; required when configurationType is "custom".', default: "", normalize: n.text },
        tokenEndpoint: { doc: 'Token endpoint; required when configurationType is "custom".', default: "", normalize: n.text },
        userinfoEndpoint: { doc: 'Userinfo endpoint; required when configurationType is "custom".', default: "", normalize: n.text },
        clientId: { doc: "Client ID of the Infisical application registered at the identity provider.", normalize: n.text },
        clientSecret: {
            doc:
                "Client secret of that application. Always stored encrypted and a secret output. Infisical returns it, so a change " +
                "made outside Pulumi shows (masked) in `pulumi refresh`, `pulumi preview --refresh` and `oidc-drift`.",
            secret: true,
            normalize: n.text,
        },
        isActive: { doc: "Whether SSO through this configuration is enabled (default true).", default: true, normalize: n.bool(false) },
        allowedEmailDomains: {
            doc: 'Email domains allowed to sign in, as "a.com, b.com" or ["a.com", "b.com"] (order, spacing and case do not matter). Empty allows any. Output: "a.com,b.com" (sorted, lower case).',
            default: "",
            normalize: n.commaList({ lowercase: true }),
            toApi: f.joinList(", "),
        },
        manageGroupMemberships: {
            doc: "Whether group memberships are synchronized from the identity provider's groups at each login (default false).",
            default: false,
            normalize: n.bool(false),
        },
        jwtSignatureAlgorithm: {
            doc: 'Algorithm of the ID token signatures: "RS256" (default), "HS256", "RS512" or "EdDSA".',
            default: "RS256",
            normalize: (v) => (v === null || v === undefined ? "RS256" : v),
        },
        configId: { doc: "ID of the configuration object in Infisical.", computed: true, objectId: true, responseName: "id" },
    },
    rules: [
        {
            fields: ["configurationType", ...CUSTOM_ENDPOINTS, "discoveryURL"],
            check(v) {
                const failures: Array<{ property: string; reason: string }> = [];
                const empty = (x: unknown) => typeof x !== "string" || x.trim() === "";
                if (v.configurationType === "custom") {
                    for (const field of CUSTOM_ENDPOINTS) {
                        if (empty(v[field])) failures.push({ property: field, reason: `${field} is required when configurationType is "custom"` });
                    }
                } else if (v.configurationType === "discoveryURL" && empty(v.discoveryURL)) {
                    failures.push({ property: "discoveryURL", reason: 'discoveryURL is required when configurationType is "discoveryURL"' });
                }
                return failures;
            },
        },
    ],
    key: ["organizationId"],
    singleton: { enabledField: "isActive" },
    adoptable: true,
    api: {
        read: { method: "GET", path: "/api/v1/sso/oidc/config", query: ["organizationId"], gone: GONE },
        create: {
            method: "POST",
            path: "/api/v1/sso/oidc/config",
            body: ({ desired }) => desired,
            idempotent: false,
            // Infisical keeps one configuration per organization through a unique index: a second POST is a 500
            // (the database's refusal). Any of these answers makes create read the organization's configuration to
            // tell an existing one (taken over or refused) from a real failure (rethrown).
            alreadyExists: [
                { status: 400, message: /already/i },
                { status: 409 },
                { status: 500 },
            ],
        },
        // organizationId and the changed fields only: `isActive: true` in a PATCH that did not need it can fail an
        // unrelated update (Google SSO enforced, SMTP not verified).
        update: { method: "PATCH", path: "/api/v1/sso/oidc/config", body: ({ desired }) => desired, changedOnly: true },
        delete: {
            method: "PATCH",
            path: "/api/v1/sso/oidc/config",
            body: ({ key }) => ({ organizationId: key.organizationId, isActive: false }),
            gone: GONE,
        },
    },
    deletedState: "the configuration stays in Infisical, deactivated (isActive: false): the API has no delete",
    discovery: (v) => {
        const algorithms = [String(v.jwtSignatureAlgorithm ?? "RS256")];
        if (v.configurationType === "discoveryURL" && typeof v.discoveryURL === "string" && v.discoveryURL !== "") {
            return {
                property: "discoveryURL",
                discoveryUrl: v.discoveryURL,
                expectedIssuer: { value: f.issuerOfDiscoveryUrl(v.discoveryURL), property: "discoveryURL" },
                algorithms,
            };
        }
        if (v.configurationType === "custom" && typeof v.jwksUri === "string" && v.jwksUri !== "") {
            return { property: "jwksUri", jwksUri: v.jwksUri, algorithms };
        }
        return undefined;
    },
    objectName: "the organization's SSO settings (Infisical permission: SSO, edit)",
    sideEffects: {
        // Infisical/infisical backend/src/ee/services/oidc/oidc-config-service.ts updateOidcCfg: every update ends with
        // orgDAL.updateById(org.id, { authEnforced: false, scimEnabled: false }). Newer builds skip the e-mail check at
        // SSO login only while the organization enforces SSO (skipEmailVerification = Boolean(organization.authEnforced),
        // reported in issue #26); older ones decide by the instance's trustOidcEmails.
        update:
            "Infisical switches off SSO enforcement and SCIM for the whole organization (authEnforced and scimEnabled become false) " +
            "on every update of the SSO configuration through the API; while enforcement is off, newer Infisical versions ask users " +
            "to verify their e-mail address again at their next SSO login. Turn enforcement and SCIM on again in the organization's " +
            "security settings afterwards",
        delete:
            "deactivating the SSO configuration (isActive: false) also switches off SSO enforcement and SCIM for the organization; " +
            "set the resource option `retainOnDelete: true` to leave SSO untouched on destroy",
    },
    errors: [
        {
            // The orgSlug-era builds (2024) let only user sessions use the SSO routes: a machine identity gets 403,
            // error "Forbidden access to /api/v1/sso/oidc/config…" (2024-10) or "/api/v1/sso/oidc/config Unauthorized
            // Access" (2024-07, backend/src/server/plugins/auth/verify-auth.ts).
            status: 403,
            errorName: /^Forbidden access to .*\/sso\/oidc\/config|\/sso\/oidc\/config\S* Unauthorized Access$/,
            replaceMessage: true,
            hint:
                "this Infisical server is older: its SSO API accepts only user sessions (not a machine identity) and takes orgSlug, " +
                "not organizationId. pulumi-oidc-settings needs an Infisical version whose /api/v1/sso/oidc/config takes " +
                "organizationId (2025 or later), where machine identities with the SSO permission may manage it: upgrade the Infisical server",
        },
        {
            errorName: "ValidationFailure",
            message: /orgSlug/,
            replaceMessage: true,
            hint:
                "this Infisical server is older: its SSO API takes orgSlug, not organizationId. pulumi-oidc-settings needs an Infisical " +
                "version whose /api/v1/sso/oidc/config takes organizationId (2025 or later): upgrade the Infisical server",
        },
        {
            status: 400,
            message: /plan restriction/i,
            hint: "the organization's Infisical plan does not include OIDC SSO (licence feature oidcSSO): upgrade the plan, or manage SSO on an instance whose licence has it",
        },
        {
            status: 400,
            message: /Local IPs not allowed/i,
            hint:
                "Infisical refuses identity-provider URLs that resolve to loopback or private addresses (discoveryURL, jwksUri, tokenEndpoint, " +
                "userinfoEndpoint); use a public address, or run the Infisical server with ALLOW_INTERNAL_IP_CONNECTIONS=true (self-hosted)",
        },
        {
            status: 400,
            // Today: "You cannot enable OIDC SSO while Google OAuth is enforced. ..." (oidc-config-service.ts).
            message: /Google OAuth is enforced|Google SSO/i,
            hint: "Google sign-in (OAuth) is enforced for this organization: switch off Google OAuth enforcement in the organization's settings before activating OIDC SSO",
        },
        {
            status: 400,
            message: /SMTP|email service|trust.*email/i,
            hint:
                "Infisical activates OIDC SSO only when the instance can send email (SMTP configured and verified): configure SMTP on the " +
                "Infisical server, or keep isActive: false until it is",
        },
        {
            status: 404,
            hint: "no such organization, or not this Infisical: check organizationId (the organization's ID, not its slug) and infisical:host",
        },
    ],
};

