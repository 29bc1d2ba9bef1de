/**
 * Secret handling: salted hashes of secret values, masking, and redaction of error text.
 *
 * The dynamic provider receives every input in plain text (it does not accept secrets), so everything it logs,
 * throws or returns must be free of them. Beside each secret the state keeps a salted, slow hash: engine events and
 * diffs mask secret values, and the hash is how a change of one still shows; it is useless to recover the value.
 */
import { randomBytes, scrypt, timingSafeEqual } from "crypto";

export const MASK = "[secret]";

const SCHEME = "scrypt";
// N=2^14 keeps a hash at a few milliseconds while making offline guessing of weak secrets expensive.
const SCRYPT = { N: 1 << 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEY_LEN = 32;

function derive(value: string, salt: Buffer): Promise<Buffer> {
    // Asynchronous: runs on the thread pool, so many resources in one process do not block each other.
    return new Promise((resolve, reject) => scrypt(value, salt, KEY_LEN, SCRYPT, (err, key) => (err ? reject(err) : resolve(key))));
}

/** `scrypt$<salt b64url>$<hash b64url>` of the value, with a fresh random salt unless one is given. */
export async function hashSecret(value: string, salt?: string): Promise<string> {
    const saltBytes = salt ? Buffer.from(salt, "base64url") : randomBytes(16);
    return `${SCHEME}$${saltBytes.toString("base64url")}$${(await derive(value, saltBytes)).toString("base64url")}`;
}

/** The salt of a stored hash, if it is one of ours. */
export function saltOf(hash: unknown): string | undefined {
    if (typeof hash !== "string") return undefined;
    const parts = hash.split("$");
    return parts.length === 3 && parts[0] === SCHEME ? parts[1] : undefined;
}

/** Whether `value` is the value that produced `hash` (constant-time comparison). */
export async function matchesHash(value: string, hash: unknown): Promise<boolean> {
    const salt = saltOf(hash);
    if (!salt || typeof hash !== "string") return false;
    const expected = Buffer.from(hash.split("$")[2] ?? "", "base64url");
    const actual = await derive(value, Buffer.from(salt, "base64url"));
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
