/**
 * Infisical organization OIDC SSO configuration (`/api/v1/sso/oidc/config`).
 *
 * One per organization. The API has no DELETE: deleting the resource deactivates the configuration
 * (`isActive: false`), which is the safe state; a deactivated configuration is taken over by a later create.
 * `clientSecret` is write-only: the API does not return it (the state keeps a salted hash of the applied value).
 */
import { z } from "zod";
import * as f from "../engine/fields";
import * as n from "../engine/normalize";
import type { ResourceDescription } from "../engine/types";

const CONFIGURATION_TYPES = ["custom", "discoveryURL"] as const;
const JWT_ALGORITHMS = ["RS256", "HS256", "RS512", "EdDSA"] as const;
const CUSTOM_ENDPOINTS = ["issuer", "authorizationEndpoint", "jwksUri", "tokenEndpoint", "userinfoEndpoint"] as const;

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
        discoveryURL: { doc: 'OIDC discovery URL of the identity provider; required when configurationType is "discoveryURL".', default: "", normalize: n.url },
        issuer: { doc: 'Issuer of the identity provider; required when configurationType is "custom".', default: "", normalize: n.url },
        authorizationEndpoint: { doc: 'Authorization endpoint; required when configurationType is "custom".', default: "", normalize: n.url },
        jwksUri: { doc: 'JWKS URL of the identity provider; required when configurationType is "custom".', default: "", normalize: n.url },
        tokenEndpoint: { doc: 'Token endpoint; required when configurationType is "custom".', default: "", normalize: n.url },
        userinfoEndpoint: { doc: 'Userinfo endpoint; required when configurationType is "custom".', default: "", normalize: n.url },
        clientId: { doc: "Client ID of the Infisical application registered at the identity provider.", normalize: n.text },
        clientSecret: {
            doc:
                "Client secret of that application. Always a secret output. Write-only: Infisical does not return it, so a change " +
                "made outside Pulumi cannot be detected; changing the desired value updates it.",
            secret: true,
            writeOnly: true,
        },
        isActive: { doc: "Whether SSO through this configuration is enabled (default true).", default: true, normalize: n.bool(false) },
        allowedEmailDomains: {
            doc: 'Email domains allowed to sign in, as "a.com, b.com" or ["a.com", "b.com"] (order, spacing and case do not matter). Empty allows any.',
            default: "",
            normalize: n.commaList({ lowercase: true }),
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
        configId: { doc: "ID of the configuration object in Infisical.", computed: true, responseName: "id" },
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
        read: {
            method: "GET",
            path: "/api/v1/sso/oidc/config",
            query: ["organizationId"],
            gone: [{ status: 404, message: /^(?!Route ).*(not found|does not exist)/is }],
        },
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
        update: { method: "PATCH", path: "/api/v1/sso/oidc/config", body: ({ desired }) => desired },
        delete: {
            method: "PATCH",
            path: "/api/v1/sso/oidc/config",
            body: ({ key }) => ({ organizationId: key.organizationId, isActive: false }),
            gone: [{ status: 404, message: /^(?!Route ).*(not found|does not exist)/is }],
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
    hint: (status) =>
        status === 404
            ? "no SSO configuration or no such organization: check organizationId (the organization's ID, not its slug) and infisical:host"
            : undefined,
};
