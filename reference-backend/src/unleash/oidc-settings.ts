/**
 * Unleash instances, each under its own base URL (`<url>/unleash/<n>`), with the Enterprise OIDC settings API:
 * `GET` and `POST <base>/api/admin/auth/oidc/settings` (unleash-enterprise auth-settings-controller).
 *
 * - Authentication: the token in `Authorization`, raw or after `Bearer ` (both accepted). No header: 401
 *   AuthenticationRequired. A token this instance does not know: 401 UnauthorizedError. A client (backend) token:
 *   403 with a bare `{message}`; a Viewer's personal access token: 403 PermissionError with `permissions`.
 * - POST needs `Content-Type: application/json` (else 415 ContentTypeError). The body is validated in Unleash's two
 *   layers (settings-validation.ts): the OpenAPI schema with type coercion (400 BadDataError), then the
 *   controller's joi schema (400 with joi's raw error). Then: unknown properties dropped, defaults filled in
 *   (enabled false, defaultRootRole "Editor", the booleans false, strings ""), discoverUrl, clientId and secret
 *   trimmed. With `enabled` or a non-empty `discoverUrl` the discovery document is fetched and must load (else
 *   400 BadDataError "Could not load discoverUrl."), also when disabling.
 * - A full replace. Stored: the validated settings plus `defaultRootRoleId` (the one in the body, else the id of
 *   defaultRootRole: so posting `{...current, defaultRootRole}` keeps the old id, which GET returned) and a random
 *   `version`; GET returns what is stored (`{}` before the first POST), secret included. POST answers with the
 *   validated settings. The secret is encrypted at rest.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { randomBytes } from "crypto";
import type { Context } from "../context";
import { UNLEASH_PREFIX } from "../context";
import { UnleashApiError } from "../errors";
import { getJson } from "../outgoing";
import { trustedCas } from "../context";
import { sameSecret } from "../secrets";
import type { UnleashInstanceRecord, UnleashTokenKind } from "../store";
import { checkJoi, checkSchema, SETTING_NAMES, UnleashBadData, type Settings } from "./settings-validation";

declare module "fastify" {
    interface FastifyRequest {
        unleashInstance?: UnleashInstanceRecord;
    }
}

/** Unleash's predefined root roles. */
export const ROOT_ROLE_IDS: Record<string, number> = { Admin: 1, Editor: 2, Viewer: 3 };

const ADMIN_KINDS: UnleashTokenKind[] = ["admin", "admin-pat"];

/** Validates a POST body as Unleash does; returns the settings to store (defaults filled), or throws a 400. */
export function validateSettings(body: unknown): Settings & { enabled: boolean; discoverUrl: string; clientId: string; secret: string; defaultRootRole: string } {
    const coerced = checkSchema(body);
    checkJoi(coerced);
    const known: Settings = {};
    for (const name of SETTING_NAMES) {
        if (name in coerced) known[name] = coerced[name] as string | number | boolean;
    }
    const text = (v: unknown) => (typeof v === "string" ? v : "");
    return {
        ...known,
        enabled: known.enabled === true,
        discoverUrl: text(known.discoverUrl).trim(),
        clientId: text(known.clientId).trim(),
        secret: text(known.secret).trim(),
        autoCreate: known.autoCreate ?? false,
        defaultRootRole: typeof known.defaultRootRole === "string" ? known.defaultRootRole : "Editor",
        enableSingleSignOut: known.enableSingleSignOut ?? false,
        addGroupsScope: known.addGroupsScope ?? false,
        enableGroupSyncing: known.enableGroupSyncing ?? false,
        ...(typeof known.acrValues === "string" ? { acrValues: known.acrValues.trim() } : {}),
        ...(typeof known.groupJsonPath === "string" ? { groupJsonPath: known.groupJsonPath.trim() } : {}),
    };
}

const secretContext = (instance: number) => `unleash:${instance}:oidc-secret`;

// The 403 of a Viewer: Unleash's PermissionError lists what would have been enough. "ADMIN" is recorded; the rest
// of the list was cut off in the recording (see README).
const REQUIRED_PERMISSIONS = ["ADMIN", "UPDATE_AUTH_CONFIGURATION"];

/** A bare `{message}` error body, as Unleash answers a token of the wrong type. */
export class UnleashBareError extends Error {
    constructor(
        readonly statusCode: number,
        message: string,
    ) {
        super(message);
    }
    toJSON(): Record<string, unknown> {
        return { message: this.message };
    }
}

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
                `You must log in to use Unleash. Your request had no authorization header, so we could not authorize you. Try logging in at ${path}`,
                undefined,
                { path, type: "password", defaultHidden: false },
            );
        }
        // Unleash's auth middleware strips an optional "Bearer " prefix.
        const token = header.trim().replace(/^Bearer\s+/i, "");
        const found = inst.tokens.find((t) => sameSecret(tokenValue(t.id, t.tokenEnc), token));
        if (!found) throw new UnleashApiError(401, "UnauthorizedError", "You must log in to use Unleash.");
        if (found.kind === "client") throw new UnleashBareError(403, "invalid token: expected a different token type for this endpoint");
        if (!ADMIN_KINDS.includes(found.kind)) {
            throw new UnleashApiError(
                403,
                "PermissionError",
                `You don't have the required permissions to perform this operation. To perform this action, you need one of the following permissions: ${REQUIRED_PERMISSIONS.map((p) => `"${p}"`).join(", ")}.`,
                undefined,
                { permissions: REQUIRED_PERMISSIONS },
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
                const doc = url ? await getJson(docUrl, { timeoutMs: ctx.outgoingTimeoutMs, ca: trustedCas(ctx) }) : undefined;
                ok = typeof doc === "object" && doc !== null && typeof (doc as { issuer?: unknown }).issuer === "string";
            } catch {
                ok = false;
            }
            if (!ok) throw new UnleashBadData("Could not load discoverUrl.");
        }
        const index = req.unleashInstance!.index;
        // The id in the body wins; without one, the role's id (Unleash resolves the name only when no id is given).
        const defaultRootRoleId = typeof settings.defaultRootRoleId === "number" && settings.defaultRootRoleId ? settings.defaultRootRoleId : ROOT_ROLE_IDS[settings.defaultRootRole];
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
