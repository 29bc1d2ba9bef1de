/**
 * Key material and secret handling of the reference backend.
 *
 * - One 256-bit master key per data directory (`master.key`, mode 0600), created on first start.
 * - Secrets at rest (SSO client ids/secrets, CA certificates, Unleash client secrets, the seeded credentials) are
 *   encrypted with AES-256-GCM under that key; the record they belong to is bound as additional data, so a
 *   ciphertext copied onto another record does not decrypt.
 * - Client secrets that only need checking (universal auth) are also kept as scrypt hashes, as Infisical does
 *   with bcrypt.
 * - The key that signs Infisical access tokens (HS256) is derived from the master key with HKDF.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, randomInt, scrypt, scryptSync, timingSafeEqual } from "crypto";
import { promises as fs } from "fs";
import * as path from "path";

export const MASTER_KEY_FILE = "master.key";

/** Reads the data directory's master key, creating it (exclusively, 0600) when the directory has none. */
export async function loadOrCreateMasterKey(dataDir: string): Promise<Buffer> {
    const file = path.join(dataDir, MASTER_KEY_FILE);
    try {
        return parseKey(await fs.readFile(file, "utf8"), file);
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    const key = randomBytes(32);
    try {
        const handle = await fs.open(file, "wx", 0o600);
        try {
            await handle.writeFile(`${key.toString("hex")}\n`, "utf8");
            await handle.sync();
        } finally {
            await handle.close();
        }
        return key;
    } catch (err) {
        // Another process created it first: use theirs.
        if ((err as NodeJS.ErrnoException).code === "EEXIST") return parseKey(await fs.readFile(file, "utf8"), file);
        throw err;
    }
}

function parseKey(text: string, file: string): Buffer {
    const hex = text.trim();
    if (!/^[0-9a-f]{64}$/i.test(hex)) throw new Error(`${file} is not a 256-bit hex key`);
    return Buffer.from(hex, "hex");
}

/** AES-256-GCM with a per-value random IV; the text form is `v1.<iv>.<tag>.<ciphertext>` (base64url). */
export class Vault {
    private readonly key: Buffer;

    constructor(masterKey: Buffer) {
        this.key = Buffer.from(hkdfSync("sha256", masterKey, Buffer.alloc(0), "reference-backend/at-rest/v1", 32));
    }

    encrypt(plain: string, context: string): string {
        const iv = randomBytes(12);
        const cipher = createCipheriv("aes-256-gcm", this.key, iv);
        cipher.setAAD(Buffer.from(context, "utf8"));
        const ct = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
        return ["v1", iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), ct.toString("base64url")].join(".");
    }

    decrypt(text: string, context: string): string {
        const [version, iv, tag, ct] = text.split(".");
        if (version !== "v1" || iv === undefined || tag === undefined || ct === undefined) throw new Error("not an encrypted value");
        const decipher = createDecipheriv("aes-256-gcm", this.key, Buffer.from(iv, "base64url"));
        decipher.setAAD(Buffer.from(context, "utf8"));
        decipher.setAuthTag(Buffer.from(tag, "base64url"));
        return Buffer.concat([decipher.update(Buffer.from(ct, "base64url")), decipher.final()]).toString("utf8");
    }
}

/** The HS256 key for Infisical access tokens (Infisical's AUTH_SECRET). */
export function deriveJwtSecret(masterKey: Buffer): Uint8Array {
    return new Uint8Array(hkdfSync("sha256", masterKey, Buffer.alloc(0), "reference-backend/infisical-auth-secret/v1", 32));
}

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };

/** A salted scrypt hash, `scrypt$<salt>$<hash>`. */
export function hashSecret(secret: string): string {
    const salt = randomBytes(16);
    const hash = scryptSync(secret, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
    return `scrypt$${salt.toString("base64url")}$${hash.toString("base64url")}`;
}

/** Checks a secret against {@link hashSecret}'s hash (off the event loop). */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
    const [scheme, salt, hash] = stored.split("$");
    if (scheme !== "scrypt" || !salt || !hash) return false;
    const expected = Buffer.from(hash, "base64url");
    const actual = await new Promise<Buffer>((resolve, reject) =>
        scrypt(secret, Buffer.from(salt, "base64url"), expected.length, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p }, (err, key) => (err ? reject(err) : resolve(key))),
    );
    return timingSafeEqual(actual, expected);
}

/** Constant-time comparison of two strings. */
export function sameSecret(a: string, b: string): boolean {
    const x = Buffer.from(a, "utf8");
    const y = Buffer.from(b, "utf8");
    return x.length === y.length && timingSafeEqual(x, y);
}

export function randomHex(bytes: number): string {
    return randomBytes(bytes).toString("hex");
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** Infisical-style request ids: `req-` and 14 alphanumerics. */
export function requestId(): string {
    let out = "req-";
    for (let i = 0; i < 14; i++) out += ALNUM[randomInt(ALNUM.length)];
    return out;
}
