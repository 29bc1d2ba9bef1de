/**
 * Access tokens of the Infisical logins, one session per server and credential, cached per process and renewed
 * before they expire; concurrent requests share one login. A login method's secrets (JWTs read, service-account
 * tokens, AWS signatures, the access tokens obtained) are remembered by its session, so that every text leaving the
 * provider is redacted of them.
 */
import { createHash } from "crypto";
import { HttpClient, type ErrorInfo, type TlsSettings } from "../http/client";
import { AUTH_METHODS } from "./methods";
import type { ResolvedAuth } from "./resolve";
import type { AuthMethod, AuthMethodName } from "./types";

/** Logins performed by this process, per method (tests, benchmarks). */
export const loginCounts: Record<AuthMethodName, number> = { token: 0, universal: 0, oidc: 0, kubernetes: 0, aws_iam: 0 };
/** Universal-auth logins performed by this process (kept for the tests and benchmarks that count them). */
export let universalAuthLogins = 0;

interface CachedToken {
    accessToken: string;
    /** Epoch ms after which the token must be renewed (a margin before its real expiry). */
    renewAt: number;
}

export class LoginSession {
    private cached?: CachedToken;
    private pending?: Promise<CachedToken>;
    private readonly seen = new Set<string>();

    private constructor(
        readonly url: string,
        readonly auth: ResolvedAuth,
        private readonly tls: TlsSettings,
        private readonly urlSource: string,
    ) {
        for (const s of AUTH_METHODS[auth.method].secrets(auth.settings)) this.remember(s);
    }

    /** The process-wide session of this server and credential. */
    static for(url: string, auth: ResolvedAuth, tls: TlsSettings = {}, urlSource = "the connection"): LoginSession {
        const method = AUTH_METHODS[auth.method];
        const key = createHash("sha256")
            .update(JSON.stringify([url, auth.method, auth.settings.organizationSlug?.value ?? "", tls.caCert ?? "", ...method.cacheKey(auth.settings)]))
            .digest("hex");
        let session = sessions.get(key);
        if (!session) {
            session = new LoginSession(url, auth, tls, urlSource);
            sessions.set(key, session);
        }
        return session;
    }

    private remember(value: string | undefined): void {
        if (typeof value === "string" && value.length >= 4) this.seen.add(value);
    }

    /** Every secret value this session has held. */
    secrets(): string[] {
        return [...this.seen];
    }

    get logsIn(): boolean {
        return AUTH_METHODS[this.auth.method].logsIn;
    }

    /** A valid access token: the cached one, or a fresh login (shared by concurrent callers). */
    async accessToken(): Promise<string> {
        if (this.cached && Date.now() < this.cached.renewAt) return this.cached.accessToken;
        this.pending ??= this.login().finally(() => (this.pending = undefined));
        this.cached = await this.pending;
        return this.cached.accessToken;
    }

    /** Forgets the cached token (after the server refused it): the next request logs in again. */
    invalidate(): void {
        this.cached = undefined;
    }

    private async login(): Promise<CachedToken> {
        const method = AUTH_METHODS[this.auth.method];
        const client = new HttpClient({
            baseUrl: this.url,
            service: "Infisical",
            urlSource: this.urlSource,
            tls: this.tls,
            secrets: () => this.secrets(),
            hint: (info) => loginHint(method, this.auth, info),
        });
        const result = await method.login({
            settings: this.auth.settings,
            from: this.auth.from,
            url: this.url,
            client,
            env: process.env,
            secret: (v) => this.remember(v),
        });
        this.remember(result.accessToken);
        if (!method.logsIn) return { accessToken: result.accessToken, renewAt: Number.POSITIVE_INFINITY };
        loginCounts[this.auth.method]++;
        if (this.auth.method === "universal") universalAuthLogins++;
        const ttlMs = (result.expiresIn && result.expiresIn > 0 ? result.expiresIn : 300) * 1000;
        // Renew at 80% of the lifetime, and at least a minute early for long-lived tokens.
        const margin = Math.min(60_000, ttlMs * 0.2);
        return { accessToken: result.accessToken, renewAt: Date.now() + ttlMs - margin };
    }
}

/**
 * How to fix a failed login: a refused sub-organization scope (the login services' "Sub organization with slug …
 * not found" 404 and "Identity not authorized to access sub organization …" 401), the method's refusal (4xx), or
 * the 500 a method is known to get for a refusal.
 */
function loginHint(method: AuthMethod, auth: ResolvedAuth, info: ErrorInfo): string | undefined {
    const slug = auth.settings.organizationSlug;
    if (slug && /sub organization/i.test(info.apiMessage ?? "")) {
        return `the login is scoped to the sub-organization "${slug.value}" (from ${slug.source}): use the slug of a sub-organization of the identity's organization that the identity is a member of, or unset it to act in the identity's own organization`;
    }
    if (info.status >= 400 && info.status < 500 && info.status !== 429) return method.refusedHint(auth.settings);
    if (info.status === 500 && method.serverErrorHint) return method.serverErrorHint(auth.settings, process.env);
    return undefined;
}

const sessions = new Map<string, LoginSession>();

/** Forgets every session and cached access token (tests). */
export function clearTokenCache(): void {
    sessions.clear();
}
