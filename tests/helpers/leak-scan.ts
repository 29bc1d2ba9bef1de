/**
 * Leak scanner for tests: no client secret, token or universal-auth secret may appear in an exported state
 * (outside Pulumi's encrypted values), the serialized provider, logs, error messages or diff output.
 *
 * Usage:
 *   const leaks = scanForLeaks({ "stack export": exported, "engine log": log, "error": err.message }, secrets);
 *   expect(leaks).toEqual([]);
 *
 * A value counts as leaked if it appears verbatim, JSON-escaped, URL-encoded or base64/base64url-encoded.
 * Pulumi's encrypted secret objects (`{"4dabf18193072939515e22adb298388d": "1b47…", "ciphertext": "…"}`) are
 * skipped when scanning structured values, since their ciphertext is not plain text.
 */

/** Pulumi's signature key/value for secret values in state exports. */
export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270";

export interface Leak {
    /** Label of the secret (never its value). */
    secret: string;
    /** Label of the haystack it was found in. */
    where: string;
    /** How it was encoded where found. */
    encoding: "plain" | "json" | "url" | "base64" | "base64url" | "jwt-signature";
    /** The surrounding text with the secret itself masked, to locate the leak. */
    context: string;
}

/** Values shorter than this are too generic to scan for (they would match ordinary text). */
export const MIN_SECRET_LENGTH = 6;

function stripEncrypted(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(stripEncrypted);
    if (typeof value === "object" && value !== null) {
        const obj = value as Record<string, unknown>;
        if (obj[SECRET_SIG_KEY] === SECRET_SIG_VALUE) return "[encrypted]";
        return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, stripEncrypted(v)]));
    }
    return value;
}

function asText(value: unknown): string {
    if (typeof value === "string") {
        // A JSON document (e.g. `pulumi stack export`): drop encrypted values before scanning.
        const trimmed = value.trim();
        if ((trimmed.startsWith("{") || trimmed.startsWith("[")) && trimmed.includes(SECRET_SIG_KEY)) {
            try {
                return JSON.stringify(stripEncrypted(JSON.parse(trimmed)));
            } catch {
                return value;
            }
        }
        return value;
    }
    if (value instanceof Error) return `${value.name}: ${value.message}\n${value.stack ?? ""}`;
    try {
        return JSON.stringify(stripEncrypted(value)) ?? String(value);
    } catch {
        return String(value);
    }
}

function encodings(secret: string): Array<[Leak["encoding"], string]> {
    const out: Array<[Leak["encoding"], string]> = [["plain", secret]];
    const json = JSON.stringify(secret).slice(1, -1);
    if (json !== secret) out.push(["json", json]);
    const url = encodeURIComponent(secret);
    if (url !== secret) out.push(["url", url]);
    // base64 of the value alone; a value embedded in a longer base64 text is not detectable this way.
    out.push(["base64", Buffer.from(secret).toString("base64").replace(/=+$/, "")]);
    out.push(["base64url", Buffer.from(secret).toString("base64url")]);
    // A JWT (an OIDC token, a service-account token, an access token) cut or re-encoded still carries its signature.
    const jwt = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.([A-Za-z0-9_-]{20,})$/.exec(secret);
    if (jwt) out.push(["jwt-signature", jwt[1]]);
    return out;
}

/**
 * Finds every occurrence of the secrets in the haystacks.
 * @param haystacks label → text or value (objects are JSON-encoded, errors include their stack)
 * @param secrets label → secret value (undefined and too-short values are ignored)
 */
export function scanForLeaks(haystacks: Record<string, unknown>, secrets: Record<string, string | undefined>): Leak[] {
    const leaks: Leak[] = [];
    for (const [where, hay] of Object.entries(haystacks)) {
        const text = asText(hay);
        for (const [label, secret] of Object.entries(secrets)) {
            if (typeof secret !== "string" || secret.length < MIN_SECRET_LENGTH) continue;
            for (const [encoding, needle] of encodings(secret)) {
                const at = text.indexOf(needle);
                if (at >= 0) {
                    const context = text.slice(Math.max(0, at - 40), at + needle.length + 40).split(needle).join(`<${label}>`);
                    leaks.push({ secret: label, where, encoding, context });
                    break;
                }
            }
        }
    }
    return leaks;
}

/** Throws with a readable report (secret labels only) if anything leaked. */
export function assertNoLeaks(haystacks: Record<string, unknown>, secrets: Record<string, string | undefined>): void {
    const leaks = scanForLeaks(haystacks, secrets);
    if (leaks.length > 0) {
        const lines = leaks.map((l) => `- ${l.secret} found (${l.encoding}) in ${l.where}: …${l.context}…`);
        throw new Error(`secret values leaked:\n${lines.join("\n")}`);
    }
}

/**
 * The credentials of a reference-backend ready line (or any object holding credentials), labelled, for scanning:
 * every token, client secret, admin/read-only token, JWT, service-account token and AWS secret key it holds.
 */
export function credentialsOf(ready: unknown): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (value: unknown, path: string) => {
        if (typeof value === "string") {
            if (/(token|secret|password|apikey|jwt|secretaccesskey|privatekey|authorization)$/i.test(path.split(".").pop()?.replace(/\[\d+\]$/, "") ?? "")) out[path] = value;
            return;
        }
        if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`));
        else if (typeof value === "object" && value !== null) for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
    };
    walk(ready, "");
    return out;
}
