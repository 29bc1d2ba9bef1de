/** Request helpers shared by the Infisical routes. */
import type { FastifyRequest } from "fastify";
import type { z } from "zod";
import { inf, InfisicalError } from "../errors";

/** The JSON body of a request; a body of another content type is refused (415). */
export function jsonBody(req: FastifyRequest): unknown {
    if (typeof req.body === "string") {
        const type = String(req.headers["content-type"] ?? "").split(";")[0]?.trim() || "none";
        throw new InfisicalError(415, "UnsupportedMediaType", `Unsupported Media Type: ${type}`);
    }
    return req.body;
}

/** Parses with a zod schema; a failure is Infisical's 422 ValidationFailure with the zod issues. */
export function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
    const result = schema.safeParse(value);
    if (!result.success) throw inf.validation(result.error);
    return result.data;
}

/** Infisical's comma-list formatting (router transforms): items trimmed and joined with ", ". */
export function commaSpaced(value: string): string {
    if (value === "") return "";
    return value
        .split(",")
        .map((s) => s.trim())
        .join(", ");
}
