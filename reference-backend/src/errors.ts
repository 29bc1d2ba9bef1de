/**
 * The two error dialects the backend speaks.
 *
 * Infisical (its fastify error handler): `{reqId, statusCode, message, error}`, plus `details` on some 403s;
 * zod validation failures are 422 with `error: "ValidationFailure"` and the zod issues as `message`.
 *
 * Unleash (UnleashError#toJSON): `{id, name, message, details: [{message, description, path?}]}`, plus `path`
 * and `type` on AuthenticationRequired.
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
    forbidden: (message: string, details?: unknown) => new InfisicalError(403, "PermissionDenied", message, details),
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
    description: string;
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
            details: this.details ?? [{ message: this.message, description: this.message }],
            ...this.extra,
        };
    }
}
