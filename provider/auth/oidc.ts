/**
 * oidc: a machine identity id and a JWT from the job's identity provider, exchanged at
 * `POST /api/v1/auth/oidc-auth/login` {identityId, jwt} (Infisical source
 * backend/src/server/routes/v1/identity-oidc-auth-router.ts; Terraform internal/client/login.go OidcMachineIdentityAuth).
 *
 * The JWT is read again at each login (CI tokens live minutes), from, in order:
 * 1. the environment variable the user names (`oidcTokenEnvVar`, default `INFISICAL_AUTH_JWT`: Terraform's name).
 *    This is also how GitLab CI works: `id_tokens: { INFISICAL_AUTH_JWT: { aud: … } }` puts the token in that variable;
 * 2. GitHub Actions' token endpoint, when the job has `permissions: id-token: write` (which sets
 *    ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN): `GET <url>&audience=<aud>` with the request
 *    token as bearer, answered `{value: <jwt>}` (what @actions/core getIDToken does).
 */
import { HttpClient } from "../http/client";
import { ProviderError } from "../http/errors";
import { checkJwt } from "./jwt";
import { postLogin } from "./login-request";
import { INFISICAL_SETTINGS, placesOf } from "./settings";
import type { AuthMethod, AuthSettings, LoginContext } from "./types";

export const DEFAULT_JWT_ENV_VAR = "INFISICAL_AUTH_JWT";
export const GITHUB_REQUEST_URL = "ACTIONS_ID_TOKEN_REQUEST_URL";
export const GITHUB_REQUEST_TOKEN = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";

function jwtVariable(settings: AuthSettings): string {
    return settings.oidcTokenEnvVar?.value ?? DEFAULT_JWT_ENV_VAR;
}

function jwtVariableText(settings: AuthSettings): string {
    const named = settings.oidcTokenEnvVar ? ` (named by ${settings.oidcTokenEnvVar.source})` : "";
    return `the environment variable ${jwtVariable(settings)}${named}`;
}

/** How to get a JWT into the job, in the words of the CI platform it runs on. */
function howToProvide(settings: AuthSettings, env: NodeJS.ProcessEnv): string {
    const variable = jwtVariable(settings);
    if (env.GITHUB_ACTIONS === "true") {
        return "give the job `permissions: id-token: write` (GitHub then offers the token endpoint this provider asks), or set " + variable;
    }
    if (env.GITLAB_CI === "true") {
        return `declare it in .gitlab-ci.yml: \`id_tokens: { ${variable}: { aud: <the identity's bound audience> } }\``;
    }
    return `set ${variable} to a JWT of the identity provider the identity's OIDC auth trusts (in GitLab CI: \`id_tokens: { ${variable}: { aud: … } }\`; in GitHub Actions: \`permissions: id-token: write\`)`;
}

type JwtSource = { kind: "env"; variable: string; jwt: string } | { kind: "github"; url: string; requestToken: string } | { kind: "none" };

function jwtSource(settings: AuthSettings, env: NodeJS.ProcessEnv): JwtSource {
    const variable = jwtVariable(settings);
    const jwt = env[variable]?.trim();
    if (jwt) return { kind: "env", variable, jwt };
    const url = env[GITHUB_REQUEST_URL]?.trim();
    const requestToken = env[GITHUB_REQUEST_TOKEN]?.trim();
    if (url && requestToken) return { kind: "github", url, requestToken };
    return { kind: "none" };
}

/** GitHub Actions' OIDC token for this job (the request token and the answer are secrets). */
async function githubJwt(ctx: LoginContext, url: string, requestToken: string): Promise<string> {
    ctx.secret(requestToken);
    const audience = ctx.settings.oidcAudience?.value;
    const target = new URL(url);
    if (audience) target.searchParams.set("audience", audience);
    const client = new HttpClient({
        baseUrl: target.origin,
        service: "GitHub Actions",
        urlSource: `environment variable ${GITHUB_REQUEST_URL}`,
        authorization: async () => `Bearer ${requestToken}`,
        secrets: () => [requestToken],
        hint: ({ status }) =>
            status === 401 || status === 403
                ? `GitHub refused to mint an OIDC token: the job needs \`permissions: id-token: write\` (and ${GITHUB_REQUEST_TOKEN} must be the job's own)`
                : undefined,
        retry: { maxAttempts: 3, budgetMs: 20_000 },
    });
    const res = await client.request({ method: "GET", path: `${target.pathname}`, query: Object.fromEntries(target.searchParams) });
    const value = (res.body as { value?: unknown } | undefined)?.value;
    if (typeof value !== "string" || value === "") throw new ProviderError(`GitHub Actions' token endpoint (${GITHUB_REQUEST_URL}) answered without a token`);
    ctx.secret(value);
    return value;
}

export const oidcAuth: AuthMethod = {
    name: "oidc",
    summary: "a machine identity id and a JWT from the CI platform or an environment variable",
    logsIn: true,
    problem(settings, env) {
        if (!settings.identityId) return `oidc login needs the machine identity id: set ${placesOf(INFISICAL_SETTINGS.identityId)}`;
        const source = jwtSource(settings, env);
        if (source.kind === "none") {
            return `oidc login (identity ${settings.identityId.value}) has no JWT: ${jwtVariableText(settings)} is not set and this is not a GitHub Actions job with an id-token permission. Fix: ${howToProvide(settings, env)}`;
        }
        if (source.kind === "env") {
            try {
                checkJwt(source.jwt, `the JWT in ${jwtVariableText(settings)}`, `oidc login needs a fresh one: ${howToProvide(settings, env)}`);
            } catch (err) {
                return (err as Error).message;
            }
        }
        return undefined;
    },
    async login(ctx) {
        const problem = this.problem(ctx.settings, ctx.env);
        if (problem) throw new ProviderError(problem);
        const source = jwtSource(ctx.settings, ctx.env);
        let jwt: string;
        if (source.kind === "env") {
            jwt = source.jwt;
            ctx.secret(jwt);
        } else if (source.kind === "github") {
            jwt = await githubJwt(ctx, source.url, source.requestToken);
            checkJwt(jwt, "the JWT from GitHub Actions' token endpoint", "re-run the job");
        } else {
            throw new ProviderError("oidc login has no JWT");
        }
        return postLogin(ctx, "oidc", "/api/v1/auth/oidc-auth/login", { identityId: ctx.settings.identityId?.value ?? "", jwt });
    },
    // The JWT changes from login to login; the access token belongs to the identity and where the JWT comes from.
    cacheKey: (s) => [s.identityId?.value ?? "", jwtVariable(s), s.oidcAudience?.value ?? ""],
    secrets: () => [],
    refusedHint: (s) =>
        `the oidc login of identity ${s.identityId?.value ?? "?"} (from ${s.identityId?.source ?? "nowhere"}) was refused: check that the identity has OIDC auth whose issuer, subject, audiences and claims match the JWT (${jwtVariable(s)} or the CI platform's token), and that the identity id is right`,
};
