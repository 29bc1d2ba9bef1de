/**
 * Talking to the API for one resource: which server and credentials (bound to each other), the requests of the
 * description's API mapping, what an answer means ("gone", "already exists"), and error hints in this resource's
 * words. Every lifecycle step that does I/O goes through an {@link ApiSession}.
 */
import {
    connectionSecrets,
    describeLayer,
    HintFn,
    infisicalClient,
    normalizeBaseUrl,
    resolveInfisical,
    resolveUnleash,
    ResolvedConnection,
    unleashClient,
} from "../connection";
import type { ErrorInfo, HttpClient, HttpResponse } from "../http/client";
import { ApiError, ProviderError } from "../http/errors";
import type { ResourceModel } from "./model";
import type { ErrorRule, GoneRule, RequestContext, RequestSpec } from "./types";
import { TARGET_URL } from "./model";
import { isPlainObject, withoutInternal } from "./values";

type Props = Record<string, unknown>;

export function matches(err: unknown, rules: GoneRule[] | undefined): boolean {
    if (!(err instanceof ApiError) || !rules) return false;
    return rules.some((r) => r.status === err.status && (!r.message || r.message.test(err.apiMessage ?? "")));
}

/** What an error answer (and the request it answered) says, for matching error rules. */
interface ErrorFacts {
    status: number;
    errorName?: string;
    apiMessage?: string;
    invalidFields: string[];
    body?: unknown;
}

function errorRuleMatches(rule: ErrorRule, facts: ErrorFacts): boolean {
    if (rule.status !== undefined && rule.status !== facts.status) return false;
    const name = facts.errorName ?? "";
    if (rule.errorName !== undefined && !(typeof rule.errorName === "string" ? rule.errorName === name : rule.errorName.test(name))) return false;
    if (rule.invalidField !== undefined && !facts.invalidFields.includes(rule.invalidField)) return false;
    if (rule.requestHas !== undefined && !(isPlainObject(facts.body) && facts.body[rule.requestHas] !== undefined)) return false;
    return !rule.message || rule.message.test(facts.apiMessage ?? "");
}

function hintText(rule: ErrorRule, answer: { missingPermissions: string[]; apiMessage?: string }): string {
    return typeof rule.hint === "function" ? rule.hint(answer) : rule.hint;
}

function fillPath(template: string, key: Record<string, string>): string {
    return template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(key[name] ?? ""));
}

/** The connection a resource's props resolve to now (its `connection` argument, else stack config, else environment). */
export function resolveConnection(model: ResourceModel, props: Props): ResolvedConnection {
    const arg = isPlainObject(props.connection) ? props.connection : undefined;
    return model.desc.service === "infisical" ? resolveInfisical(arg) : resolveUnleash(arg);
}

/** The URL the props point at, or undefined if it cannot be resolved (yet). */
export function targetOf(model: ResourceModel, props: Props): string | undefined {
    try {
        return resolveConnection(model, props).url;
    } catch {
        return undefined;
    }
}

/** Where a recorded object lives: the state's targetUrl, else (per-instance singletons, whose id is the URL) the id. */
export function recordedTarget(model: ResourceModel, state: Props, id: string | undefined): string | undefined {
    if (typeof state[TARGET_URL] === "string") return state[TARGET_URL] as string;
    return model.desc.key.length === 0 && id ? id : undefined;
}

export class ApiSession {
    readonly conn: ResolvedConnection;
    readonly client: HttpClient;
    readonly target: string;

    private constructor(
        readonly model: ResourceModel,
        conn: ResolvedConnection,
    ) {
        this.conn = conn;
        const hint = resourceHint(model);
        this.client = conn.service === "infisical" ? infisicalClient(conn, { hint }) : unleashClient(conn, { hint });
        this.target = conn.url as string;
    }

    /** A session for the props' connection (creates and updates: the desired server). */
    static forDesired(model: ResourceModel, props: Props): ApiSession {
        return new ApiSession(model, resolveConnection(model, props));
    }

    /**
     * A session for an object recorded on `recorded` (refresh and delete). Credentials are only ever sent to the
     * server they are configured for: when the configured URL is another one, this fails without any request.
     */
    static forRecorded(model: ResourceModel, props: Props, recorded: string | undefined): ApiSession {
        const conn = resolveConnection(model, props);
        // Credentials written in the resource's own connection without a URL belong to the object it records.
        const ownCredentials = conn.authFrom === "connection" && conn.urlFrom !== "connection";
        if (recorded && ownCredentials) conn.url = normalizeBaseUrl(recorded);
        if (recorded && conn.url && normalizeBaseUrl(recorded) !== conn.url) {
            const what = model.desc.service === "infisical" ? "infisicalHost" : "unleashUrl";
            throw new ProviderError(
                `${model.kind} is recorded on ${recorded}, but the credentials configured now are for ${conn.url} ` +
                    `(URL from ${describeLayer(conn.urlFrom ?? "default", what)}); they are not sent to another server. ` +
                    `To reach the recorded object, configure ${recorded} with credentials for it. To move the resource to ${conn.url}: ` +
                    "if it is another address of the same server, run `pulumi up` without --refresh (an update to the new URL); if that " +
                    "server holds other ids (organizationId, identityId), first set `retainOnDelete: true` on the resources and run " +
                    `\`pulumi up\` with the configuration of ${recorded}, then switch. See "Moving a stack to another URL" in the README`,
            );
        }
        if (recorded && !conn.url) conn.url = normalizeBaseUrl(recorded);
        return new ApiSession(model, conn);
    }

    /** A session for the object a state records (refresh and delete), on the URL it records. */
    static forState(model: ResourceModel, props: Props, id: string): ApiSession {
        const state = withoutInternal(props);
        return ApiSession.forRecorded(model, state, recordedTarget(model, state, id));
    }

    /** Credentials of this session (to redact from errors). */
    secrets(): string[] {
        return connectionSecrets(this.conn);
    }

    async send(spec: RequestSpec, ctx: RequestContext, extra: { reconcile?: () => Promise<{ body: unknown } | undefined>; secrets?: string[] } = {}): Promise<HttpResponse> {
        const query: Record<string, string> = {};
        for (const q of spec.query ?? []) query[q] = ctx.key[q] ?? "";
        try {
            return await this.client.request({
                method: spec.method,
                path: fillPath(spec.path, ctx.key),
                query,
                body: spec.body ? spec.body(ctx) : undefined,
                idempotent: spec.idempotent,
                reconcile: extra.reconcile,
                secrets: extra.secrets,
            });
        } catch (err) {
            // Answers that mean something else than the API's words (e.g. an unsupported server version).
            if (err instanceof ApiError) {
                const facts = { ...err, body: spec.body?.(ctx) };
                const rule = this.model.desc.errors?.find((r) => r.replaceMessage && errorRuleMatches(r, facts));
                if (rule) throw new ProviderError(`${err.service} API: ${err.method} ${err.path} returned ${err.status}: ${hintText(rule, { missingPermissions: [], apiMessage: err.apiMessage })}`);
            }
            throw err;
        }
    }

    /** Reads the object: its raw answer and the unwrapped object, or undefined when the API says it is gone. */
    async read(key: Record<string, string>): Promise<{ body: unknown; obj: Props } | undefined> {
        const spec = this.model.desc.api.read;
        try {
            const res = await this.send(spec, { key, desired: {} });
            const obj = this.model.unwrap(res.body);
            if (!obj) throw new ProviderError(`${this.client.service} API: ${spec.method} ${fillPath(spec.path, key)} answered without the expected object`);
            return { body: res.body, obj };
        } catch (err) {
            if (matches(err, spec.gone)) return undefined;
            throw err;
        }
    }

    /**
     * The object after a write, as reads will see it: the answer when it carries the object, except for full-replace
     * APIs (Unleash), whose answer is not what a GET returns (derived fields), so they are read once more. Undefined
     * when the object does not exist (Infisical answers a PATCH of a missing SSO configuration with 200 and no body).
     */
    async afterWrite(key: Record<string, string>, body: unknown): Promise<Props | undefined> {
        const answered = this.model.unwrap(body);
        if (answered && !this.model.desc.api.update.needsCurrent) return answered;
        return (await this.read(key))?.obj;
    }
}

/**
 * Hints in this resource's words: the description's own error rules first, then validation failures named by this
 * package's field names, then permissions named by the object this resource manages.
 */
function resourceHint(model: ResourceModel): HintFn {
    const fieldOf = new Map<string, string>();
    for (const f of model.settings) {
        fieldOf.set(model.requestName(f), f);
        fieldOf.set(model.responseName(f), f);
    }
    return (info: ErrorInfo) => {
        const rule = model.desc.errors?.find((r) => errorRuleMatches(r, { ...info, body: info.req.body }));
        if (rule) return hintText(rule, info);
        const validation = /^(ValidationFailure|BadDataError|ValidationError)$/.test(info.errorName ?? "") || (info.invalidFields.length > 0 && info.status < 500);
        if (validation) {
            const fields = info.invalidFields.map((f) => fieldOf.get(f) ?? f);
            return fields.length > 0
                ? `the API refused the value of ${fields.join(", ")}: correct ${fields.length > 1 ? "these fields" : "this field"} of ${model.kind}`
                : `the API refused the settings of ${model.kind}: correct the fields named in its message`;
        }
        const permission = /^(PermissionDenied|PermissionBoundaryError|PermissionError|NoAccessError)$/.test(info.errorName ?? "");
        if (permission || (info.status === 403 && !info.errorName)) {
            const needed = info.missingPermissions.length > 0 ? ` (missing: ${info.missingPermissions.join(", ")})` : "";
            return `the credentials are valid but may not manage ${model.desc.objectName}${needed}: ${model.desc.service === "infisical" ? "give the user or machine identity an organization role that allows it" : "use an admin API token or the personal access token of an Admin user (client and frontend tokens cannot)"}`;
        }
        return undefined;
    };
}
