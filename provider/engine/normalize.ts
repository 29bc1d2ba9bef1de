/**
 * Normalizers: the canonical form of a value, used for diffs and outputs.
 *
 * Each one accepts every shape the user may write and every shape the API may return for the same setting, and
 * maps equivalent values to one canonical value (idempotent: normalize(normalize(x)) === normalize(x)). That is what
 * keeps `pulumi preview` quiet for an unchanged resource: order and spacing of comma lists, trailing slashes,
 * null vs "", and the different shapes of trusted IPs all compare equal.
 */
import { isIP } from "net";
import ipaddr from "ipaddr.js";
import { isPlainObject } from "./values";

export type Normalizer = (value: unknown) => unknown;

/** null/undefined → "", strings trimmed. */
export const text: Normalizer = (value) => {
    if (value === null || value === undefined) return "";
    return typeof value === "string" ? value.trim() : value;
};

/** Like {@link text} but keeps inner text verbatim except line endings (PEM certificates). */
export const pem: Normalizer = (value) => {
    if (value === null || value === undefined) return "";
    return typeof value === "string" ? value.replace(/\r\n?/g, "\n").trim() : value;
};

/** Booleans as booleans, with a fallback for null/undefined. */
export function bool(fallback: boolean): Normalizer {
    return (value) => (value === null || value === undefined ? fallback : value);
}

/** Numbers (also numeric strings, as some APIs send them) as numbers. */
export const num: Normalizer = (value) => {
    if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
    return value;
};

/**
 * URLs: scheme and host lower-cased, default port dropped, trailing slashes of the path dropped.
 * Values that are not absolute URLs are only trimmed (check reports them).
 */
export const url: Normalizer = (value) => {
    if (value === null || value === undefined) return "";
    if (typeof value !== "string") return value;
    const trimmed = value.trim();
    if (trimmed === "") return "";
    let parsed: URL;
    try {
        parsed = new URL(trimmed);
    } catch {
        return trimmed.replace(/\/+$/, "");
    }
    const path = parsed.pathname.replace(/\/+$/, "");
    return `${parsed.protocol}//${parsed.host}${path}${parsed.search}${parsed.hash}`;
};

function splitList(value: unknown, separator: RegExp): string[] | undefined {
    if (value === null || value === undefined) return [];
    if (typeof value === "string") return value.split(separator);
    if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value as string[];
    return undefined;
}

/**
 * Comma-separated lists (email domains, audiences, claim values), written either as "a, b" or ["a", "b"]:
 * items trimmed, empty items dropped, duplicates dropped, sorted, joined with ",".
 */
export function commaList(options: { lowercase?: boolean } = {}): Normalizer {
    return (value) => {
        const items = splitList(value, /,/);
        if (!items) return value;
        const cleaned = items.map((s) => s.trim()).filter((s) => s !== "").map((s) => (options.lowercase ? s.toLowerCase() : s));
        return [...new Set(cleaned)].sort().join(",");
    };
}

/** Space-separated lists whose order matters (OIDC `acr_values`): whitespace collapsed, order kept. */
export const spaceList: Normalizer = (value) => {
    const items = splitList(value, /\s+/);
    if (!items) return value;
    return items
        .flatMap((s) => s.split(/\s+/))
        .filter((s) => s !== "")
        .join(" ");
};

/** The canonical CIDR of an IP or CIDR string (network address, compressed IPv6), or undefined if invalid. */
export function canonicalCidr(input: string): string | undefined {
    const value = input.trim();
    try {
        if (value.includes("/")) {
            const [addr, prefixText] = value.split("/");
            if (!/^\d{1,3}$/.test(prefixText ?? "") || isIP(addr) === 0) return undefined;
            const parsed = ipaddr.parse(addr);
            const prefix = Number(prefixText);
            if (prefix > (parsed.kind() === "ipv4" ? 32 : 128)) return undefined;
            const network =
                parsed.kind() === "ipv4"
                    ? ipaddr.IPv4.networkAddressFromCIDR(`${parsed.toString()}/${prefix}`)
                    : ipaddr.IPv6.networkAddressFromCIDR(`${parsed.toString()}/${prefix}`);
            return `${network.toString()}/${prefix}`;
        }
        if (isIP(value) === 0) return undefined;
        const parsed = ipaddr.parse(value);
        return `${parsed.toString()}/${parsed.kind() === "ipv4" ? 32 : 128}`;
    } catch {
        return undefined;
    }
}

/** One trusted-IP entry in any of its shapes, as the string the user meant ("10.0.0.0/8", "1.2.3.4"). */
export function trustedIpText(entry: unknown): string | undefined {
    if (typeof entry === "string") return entry;
    if (isPlainObject(entry) && typeof entry.ipAddress === "string") {
        // The API returns {ipAddress, type, prefix}; inputs may be {ipAddress: "10.0.0.0/8"}.
        const prefix = entry.prefix;
        if (!entry.ipAddress.includes("/") && (typeof prefix === "number" || (typeof prefix === "string" && prefix !== ""))) {
            return `${entry.ipAddress}/${prefix}`;
        }
        return entry.ipAddress;
    }
    return undefined;
}

/**
 * Trusted IPs: strings, `{ipAddress}` objects and the API's `{ipAddress, type, prefix}` all become sorted, unique
 * canonical CIDRs ("1.2.3.4" → "1.2.3.4/32", "10.1.2.3/8" → "10.0.0.0/8"). Invalid entries are kept trimmed.
 */
export const trustedIps: Normalizer = (value) => {
    if (value === null || value === undefined) return value;
    if (!Array.isArray(value)) return value;
    const out = value.map((entry) => {
        const txt = trustedIpText(entry);
        if (txt === undefined) return entry;
        return canonicalCidr(txt) ?? txt.trim();
    });
    if (out.some((v) => typeof v !== "string")) return out;
    return [...new Set(out as string[])].sort();
};

/**
 * Bound claims: `{claim: "a, b" | ["a", "b"]}` → `{claim: "a,b"}` (values as comma lists, sorted);
 * null → {}.
 */
export const claims: Normalizer = (value) => {
    if (value === null || value === undefined) return {};
    if (!isPlainObject(value)) return value;
    const list = commaList();
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
        out[key.trim()] = list(value[key]);
    }
    return out;
};

const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
const EMAIL_DOMAIN = new RegExp(`^(?=.{1,253}$)(?:(?:${LABEL}\\.)+[a-z]{2,63}|\\*\\.${LABEL}(?:\\.${LABEL})*)$`, "i");

/**
 * Hostname of an email domain (no scheme, no @, no path), or a wildcard "*.<labels>" as Infisical matches it
 * (`matchesAllowedEmailDomain`: any entry starting with "*.", e.g. "*.example.com" and "*.infisical").
 */
export function isDomain(value: string): boolean {
    return EMAIL_DOMAIN.test(value);
}

/** An absolute http(s) URL without credentials. */
export function httpUrlProblem(value: string): string | undefined {
    let parsed: URL;
    try {
        parsed = new URL(value.trim());
    } catch {
        return "must be an absolute URL (https://...)";
    }
    if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return "must be an http(s) URL";
    if (parsed.username || parsed.password) return "must not contain credentials (user:password@)";
    return undefined;
}

/**
 * Values the server stores and compares byte for byte (Infisical's `boundIssuer`, `boundSubject`,
 * `oidcDiscoveryUrl` are not even trimmed): null/undefined → "", everything else as is.
 */
export const exact: Normalizer = (value) => (value === null || value === undefined ? "" : value);

/** A set of OAuth scopes written "a b", "a,b" or ["a", "b"]: order, duplicates and separators do not matter. */
export const scopeSet: Normalizer = (value) => {
    const items = splitList(value, /[\s,]+/);
    if (!items) return value;
    return [...new Set(items.flatMap((s) => s.split(/[\s,]+/)).filter((s) => s !== ""))].sort().join(" ");
};

/**
 * How Infisical stores a comma list it rewrites: split at ",", each part trimmed, joined with ", " (empty parts
 * kept). Infisical/infisical backend/src/services/identity-oidc-auth/identity-oidc-auth-validators.ts,
 * validateOidcBoundClaimsField.
 */
export function commaSpaced(value: string): string {
    return value
        .split(",")
        .map((part) => part.trim())
        .join(", ");
}

/**
 * A map of names to strings that the server stores with each value rewritten by {@link commaSpaced} (claim metadata
 * mapping): null → {}, keys in order, values as stored. Equal exactly when the server stores the same.
 */
export const commaSpacedMap: Normalizer = (value) => {
    if (value === null || value === undefined) return {};
    if (!isPlainObject(value)) return value;
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, typeof value[k] === "string" ? commaSpaced(value[k] as string) : value[k]]));
};
