/**
 * The login exchange shared by the methods that log in: `POST /api/v1/auth/<method>/login` with the method's body
 * (plus `organizationSlug` when the login is scoped to a sub-organization: Infisical/go-sdk packages/api/auth/models.go,
 * Infisical/terraform-provider-infisical internal/client/login.go), answered `{accessToken, expiresIn, ...}`.
 */
import { ProviderError } from "../http/errors";
import type { LoginContext, LoginResult } from "./types";

export async function postLogin(ctx: LoginContext, method: string, path: string, body: Record<string, string>): Promise<LoginResult> {
    const slug = ctx.settings.organizationSlug?.value;
    const res = await ctx.client.request({
        method: "POST",
        path,
        body: slug ? { ...body, organizationSlug: slug } : body,
        // A repeated login only mints another short-lived token: safe to retry.
        idempotent: true,
        anonymous: true,
    });
    const answer = res.body as { accessToken?: unknown; expiresIn?: unknown };
    if (typeof answer?.accessToken !== "string" || answer.accessToken === "") {
        throw new ProviderError(`Infisical ${method} login (POST ${path}) answered without an access token`);
    }
    return { accessToken: answer.accessToken, expiresIn: typeof answer.expiresIn === "number" ? answer.expiresIn : undefined };
}
