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
import { registerIdentityOidcAuthRoutes } from "./infisical/identity-oidc-auth";
import { registerLoginRoutes } from "./infisical/logins";
import { registerSsoRoutes } from "./infisical/sso";
import { registerIssuer } from "./issuer";
import { requestId, sameSecret } from "./secrets";
import { registerUnleashRoutes } from "./unleash/oidc-settings";

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
}

export async function buildServer(ctx: Context, options: ServerOptions): Promise<FastifyInstance> {
    const app = Fastify({
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

        const fe = error as FastifyError;
        // JSON.parse messages quote the body: never echo (or log) a part of it.
        const message = error instanceof SyntaxError || fe.code === "FST_ERR_CTP_INVALID_JSON_BODY" ? "The request body is not valid JSON" : error.message;
        let status = typeof fe.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 600 ? fe.statusCode : 500;
        if (status >= 500) {
            ctx.log({ time: new Date().toISOString(), level: "error", msg: "unhandled error", reqId: req.id, route: req.routeOptions?.url, error: error.message });
            status = 500;
        }
        if (service === "unleash") {
            if (status === 400) {
                return reply.code(400).send(new UnleashApiError(400, "BadDataError", "Request validation failed: your request body failed to validate. Refer to the `details` list to see what happened.", [{ message, description: message }]).toJSON());
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
    registerSsoRoutes(app, ctx);
    registerIdentityOidcAuthRoutes(app, ctx);
    registerUnleashRoutes(app, ctx);
    await registerIssuer(app, ctx);
    registerAdminRoutes(app, ctx, options.adminToken);
    return app;
}

function faultLabel(rule: FaultRule): string {
    return [rule.status !== undefined ? `status ${rule.status}` : undefined, rule.drop ? `drop ${rule.drop}` : undefined, rule.latencyMs ? `latency ${rule.latencyMs}ms` : undefined]
        .filter(Boolean)
        .join(", ");
}

/** Fault rules and counters at run time, for a backend in another process (demo, manual tests). */
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
    app.get("/_admin/stats", { onRequest }, async () => ctx.stats.snapshot());
    app.post("/_admin/stats/reset", { onRequest }, async () => {
        ctx.stats.reset();
        return ctx.stats.snapshot();
    });
}
