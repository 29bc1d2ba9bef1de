/**
 * The two error dialects the backend speaks.
 *
 * Infisical (backend/src/server/plugins/error-handler.ts): `{reqId, statusCode, message, error}` where `error` is
 * the error class's name (BadRequest, NotFound, UnauthorizedError, ForbiddenError, PermissionDenied with the
 * ability's rules as `details`, DatabaseError names such as "Create"); zod failures are 422 ValidationFailure with
 * the zod issues as `message`; jsonwebtoken failures (expired, malformed, bad signature) are 403 TokenError.
 *
 * Unleash (UnleashError#toJSON, as recorded on 8.2.0): `{id, name, message, details: [{message, path?}]}`, plus
 * `path`, `type` and `defaultHidden` on AuthenticationRequired and `permissions` on PermissionError.
 */
import { randomUUID } from "crypto";
import type { ZodError } from "zod";

export class InfisicalError extends Error {
    readonly statusCode: number;
    readonly errorName: string;
    readonly body: unknown;
    readonly details?: unknown;

    constructor(statusCode: number, errorName: string, message: unknown, details?: unknown) {
        super(typeof message === "string" ? message : "Validation failed");
        this.statusCode = statusCode;
        this.errorName = errorName;
        this.body = message;
        this.details = details;
    }

    toJSON(reqId: string): Record<string, unknown> {
        const out: Record<string, unknown> = { reqId, statusCode: this.statusCode, message: this.body, error: this.errorName };
        if (this.details !== undefined) out.details = this.details;
        return out;
    }
}

export const inf = {
    badRequest: (message: string) => new InfisicalError(400, "BadRequest", message),
    unauthorized: (message: string) => new InfisicalError(401, "UnauthorizedError", message),
    /** A casl ForbiddenError: "You are not allowed to <action> on <subject>", the matching rules as details. */
    permissionDenied: (message: string, details: unknown = []) => new InfisicalError(403, "PermissionDenied", message, details),
    /** ForbiddenRequestError (its default name is "ForbiddenError"), e.g. a token of another organization. */
    forbidden: (message: string) => new InfisicalError(403, "ForbiddenError", message),
    /** jsonwebtoken's JsonWebTokenError, as the error handler words it. */
    token: (message: string) => new InfisicalError(403, "TokenError", message),
    notFound: (message: string) => new InfisicalError(404, "NotFound", message),
    validation: (err: ZodError) =>
        new InfisicalError(
            422,
            "ValidationFailure",
            err.issues.map((i) => ({ ...i, path: i.path.map((p) => (typeof p === "symbol" ? String(p) : p)) })),
        ),
    internal: (message = "Something went wrong", name = "InternalServerError") => new InfisicalError(500, name, message),
};

export interface UnleashErrorDetail {
    message: string;
    path?: string;
}

export class UnleashApiError extends Error {
    readonly statusCode: number;
    readonly errorName: string;
    readonly details?: UnleashErrorDetail[];
    readonly extra?: Record<string, unknown>;

    constructor(statusCode: number, errorName: string, message: string, details?: UnleashErrorDetail[], extra?: Record<string, unknown>) {
        super(message);
        this.statusCode = statusCode;
        this.errorName = errorName;
        this.details = details;
        this.extra = extra;
    }

    toJSON(): Record<string, unknown> {
        return {
            id: randomUUID(),
            name: this.errorName,
            message: this.message,
            details: this.details ?? [{ message: this.message }],
            ...this.extra,
        };
    }
}
