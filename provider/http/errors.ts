/**
 * Errors of the HTTP layer. Their messages are written for the person running `pulumi up`: what was called, what
 * the API said (its message and request id), and how to fix the common cases. They never contain a credential or a
 * secret: every text taken from a response is passed through the client's redaction first.
 */

export type ServiceName = "Infisical" | "Unleash" | "OIDC discovery" | "GitHub Actions";

export interface ApiErrorDetails {
    service: ServiceName;
    method: string;
    /** Path and query of the request (no credentials ever travel in URLs). */
    path: string;
    status: number;
    /** The API's own message (redacted). */
    apiMessage?: string;
    /** A cause the API adds beside its message (Infisical's `error` when it is a sentence, redacted). */
    apiDetail?: string;
    /** The API's request or error id (Infisical `reqId`, Unleash error `id`). */
    reqId?: string;
    /** The API's error kind (Infisical `error`, Unleash `name`). */
    errorName?: string;
    /** The fields a validation failure names, as the API names them. */
    invalidFields?: string[];
    hint?: string;
    attempts: number;
}

const STATUS_TEXT: Record<number, string> = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
};

/** The API answered with a non-success status. */
export class ApiError extends Error implements ApiErrorDetails {
    readonly service: ServiceName;
    readonly method: string;
    readonly path: string;
    readonly status: number;
    readonly apiMessage?: string;
    readonly apiDetail?: string;
    readonly reqId?: string;
    readonly errorName?: string;
    readonly invalidFields: string[];
    readonly hint?: string;
    readonly attempts: number;

    constructor(details: ApiErrorDetails) {
        const statusText = STATUS_TEXT[details.status] ?? "";
        const parts = [
            `${details.service} API: ${details.method} ${details.path} returned ${details.status}${statusText ? ` ${statusText}` : ""}`,
        ];
        if (details.apiMessage) parts[0] += `: ${details.apiMessage}`;
        if (details.apiDetail) parts[0] += details.apiMessage ? ` (${details.apiDetail})` : `: ${details.apiDetail}`;
        if (details.reqId) parts.push(`(reqId: ${details.reqId})`);
        if (details.attempts > 1) parts.push(`[after ${details.attempts} attempts]`);
        let message = parts.join(" ");
        // The API's message may end a sentence itself ("Could not load discoverUrl.").
        if (details.hint) message += `${/[.!?]$/.test(message) ? "" : "."} How to fix: ${details.hint}`;
        super(message);
        this.name = "ApiError";
        this.service = details.service;
        this.method = details.method;
        this.path = details.path;
        this.status = details.status;
        this.apiMessage = details.apiMessage;
        this.apiDetail = details.apiDetail;
        this.reqId = details.reqId;
        this.errorName = details.errorName;
        this.invalidFields = details.invalidFields ?? [];
        this.hint = details.hint;
        this.attempts = details.attempts;
    }
}

/** The request did not get an HTTP answer (refused, reset, timed out), after the retries the budget allowed. */
export class NetworkError extends Error {
    readonly service: ServiceName;
    readonly method: string;
    readonly path: string;
    readonly code: string;
    readonly attempts: number;

    constructor(details: {
        service: ServiceName;
        method: string;
        path: string;
        code: string;
        reason: string;
        attempts: number;
        origin: string;
        /** Where the URL came from ("stack config unleash:url"), named in the fix. */
        urlSource?: string;
        /** The fix, when the failure has a specific one (TLS, proxy); else: check the URL and that the server is reachable. */
        fix?: string;
        /** The proxy the request went through (without its credentials). */
        proxy?: string;
    }) {
        const from = details.urlSource ? ` (from ${details.urlSource})` : "";
        const via = details.proxy ? ` through the proxy ${details.proxy}` : "";
        super(
            `${details.service} API: ${details.method} ${details.path} on ${details.origin}${from}${via} failed: ${details.reason} (${details.code})` +
                (details.attempts > 1 ? ` [after ${details.attempts} attempts]` : "") +
                `. How to fix: ${details.fix ?? `check that the URL${from} is right and the server is reachable from this machine`}`,
        );
        this.name = "NetworkError";
        this.service = details.service;
        this.method = details.method;
        this.path = details.path;
        this.code = details.code;
        this.attempts = details.attempts;
    }
}

/** A message for the user that needs no stack trace (configuration problems, refused takeovers, ...). */
export class ProviderError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ProviderError";
    }
}
