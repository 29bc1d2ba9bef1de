/**
 * Service-wide hints: how to fix an error answer, from what the API said (its error name, the cause it adds), then
 * the status. A resource's own hints (validation failures named by field, permissions named by object) come first.
 */
import type { ErrorInfo } from "../http/client";
import { AUTH_METHODS } from "./methods";
import type { ResolvedAuth } from "./resolve";

export type HintFn = (info: ErrorInfo) => string | undefined;

/**
 * Infisical's words for "these credentials are of another organization" (a user token; a machine identity: 2024-10
 * "Identity is not apart of this organization", 2024-07 "Identity not in org").
 */
const OTHER_ORGANIZATION = /scoped to different organization|not a ?part of this organization|not apart of this organization|identity not in org\b/i;
/** A token the server could not even parse: 403 TokenError today; the 2024-07 build answers 500 "jwt malformed". */
const MALFORMED_TOKEN = /^(jwt malformed|jwt must be provided|invalid token)$/i;

export function infisicalHint(url: string, login: ResolvedAuth | undefined, resourceHint?: HintFn): HintFn {
    return (info) => {
        const specific = resourceHint?.(info);
        if (specific) return specific;
        const method = login?.method;
        const credentialSource = login ? (login.settings.token ?? login.settings.clientSecret ?? login.settings.identityId ?? login.settings.clientId)?.source : undefined;
        const from = credentialSource ?? login?.methodSource ?? "nowhere";
        const logsIn = !!method && AUTH_METHODS[method].logsIn;
        const obtained = `the access token obtained with ${method} login (settings from ${from})`;
        if (info.errorName === "ForbiddenError" || OTHER_ORGANIZATION.test(`${info.errorName ?? ""} ${info.apiDetail ?? ""} ${info.apiMessage ?? ""}`)) {
            return `the credentials (from ${from}) belong to another organization than the object this resource manages: use credentials of a user or machine identity of that organization${login?.settings.organizationSlug ? ` (the login is scoped to ${login.settings.organizationSlug.value}, from ${login.settings.organizationSlug.source})` : ""}`;
        }
        if (info.errorName === "TokenError" || (info.status === 500 && MALFORMED_TOKEN.test(info.apiMessage ?? ""))) {
            return logsIn
                ? `${obtained} was refused as expired or malformed even after a new login: check that the machine identity still exists on ${url}`
                : `the token (from ${from}) is expired or malformed: set a valid one with \`pulumi config set --secret infisical:token\`, INFISICAL_TOKEN, or log in with another method (infisical:auth)`;
        }
        switch (info.status) {
            case 401:
                return logsIn
                    ? `${obtained} was rejected: check that the machine identity still exists and belongs to this Infisical instance (${url})`
                    : AUTH_METHODS.token.refusedHint(login?.settings ?? {});
            case 404:
                return `not found on ${url}: check the id in the request and that infisical:host is the site URL of the right instance (e.g. https://app.infisical.com, without /api)`;
            default:
                return undefined;
        }
    };
}

/** Unleash's service-wide hints, by what the API said, then the status. */
export function unleashHint(url: string | undefined, tokenSource: string | undefined, resourceHint?: HintFn): HintFn {
    return (info) => {
        const specific = resourceHint?.(info);
        if (specific) return specific;
        const from = tokenSource ?? "nowhere";
        if (info.errorName === "NotFoundError" && /path you were looking for/i.test(info.apiMessage ?? "")) {
            return `${url} has no OIDC settings API: OIDC login is an Unleash Enterprise feature (open-source Unleash answers this 404); point unleash:url at an Enterprise instance`;
        }
        switch (info.status) {
            case 401:
                return `the API token (from ${from}) is missing or invalid: use an admin API token or an Admin's personal access token`;
            case 403:
                return `the API token (from ${from}) is valid but may not manage the OIDC settings: use an admin API token or the personal access token of an Admin user (client and frontend tokens cannot)`;
            case 404:
                return `not found on ${url}: check that unleash:url is the base URL (everything before /api) and that the instance runs Unleash Enterprise (OIDC is an Enterprise feature)`;
            case 415:
                return "the server refused the content type: this is a provider bug, please report it";
            default:
                return undefined;
        }
    };
}
