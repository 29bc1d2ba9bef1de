/**
 * Unleash OIDC login settings (`/api/admin/auth/oidc/settings`, an Enterprise feature).
 *
 * One per Unleash instance; the resource id is the instance's base URL. The API takes the whole settings object on
 * every POST, so settings the program leaves unset are sent back with their current values (never wiped).
 * Deleting the resource disables OIDC (`enabled: false`) and leaves the other settings as they were. The API
 * returns `secret`, so a change of it outside Pulumi is seen (and shown masked).
 */
import { z } from "zod";
import * as f from "../engine/fields";
import * as n from "../engine/normalize";
import type { ResourceDescription } from "../engine/types";

const ROOT_ROLES = ["Viewer", "Editor", "Admin"] as const;
const SIGNING_ALGORITHMS = ["RS256", "RS384", "RS512"] as const;

const schema = z.object({
    enabled: f.bool().optional(),
    discoverUrl: f.httpUrl().optional(),
    clientId: f.nonEmpty(),
    secret: f.nonEmpty(),
    autoCreate: f.bool().optional(),
    enableSingleSignOut: f.bool().optional(),
    defaultRootRole: f.oneOf(ROOT_ROLES).optional(),
    defaultRootRoleId: f.intRange(1).optional(), // a role id: Unleash numbers roles from 1
    emailDomains: f.emailDomains().optional(),
    acrValues: z.union([f.str(), z.array(f.str())], { error: "must be a space-separated string or a list of strings" }).optional(),
    idTokenSigningAlgorithm: f.oneOf(SIGNING_ALGORITHMS).optional(),
    enableGroupSyncing: f.bool().optional(),
    groupJsonPath: f.str().optional(),
    addGroupsScope: f.bool().optional(),
    enablePkce: f.bool().optional(),
});

/** API names of every field the provider knows (what a full-replace POST carries). */
const KNOWN = Object.keys(schema.shape);

function pickKnown(obj: Record<string, unknown> | undefined): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const k of KNOWN) if (obj?.[k] !== undefined && obj[k] !== null) out[k] = obj[k];
    return out;
}

export const unleashOidcSettings: ResourceDescription = {
    kind: "UnleashOidcSettings",
    module: "unleash",
    type: "OidcSettings",
    service: "unleash",
    doc:
        "The OpenID Connect login settings of an Unleash instance (Enterprise). One per instance: taking over settings that " +
        "are already enabled needs `adoptExisting: true`. Deleting the resource disables OIDC login.",
    schema,
    fields: {
        enabled: { doc: "Whether OIDC login is enabled (default true).", default: true, normalize: n.bool(false) },
        discoverUrl: { doc: "The identity provider's discovery URL (.well-known/openid-configuration).", normalize: n.url },
        clientId: { doc: "Client ID of the Unleash application at the identity provider.", normalize: n.text },
        secret: {
            doc: "Client secret shared with the identity provider. Always a secret output; a change outside Pulumi is detected and shown masked.",
            secret: true,
            normalize: n.text,
        },
        autoCreate: { doc: "Create users on first login from their email address (default false).", default: false, normalize: n.bool(false) },
        enableSingleSignOut: { doc: "Sign users out of the identity provider when they sign out of Unleash (default false).", default: false, normalize: n.bool(false) },
        defaultRootRole: { doc: 'Root role of auto-created users: "Viewer", "Editor" or "Admin". Unset leaves the instance\'s value.', normalize: n.text },
        defaultRootRoleId: { doc: "ID of the root role of auto-created users; takes precedence over defaultRootRole.", normalize: n.num },
        emailDomains: {
            doc: 'Email domains whose users are auto-created, as "a.com, b.com" or ["a.com", "b.com"] (order, spacing and case do not matter).',
            default: "",
            normalize: n.commaList({ lowercase: true }),
        },
        acrValues: { doc: "Authentication Context Class References requested, space separated (order kept).", normalize: n.spaceList },
        idTokenSigningAlgorithm: {
            doc: 'Algorithm of the ID token signatures: "RS256" (default), "RS384" or "RS512".',
            default: "RS256",
            normalize: (v) => (v === null || v === undefined || v === "" ? "RS256" : v),
        },
        enableGroupSyncing: { doc: "Synchronize group memberships from the ID token (default false).", default: false, normalize: n.bool(false) },
        groupJsonPath: { doc: "JSON path of the groups in the ID token (with enableGroupSyncing).", normalize: n.text },
        addGroupsScope: { doc: 'Also request the "groups" scope at login (default false).', default: false, normalize: n.bool(false) },
        enablePkce: { doc: "Use PKCE in the authorization code flow (default false).", default: false, normalize: n.bool(false) },
    },
    rules: [
        {
            fields: ["enabled", "discoverUrl"],
            check(v) {
                return v.enabled === true && (typeof v.discoverUrl !== "string" || v.discoverUrl.trim() === "")
                    ? [{ property: "discoverUrl", reason: "discoverUrl is required when enabled is true (Unleash cannot log anyone in without it)" }]
                    : [];
            },
        },
        {
            fields: ["enableGroupSyncing", "groupJsonPath"],
            check(v) {
                return v.enableGroupSyncing === true && (typeof v.groupJsonPath !== "string" || v.groupJsonPath.trim() === "")
                    ? [{ property: "groupJsonPath", reason: "groupJsonPath is required when enableGroupSyncing is true" }]
                    : [];
            },
        },
    ],
    key: [],
    singleton: { enabledField: "enabled" },
    adoptable: true,
    api: {
        read: { method: "GET", path: "/api/admin/auth/oidc/settings", gone: [] },
        create: { method: "POST", path: "/api/admin/auth/oidc/settings", body: ({ desired }) => desired, idempotent: true },
        update: {
            method: "POST",
            path: "/api/admin/auth/oidc/settings",
            // Full replace: carry the current values of the settings the program leaves unmanaged.
            body: ({ desired, current }) => ({ ...pickKnown(current), ...desired }),
            idempotent: true,
            needsCurrent: true,
        },
        delete: {
            method: "POST",
            path: "/api/admin/auth/oidc/settings",
            body: ({ current }) => ({ ...pickKnown(current), enabled: false }),
            idempotent: true,
            needsCurrent: true,
        },
    },
    deletedState: "OIDC login is disabled (enabled: false); the other settings stay as they were",
    discovery: (v) =>
        typeof v.discoverUrl === "string" && v.discoverUrl !== ""
            ? {
                  property: "discoverUrl",
                  discoveryUrl: v.discoverUrl,
                  expectedIssuer: v.discoverUrl.includes("/.well-known/") ? { value: f.issuerOfDiscoveryUrl(v.discoverUrl), property: "discoverUrl" } : undefined,
                  algorithms: [String(v.idTokenSigningAlgorithm ?? "RS256")],
              }
            : undefined,
};
