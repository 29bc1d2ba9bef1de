/**
 * universal: a machine identity's client id and secret exchanged for an access token at
 * `POST /api/v1/auth/universal-auth/login` {clientId, clientSecret} (Infisical source
 * backend/src/server/routes/v1/identity-universal-auth-router.ts; Terraform internal/client/login.go).
 */
import { postLogin } from "./login-request";
import { describePlace, INFISICAL_SETTINGS, placesOf } from "./settings";
import type { AuthMethod } from "./types";

export const universalAuth: AuthMethod = {
    name: "universal",
    summary: "a machine identity's universal auth client id and secret",
    logsIn: true,
    problem(settings) {
        if (settings.clientId && settings.clientSecret) return undefined;
        const missing = settings.clientId ? "clientSecret" : "clientId";
        const given = settings.clientId ?? settings.clientSecret;
        const place = given ? describePlace(INFISICAL_SETTINGS[missing], given.from) : placesOf(INFISICAL_SETTINGS[missing]);
        return `Infisical universal auth (from ${place}) needs both a client id and a client secret; ${missing} is missing`;
    },
    login(ctx) {
        return postLogin(ctx, "universal auth", "/api/v1/auth/universal-auth/login", {
            clientId: ctx.settings.clientId?.value ?? "",
            clientSecret: ctx.settings.clientSecret?.value ?? "",
        });
    },
    cacheKey: (s) => [s.clientId?.value ?? "", s.clientSecret?.value ?? ""],
    secrets: (s) => [s.clientId?.value, s.clientSecret?.value],
    refusedHint: (s) =>
        `universal auth login was refused: check the client id and secret (from ${s.clientSecret?.source ?? s.clientId?.source ?? "nowhere"}) and that universal auth is attached to the machine identity`,
};
