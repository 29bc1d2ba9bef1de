/**
 * Trust checks: settings that let far more people or workloads log in than meant (issue #14).
 *
 * Each rule has an id, a severity, a one-line reason and the fix, and a section in docs/trust.md. They run on the
 * desired settings at `pulumi preview` (the engine's `check`: an error fails unless the resource lists the rule id
 * in `acceptRisks`; a warning is printed) and on the live settings in audits (`oidc-audit`). Pure functions: no
 * I/O; `settings` may be raw inputs or normalized state outputs (both shapes are read).
 */
import { containsUnknown } from "../engine/values";
import { ROOT_ROLE_IDS } from "../resources/unleash-oidc-settings";
import { issuerLocation, PUBLIC_MAIL_DOMAINS, publicIssuerOf, type PublicIssuer } from "./issuers";
import { ownerReach, type OwnerReach } from "./patterns";

export { issuerLocation, PUBLIC_ISSUERS, PUBLIC_MAIL_DOMAINS, publicIssuerOf } from "./issuers";
export type { IssuerLocation, PublicIssuer } from "./issuers";
export { ownerReach } from "./patterns";

export type TrustSeverity = "error" | "warning";

export interface TrustFinding {
    ruleId: string;
    severity: TrustSeverity;
    /** The field the finding is about. */
    property: string;
    /** One line, no final period. */
    reason: string;
    /** One line, no final period. */
    fix: string;
    /** Where the rule is explained, e.g. "docs/trust.md#identity-public-issuer-unpinned". */
    docs: string;
}

export interface TrustRule {
    id: string;
    severity: TrustSeverity;
    kind: "OidcSsoConfig" | "IdentityOidcAuth" | "UnleashOidcSettings";
    /** What the rule is about, for the docs' index. */
    title: string;
}

export const TRUST_RULES: readonly TrustRule[] = [
    { id: "identity-public-issuer-unpinned", severity: "error", kind: "IdentityOidcAuth", title: "Public issuer, owner not pinned" },
    { id: "identity-subject-multiple-owners", severity: "warning", kind: "IdentityOidcAuth", title: "Subject or claims admit more than one owner" },
    { id: "identity-audience-unbound", severity: "warning", kind: "IdentityOidcAuth", title: "No audience for an issuer with per-owner audiences" },
    { id: "identity-token-anywhere-long-ttl", severity: "warning", kind: "IdentityOidcAuth", title: "Access tokens usable from anywhere for long" },
    { id: "sso-multitenant-no-email-domains", severity: "error", kind: "OidcSsoConfig", title: "Multi-tenant identity provider, no allowed email domains" },
    { id: "sso-multitenant-wildcard-email-domain", severity: "error", kind: "OidcSsoConfig", title: "Multi-tenant identity provider, a wildcard allowed email domain" },
    { id: "unleash-autocreate-multitenant-no-email-domains", severity: "error", kind: "UnleashOidcSettings", title: "Auto-create through a multi-tenant identity provider, no email domains" },
    { id: "unleash-autocreate-admin", severity: "warning", kind: "UnleashOidcSettings", title: "Auto-created users become Admin" },
];

export const TRUST_RULE_IDS: readonly string[] = TRUST_RULES.map((r) => r.id);

/** Access tokens that live longer than this (seconds), usable from any IP, are worth a warning. */
export const LONG_TOKEN_SECONDS = 24 * 60 * 60;

/** Unleash's predefined Admin root role id (Admin 1, Editor 2, Viewer 3). */
export const UNLEASH_ADMIN_ROLE_ID = ROOT_ROLE_IDS.Admin;

/** Whether the value is, or holds, a preview-time unknown (no finding is made about it). */
const unknown = containsUnknown;

function finding(ruleId: string, property: string, reason: string, fix: string): TrustFinding {
    const rule = TRUST_RULES.find((r) => r.id === ruleId);
    if (!rule) throw new Error(`unknown trust rule ${ruleId}`);
    return { ruleId, severity: rule.severity, property, reason, fix, docs: `docs/trust.md#${ruleId}` };
}

const text = (v: unknown): string => (typeof v === "string" ? v.trim() : "");

/** A comma list written as "a, b" or ["a", "b"] (inputs), or stored as "a,b" (outputs). */
function list(v: unknown): string[] {
    const items = typeof v === "string" ? v.split(",") : Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
    return items.map((s) => s.trim()).filter((s) => s !== "");
}

/**
 * Bound claims as {claim: entries}. Values are split at commas like the provider does before sending them
 * (Infisical itself splits at ", ").
 */
function claims(v: unknown): Record<string, string[]> {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return {};
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, val]) => [k.trim(), list(val)]));
}

/**
 * Whether trusted IPs (strings, {ipAddress}, or the API's {ipAddress, type, prefix}) include "anywhere": an entry
 * with prefix length 0, whatever its address. Infisical reads an entry without "/" as one address
 * (backend/src/lib/ip/index.ts `extractIPDetails`: no prefix, then `BlockList.addAddress`), so "0.0.0.0" is the
 * single address 0.0.0.0; "a/n" is a subnet with prefix `parseInt(n, 10)` (`BlockList.addSubnet`), so "10.0.0.0/0"
 * is everything.
 */
function allowsAnywhere(v: unknown): boolean {
    if (v === undefined || v === null) return true; // the API's default: 0.0.0.0/0 and ::/0
    if (!Array.isArray(v)) return false;
    return v.some((entry) => {
        let prefix: unknown;
        if (typeof entry === "string") prefix = entry.includes("/") ? entry.split("/")[1] : undefined;
        else if (typeof entry === "object" && entry !== null && typeof (entry as { ipAddress?: unknown }).ipAddress === "string") {
            const e = entry as { ipAddress: string; prefix?: unknown };
            prefix = e.ipAddress.includes("/") ? e.ipAddress.split("/")[1] : e.prefix;
        }
        if (typeof prefix === "number") return prefix === 0;
        return typeof prefix === "string" && prefix.trim() !== "" && Number.parseInt(prefix, 10) === 0;
    });
}

function num(v: unknown): number | undefined {
    if (typeof v === "number") return v;
    if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
    return undefined;
}

function duration(seconds: number): string {
    if (!Number.isFinite(seconds)) return "no expiry";
    if (seconds % 86400 === 0) return `${seconds / 86400} day(s)`;
    if (seconds % 3600 === 0) return `${seconds / 3600} hour(s)`;
    return `${seconds} s`;
}

// ============================================================================================= IdentityOidcAuth

/** How far the subject and the owner claims together reach: pinned to one owner, to a few, or open. */
interface IdentityReach {
    open: boolean;
    owners: string[];
    /** The field that pins (or fails to). */
    property: "boundSubject" | "boundClaims";
    /** Why it is open, per constraint. */
    why: string[];
}

function identityReach(issuer: PublicIssuer, subject: string, boundClaims: Record<string, string[]>): IdentityReach {
    // Every constraint must hold (Infisical checks the subject and each bound claim), so the narrowest one decides.
    const constraints: Array<{ property: "boundSubject" | "boundClaims"; label: string; reach: OwnerReach }> = [];
    if (subject !== "") constraints.push({ property: "boundSubject", label: "boundSubject", reach: ownerReach(subject, issuer.subject, issuer.openOwners) });
    for (const [claim, entries] of Object.entries(boundClaims)) {
        const formats = claim === "sub" ? issuer.subject : issuer.ownerClaims[claim];
        if (!formats || entries.length === 0) continue;
        // A token passes when its claim matches any one entry: one open entry opens the claim.
        const reaches = entries.map((e) => ownerReach(e, formats, issuer.openOwners));
        const open = reaches.find((r) => r.open);
        const owners = [...new Set(reaches.flatMap((r) => (r.open ? [] : r.owners)))].sort();
        constraints.push({ property: "boundClaims", label: `boundClaims.${claim}`, reach: open ?? { open: false, owners } });
    }
    let best: { property: "boundSubject" | "boundClaims"; owners: string[] } | undefined;
    for (const c of constraints) {
        if (!c.reach.open && (!best || c.reach.owners.length < best.owners.length)) best = { property: c.property, owners: c.reach.owners };
    }
    if (best) return { open: false, ...best, why: [] };
    const why = constraints.map((c) => `${c.label} ${c.reach.open ? c.reach.why : ""}`);
    if (subject === "") why.unshift("boundSubject is empty");
    if (!constraints.some((c) => c.property === "boundClaims")) why.push("boundClaims has no owner claim");
    return { open: true, owners: [], property: "boundSubject", why };
}

function identityFindings(s: Record<string, unknown>): TrustFinding[] {
    const out: TrustFinding[] = [];
    const issuerField = text(s.boundIssuer) !== "" || unknown(s.boundIssuer) ? "boundIssuer" : "oidcDiscoveryUrl";
    const issuerValue = s[issuerField];
    const issuer = !unknown(issuerValue) ? publicIssuerOf(text(issuerValue)) : undefined;
    const url = issuer ? issuerLocation(text(issuerValue)) : undefined;
    const pinnedByIssuer = (url && issuer?.pinnedByIssuer?.(url)) ?? false;

    if (issuer && !pinnedByIssuer && !unknown(s.boundSubject) && !unknown(s.boundClaims)) {
        const reach = identityReach(issuer, text(s.boundSubject), claims(s.boundClaims));
        if (reach.open) {
            out.push(
                finding(
                    "identity-public-issuer-unpinned",
                    reach.property,
                    `${issuerField} is ${issuer.name} (${text(issuerValue)}), whose tokens every ${issuer.owner} can get, and nothing pins the owner ` +
                        `(${reach.why.join("; ")}): any ${issuer.owner} can log in as this identity`,
                    `pin the owner, e.g. ${issuer.pinExample}`,
                ),
            );
        } else if (reach.owners.length > 1) {
            out.push(
                finding(
                    "identity-subject-multiple-owners",
                    reach.property,
                    `${reach.property} admits ${reach.owners.length} different owners (${reach.owners.join(", ")}): workloads of each of them log in as the same identity`,
                    `bind one owner per identity (one IdentityOidcAuth per ${issuer.owner}), so that each owner gets only its own permissions`,
                ),
            );
        }
    }

    if (issuer?.perOwnerAudience && !pinnedByIssuer && !unknown(s.boundAudiences)) {
        const audiences = list(s.boundAudiences);
        const open = audiences.length === 0 ? undefined : audiences.find((a) => ownerReach(a, [{ prefix: "", end: "" }]).open);
        if (audiences.length === 0 || open !== undefined) {
            out.push(
                finding(
                    "identity-audience-unbound",
                    "boundAudiences",
                    `${audiences.length === 0 ? "boundAudiences is empty" : `boundAudiences entry "${open}" is a wildcard`}, so tokens ${issuer.name} minted for any other relying party are accepted too`,
                    `set boundAudiences to the audience your workflows request (by default ${issuer.perOwnerAudience}, or a dedicated one such as your Infisical URL)`,
                ),
            );
        }
    }

    if (!unknown(s.accessTokenTrustedIps) && !unknown(s.accessTokenTTL) && !unknown(s.accessTokenMaxTTL) && allowsAnywhere(s.accessTokenTrustedIps)) {
        // Infisical: TTL 0 means the token does not expire by age; max TTL 0 means renewals are unbounded.
        const ttl = num(s.accessTokenTTL) ?? 2592000;
        const maxTtl = num(s.accessTokenMaxTTL) ?? 2592000;
        const lifetime = ttl === 0 || maxTtl === 0 ? Infinity : Math.max(ttl, maxTtl);
        if (lifetime > LONG_TOKEN_SECONDS) {
            out.push(
                finding(
                    "identity-token-anywhere-long-ttl",
                    "accessTokenTrustedIps",
                    `access tokens can be used from any IP address (accessTokenTrustedIps allows 0.0.0.0/0 or ::/0) for up to ${duration(lifetime)} ` +
                        `(accessTokenTTL ${ttl}, accessTokenMaxTTL ${maxTtl}): a leaked token stays useful to anyone for that long`,
                    `restrict accessTokenTrustedIps to your runners' ranges, or shorten accessTokenTTL and accessTokenMaxTTL to at most ${LONG_TOKEN_SECONDS} s (a CI job rarely needs more than an hour)`,
                ),
            );
        }
    }
    return out;
}

// ================================================================================================ OidcSsoConfig

/** Why an email-domain list does not restrict sign-ins (empty, or naming a public mailbox provider), else undefined. */
function openDomains(v: unknown): string | undefined {
    // Domains compare case-insensitively (Infisical's matchesAllowedEmailDomain lower-cases both sides).
    const domains = list(v).map((d) => d.toLowerCase());
    if (domains.length === 0) return "is empty";
    const publicOnes = domains.filter((d) => PUBLIC_MAIL_DOMAINS.includes(wildcardSuffix(d) ?? d));
    return publicOnes.length > 0 ? `includes ${publicOnes.join(", ")}, where anyone can get an address` : undefined;
}

/**
 * The suffix of a wildcard allowed email domain ("*.acme.com" → "acme.com"), as Infisical reads it: any entry
 * starting with "*." (backend/src/lib/validator/email-domain-matcher.ts, `matchesAllowedEmailDomain`).
 */
function wildcardSuffix(domain: string): string | undefined {
    const d = domain.trim().toLowerCase();
    return d.startsWith("*.") && d.slice(2).trim() !== "" ? d.slice(2).trim() : undefined;
}

/** The multi-tenant identity provider an SSO configuration signs people in through, and the field naming it. */
function multiTenantIdp(s: Record<string, unknown>): { field: string; idp: PublicIssuer } | undefined {
    // The identity provider is the discovery URL's ("discoveryURL" configurations) or the issuer ("custom").
    for (const field of ["discoveryURL", "issuer"] as const) {
        if (unknown(s[field]) || text(s[field]) === "") continue;
        const idp = publicIssuerOf(text(s[field]));
        if (idp?.people) return { field, idp };
    }
    return undefined;
}

function ssoFindings(s: Record<string, unknown>): TrustFinding[] {
    if (s.isActive === false || unknown(s.isActive) || unknown(s.allowedEmailDomains)) return [];
    const found = multiTenantIdp(s);
    if (!found) return [];
    const { field, idp } = found;
    const open = openDomains(s.allowedEmailDomains);
    if (open) {
        return [
            finding(
                "sso-multitenant-no-email-domains",
                "allowedEmailDomains",
                `${field} is ${idp.name}, where anyone can have an account, and allowedEmailDomains ${open}: every ${idp.owner} can sign in and join the organization`,
                idp.id === "microsoft-multitenant"
                    ? "use your tenant's endpoint (https://login.microsoftonline.com/<tenant-id>/v2.0) and set allowedEmailDomains to your own domains"
                    : "set allowedEmailDomains to your own domains (e.g. [\"example.com\"])",
            ),
        ];
    }
    const wildcards = list(s.allowedEmailDomains).filter((d) => wildcardSuffix(d) !== undefined);
    if (wildcards.length === 0) return [];
    const suffix = wildcardSuffix(wildcards[0]) as string;
    return [
        finding(
            "sso-multitenant-wildcard-email-domain",
            "allowedEmailDomains",
            `${field} is ${idp.name}, where anyone can have an account, and allowedEmailDomains has the wildcard ${wildcards.map((w) => `"${w}"`).join(", ")}: ` +
                `Infisical lets in ${suffix}, every subdomain of it, and every domain that starts with "${suffix}." or contains ".${suffix}." ` +
                `(e.g. ${suffix}.attacker.example), so whoever registers such a domain, and an account at ${idp.name} with an address there, can sign in and join the organization`,
            `list each domain exactly instead (e.g. ["${suffix}", "eu.${suffix}"])`,
        ),
    ];
}

// ========================================================================================== UnleashOidcSettings

function unleashFindings(s: Record<string, unknown>): TrustFinding[] {
    if (s.enabled === false || unknown(s.enabled) || unknown(s.autoCreate) || s.autoCreate !== true) return [];
    const out: TrustFinding[] = [];
    const idp = !unknown(s.discoverUrl) ? publicIssuerOf(text(s.discoverUrl)) : undefined;
    const open = idp?.people && !unknown(s.emailDomains) ? openDomains(s.emailDomains) : undefined;
    if (idp && open) {
        out.push(
            finding(
                "unleash-autocreate-multitenant-no-email-domains",
                "emailDomains",
                `autoCreate is on, discoverUrl is ${idp.name}, where anyone can have an account, and emailDomains ${open}: every ${idp.owner} gets an Unleash user on first login`,
                "set emailDomains to your own domains (e.g. [\"example.com\"]), or turn autoCreate off and invite users",
            ),
        );
    }
    if (!unknown(s.defaultRootRole) && !unknown(s.defaultRootRoleId)) {
        // A stored defaultRootRoleId wins over defaultRootRole (observed on the real server; see /work/shared/real-servers).
        const id = num(s.defaultRootRoleId);
        const admin = id !== undefined ? id === UNLEASH_ADMIN_ROLE_ID : text(s.defaultRootRole).toLowerCase() === "admin";
        if (admin) {
            out.push(
                finding(
                    "unleash-autocreate-admin",
                    id !== undefined && text(s.defaultRootRole).toLowerCase() !== "admin" ? "defaultRootRoleId" : "defaultRootRole",
                    `autoCreate is on and auto-created users get the Admin root role${id !== undefined ? ` (role id ${id})` : ""}: everyone the identity provider lets in${list(s.emailDomains).length > 0 ? ` with an address at ${list(s.emailDomains).join(", ")}` : ""} becomes an Unleash admin on first login`,
                    'set defaultRootRole to "Viewer" (or "Editor") and grant Admin to named users, e.g. through group syncing',
                ),
            );
        }
    }
    return out;
}

/**
 * The trust findings of one resource's settings. `kind` is "OidcSsoConfig" | "IdentityOidcAuth" |
 * "UnleashOidcSettings" (others have none). Fields holding preview-time unknowns produce no finding.
 */
export function trustFindings(kind: string, settings: Record<string, unknown>): TrustFinding[] {
    switch (kind) {
        case "IdentityOidcAuth":
            return identityFindings(settings);
        case "OidcSsoConfig":
            return ssoFindings(settings);
        case "UnleashOidcSettings":
            return unleashFindings(settings);
        default:
            return [];
    }
}

/** The ids in a resource's `acceptRisks` that are not rules (the engine refuses them). */
export function unknownRuleIds(ids: readonly string[]): string[] {
    return ids.filter((id) => !TRUST_RULE_IDS.includes(id));
}
