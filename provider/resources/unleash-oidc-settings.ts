/**
 * Unleash OIDC login settings (`/api/admin/auth/oidc/settings`, an Enterprise feature).
 *
 * One per Unleash instance; the resource id is the instance's base URL. Deleting the resource disables OIDC
 * (`enabled: false`) and leaves the other settings as they were. The API returns `secret`, so a change of it outside
 * Pulumi is seen (and shown masked).
 *
 * Real-server behaviour this description encodes (../shared/real-servers: Unleash 8.2.0 and Enterprise schemas):
 * - POST replaces the whole object: settings the program does not manage (e.g. `extraScopes` set in the admin UI, or
 *   a field a newer Unleash adds) are sent back as they are, and a field the program leaves empty is left out;
 * - empty strings are refused (`"emailDomains" is not allowed to be empty`), so they are never sent;
 * - a stored `defaultRootRoleId` wins over `defaultRootRole`: the id is not carried when the program manages the role,
 *   and the role read back is the one of the live id (Admin 1, Editor 2, Viewer 3);
 * - `groupJsonPath` must match `^[a-zA-Z0-9_]+([-.][a-zA-Z0-9_]+)*$`;
 * - every POST with `enabled` or a `discoverUrl` loads the discovery document (400 "Could not load discoverUrl.").
 */
import { z } from "zod";
import * as f from "../engine/fields";
import * as n from "../engine/normalize";
import type { ResourceDescription } from "../engine/types";

const ROOT_ROLES = ["Viewer", "Editor", "Admin"] as const;
const SIGNING_ALGORITHMS = ["RS256", "RS384", "RS512"] as const;
/** Unleash's predefined root roles (custom root roles have other ids). */
export const ROOT_ROLE_IDS: Record<(typeof ROOT_ROLES)[number], number> = { Admin: 1, Editor: 2, Viewer: 3 };
/** Unleash's pattern for `groupJsonPath` (a dotted path; "$.groups" is refused). */
export const GROUP_JSON_PATH = /^[a-zA-Z0-9_]+([-.][a-zA-Z0-9_]+)*$/;

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
    groupJsonPath: f.str().refine((v) => v === "" || GROUP_JSON_PATH.test(v), {
        message: 'must be a dotted path of names such as "groups" or "realm_access.roles" (Unleash\'s pattern; "$.groups" is refused)',
    }).optional(),
    addGroupsScope: f.bool().optional(),
    enablePkce: f.bool().optional(),
    extraScopes: z.union([f.str(), z.array(f.str())], { error: "must be a space-separated string or a list of scopes" }).optional(),
});

function roleOfId(id: unknown): unknown {
    const name = (Object.keys(ROOT_ROLE_IDS) as Array<keyof typeof ROOT_ROLE_IDS>).find((k) => ROOT_ROLE_IDS[k] === Number(id));
    return name ?? `custom root role ${String(id)}`;
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
        discoverUrl: { doc: "The identity provider's discovery URL (.well-known/openid-configuration); required when enabled. Sent as written.", normalize: n.text, clearedValue: "" },
        clientId: { doc: "Client ID of the Unleash application at the identity provider.", normalize: n.text },
        secret: {
            doc: "Client secret shared with the identity provider. Always a secret output; a change outside Pulumi is detected and shown masked.",
            secret: true,
            normalize: n.text,
        },
        autoCreate: { doc: "Create users on first login from their email address (default false).", default: false, normalize: n.bool(false) },
        enableSingleSignOut: { doc: "Sign users out of the identity provider when they sign out of Unleash (default false).", default: false, normalize: n.bool(false) },
        defaultRootRole: {
            doc:
                'Root role of auto-created users: "Viewer", "Editor" or "Admin". Unset leaves the instance\'s value. Read back as the role ' +
                "Unleash really assigns (the one of the stored role id), so a change made outside Pulumi shows as drift here.",
            normalize: n.text,
            clearedValue: "",
        },
        defaultRootRoleId: {
            doc: "ID of the root role of auto-created users (custom root roles); takes precedence over defaultRootRole. Unset: Unleash resolves defaultRootRole.",
            normalize: n.num,
            clearedValue: 0,
            toApi: (v) => (v === 0 ? undefined : v),
            derivedFrom: { field: "defaultRootRole", sourceValue: roleOfId },
        },
        emailDomains: {
            doc: 'Email domains whose users are auto-created, as "a.com, b.com" or ["a.com", "b.com"] (order, spacing and case do not matter). Output: "a.com,b.com" (sorted, lower case).',
            default: "",
            normalize: n.commaList({ lowercase: true }),
            toApi: f.joinList(","),
        },
        acrValues: {
            doc: "Authentication Context Class References requested, space separated (order kept). Unset leaves the instance's value. Output: single spaces.",
            normalize: n.spaceList,
            toApi: f.joinList(" "),
            clearedValue: "",
        },
        idTokenSigningAlgorithm: {
            doc: 'Algorithm of the ID token signatures: "RS256" (default), "RS384" or "RS512".',
            default: "RS256",
            normalize: (v) => (v === null || v === undefined || v === "" ? "RS256" : v),
        },
        enableGroupSyncing: { doc: "Synchronize group memberships from the ID token (default false).", default: false, normalize: n.bool(false) },
        groupJsonPath: { doc: 'Path of the groups claim in the ID token (with enableGroupSyncing), e.g. "groups" or "realm_access.roles".', normalize: n.text, clearedValue: "" },
        addGroupsScope: { doc: 'Also request the "groups" scope at login (default false).', default: false, normalize: n.bool(false) },
        enablePkce: { doc: "Use PKCE in the authorization code flow (default false).", default: false, normalize: n.bool(false) },
        extraScopes: {
            doc: 'Scopes requested besides openid, email and profile (Unleash 7.6.5+), as "a b" or ["a", "b"]. Unset leaves the instance\'s value. Output: "a b" (sorted, single spaces).',
            normalize: n.scopeSet,
            toApi: f.joinList(" "),
            clearedValue: "",
        },
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
            fields: ["defaultRootRole", "defaultRootRoleId"],
            check(v) {
                if (typeof v.defaultRootRole !== "string" || typeof v.defaultRootRoleId !== "number") return [];
                return roleOfId(v.defaultRootRoleId) === v.defaultRootRole
                    ? []
                    : [{ property: "defaultRootRoleId", reason: `defaultRootRoleId ${v.defaultRootRoleId} is not the id of defaultRootRole "${v.defaultRootRole}" and Unleash uses the id: set only one of them` }];
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
        omitEmpty: true,
        read: { method: "GET", path: "/api/admin/auth/oidc/settings", gone: [] },
        create: { method: "POST", path: "/api/admin/auth/oidc/settings", body: ({ desired }) => desired, idempotent: true },
        update: {
            method: "POST",
            path: "/api/admin/auth/oidc/settings",
            // Full replace: the settings the program does not manage go back as they are.
            body: ({ desired, carried }) => ({ ...carried, ...desired }),
            idempotent: true,
            needsCurrent: true,
        },
        delete: {
            method: "POST",
            path: "/api/admin/auth/oidc/settings",
            body: ({ carried }) => ({ ...carried, enabled: false }),
            idempotent: true,
            needsCurrent: true,
            retryWithout: [
                {
                    // Unleash loads the discovery document on every save that has a discoverUrl, even one that disables
                    // login: with the identity provider unreachable, disabling works only without it.
                    on: (err) => (err.status === 400 && /Could not load discoverUrl/i.test(err.apiMessage ?? "") ? ["discoverUrl"] : undefined),
                    note: () => "OIDC login disabled without discoverUrl: Unleash could not load the discovery document (it loads it on every save), so discoverUrl was cleared",
                },
                {
                    // A value stored when it was accepted that this Unleash now refuses (e.g. groupJsonPath "$.groups", refused
                    // by the joi pattern since 7.x): the whole-object save that disables login would fail on it forever.
                    on: (err) => (err.status === 400 && err.invalidFields.length > 0 ? err.invalidFields : undefined),
                    note: (fields) =>
                        `OIDC login disabled with ${fields.join(", ")} cleared: this Unleash refuses the value stored there (it validates every save), so it could not be kept`,
                },
            ],
        },
    },
    deletedState: "OIDC login is disabled (enabled: false); the other settings stay as they were",
    objectName: "the instance's OIDC settings (Unleash permission: ADMIN)",
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
