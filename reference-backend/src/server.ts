/**
 * The fastify application: request ids, counters, fault injection, one log line per request, the two error
 * dialects, and every route (Infisical under /api, Unleash instances under /unleash/<n>, the issuer under /oidc,
 * /healthz, and the admin routes under /_admin).
 */
import type { Socket } from "net";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Context } from "./context";
import { ISSUER_PREFIX, UNLEASH_PREFIX } from "./context";
import { InfisicalError, UnleashApiError } from "./errors";
import { parseFaultRules, type FaultRule } from "./faults";
import { registerStsRoutes } from "./aws/sts";
import { registerAuthCheckRoutes } from "./infisical/auth-check";
import { registerAuthTemplateAdminRoutes } from "./infisical/auth-templates";
import { registerIdentityAwsAuthRoutes } from "./infisical/identity-aws-auth";
import { registerIdentityKubernetesAuthRoutes } from "./infisical/identity-kubernetes-auth";
import { registerIdentityOidcAuthRoutes } from "./infisical/identity-oidc-auth";
import { registerLoginRoutes } from "./infisical/logins";
import { BUILT_IN_ROLES } from "./infisical/permissions";
import { registerKubernetesApi } from "./kubernetes/api-server";
import { registerSsoRoutes } from "./infisical/sso";
import { registerIssuer } from "./issuer";
import { requestId, sameSecret } from "./secrets";
import { registerUnleashRoutes, UnleashBareError } from "./unleash/oidc-settings";
import { UnleashBadData, UnleashJoiError } from "./unleash/settings-validation";
import { orgSettings, type CustomRoleRecord, type OrganizationRecord } from "./store";
import { randomUUID } from "crypto";
import type { ServerOptions as HttpsServerOptions } from "https";
import { z } from "zod";

declare module "fastify" {
    interface FastifyRequest {
        startedAt: bigint;
        fault?: FaultRule;
        logged?: boolean;
    }
}

type Service = "infisical" | "unleash" | "issuer" | "admin" | "other";

function serviceOf(url: string): Service {
    if (url.startsWith("/api/") || url === "/api") return "infisical";
    if (url.startsWith(`${UNLEASH_PREFIX}/`)) return "unleash";
    if (url.startsWith(`${ISSUER_PREFIX}/`)) return "issuer";
    if (url.startsWith("/_admin/")) return "admin";
    return "other";
}

function pathOf(url: string): string {
    const q = url.indexOf("?");
    return q < 0 ? url : url.slice(0, q);
}

/** Waits `ms`; resolves true early when the connection closes (the client gave up, or the server is stopping). */
function pause(ms: number, socket: Socket | null | undefined): Promise<boolean> {
    return new Promise((resolve) => {
        if (!socket || socket.destroyed) {
            resolve(true);
            return;
        }
        const onClose = () => {
            clearTimeout(timer);
            resolve(true);
        };
        const timer = setTimeout(() => {
            socket.off("close", onClose);
            resolve(false);
        }, ms);
        socket.once("close", onClose);
    });
}

const STATUS_TEXT: Record<number, string> = { 429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout" };

/** The body of an injected status, in the dialect of the API the request was for. */
function faultBody(service: Service, status: number, reqId: string): Record<string, unknown> {
    const text = STATUS_TEXT[status] ?? `HTTP ${status}`;
    const message = `${text} (fault injected by the reference backend)`;
    if (service === "unleash") return new UnleashApiError(status, status >= 500 ? "InternalError" : "UnknownError", message).toJSON();
    return { reqId, statusCode: status, message, error: text.replace(/\s+/g, "") };
}

export interface ServerOptions {
    /** Token of the admin routes (/_admin/faults, /_admin/stats). */
    adminToken: string;
    /** Serve HTTPS with this certificate and key (PEM) instead of HTTP. */
    tls?: Pick<HttpsServerOptions, "cert" | "key" | "ca">;
}

export async function buildServer(ctx: Context, options: ServerOptions): Promise<FastifyInstance> {
    const app = Fastify({
        ...(options.tls ? { https: options.tls } : {}),
        logger: false,
        genReqId: () => requestId(),
        forceCloseConnections: true,
        trustProxy: false,
        bodyLimit: 1024 * 1024,
    });
    app.decorateRequest("startedAt", 0n);
    app.decorateRequest("logged", false);

    // Bodies of other content types arrive as text; each API decides (Unleash: 415; Infisical: 415).
    app.addContentTypeParser("*", { parseAs: "string" }, (_req, body, done) => done(null, body));

    const logRequest = (req: FastifyRequest, status: number | string, extra: Record<string, unknown> = {}) => {
        if (req.logged) return;
        req.logged = true;
        ctx.log({
            time: new Date().toISOString(),
            level: "info",
            msg: "request",
            reqId: req.id,
            method: req.method,
            route: req.routeOptions?.url ?? "(no route)",
            status,
            ms: Math.round(Number(process.hrtime.bigint() - req.startedAt) / 1e5) / 10,
            ...(req.fault ? { fault: faultLabel(req.fault) } : {}),
            ...extra,
        });
    };

    app.addHook("onRequest", async (req: FastifyRequest, reply: FastifyReply) => {
        req.startedAt = process.hrtime.bigint();
        const path = pathOf(req.url);
        ctx.stats.count(req.method, path, req.routeOptions?.url);
        const service = serviceOf(path);
        if (service === "admin") return;
        const fault = ctx.faults.take(req.method, path);
        if (!fault) return;
        req.fault = fault;
        if (fault.latencyMs && (await pause(fault.latencyMs, req.raw.socket))) {
            reply.hijack();
            logRequest(req, "client closed");
            return reply;
        }
        if (fault.drop === "before") {
            reply.hijack();
            req.raw.socket?.destroy();
            logRequest(req, "dropped");
            return reply;
        }
        if (fault.status !== undefined) {
            if (fault.retryAfterSeconds !== undefined) void reply.header("retry-after", String(fault.retryAfterSeconds));
            return reply.code(fault.status).send(faultBody(service, fault.status, req.id));
        }
        return undefined;
    });

    // drop "after": the handler ran (and saved its change); the answer is never sent.
    app.addHook("onSend", async (req, _reply, payload) => {
        if (req.fault?.drop === "after" && req.fault.status === undefined) {
            logRequest(req, "dropped");
            req.raw.socket?.destroy();
        }
        return payload;
    });

    app.addHook("onResponse", async (req, reply) => {
        logRequest(req, reply.statusCode);
    });

    app.setErrorHandler((error: FastifyError | Error, req, reply) => {
        const service = serviceOf(pathOf(req.url));
        if (error instanceof InfisicalError) return reply.code(error.statusCode).send(error.toJSON(req.id));
        if (error instanceof UnleashApiError) return reply.code(error.statusCode).send(error.toJSON());
        if (error instanceof UnleashBadData || error instanceof UnleashJoiError) return reply.code(400).send(error.toJSON());
        if (error instanceof UnleashBareError) return reply.code(error.statusCode).send(error.toJSON());

        const fe = error as FastifyError;
        const invalidJson = error instanceof SyntaxError || fe.code === "FST_ERR_CTP_INVALID_JSON_BODY";
        // JSON.parse messages quote the body: never echo (or log) a part of it.
        const message = invalidJson ? "The request body is not valid JSON" : error.message;
        let status = typeof fe.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 600 ? fe.statusCode : 500;
        if (status >= 500) {
            ctx.log({ time: new Date().toISOString(), level: "error", msg: "unhandled error", reqId: req.id, route: req.routeOptions?.url, error: error.message });
            status = 500;
        }
        if (service === "unleash") {
            // Unleash answers its body parser's error as a bare {message} (recorded: "Unexpected end of JSON
            // input"); V8's message is kept up to where it would start quoting the body.
            if (invalidJson) return reply.code(400).send({ message: jsonParseMessage(error.message) });
            if (status === 400) {
                return reply.code(400).send(new UnleashApiError(400, "BadDataError", "Request validation failed: your request body failed to validate. Refer to the `details` list to see what happened.", [{ message }]).toJSON());
            }
            return reply.code(status).send(new UnleashApiError(status, status >= 500 ? "InternalError" : "UnknownError", status >= 500 ? "Something went wrong" : message).toJSON());
        }
        if (status >= 500) return reply.code(500).send({ reqId: req.id, statusCode: 500, message: "Something went wrong", error: "InternalServerError" });
        const name = status === 400 ? "BadRequest" : status === 413 ? "PayloadTooLarge" : status === 415 ? "UnsupportedMediaType" : "Error";
        return reply.code(status).send({ reqId: req.id, statusCode: status, message, error: name });
    });

    app.get("/healthz", async () => ({ status: "ok" }));
    // Infisical's status route (what clients call to check the host).
    app.get("/api/status", async () => ({ date: new Date().toISOString(), message: "Ok", emailConfigured: false, inviteOnlySignup: false, redisConfigured: false, secretScanningConfigured: false }));

    registerLoginRoutes(app, ctx);
    registerAuthCheckRoutes(app, ctx);
    registerSsoRoutes(app, ctx);
    registerIdentityOidcAuthRoutes(app, ctx);
    registerIdentityKubernetesAuthRoutes(app, ctx);
    registerIdentityAwsAuthRoutes(app, ctx);
    registerUnleashRoutes(app, ctx);
    await registerIssuer(app, ctx);
    await registerKubernetesApi(app, ctx);
    registerStsRoutes(app, ctx);
    registerAdminRoutes(app, ctx, options.adminToken);
    return app;
}

/** A JSON.parse error message without the part that quotes the input ("Unexpected token 'x', "…" is not valid JSON"). */
function jsonParseMessage(raw: string): string {
    const message = raw.replace(/^Body is not valid JSON but content-type is set to 'application\/json'$/, "Unexpected end of JSON input");
    const quoted = message.search(/, "|\s+in JSON at position|"/);
    return (quoted < 0 ? message : message.slice(0, quoted)).trim() || "Unexpected token in JSON";
}

function faultLabel(rule: FaultRule): string {
    return [rule.status !== undefined ? `status ${rule.status}` : undefined, rule.drop ? `drop ${rule.drop}` : undefined, rule.latencyMs ? `latency ${rule.latencyMs}ms` : undefined]
        .filter(Boolean)
        .join(", ");
}

const roleSchema = z.strictObject({
    slug: z.string().regex(/^[a-z0-9-]+$/),
    name: z.string().optional(),
    permissions: z.array(z.strictObject({ subject: z.string().min(1), action: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]), inverted: z.boolean().optional() })),
});

const orgSettingsPatch = z.strictObject({
    plan: z.strictObject({ oidcSSO: z.boolean().optional(), ipAllowlisting: z.boolean().optional(), machineIdentityAuthTemplates: z.boolean().optional() }).optional(),
    authEnforced: z.boolean().optional(),
    scimEnabled: z.boolean().optional(),
    googleSsoAuthEnforced: z.boolean().optional(),
    shouldUseNewPrivilegeSystem: z.boolean().optional(),
    /** Replaces the organization's custom roles. */
    customRoles: z.array(roleSchema).optional(),
});

const roleOf = z.strictObject({ role: z.string().min(1) });

/** Fault rules, counters and modelled settings at run time, also for a backend in another process (demo, manual tests). */
function registerAdminRoutes(app: FastifyInstance, ctx: Context, adminToken: string): void {
    const onRequest = async (req: FastifyRequest, reply: FastifyReply) => {
        const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
        if (!token || !sameSecret(token, adminToken)) return reply.code(401).send({ error: "the admin routes need Authorization: Bearer <ready.admin.token>" });
        return undefined;
    };
    app.get("/_admin/faults", { onRequest }, async () => ({ rules: ctx.faults.list() }));
    app.put("/_admin/faults", { onRequest }, async (req, reply) => {
        try {
            ctx.faults.set(parseFaultRules(req.body));
        } catch (err) {
            return reply.code(400).send({ error: (err as Error).message });
        }
        return { rules: ctx.faults.list() };
    });
    app.delete("/_admin/faults", { onRequest }, async () => {
        ctx.faults.clear();
        return { rules: [] };
    });
    // The Infisical settings the backend models beyond the API (licence plan, enforcement, SCIM, the instance's
    // SMTP): readable, and changeable for tests, like a server admin would in Infisical's console.
    const orgView = (id: string) => {
        const s = ctx.store.state.infisical;
        const org = s.organizations.find((o) => o.id === id);
        if (!org) return undefined;
        return {
            id: org.id,
            name: org.name,
            slug: org.slug,
            ...(org.rootOrgId ? { rootOrgId: org.rootOrgId, parentOrgId: org.parentOrgId } : {}),
            ...orgSettings(org),
            customRoles: org.customRoles ?? [],
            subOrganizations: s.organizations.filter((o) => o.rootOrgId === org.id).map((o) => ({ id: o.id, name: o.name, slug: o.slug })),
            users: s.users.filter((u) => u.orgId === org.id).map((u) => ({ id: u.id, email: u.email, role: u.role })),
            identities: s.identities
                .filter((i) => i.orgId === org.id || i.subOrgMemberships?.some((m) => m.orgId === org.id))
                .map((i) => ({ id: i.id, name: i.name, role: i.orgId === org.id ? i.role : i.subOrgMemberships?.find((m) => m.orgId === org.id)?.role, authMethods: i.authMethods })),
        };
    };
    const roleExists = (org: OrganizationRecord | undefined, role: string) => Object.hasOwn(BUILT_IN_ROLES, role) || (org?.customRoles ?? []).some((r) => r.slug === role);
    app.get("/_admin/infisical/organizations/:id", { onRequest }, async (req, reply) => {
        const view = orgView((req.params as { id: string }).id);
        return view ?? reply.code(404).send({ error: "no such organization" });
    });
    app.patch("/_admin/infisical/organizations/:id", { onRequest }, async (req, reply) => {
        const parsed = orgSettingsPatch.safeParse(req.body);
        if (!parsed.success) return reply.code(400).send({ error: parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ") });
        const id = (req.params as { id: string }).id;
        const found = await ctx.store.update((draft) => {
            const org = draft.infisical.organizations.find((o) => o.id === id);
            if (!org) return false;
            const { plan, customRoles, ...flags } = parsed.data;
            Object.assign(org, orgSettings(org), flags);
            if (plan) org.plan = { ...orgSettings(org).plan, ...plan };
            if (customRoles) {
                org.customRoles = customRoles.map(
                    (r): CustomRoleRecord => ({
                        id: org.customRoles?.find((c) => c.slug === r.slug)?.id ?? randomUUID(),
                        slug: r.slug,
                        name: r.name ?? r.slug,
                        permissions: r.permissions.map((p) => ({ subject: p.subject, action: typeof p.action === "string" ? [p.action] : p.action, ...(p.inverted ? { inverted: true } : {}) })),
                    }),
                );
            }
            return true;
        });
        return found ? orgView(id) : reply.code(404).send({ error: "no such organization" });
    });
    // An identity's or a user's role in its organization (built-in admin, member, no-access, or a custom role's slug).
    const setRole = (kind: "identities" | "users") =>
        app.patch(`/_admin/infisical/${kind}/:id`, { onRequest }, async (req, reply) => {
            const parsed = roleOf.safeParse(req.body);
            if (!parsed.success) return reply.code(400).send({ error: "expected {role: string}" });
            const id = (req.params as { id: string }).id;
            const result = await ctx.store.update((draft) => {
                const s = draft.infisical;
                const record = kind === "identities" ? s.identities.find((i) => i.id === id) : s.users.find((u) => u.id === id);
                if (!record) return "missing" as const;
                if (!roleExists(s.organizations.find((o) => o.id === record.orgId), parsed.data.role)) return "unknown-role" as const;
                record.role = parsed.data.role;
                return { id: record.id, orgId: record.orgId, role: record.role };
            });
            if (result === "missing") return reply.code(404).send({ error: `no such ${kind === "identities" ? "identity" : "user"}` });
            if (result === "unknown-role") return reply.code(400).send({ error: `no role ${parsed.data.role} in the organization (built-in: ${Object.keys(BUILT_IN_ROLES).join(", ")}, or a custom role's slug)` });
            return result;
        });
    setRole("identities");
    setRole("users");
    registerAuthTemplateAdminRoutes(app, ctx, onRequest);
    // The organization and Unleash instance of a Pulumi stack (stack-config): the same name always gets the same
    // number; a new name gets the smallest free one.
    app.get("/_admin/stacks", { onRequest }, async () => ({ stacks: ctx.store.state.stacks }));
    app.post("/_admin/stacks/:stack", { onRequest }, async (req, reply) => {
        const { stack } = req.params as { stack: string };
        if (!/^[A-Za-z0-9_.-]{1,100}$/.test(stack)) return reply.code(400).send({ error: "a stack name is letters, digits, '_', '.' and '-'" });
        const index = await ctx.store.update((draft) => {
            if (Object.hasOwn(draft.stacks, stack)) return draft.stacks[stack] as number;
            const used = new Set(Object.values(draft.stacks));
            let n = 0;
            while (used.has(n)) n++;
            draft.stacks[stack] = n;
            return n;
        });
        return { stack, index };
    });
    app.get("/_admin/infisical/instance", { onRequest }, async () => ({ smtpVerified: ctx.store.state.infisical.instance?.smtpVerified ?? true }));
    app.patch("/_admin/infisical/instance", { onRequest }, async (req, reply) => {
        const parsed = z.strictObject({ smtpVerified: z.boolean() }).safeParse(req.body);
        if (!parsed.success) return reply.code(400).send({ error: "expected {smtpVerified: boolean}" });
        await ctx.store.update((draft) => {
            draft.infisical.instance = { smtpVerified: parsed.data.smtpVerified };
        });
        return { smtpVerified: parsed.data.smtpVerified };
    });
    app.get("/_admin/stats", { onRequest }, async () => ctx.stats.snapshot());
    app.post("/_admin/stats/reset", { onRequest }, async () => {
        ctx.stats.reset();
        return ctx.stats.snapshot();
    });
}
