/**
 * Unleash instances, each under its own base URL (`<url>/unleash/<n>`), with the Enterprise OIDC settings API:
 * `GET` and `POST <base>/api/admin/auth/oidc/settings` (unleash-enterprise auth-settings-controller).
 *
 * - Authentication: the raw token in `Authorization` (no "Bearer"). No header: 401 AuthenticationRequired. A token
 *   this instance does not know: 401 UnauthorizedError. A valid token without admin rights (client token, a
 *   Viewer's personal access token): 403 NoAccessError.
 * - POST needs `Content-Type: application/json` (else 415 ContentTypeError). The body is validated like the OpenAPI
 *   schema and the controller's joi schema: types and enums (400 ValidationError with `details`), unknown properties
 *   dropped, defaults filled in (enabled false, defaultRootRole "Editor", the booleans false, strings ""), clientId,
 *   secret and discoverUrl trimmed. With `enabled` or a `discoverUrl`, the discovery document is fetched and must
 *   load (else 400 "Could not load discoverUrl").
 * - Stored: the validated settings plus `defaultRootRoleId` (the id of defaultRootRole unless one was given) and a
 *   random `version`; GET returns what is stored (`{}` before the first POST), secret included. POST answers with
 *   the validated settings. The secret is encrypted at rest.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { randomBytes } from "crypto";
import { z } from "zod";
import type { Context } from "../context";
import { UNLEASH_PREFIX } from "../context";
import { UnleashApiError, type UnleashErrorDetail } from "../errors";
import { getJson } from "../outgoing";
import { sameSecret } from "../secrets";
import type { UnleashInstanceRecord, UnleashTokenKind } from "../store";

declare module "fastify" {
    interface FastifyRequest {
        unleashInstance?: UnleashInstanceRecord;
    }
}

/** Unleash's predefined root roles. */
export const ROOT_ROLE_IDS: Record<string, number> = { Admin: 1, Editor: 2, Viewer: 3 };

const ADMIN_KINDS: UnleashTokenKind[] = ["admin", "admin-pat"];

const settingsSchema = z.object({
    enabled: z.boolean().optional(),
    discoverUrl: z.string().optional(),
    clientId: z.string().optional(),
    secret: z.string().optional(),
    autoCreate: z.boolean().optional(),
    enableSingleSignOut: z.boolean().optional(),
    defaultRootRole: z.enum(["Viewer", "Editor", "Admin"]).optional(),
    defaultRootRoleId: z.number().optional(),
    emailDomains: z.string().optional(),
    acrValues: z.string().optional(),
    idTokenSigningAlgorithm: z.enum(["RS256", "RS384", "RS512"]).optional(),
    enableGroupSyncing: z.boolean().optional(),
    groupJsonPath: z.string().optional(),
    addGroupsScope: z.boolean().optional(),
    enablePkce: z.boolean().optional(),
});

type Settings = z.infer<typeof settingsSchema>;

const VALIDATION_MESSAGE = "Request validation failed: your request body or params contain invalid data. Refer to the `details` list for more information.";

function detail(description: string, path?: string): UnleashErrorDetail {
    return path === undefined ? { description, message: description } : { path, description, message: description };
}

function youSent(field: string, value: unknown): string {
    // Unleash echoes the value; a secret is never echoed here.
    if (field === "secret") return `a value of type ${value === null ? "null" : typeof value}`;
    return JSON.stringify(value);
}

function validationError(details: UnleashErrorDetail[]): UnleashApiError {
    return new UnleashApiError(400, "ValidationError", VALIDATION_MESSAGE, details);
}

/** Validates a POST body as Unleash would; returns the settings with defaults, or throws a 400. */
export function validateSettings(body: unknown): Settings & Required<Pick<Settings, "enabled" | "discoverUrl" | "clientId" | "secret" | "autoCreate" | "defaultRootRole" | "enableSingleSignOut" | "addGroupsScope" | "enableGroupSyncing">> {
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
        throw validationError([detail(`The request payload you provided doesn't conform to the schema. The body should be object. You sent ${Array.isArray(body) ? "[]" : JSON.stringify(body ?? null)}.`)]);
    }
    const raw = body as Record<string, unknown>;
    const parsed = settingsSchema.safeParse(raw);
    const details: UnleashErrorDetail[] = [];
    if (!parsed.success) {
        for (const issue of parsed.error.issues) {
            const field = issue.path.map(String).join(".");
            const value = raw[field];
            let problem: string;
            if (issue.code === "invalid_value") problem = "must be equal to one of the allowed values";
            else if (issue.code === "invalid_type") problem = `must be ${issue.expected}`;
            else problem = issue.message;
            details.push(detail(`The .${field} property ${problem}. You sent ${youSent(field, value)}.`, field));
        }
        throw validationError(details);
    }
    const s = parsed.data;
    if (s.discoverUrl !== undefined && s.discoverUrl.trim() !== "") {
        let ok = false;
        try {
            ok = /^[a-z][a-z0-9+.-]*:$/i.test(new URL(s.discoverUrl.trim()).protocol);
        } catch {
            ok = false;
        }
        if (!ok) details.push(detail(`The .discoverUrl property must match format "uri". You sent ${JSON.stringify(s.discoverUrl)}.`, "discoverUrl"));
    }
    for (const field of ["clientId", "secret"] as const) {
        if (s[field] === "") details.push(detail(`"${field}" is not allowed to be empty`, field));
        else if (s.enabled === true && s[field] === undefined) {
            details.push(detail(`The ${field} property is required. It was not present on the data you sent.`, field));
        }
    }
    if (details.length > 0) throw validationError(details);

    return {
        ...s,
        enabled: s.enabled ?? false,
        discoverUrl: (s.discoverUrl ?? "").trim(),
        clientId: (s.clientId ?? "").trim(),
        secret: (s.secret ?? "").trim(),
        autoCreate: s.autoCreate ?? false,
        defaultRootRole: s.defaultRootRole ?? "Editor",
        enableSingleSignOut: s.enableSingleSignOut ?? false,
        addGroupsScope: s.addGroupsScope ?? false,
        enableGroupSyncing: s.enableGroupSyncing ?? false,
        ...(s.acrValues !== undefined ? { acrValues: s.acrValues.trim() } : {}),
        ...(s.groupJsonPath !== undefined ? { groupJsonPath: s.groupJsonPath.trim() } : {}),
    };
}

const secretContext = (instance: number) => `unleash:${instance}:oidc-secret`;

export function registerUnleashRoutes(app: FastifyInstance, ctx: Context): void {
    const base = `${UNLEASH_PREFIX}/:instance`;
    const tokenCache = new Map<string, string>();
    const tokenValue = (tokenId: string, enc: string) => {
        let v = tokenCache.get(tokenId);
        if (v === undefined) {
            v = ctx.vault.decrypt(enc, `unleash-token:${tokenId}`);
            tokenCache.set(tokenId, v);
        }
        return v;
    };

    const instanceOf = (req: FastifyRequest): UnleashInstanceRecord => {
        const raw = (req.params as { instance?: string }).instance ?? "";
        const inst = /^\d+$/.test(raw) ? ctx.store.state.unleash.instances.find((i) => i.index === Number(raw)) : undefined;
        if (!inst) throw new UnleashApiError(404, "NotFoundError", `There is no Unleash instance ${JSON.stringify(raw)} on this server.`);
        return inst;
    };

    const authenticateAdmin = async (req: FastifyRequest) => {
        const inst = instanceOf(req);
        req.unleashInstance = inst;
        const header = req.headers.authorization;
        if (!header) {
            const path = `${UNLEASH_PREFIX}/${inst.index}/auth/simple/login`;
            throw new UnleashApiError(
                401,
                "AuthenticationRequired",
                `You must log in to use Unleash. Your request had no authorization header, so we could not authorize you. Try logging in at ${path}.`,
                undefined,
                { path, type: "password" },
            );
        }
        const token = header.trim();
        const found = inst.tokens.find((t) => sameSecret(tokenValue(t.id, t.tokenEnc), token));
        if (!found) throw new UnleashApiError(401, "UnauthorizedError", "You must log in to use Unleash.");
        if (!ADMIN_KINDS.includes(found.kind)) {
            throw new UnleashApiError(
                403,
                "NoAccessError",
                'You don\'t have the required permissions to perform this operation. You need the "UPDATE_AUTH_CONFIGURATION" permission to perform this action.',
            );
        }
    };

    const view = (inst: UnleashInstanceRecord): Record<string, unknown> => {
        if (!inst.oidcSettings) return {};
        const { secretEnc, ...rest } = inst.oidcSettings as Record<string, unknown> & { secretEnc?: string };
        return typeof secretEnc === "string" ? { ...rest, secret: ctx.vault.decrypt(secretEnc, secretContext(inst.index)) } : rest;
    };

    app.get(`${base}/health`, async (req) => {
        instanceOf(req);
        return { health: "GOOD" };
    });

    app.get(`${base}/api/admin/auth/oidc/settings`, { onRequest: authenticateAdmin }, async (req) => view(req.unleashInstance!));

    app.post(`${base}/api/admin/auth/oidc/settings`, { onRequest: authenticateAdmin }, async (req) => {
        const type = String(req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
        if (type !== "application/json") {
            throw new UnleashApiError(
                415,
                "ContentTypeError",
                `We do not accept the content-type you provided (${type || "you didn't provide one"}). Try using one of the content-types we do accept instead (application/json) and make sure the body is in the corresponding format.`,
            );
        }
        const settings = validateSettings(req.body);
        if (settings.enabled || settings.discoverUrl) {
            const url = settings.discoverUrl;
            const docUrl = url.includes("/.well-known/") ? url : `${url.replace(/\/+$/, "")}/.well-known/openid-configuration`;
            let ok = false;
            try {
                const doc = url ? await getJson(docUrl, { timeoutMs: ctx.outgoingTimeoutMs }) : undefined;
                ok = typeof doc === "object" && doc !== null && typeof (doc as { issuer?: unknown }).issuer === "string";
            } catch {
                ok = false;
            }
            if (!ok) {
                throw new UnleashApiError(400, "ValidationError", "Request validation failed: your request body failed to validate. Refer to the `details` list to see what happened.", [
                    { message: "Could not load discoverUrl", description: "Could not load discoverUrl", path: "discoverUrl" },
                ]);
            }
        }
        const index = req.unleashInstance!.index;
        const defaultRootRoleId = settings.defaultRootRoleId || ROOT_ROLE_IDS[settings.defaultRootRole];
        await ctx.store.update((draft) => {
            const inst = draft.unleash.instances.find((i) => i.index === index);
            if (!inst) throw new UnleashApiError(404, "NotFoundError", `There is no Unleash instance "${index}" on this server.`);
            const { secret, ...rest } = settings;
            inst.oidcSettings = {
                ...rest,
                defaultRootRoleId,
                version: randomBytes(8).toString("hex"),
                secretEnc: ctx.vault.encrypt(secret, secretContext(index)),
            };
        });
        return settings;
    });
}
