/**
 * Which login method and settings an Infisical connection uses.
 *
 * The method and its credentials (`auth`, `token`, `clientId`, `clientSecret`, `serviceAccountToken`) are taken as a
 * unit from the first layer that has any of them (the resource's `connection`, then the stack config, then the
 * environment), so a token from one place is never mixed with a client id from another. Settings that are not
 * credentials (`identityId`, `organizationSlug`, `oidcTokenEnvVar`, `oidcAudience`, `serviceAccountTokenPath`) are
 * resolved each on its own, like the host: a program may say `auth: "oidc"` while the pipeline gives the identity id.
 *
 * The method is the layer's `auth` setting (Terraform's `INFISICAL_AUTH_METHOD` values), else inferred as before:
 * a client id or secret means universal auth, a token means token auth.
 */
import { distance } from "fastest-levenshtein";
import { ProviderError } from "../http/errors";
import { AUTH_METHODS } from "./methods";
import { firstValue, INFISICAL_SETTINGS, Layer, LAYERS, placesOf, Sourced, valueIn } from "./settings";
import { AUTH_METHOD_NAMES, AuthMethodName, AuthSettings } from "./types";

const UNIT = ["token", "clientId", "clientSecret", "serviceAccountToken"] as const;
const OPTIONS = ["identityId", "organizationSlug", "oidcTokenEnvVar", "oidcAudience", "serviceAccountTokenPath"] as const;

export interface ResolvedAuth {
    method: AuthMethodName;
    settings: AuthSettings;
    /** The layer the method and credentials came from. */
    from: Layer;
    /** Where the method was named, when it was (else it was inferred). */
    methodSource?: string;
}

/** The method named by `raw`, or a clear error listing the valid names. */
export function parseMethod(raw: Sourced): AuthMethodName {
    const name = raw.value.trim().toLowerCase();
    if ((AUTH_METHOD_NAMES as readonly string[]).includes(name)) return name as AuthMethodName;
    const near = [...AUTH_METHOD_NAMES].sort((a, b) => distance(a, name) - distance(b, name))[0];
    const suggestion = distance(near, name) <= 3 ? ` (did you mean "${near}"?)` : "";
    throw new ProviderError(`unknown Infisical login method "${raw.value}" (from ${raw.source})${suggestion}: use one of ${AUTH_METHOD_NAMES.join(", ")}`);
}

export function resolveAuth(arg: Record<string, unknown> | undefined, env: NodeJS.ProcessEnv): ResolvedAuth | undefined {
    for (const layer of LAYERS) {
        const method = valueIn(INFISICAL_SETTINGS.auth, layer, arg, env);
        const settings: AuthSettings = {};
        for (const field of UNIT) {
            const v = valueIn(INFISICAL_SETTINGS[field], layer, arg, env);
            if (v) settings[field] = v;
        }
        if (!method && Object.keys(settings).length === 0) continue;
        for (const field of OPTIONS) {
            const v = firstValue(INFISICAL_SETTINGS[field], arg, env);
            if (v) settings[field] = v;
        }
        if (method) return { method: parseMethod(method), settings, from: layer, methodSource: method.source };
        if (settings.clientId || settings.clientSecret) return { method: "universal", settings, from: layer };
        if (settings.token) return { method: "token", settings, from: layer };
        throw noMethod(settings.serviceAccountToken?.source);
    }
    const identity = firstValue(INFISICAL_SETTINGS.identityId, arg, env);
    if (identity) throw noMethod(identity.source);
    return undefined;
}

function noMethod(source: string | undefined): ProviderError {
    return new ProviderError(
        `${source ?? "a login setting"} is set but no Infisical login method is chosen: set ${placesOf(INFISICAL_SETTINGS.auth)} ` +
            `to one of ${AUTH_METHOD_NAMES.filter((m) => m !== "token" && m !== "universal").join(", ")}`,
    );
}

/** What is missing or wrong in a resolved login, without I/O (preview). */
export function authProblem(auth: ResolvedAuth, env: NodeJS.ProcessEnv): string | undefined {
    const problem = AUTH_METHODS[auth.method].problem(auth.settings, env);
    return problem === undefined ? undefined : `Infisical ${auth.method} login${auth.methodSource ? ` (chosen by ${auth.methodSource})` : ""}: ${problem}`;
}
