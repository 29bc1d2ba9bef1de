/**
 * token: a static access token sent as `Authorization: Bearer <token>` (a machine identity's token-auth token, or a
 * user's token). Terraform: internal/client/login.go TokenMachineIdentityAuth. Nothing to exchange.
 */
import { checkJwt } from "./jwt";
import { placesOf, INFISICAL_SETTINGS } from "./settings";
import type { AuthMethod } from "./types";

export const tokenAuth: AuthMethod = {
    name: "token",
    summary: "a static access token (machine identity token auth, or a user's token)",
    logsIn: false,
    problem(settings) {
        if (!settings.token) return `token auth needs a token: set ${placesOf(INFISICAL_SETTINGS.token)}`;
        // Infisical's tokens are JWTs: an expired one is refused for sure, say so now.
        if (settings.token.value.split(".").length === 3) {
            try {
                checkJwt(settings.token.value, `the token (from ${settings.token.source})`, "set a valid one");
            } catch (err) {
                return (err as Error).message;
            }
        }
        return undefined;
    },
    async login(ctx) {
        return { accessToken: ctx.settings.token?.value ?? "" };
    },
    cacheKey: (s) => [s.token?.value ?? ""],
    secrets: (s) => [s.token?.value],
    refusedHint: (s) => `the token (from ${s.token?.source ?? "nowhere"}) is missing, invalid or expired: set a valid one with \`pulumi config set --secret infisical:token\` or ${INFISICAL_SETTINGS.token.env[0]}, or log in with another method (infisical:auth)`,
};
