/**
 * How Unleash Enterprise validates a POST of the OIDC settings, in its two layers (evidence: answers recorded from
 * real Unleash Enterprise 7.5.0 and OSS 8.2.0 servers, and the 7.5.0 oidcSettingsSchema):
 *
 * 1. The OpenAPI schema, checked by ajv with type coercion (`"true"` → true, `"2"` → 2, numbers → strings). The
 *    schema is a oneOf of "enabled: true, with clientId and secret required" and "enabled: false". A failure is
 *    400 BadDataError `{id, name, message, details: [{message, path}]}`, with the errors of both branches, in
 *    Unleash's wording (bad-data-error.ts): required → path `/body/<field>`, type and format → `/body/<field>`,
 *    enum → `<field>`. `discoverUrl: ""` fails format "uri" here.
 * 2. The controller's joi schema, on the coerced body: empty strings are refused for clientId, secret,
 *    emailDomains and groupJsonPath, and groupJsonPath must be a JSON lookup. joi stops at the first error, and the
 *    controller passes joi's ValidationError to the response as it is: `{_original: <the body>, details: [...]}`,
 *    no top-level message. `_original` echoes the request body, secret included, as the real server does.
 *
 * Unknown properties pass both layers and are dropped afterwards.
 */
import { randomUUID } from "crypto";

/** The settings' fields and their OpenAPI types (extraScopes: Enterprise 7.6.5 / 8.0 and later). */
const FIELDS = {
    enabled: { type: "boolean" },
    discoverUrl: { type: "string", format: "uri" },
    clientId: { type: "string" },
    secret: { type: "string" },
    autoCreate: { type: "boolean" },
    enableSingleSignOut: { type: "boolean" },
    defaultRootRole: { type: "string", enum: ["Viewer", "Editor", "Admin"] },
    defaultRootRoleId: { type: "number" },
    emailDomains: { type: "string" },
    acrValues: { type: "string" },
    idTokenSigningAlgorithm: { type: "string", enum: ["RS256", "RS384", "RS512"] },
    enableGroupSyncing: { type: "boolean" },
    groupJsonPath: { type: "string" },
    addGroupsScope: { type: "boolean" },
    enablePkce: { type: "boolean" },
    extraScopes: { type: "string" },
} as const satisfies Record<string, { type: "boolean" | "string" | "number"; enum?: readonly string[]; format?: "uri" }>;

export type SettingName = keyof typeof FIELDS;
export const SETTING_NAMES = Object.keys(FIELDS) as SettingName[];

export type Settings = Partial<Record<SettingName, string | number | boolean>>;

export interface BadDataDetail {
    message: string;
    path: string;
}

/** 400 BadDataError (the OpenAPI layer, and "Could not load discoverUrl."). */
export class UnleashBadData extends Error {
    readonly details: BadDataDetail[] | Array<{ message: string }>;
    constructor(message: string, details?: BadDataDetail[]) {
        super(message);
        this.details = details ?? [{ message }];
    }
    toJSON(): Record<string, unknown> {
        return { id: randomUUID(), name: "BadDataError", message: this.message, details: this.details };
    }
}

/** 400 with joi's ValidationError serialized as is (the controller's joi layer). */
export class UnleashJoiError extends Error {
    constructor(
        readonly original: Record<string, unknown>,
        readonly detail: { message: string; path: string[]; type: string; context: Record<string, unknown> },
    ) {
        super(detail.message);
    }
    toJSON(): Record<string, unknown> {
        return { _original: this.original, details: [this.detail] };
    }
}

const SCHEMA_FAILED = "Request validation failed: your request body or params contain invalid data. Refer to the `details` list for more information.";

/** ajv's coerceTypes: returns the coerced value, or undefined when it cannot be coerced. */
function coerce(value: unknown, type: "boolean" | "string" | "number"): string | number | boolean | undefined {
    if (typeof value === type) return value as string | number | boolean;
    switch (type) {
        case "boolean":
            if (value === "true" || value === 1) return true;
            if (value === "false" || value === 0 || value === null) return false;
            return undefined;
        case "number":
            if (typeof value === "boolean") return value ? 1 : 0;
            if (value === null) return 0;
            if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
            return undefined;
        case "string":
            if (typeof value === "number" || typeof value === "boolean") return String(value);
            if (value === null) return "";
            return undefined;
    }
}

/** ajv-formats "uri": an absolute URI (a scheme, then something). */
function isUri(value: string): boolean {
    if (!/^[a-z][a-z0-9+.-]*:\S+$/i.test(value)) return false;
    try {
        new URL(value);
        return true;
    } catch {
        return false;
    }
}

const required = (field: string): BadDataDetail => {
    const path = `/body/${field}`;
    return { path, message: `The \`${path}\` property is required. It was not present on the data you sent.` };
};
const generic = (field: string, problem: string, value: unknown): BadDataDetail => {
    const path = `/body/${field}`;
    return { path, message: `The \`${path}\` property ${problem}. You sent ${JSON.stringify(value)}.` };
};
const notAllowed = (field: string, allowed: readonly unknown[], value: unknown): BadDataDetail => ({
    path: field,
    message: `The \`${field}\` property must be equal to one of the allowed values: ${allowed.map((v) => `"${String(v)}"`).join(", ")}. You provided "${String(value)}", which is not valid. Please use one of the allowed values instead..`,
});

/**
 * Layer 1. Returns the body with its known fields coerced (unknown ones kept, as ajv leaves them), or throws
 * UnleashBadData.
 */
export function checkSchema(body: unknown): Record<string, unknown> {
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
        throw new UnleashBadData(SCHEMA_FAILED, [{ path: "/body", message: `The \`/body\` property must be object. You sent ${JSON.stringify(body ?? null)}.` }]);
    }
    const coerced: Record<string, unknown> = { ...(body as Record<string, unknown>) };
    const fieldErrors: BadDataDetail[] = [];
    for (const name of SETTING_NAMES) {
        if (!(name in coerced)) continue;
        const rule: { type: "boolean" | "string" | "number"; enum?: readonly string[]; format?: "uri" } = FIELDS[name];
        const value = coerce(coerced[name], rule.type);
        if (value === undefined) {
            fieldErrors.push(generic(name, `must be ${rule.type}`, coerced[name]));
            continue;
        }
        coerced[name] = value;
        if (rule.enum && !rule.enum.includes(value as string)) fieldErrors.push(notAllowed(name, rule.enum, value));
        if (rule.format === "uri" && !isUri(value as string)) fieldErrors.push(generic(name, 'must match format "uri"', value));
    }
    const enabledErrors = fieldErrors.filter((e) => e.path === "/body/enabled");
    const otherErrors = fieldErrors.filter((e) => e.path !== "/body/enabled");
    const enabled = coerced.enabled;
    // oneOf branch 1: enabled must be true, with clientId and secret.
    const whenEnabled = [
        ...(["enabled", "clientId", "secret"] as const).filter((f) => !(f in coerced)).map(required),
        ...enabledErrors,
        ...("enabled" in coerced && enabled !== true ? [notAllowed("enabled", [true], coerced.enabled)] : []),
        ...otherErrors,
    ];
    // oneOf branch 2: enabled, if present, must be false.
    const whenDisabled = [...enabledErrors, ...("enabled" in coerced && enabled !== false ? [notAllowed("enabled", [false], coerced.enabled)] : []), ...otherErrors];
    if (whenEnabled.length > 0 && whenDisabled.length > 0) {
        const seen = new Set<string>();
        const details = [...whenEnabled, ...whenDisabled].filter((d) => !seen.has(d.message) && seen.add(d.message));
        throw new UnleashBadData(SCHEMA_FAILED, details);
    }
    return coerced;
}

const GROUP_JSON_PATH = /^[a-zA-Z0-9_]+([-.][a-zA-Z0-9_]+)*$/;
// The joi schema's keys in order: joi reports the first failing key only (abortEarly).
const NOT_EMPTY: SettingName[] = ["clientId", "secret", "emailDomains", "groupJsonPath"];

/** Layer 2, on the coerced body: throws UnleashJoiError for the first failing key. */
export function checkJoi(body: Record<string, unknown>): void {
    for (const key of NOT_EMPTY) {
        const value = body[key];
        if (value === "") {
            throw new UnleashJoiError(body, { message: `"${key}" is not allowed to be empty`, path: [key], type: "string.empty", context: { label: key, value, key } });
        }
        if (key === "groupJsonPath" && typeof value === "string" && !GROUP_JSON_PATH.test(value)) {
            // The RegExp serializes as {} in joi's context, as it does on the wire.
            throw new UnleashJoiError(body, {
                message: "Group Json Path must be a valid JSON lookup",
                path: [key],
                type: "string.pattern.base",
                context: { regex: {}, value, label: key, key },
            });
        }
    }
}
