/**
 * Secret handling: the marks that show a secret's change, masking, and redaction of error text.
 *
 * The dynamic provider receives every input in plain text (it does not accept secrets), so everything it logs,
 * throws or returns must be free of them. Engine events and diffs mask secret values, so beside each secret the state
 * keeps `<field>Hash`, plain, which changes when the value does: how a changed secret shows in a refresh and in
 * `oidc-drift`. It must not let a reader of the plain state guess a weak secret offline. It is an HMAC-SHA256 of the
 * value under a random 256-bit key kept per resource as a secret output (`hashKey`, encrypted in the state like the
 * secret itself): without the key no guess can be checked, and whoever can decrypt the key can decrypt the secret
 * anyway. It costs microseconds, where the salted scrypt of earlier versions (`scrypt$…`) cost tens of milliseconds of CPU
 * and 16 MB per hash. Those older hashes are still verified, and kept as they are while the value does not change, so
 * an upgrade shows no change. docs/provider.md ("Secrets") has the reasoning.
 */
import { createHmac, randomBytes, scrypt, timingSafeEqual } from "crypto";

export const MASK = "[secret]";

const HMAC = "hmac-sha256";
const KEY_BYTES = 32;

/** A new random key for a resource's secret hashes (base64url). */
export function newHashKey(): string {
    return randomBytes(KEY_BYTES).toString("base64url");
}

/** Whether a recorded value is a key this package made. */
export function isHashKey(value: unknown): value is string {
    return typeof value === "string" && /^[A-Za-z0-9_-]{43}$/.test(value);
}

/** `hmac-sha256$<mac b64url>` of the value under the resource's key. */
export function hashSecret(value: string, key: string): string {
    return `${HMAC}$${createHmac("sha256", Buffer.from(key, "base64url")).update(value, "utf8").digest("base64url")}`;
}

// The salted scrypt hashes of earlier versions (0.1.0 and the first 0.2.0 builds): `scrypt$<salt b64url>$<hash b64url>`, N=2^14, r=8, p=1, 32 bytes.
const SCRYPT = { N: 1 << 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

function scryptOf(value: string, salt: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => scrypt(value, salt, 32, SCRYPT, (err, key) => (err ? reject(err) : resolve(key))));
}

/**
 * Whether `value` is the value that produced `hash` (constant-time comparison): an HMAC under `key`, or a salted
 * scrypt hash of an older version (slow: only asked when the state holds no plain value to compare with).
 */
export async function matchesHash(value: string, hash: unknown, key?: unknown): Promise<boolean> {
    if (typeof hash !== "string") return false;
    const parts = hash.split("$");
    let expected: Buffer;
    let actual: Buffer;
    if (parts.length === 2 && parts[0] === HMAC && isHashKey(key)) {
        expected = Buffer.from(parts[1], "base64url");
        actual = Buffer.from(hashSecret(value, key).split("$")[1], "base64url");
    } else if (parts.length === 3 && parts[0] === "scrypt") {
        expected = Buffer.from(parts[2], "base64url");
        actual = await scryptOf(value, Buffer.from(parts[1], "base64url"));
    } else {
        return false;
    }
    return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/**
 * Replaces every occurrence of the given secret values in a text with "[secret]".
 * Values shorter than 4 characters are ignored (they would mangle ordinary words and cannot be secrets worth the name).
 */
export function redact(text: string, secrets: Iterable<string | undefined>): string {
    let out = text;
    const values = [...new Set([...secrets].filter((s): s is string => typeof s === "string" && s.length >= 4))];
    // Longest first, so that a secret containing another one is replaced whole.
    values.sort((a, b) => b.length - a.length);
    for (const value of values) {
        out = out.split(value).join(MASK);
        // JSON-escaped copies (e.g. inside an echoed request body).
        const escaped = JSON.stringify(value).slice(1, -1);
        if (escaped !== value) out = out.split(escaped).join(MASK);
    }
    return out;
}

/** Every string found in a value, at any depth (to collect the secrets of a connection object). */
export function stringsIn(value: unknown): string[] {
    if (typeof value === "string") return [value];
    if (Array.isArray(value)) return value.flatMap(stringsIn);
    if (typeof value === "object" && value !== null) return Object.values(value).flatMap(stringsIn);
    return [];
}
