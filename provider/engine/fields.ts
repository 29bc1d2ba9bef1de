/**
 * Zod building blocks for resource schemas, with messages that say which rule failed (the engine prefixes the
 * property name). They validate raw inputs; normalization is the field rules' job.
 */
import { z } from "zod";
import { canonicalCidr, httpUrlProblem, isDomain, trustedIpText } from "./normalize";

export const str = () => z.string({ error: "must be a string" });
export const nonEmpty = () => str().refine((v) => v.trim() !== "", { message: "must not be empty" });
export const bool = () => z.boolean({ error: "must be a boolean (true or false)" });

/** An absolute http(s) URL; "" allowed when `allowEmpty`. */
export function httpUrl(options: { allowEmpty?: boolean } = {}) {
    return str().superRefine((value, ctx) => {
        if (value.trim() === "") {
            if (!options.allowEmpty) ctx.addIssue({ code: "custom", message: "must not be empty (an absolute http(s) URL)" });
            return;
        }
        const problem = httpUrlProblem(value);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
    });
}

/** One of the given values, with a message listing them. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
    return z.enum(values, { error: `must be one of ${values.map((v) => `"${v}"`).join(", ")}` });
}

/** An integer in [min, max]. */
export function intRange(min: number, max?: number) {
    const range = max === undefined ? `>= ${min}` : `between ${min} and ${max}`;
    return z
        .number({ error: "must be a number" })
        .refine((v) => Number.isInteger(v), { message: "must be a whole number" })
        .refine((v) => v >= min && (max === undefined || v <= max), { message: `must be ${range}` });
}

/** A comma-separated list written as "a, b" or ["a", "b"]; each item checked by `item`. */
export function commaListInput(item?: { test: (s: string) => boolean; what: string }) {
    return z.union([str(), z.array(str(), { error: "must be a comma-separated string or a list of strings" })], {
        error: "must be a comma-separated string or a list of strings",
    }).superRefine((value, ctx) => {
        if (!item) return;
        const items = (Array.isArray(value) ? value : value.split(",")).map((s) => s.trim()).filter((s) => s !== "");
        const bad = items.filter((s) => !item.test(s));
        if (bad.length > 0) ctx.addIssue({ code: "custom", message: `not ${item.what}: ${bad.map((b) => `"${b}"`).join(", ")}` });
    });
}

export const emailDomains = () => commaListInput({ test: isDomain, what: "an email domain (e.g. example.com)" });

/** Trusted IPs: ["10.0.0.0/8", "1.2.3.4"] or [{ipAddress: "10.0.0.0/8"}]; at least one. */
export function trustedIpsInput() {
    const entry = z.union([str(), z.object({ ipAddress: str() }).loose()], { error: 'each entry must be an IP/CIDR string or {ipAddress: "..."}' });
    return z
        .array(entry, { error: "must be a list of IPs or CIDR ranges" })
        .min(1, { message: "must list at least one IP or CIDR range (use 0.0.0.0/0 and ::/0 to allow any)" })
        .superRefine((list, ctx) => {
            list.forEach((e, i) => {
                const txt = trustedIpText(e);
                if (txt === undefined || canonicalCidr(txt) === undefined) {
                    ctx.addIssue({ code: "custom", path: [i], message: `"${txt ?? JSON.stringify(e)}" is not a valid IPv4, IPv6 or CIDR block` });
                }
            });
        });
}

/** Bound claims: {claim: "a, b" | ["a", "b"]}. */
export function claimsInput() {
    return z
        .record(str(), z.union([str(), z.array(str())], { error: "each claim value must be a string or a list of strings" }), {
            error: "must be an object mapping claim names to allowed values",
        })
        .superRefine((rec, ctx) => {
            for (const key of Object.keys(rec)) {
                if (key.trim() === "") ctx.addIssue({ code: "custom", message: "claim names must not be empty" });
            }
        });
}

/** A PEM certificate bundle, or "". */
export function pemInput() {
    return str().refine((v) => v.trim() === "" || /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(v), {
        message: "must be a PEM-encoded certificate (-----BEGIN CERTIFICATE----- ...) or empty",
    });
}

/** The issuer a discovery URL implies (the URL without /.well-known/openid-configuration). */
export function issuerOfDiscoveryUrl(url: string): string {
    return url.trim().replace(/\/+$/, "").replace(/\/\.well-known\/openid-configuration$/, "");
}

/** A list input sent as one string (the API takes "a, b"); a string is sent as written. */
export function joinList(separator: string) {
    return (v: unknown) => (Array.isArray(v) ? v.map((x) => String(x).trim()).filter(Boolean).join(separator) : v);
}

/** A map of names to strings, e.g. {metadataKey: "claim.path"}. */
export function stringMapInput() {
    return z
        .record(str(), str(), { error: "must be an object mapping names to strings" })
        .superRefine((rec, ctx) => {
            for (const [k, v] of Object.entries(rec)) {
                if (k.trim() === "") ctx.addIssue({ code: "custom", message: "names must not be empty" });
                if (v.trim() === "") ctx.addIssue({ code: "custom", path: [k], message: "must not be empty" });
            }
        });
}
