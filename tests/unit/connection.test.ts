import * as http from "http";
import { AddressInfo } from "net";
import {
    clearTokenCache,
    infisicalClient,
    resolveInfisical,
    resolveUnleash,
    setStackConfig,
    unleashClient,
} from "../../provider/connection";
import { closeAllAgents } from "../../provider/http/client";
import { ApiError, ProviderError } from "../../provider/http/errors";
import { randomBytes, scryptSync } from "crypto";
import { hashSecret, isHashKey, matchesHash, newHashKey, redact } from "../../provider/engine/secrets";

function config(values: Record<string, string>) {
    setStackConfig({ get: (k) => values[k] });
}

const savedEnv = { ...process.env };
beforeEach(() => {
    for (const k of Object.keys(process.env)) if (/^(INFISICAL_|UNLEASH_|AUTH_TOKEN)/.test(k)) delete process.env[k];
    setStackConfig(undefined);
    clearTokenCache();
});
afterAll(async () => {
    process.env = savedEnv;
    await closeAllAgents();
});

describe("where the connection comes from", () => {
    test("Infisical: connection argument, then stack config, then environment, then the cloud default", () => {
        expect(resolveInfisical(undefined)).toMatchObject({ url: "https://app.infisical.com", urlFrom: "default", auth: undefined });
        process.env.INFISICAL_HOST = "https://env.example.com";
        process.env.INFISICAL_TOKEN = "env-token-value";
        expect(resolveInfisical(undefined)).toMatchObject({ url: "https://env.example.com", urlFrom: "env", auth: { method: "token", token: "env-token-value" }, authFrom: "env" });
        config({ "infisical:host": "https://cfg.example.com/api", "infisical:token": "cfg-token-value" });
        expect(resolveInfisical(undefined)).toMatchObject({ url: "https://cfg.example.com", urlFrom: "config", auth: { token: "cfg-token-value" }, authFrom: "config" });
        expect(resolveInfisical({ host: "https://arg.example.com/", token: "arg-token-value" })).toMatchObject({
            url: "https://arg.example.com",
            urlFrom: "connection",
            auth: { token: "arg-token-value" },
            authFrom: "connection",
        });
    });

    test("credentials are taken as a unit from one layer (never a token from one and a client id from another)", () => {
        config({ "infisical:token": "cfg-token-value" });
        process.env.INFISICAL_UNIVERSAL_AUTH_CLIENT_ID = "env-client-id";
        process.env.INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET = "env-client-secret";
        expect(resolveInfisical(undefined).auth).toEqual({ method: "token", token: "cfg-token-value" });
        // The URL may still come from another layer.
        expect(resolveInfisical({ host: "https://arg.example.com" })).toMatchObject({ urlFrom: "connection", authFrom: "config" });
        setStackConfig(undefined);
        expect(resolveInfisical(undefined).auth).toEqual({ method: "universal", clientId: "env-client-id", clientSecret: "env-client-secret" });
    });

    test("universal auth needs both halves; the message names where the half came from, not its value", () => {
        config({ "infisical:clientId": "cfg-client-id" });
        const err = (() => {
            try {
                resolveInfisical(undefined);
            } catch (e) {
                return e as Error;
            }
        })();
        expect(err).toBeInstanceOf(ProviderError);
        expect(err?.message).toContain("stack config infisical:clientSecret");
        expect(err?.message).toContain("clientSecret is missing");
        expect(err?.message).not.toContain("cfg-client-id");
    });

    test("Unleash: UNLEASH_URL and AUTH_TOKEN like the Terraform provider; config keys unleash:url and unleash:apiToken", () => {
        expect(resolveUnleash(undefined)).toMatchObject({ url: undefined, apiToken: undefined });
        process.env.UNLEASH_URL = "https://env.unleash.example.com/api/";
        process.env.AUTH_TOKEN = "env-unleash-token";
        expect(resolveUnleash(undefined)).toMatchObject({ url: "https://env.unleash.example.com", apiToken: "env-unleash-token", authFrom: "env" });
        config({ "unleash:url": "https://cfg.unleash.example.com", "unleash:apiToken": "cfg-unleash-token" });
        expect(resolveUnleash(undefined)).toMatchObject({ url: "https://cfg.unleash.example.com", apiToken: "cfg-unleash-token", authFrom: "config" });
        expect(resolveUnleash({ apiToken: "arg-token" })).toMatchObject({ url: "https://cfg.unleash.example.com", apiToken: "arg-token", authFrom: "connection" });
    });

    test("URLs with credentials or without a scheme are refused", () => {
        expect(() => resolveInfisical({ host: "https://user:pw@x.example.com", token: "t" })).toThrow("must not contain credentials");
        expect(() => resolveUnleash({ url: "unleash.example.com" })).toThrow("must be an absolute URL");
    });

    test("a configure source that throws for unknown keys is tolerated", () => {
        setStackConfig({
            get: (k) => {
                if (k === "unleash:url") return "https://u.example.com";
                throw new Error("Missing required configuration key");
            },
        });
        expect(resolveUnleash(undefined).url).toBe("https://u.example.com");
    });

    test("clients refuse to start without credentials, saying how to provide them", () => {
        expect(() => infisicalClient(resolveInfisical(undefined))).toThrow(/infisical:token/);
        expect(() => unleashClient(resolveUnleash({ url: "https://u.example.com" }))).toThrow(/unleash:apiToken/);
        expect(() => unleashClient(resolveUnleash({ apiToken: "x-token" }))).toThrow(/unleash:url/);
    });
});

describe("universal auth", () => {
    let server: http.Server;
    let url: string;
    let logins = 0;
    let expiresIn = 3600;
    const issued: string[] = [];

    beforeAll(async () => {
        server = http.createServer((req, res) => {
            let body = "";
            req.on("data", (c) => (body += c));
            req.on("end", () => {
                res.setHeader("content-type", "application/json");
                if (req.url === "/api/v1/auth/universal-auth/login") {
                    const creds = JSON.parse(body);
                    if (creds.clientId !== "ua-client-id" || creds.clientSecret !== "ua-client-secret") {
                        res.statusCode = 401;
                        return res.end(JSON.stringify({ reqId: "r-login", statusCode: 401, message: "Invalid credentials", error: "Unauthorized" }));
                    }
                    logins++;
                    const token = `access-token-${logins}`;
                    issued.push(token);
                    return res.end(JSON.stringify({ accessToken: token, expiresIn, accessTokenMaxTTL: expiresIn, tokenType: "Bearer" }));
                }
                const auth = req.headers.authorization ?? "";
                if (auth === `Bearer ${issued[issued.length - 1]}`) return res.end(JSON.stringify({ ok: true, auth }));
                res.statusCode = 401;
                res.end(JSON.stringify({ reqId: "r-api", statusCode: 401, message: "Token expired", error: "Unauthorized" }));
            });
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
        await closeAllAgents();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    beforeEach(() => {
        logins = 0;
        issued.length = 0;
        expiresIn = 3600;
    });

    test("client id/secret are exchanged once and the token is cached for concurrent and later calls", async () => {
        const client = infisicalClient(resolveInfisical({ host: url, clientId: "ua-client-id", clientSecret: "ua-client-secret" }));
        await Promise.all([1, 2, 3, 4].map(() => client.request({ method: "GET", path: "/api/v1/x" })));
        const again = infisicalClient(resolveInfisical({ host: url, clientId: "ua-client-id", clientSecret: "ua-client-secret" }));
        const res = await again.request({ method: "GET", path: "/api/v1/x" });
        expect(res.body).toEqual({ ok: true, auth: "Bearer access-token-1" });
        expect(logins).toBe(1);
    });

    test("a token is renewed before it expires", async () => {
        expiresIn = 1; // renewed at 80% of its life
        const client = infisicalClient(resolveInfisical({ host: url, clientId: "ua-client-id", clientSecret: "ua-client-secret" }));
        await client.request({ method: "GET", path: "/api/v1/x" });
        await new Promise((r) => setTimeout(r, 900));
        const res = await client.request({ method: "GET", path: "/api/v1/x" });
        expect(res.body).toEqual({ ok: true, auth: "Bearer access-token-2" });
        expect(logins).toBe(2);
    });

    test("a token rejected early (401) is replaced once", async () => {
        const client = infisicalClient(resolveInfisical({ host: url, clientId: "ua-client-id", clientSecret: "ua-client-secret" }));
        await client.request({ method: "GET", path: "/api/v1/x" });
        issued.push("revoked-elsewhere"); // the server no longer accepts access-token-1
        const res = await client.request({ method: "GET", path: "/api/v1/x" });
        expect(res.body).toEqual({ ok: true, auth: "Bearer access-token-2" });
    });

    test("wrong client credentials: a clear error without the secret", async () => {
        const client = infisicalClient(resolveInfisical({ host: url, clientId: "ua-client-id", clientSecret: "wrong-secret-value" }));
        const err = await client.request({ method: "GET", path: "/api/v1/x" }).catch((e) => e);
        expect(err).toBeInstanceOf(ApiError);
        expect(err.message).toContain("POST /api/v1/auth/universal-auth/login returned 401 Unauthorized: Invalid credentials (reqId: r-login)");
        expect(err.message).toContain("universal auth login was refused");
        expect(err.message).not.toContain("wrong-secret-value");
    });
});

describe("secrets", () => {
    test("HMAC hashes: the same value under the same key matches, another value or another key does not, the value never shows", async () => {
        const key = newHashKey();
        expect(isHashKey(key)).toBe(true);
        const h1 = hashSecret("client-secret-1", key);
        expect(h1).toMatch(/^hmac-sha256\$[A-Za-z0-9_-]{43}$/);
        expect(h1).not.toContain("client-secret-1");
        expect(hashSecret("client-secret-1", key)).toBe(h1);
        expect(hashSecret("client-secret-1", newHashKey())).not.toBe(h1);
        expect(await matchesHash("client-secret-1", h1, key)).toBe(true);
        expect(await matchesHash("client-secret-2", h1, key)).toBe(false);
        // Without the key (what a reader of the plain state has), nothing can be verified.
        expect(await matchesHash("client-secret-1", h1)).toBe(false);
        expect(await matchesHash("client-secret-1", h1, newHashKey())).toBe(false);
        expect(await matchesHash("client-secret-1", undefined, key)).toBe(false);
        expect(await matchesHash("client-secret-1", "plain", key)).toBe(false);
    });

    test("the salted scrypt hashes of earlier versions are still verified", async () => {
        // The 0.1.0 / first 0.2.0 format, made here independently: scrypt N=2^14, r=8, p=1, 32 bytes, 16-byte salt.
        const salt = randomBytes(16);
        const legacy = `scrypt$${salt.toString("base64url")}$${scryptSync("client-secret-1", salt, 32, { N: 1 << 14, r: 8, p: 1, maxmem: 64 << 20 }).toString("base64url")}`;
        expect(await matchesHash("client-secret-1", legacy)).toBe(true);
        expect(await matchesHash("client-secret-2", legacy)).toBe(false);
    });

    test("redact replaces every occurrence, JSON-escaped ones too", () => {
        expect(redact('token "ab\\"cd-123" and ab"cd-123', ['ab"cd-123'])).toBe('token "[secret]" and [secret]');
        expect(redact("short a b", ["a", undefined])).toBe("short a b");
    });
});
