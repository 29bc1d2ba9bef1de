/**
 * The generic engine: turns a {@link ResourceDescription} into the dynamic provider's
 * check/diff/create/read/update/delete.
 *
 * State layout (the outputs of every resource):
 * - every API field of the description, normalized (so create, read and diff agree on one canonical form);
 * - computed fields from responses (ids, timestamps);
 * - for write-only secrets, the last applied value (a secret output) and `<field>Hash`, a salted scrypt hash that
 *   diff compares the desired value against;
 * - `targetUrl`: the API base URL the object lives on (from the connection, stack config or environment);
 * - `connection` when given as an argument (a secret output), so that refresh and delete reach the same API.
 *
 * Nothing a method returns, throws or logs contains a secret or a credential: every error leaving the engine is
 * redacted of the values of the resource's secret fields and of the connection's credentials.
 */
import deepEqual from "deep-equal";
import { z } from "zod";
import type * as pulumi from "@pulumi/pulumi";
import {
    baseUrlProblem,
    connectionSecrets,
    infisicalClient,
    missingCredentialsMessage,
    missingUrlMessage,
    normalizeBaseUrl,
    resolveInfisical,
    resolveUnleash,
    ResolvedConnection,
    unleashClient,
} from "../connection";
import { HttpClient } from "../http/client";
import { ApiError, ProviderError } from "../http/errors";
import { verifyDiscovery } from "./discovery";
import { hashSecret, MASK, matchesHash, redact, saltOf, stringsIn } from "./secrets";
import type { FieldRule, GoneRule, RequestContext, RequestSpec, ResourceDescription } from "./types";
import { compact, containsUnknown, isPlainObject, UNKNOWN, withoutInternal } from "./values";

type Props = Record<string, unknown>;

/** Engine-level inputs every resource has in addition to its API settings. */
export const ENGINE_INPUTS = ["connection", "adoptExisting", "verifyDiscovery"] as const;
export const TARGET_URL = "targetUrl";

export function hashField(field: string): string {
    return `${field}Hash`;
}

/** One line of a diff explanation; secret values are masked. */
export interface DiffDetail {
    property: string;
    kind: "update" | "replace";
    old: unknown;
    new: unknown;
}

/** The dynamic provider's DiffResult plus the list of changed properties and a masked explanation. */
export interface EngineDiffResult extends pulumi.dynamic.DiffResult {
    readonly diffs: string[];
    readonly details: DiffDetail[];
}

/** An error for a create whose object exists although a later step failed: Pulumi records the resource. */
class ResourceInitError extends Error {
    constructor(
        message: string,
        readonly id: string,
        readonly properties: Props,
        readonly reasons: string[],
    ) {
        super(message);
        this.name = "ResourceInitError";
    }
}

const infisicalConnectionSchema = z.strictObject({
    host: z.string().optional(),
    token: z.string().optional(),
    clientId: z.string().optional(),
    clientSecret: z.string().optional(),
});
const unleashConnectionSchema = z.strictObject({
    url: z.string().optional(),
    apiToken: z.string().optional(),
});

function levenshtein(a: string, b: string): number {
    const dp = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
        let prev = dp[0];
        dp[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const tmp = dp[j];
            dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
            prev = tmp;
        }
    }
    return dp[b.length];
}

function propertyPath(path: ReadonlyArray<PropertyKey>): string {
    let out = "";
    for (const part of path) {
        if (typeof part === "number") out += `[${part}]`;
        else out += out === "" ? String(part) : `.${String(part)}`;
    }
    return out;
}

function matchesGone(err: unknown, rules: GoneRule[] | undefined): boolean {
    if (!(err instanceof ApiError) || !rules) return false;
    return rules.some((r) => r.status === err.status && (!r.message || r.message.test(err.apiMessage ?? "")));
}

function fillPath(template: string, key: Record<string, string>): string {
    return template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(key[name] ?? ""));
}

/** Redacts an error's message and stack in place (keeping its class and fields, e.g. ApiError.status). */
function sanitize(err: unknown, secrets: string[]): Error {
    if (!(err instanceof Error)) return new ProviderError(redact(String(err), secrets));
    const message = redact(err.message, secrets);
    if (message !== err.message) Object.defineProperty(err, "message", { value: message, configurable: true, writable: true });
    if (err.stack) {
        const stack = redact(err.stack, secrets);
        if (stack !== err.stack) Object.defineProperty(err, "stack", { value: stack, configurable: true, writable: true });
    }
    return err;
}

export class ResourceEngine implements pulumi.dynamic.ResourceProvider {
    readonly desc: ResourceDescription;
    private readonly schema: z.ZodObject<z.ZodRawShape>;
    private readonly allFields: string[];

    constructor(desc: ResourceDescription) {
        this.desc = desc;
        const extra: Record<string, z.ZodType> = {
            connection: (desc.service === "infisical" ? infisicalConnectionSchema : unleashConnectionSchema).optional(),
        };
        if (desc.adoptable) extra.adoptExisting = z.boolean({ error: "must be a boolean" }).optional();
        if (desc.discovery) extra.verifyDiscovery = z.boolean({ error: "must be a boolean" }).optional();
        this.schema = z.strictObject({ ...desc.schema.shape, ...extra });
        this.allFields = [...Object.keys(desc.schema.shape), ...Object.keys(extra)];
    }

    // ------------------------------------------------------------------------------------------------ fields

    private rule(field: string): FieldRule {
        return this.desc.fields[field] ?? { doc: "" };
    }

    /** API settings fields (sent to and read from the API). */
    private apiFields(): string[] {
        return Object.keys(this.desc.fields).filter((f) => !this.rule(f).computed);
    }

    private computedFields(): string[] {
        return Object.keys(this.desc.fields).filter((f) => this.rule(f).computed);
    }

    private normalizeField(field: string, value: unknown): unknown {
        const n = this.rule(field).normalize;
        return n ? n(value) : value;
    }

    /** Every secret value that may be in play for these props (to redact from errors). */
    private secretsOf(...propsList: Array<Props | undefined>): string[] {
        const out: string[] = [];
        for (const props of propsList) {
            if (!props) continue;
            for (const [field, rule] of Object.entries(this.desc.fields)) {
                if (rule.secret) out.push(...stringsIn(props[field]));
            }
            // Credentials of the connection (its URL is no secret and must stay readable in messages).
            if (isPlainObject(props.connection)) {
                for (const key of ["token", "clientId", "clientSecret", "apiToken"]) out.push(...stringsIn(props.connection[key]));
            }
        }
        return out;
    }

    private async guard<T>(propsList: Array<Props | undefined>, fn: () => Promise<T>, conn?: () => ResolvedConnection | undefined): Promise<T> {
        try {
            return await fn();
        } catch (err) {
            const c = conn?.();
            throw sanitize(err, [...this.secretsOf(...propsList), ...(c ? connectionSecrets(c) : [])]);
        }
    }

    // ------------------------------------------------------------------------------------------------ connection

    private resolve(props: Props, targetOverride?: string): ResolvedConnection {
        const arg = isPlainObject(props.connection) ? props.connection : undefined;
        const conn = this.desc.service === "infisical" ? resolveInfisical(arg) : resolveUnleash(arg);
        if (targetOverride) {
            conn.url = normalizeBaseUrl(targetOverride);
        }
        return conn;
    }

    private client(conn: ResolvedConnection): HttpClient {
        const hint = this.desc.hint ? (status: number, _req: unknown, msg: string | undefined) => this.desc.hint?.(status, msg) : undefined;
        return conn.service === "infisical" ? infisicalClient(conn, { hint }) : unleashClient(conn, { hint });
    }

    /** Where a recorded object lives: the state's targetUrl, else (per-instance singletons, whose id is the URL) the id. */
    private recordedTarget(state: Props, id: string | undefined): string | undefined {
        if (typeof state[TARGET_URL] === "string") return state[TARGET_URL] as string;
        return this.desc.key.length === 0 && id ? id : undefined;
    }

    /** The target URL for props, or undefined if it cannot be resolved. */
    private targetOf(props: Props): string | undefined {
        try {
            return this.resolve(props).url;
        } catch {
            return undefined;
        }
    }

    // ------------------------------------------------------------------------------------------------ ids, keys

    private keyOf(props: Props, id?: string): Record<string, string> {
        const key: Record<string, string> = {};
        for (const k of this.desc.key) {
            const v = props[k];
            if (typeof v === "string" && v !== "") key[k] = v;
        }
        // `get(name, id)` reads with the id alone: single-field keys are the id.
        if (id && this.desc.key.length === 1 && key[this.desc.key[0]] === undefined) key[this.desc.key[0]] = id;
        return key;
    }

    private idOf(key: Record<string, string>, target: string): string {
        return this.desc.key.length === 0 ? target : this.desc.key.map((k) => key[k]).join("/");
    }

    // ------------------------------------------------------------------------------------------------ API calls

    private unwrap(body: unknown): Props | undefined {
        const obj = this.desc.api.unwrap && isPlainObject(body) ? body[this.desc.api.unwrap] : body;
        return isPlainObject(obj) ? obj : undefined;
    }

    /** Desired settings as the API body expects them: API names, normalized values, unmanaged fields left out. */
    private desiredBody(inputs: Props): Props {
        const body: Props = {};
        for (const field of this.apiFields()) {
            const rule = this.rule(field);
            if (rule.inPath) continue;
            const value = inputs[field];
            if (value === undefined || value === null) continue;
            body[rule.apiName ?? field] = rule.toApi ? rule.toApi(value) : this.normalizeField(field, value);
        }
        return body;
    }

    private async send(client: HttpClient, spec: RequestSpec, ctx: RequestContext, extra: { reconcile?: () => Promise<{ body: unknown } | undefined>; secrets?: string[] } = {}) {
        const query: Record<string, string> = {};
        for (const q of spec.query ?? []) query[q] = ctx.key[q] ?? "";
        return client.request({
            method: spec.method,
            path: fillPath(spec.path, ctx.key),
            query,
            body: spec.body ? spec.body(ctx) : undefined,
            idempotent: spec.idempotent,
            reconcile: extra.reconcile,
            secrets: extra.secrets,
        });
    }

    /** Reads the object: its raw response body and the unwrapped object, or undefined when the API says it is gone. */
    private async readRaw(client: HttpClient, key: Record<string, string>): Promise<{ body: unknown; obj: Props } | undefined> {
        try {
            const res = await this.send(client, this.desc.api.read, { key, desired: {} });
            const obj = this.unwrap(res.body);
            if (!obj) throw new ProviderError(`${client.service} API: ${this.desc.api.read.method} ${fillPath(this.desc.api.read.path, key)} answered without the expected object`);
            return { body: res.body, obj };
        } catch (err) {
            if (matchesGone(err, this.desc.api.read.gone)) return undefined;
            throw err;
        }
    }

    private isEnabled(obj: Props): boolean {
        const s = this.desc.singleton;
        if (!s) return true;
        const rule = this.rule(s.enabledField);
        return obj[rule.responseName ?? rule.apiName ?? s.enabledField] === true;
    }

    /**
     * The object after a write, as reads will see it: the answer when it carries the object, except for full-replace
     * APIs (Unleash), whose answer is not what a GET returns (derived fields), so they are read once more.
     */
    private async afterWrite(client: HttpClient, key: Record<string, string>, body: unknown): Promise<Props | undefined> {
        const answered = this.unwrap(body);
        if (answered && !this.desc.api.update.needsCurrent) return answered;
        return (await this.readRaw(client, key))?.obj ?? answered;
    }

    private existenceOf(found: { obj: Props } | undefined): "absent" | "active" | "disabled" {
        return !found ? "absent" : this.isEnabled(found.obj) ? "active" : "disabled";
    }

    /** Whether an API object carries the desired value of every managed field it returns. */
    private matchesDesired(obj: Props, inputs: Props): boolean {
        return this.apiFields().every((field) => {
            const rule = this.rule(field);
            const live = obj[rule.responseName ?? rule.apiName ?? field];
            if (rule.writeOnly || live === undefined || inputs[field] === undefined || inputs[field] === null) return true;
            return deepEqual(this.normalizeField(field, live), this.normalizeField(field, inputs[field]), { strict: true });
        });
    }

    // ------------------------------------------------------------------------------------------------ outputs

    /**
     * Outputs from an API object. Fields the response does not carry keep the fallback value (the desired value
     * just written, or the previous state), so that partial responses (a PATCH answer without some field) do not
     * look like drift.
     */
    private async outputsFrom(obj: Props | undefined, fallback: Props, inputs: Props, target: string, previous?: Props): Promise<Props> {
        const out: Props = {};
        for (const field of [...this.apiFields(), ...this.computedFields()]) {
            const rule = this.rule(field);
            if (rule.writeOnly) continue;
            const raw = obj?.[rule.responseName ?? rule.apiName ?? field];
            if (raw !== undefined) out[field] = this.normalizeField(field, raw);
            else if (fallback[field] !== undefined) out[field] = rule.computed ? fallback[field] : this.normalizeField(field, fallback[field]);
        }
        for (const field of this.apiFields().filter((f) => this.rule(f).writeOnly)) {
            const rule = this.rule(field);
            const h = hashField(field);
            const desired = inputs[field];
            const live = obj?.[rule.responseName ?? rule.apiName ?? field];
            const prevHash = previous?.[h];
            const recorded = async (value: string) => previous?.[field] === value || (typeof prevHash === "string" && (await matchesHash(value, prevHash)));
            if (typeof live === "string" && live !== "" && !(await recorded(live))) {
                // The API did return it (some servers do on GET) and it differs from what we applied: show that.
                out[field] = live;
                out[h] = await hashSecret(live);
            } else if (typeof desired === "string") {
                out[field] = desired;
                out[h] = await hashFor(desired, previous, field);
            } else if (previous && previous[h] !== undefined) {
                if (previous[field] !== undefined) out[field] = previous[field];
                out[h] = previous[h];
            }
        }
        // Secrets the API does return get a salted hash too (the salt kept across reads, so an unchanged value keeps
        // its hash): events and diffs mask secret values, so this is how a change of one shows in a refresh.
        for (const field of this.apiFields().filter((f) => this.rule(f).secret && !this.rule(f).writeOnly)) {
            const value = out[field];
            if (typeof value === "string" && value !== "") out[hashField(field)] = await hashFor(value, previous, field);
        }
        out[TARGET_URL] = target;
        if (inputs.connection !== undefined) out.connection = inputs.connection;
        if (inputs.adoptExisting !== undefined) out.adoptExisting = inputs.adoptExisting;
        if (inputs.verifyDiscovery !== undefined) out.verifyDiscovery = inputs.verifyDiscovery;
        return compact(out);
    }

    private normalizedDesired(inputs: Props): Props {
        const out: Props = {};
        for (const field of this.apiFields()) {
            if (inputs[field] !== undefined && inputs[field] !== null) out[field] = inputs[field];
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------------ check

    /** Inputs with defaults applied where absent (null counts as absent). */
    private withDefaults(inputs: Props): Props {
        const out: Props = {};
        for (const [k, v] of Object.entries(inputs)) if (v !== null && v !== undefined) out[k] = v;
        for (const [field, rule] of Object.entries(this.desc.fields)) {
            if (rule.computed || rule.default === undefined) continue;
            if (out[field] === undefined) out[field] = rule.default;
        }
        if (this.desc.adoptable && out.adoptExisting === undefined) out.adoptExisting = false;
        if (this.desc.discovery && out.verifyDiscovery === undefined) out.verifyDiscovery = false;
        return out;
    }

    async check(_olds: Props, news: Props): Promise<pulumi.dynamic.CheckResult> {
        return this.guard([news], async () => {
            const given = withoutInternal(news);
            const unknown = new Set(Object.keys(given).filter((k) => containsUnknown(given[k])));
            const known: Props = {};
            for (const [k, v] of Object.entries(given)) if (!unknown.has(k)) known[k] = v;
            const withDefaults = this.withDefaults(known);

            const failures: Array<{ property: string; reason: string }> = [];
            const failed = new Set<string>();
            const parsed = this.schema.safeParse(withDefaults);
            if (!parsed.success) {
                for (const issue of parsed.error.issues) {
                    if (issue.code === "unrecognized_keys") {
                        for (const key of issue.keys) {
                            const base = propertyPath([...issue.path, key]);
                            const candidates = issue.path.length === 0 ? this.allFields : issue.path[0] === "connection" ? Object.keys(this.connectionSchema().shape) : [];
                            const near = candidates.filter((c) => levenshtein(c, key) <= 3).sort((a, b) => levenshtein(a, key) - levenshtein(b, key))[0];
                            failures.push({ property: base, reason: `unknown property of ${this.desc.kind}${near ? `: did you mean "${near}"?` : ""}` });
                        }
                        continue;
                    }
                    const top = String(issue.path[0] ?? "");
                    if (unknown.has(top)) continue;
                    failed.add(top);
                    const missing = issue.path.length === 1 && withDefaults[top] === undefined;
                    failures.push({ property: propertyPath(issue.path) || top, reason: missing ? `${top} is required` : this.reasonFor(issue, top) });
                }
            }

            for (const rule of this.desc.rules ?? []) {
                if (rule.fields.some((f) => unknown.has(f) || failed.has(f))) continue;
                for (const failure of rule.check(withDefaults)) {
                    failures.push(failure);
                    failed.add(failure.property.split(/[.[]/)[0]);
                }
            }

            if (!unknown.has("connection") && !failed.has("connection")) {
                const problem = this.connectionProblem(withDefaults);
                if (problem) failures.push({ property: "connection", reason: problem });
            }

            if (this.desc.discovery && withDefaults.verifyDiscovery === true && failures.length === 0) {
                const target = this.desc.discovery(withDefaults);
                const involved = target ? [target.property, target.expectedIssuer?.property].filter((p): p is string => !!p) : [];
                if (target && !involved.some((p) => unknown.has(p)) && !(target.discoveryUrl && containsUnknown(target.discoveryUrl))) {
                    failures.push(...(await verifyDiscovery(target)));
                }
            }

            const inputs: Props = { ...withDefaults };
            for (const k of unknown) inputs[k] = given[k];
            return failures.length > 0 ? { inputs, failures } : { inputs };
        });
    }

    private connectionSchema(): z.ZodObject<z.ZodRawShape> {
        return this.desc.service === "infisical" ? infisicalConnectionSchema : unleashConnectionSchema;
    }

    private reasonFor(issue: z.core.$ZodIssue, field: string): string {
        const rule = this.desc.fields[field];
        // Never echo a secret back: zod messages may quote the input.
        if (rule?.secret) {
            if (issue.code === "custom") return issue.message; // our own messages never quote the value
            return issue.code === "invalid_type" ? `must be a ${issue.expected}` : "invalid value";
        }
        return issue.message;
    }

    /** Connection settings that cannot work, or missing credentials. */
    private connectionProblem(inputs: Props): string | undefined {
        const arg = isPlainObject(inputs.connection) ? inputs.connection : {};
        const urlField = this.desc.service === "infisical" ? "host" : "url";
        if (typeof arg[urlField] === "string" && (arg[urlField] as string).trim() !== "") {
            const problem = baseUrlProblem(arg[urlField] as string);
            if (problem) return `connection.${urlField} ${problem}`;
        }
        let conn: ResolvedConnection;
        try {
            conn = this.resolve(inputs);
        } catch (err) {
            return err instanceof Error ? err.message : String(err);
        }
        if (conn.service === "infisical" && !conn.auth) return missingCredentialsMessage("infisical");
        if (conn.service === "unleash" && !conn.url) return missingUrlMessage();
        if (conn.service === "unleash" && !conn.apiToken) return missingCredentialsMessage("unleash");
        return undefined;
    }

    // ------------------------------------------------------------------------------------------------ diff

    async diff(_id: string, olds: Props, news: Props): Promise<EngineDiffResult> {
        return this.guard([olds, news], async () => {
            const old = withoutInternal(olds);
            const neu = withoutInternal(news);
            const diffs: string[] = [];
            const replaces: string[] = [];
            const details: DiffDetail[] = [];
            const note = (property: string, replace: boolean, oldValue: unknown, newValue: unknown, secret: boolean) => {
                diffs.push(property);
                if (replace) replaces.push(property);
                details.push({ property, kind: replace ? "replace" : "update", old: secret ? MASK : oldValue, new: secret ? MASK : newValue });
            };

            for (const field of this.apiFields()) {
                const rule = this.rule(field);
                const desired = neu[field];
                if (desired === undefined || desired === null) continue; // unmanaged
                const secret = !!rule.secret;
                if (containsUnknown(desired)) {
                    note(field, !!rule.forcesReplacement, old[field], UNKNOWN, secret);
                    continue;
                }
                if (rule.writeOnly) {
                    // The state keeps the applied value (encrypted) beside its hash; the hash decides when it does not.
                    const recorded = old[field];
                    const same = typeof desired === "string" && (typeof recorded === "string" ? recorded === desired : await matchesHash(desired, old[hashField(field)]));
                    if (!same) note(field, !!rule.forcesReplacement, MASK, MASK, true);
                    continue;
                }
                const a = this.normalizeField(field, old[field]);
                const b = this.normalizeField(field, desired);
                if (!deepEqual(a, b, { strict: true })) note(field, !!rule.forcesReplacement, a, b, secret);
            }

            // Where the object lives: a different API means a different object.
            const oldTarget = typeof old[TARGET_URL] === "string" ? (old[TARGET_URL] as string) : undefined;
            const connChanged = !deepEqual(cleanConnection(old.connection), cleanConnection(neu.connection), { strict: true });
            if (containsUnknown(neu.connection)) {
                note("connection", true, MASK, MASK, true);
            } else {
                const newTarget = this.targetOf(neu);
                if (oldTarget && newTarget && oldTarget !== newTarget) {
                    note(connChanged ? "connection" : TARGET_URL, true, oldTarget, newTarget, false);
                } else if (connChanged) {
                    // Only credentials moved: stored for refresh/delete, no API call.
                    note("connection", false, MASK, MASK, true);
                }
            }

            return { changes: diffs.length > 0, replaces, deleteBeforeReplace: false, diffs, details };
        });
    }

    // ------------------------------------------------------------------------------------------------ create

    async create(inputs: Props): Promise<pulumi.dynamic.CreateResult> {
        let conn: ResolvedConnection | undefined;
        return this.guard(
            [inputs],
            async () => {
                const ins = withoutInternal(inputs);
                conn = this.resolve(ins);
                const client = this.client(conn);
                const target = conn.url as string;
                const key = this.keyOf(ins);
                for (const k of this.desc.key) {
                    if (!key[k]) throw new ProviderError(`${k} is required`);
                }
                const id = this.idOf(key, target);
                const desired = this.desiredBody(ins);
                const secrets = this.secretsOf(ins);

                // An API that refuses duplicates is asked directly: one request when the object is new. One whose
                // create overwrites (Unleash) is read first, so that settings in use are never clobbered silently.
                const refusesDuplicates = !!this.desc.api.create.alreadyExists;
                let existing = refusesDuplicates ? undefined : await this.readRaw(client, key);
                let state = this.existenceOf(existing);

                let body: unknown;
                if (state === "absent") {
                    let reconciled: { body: unknown; obj: Props } | undefined; // what the last reconciling read found
                    try {
                        const res = await this.send(
                            client,
                            this.desc.api.create,
                            { key, desired, current: undefined },
                            {
                                secrets,
                                // After an ambiguous failure: the object now there, in use and as we sent it, is ours.
                                reconcile: async () => {
                                    const now = (reconciled = await this.readRaw(client, key));
                                    return now && this.isEnabled(now.obj) && this.matchesDesired(now.obj, ins) ? { body: now.body } : undefined;
                                },
                            },
                        );
                        body = res.body;
                    } catch (err) {
                        if (!matchesGone(err, this.desc.api.create.alreadyExists)) throw err;
                        // A refusal by a 5xx was already followed by a reconciling read: no need to read again.
                        existing = reconciled ?? (await this.readRaw(client, key));
                        if (!existing) throw err;
                        state = this.existenceOf(existing);
                    }
                }
                if (state === "active" && !ins.adoptExisting) throw new ProviderError(this.existsMessage(key, target));
                if (state !== "absent") {
                    // Disabled (the safe state delete leaves) or adopted: apply the desired settings to it.
                    const res = await this.send(client, this.desc.api.update, { key, desired, current: existing?.obj }, { secrets });
                    body = res.body;
                }

                try {
                    const obj = await this.afterWrite(client, key, body);
                    const outs = await this.outputsFrom(obj, this.normalizedDesired(ins), ins, target);
                    return { id, outs };
                } catch (err) {
                    const message = err instanceof Error ? err.message : String(err);
                    throw new ResourceInitError(message, id, await this.outputsFrom(undefined, this.normalizedDesired(ins), ins, target), [message]);
                }
            },
            () => conn,
        );
    }

    private existsMessage(key: Record<string, string>, target: string): string {
        const what = this.desc.key.length ? `${this.desc.kind} for ${this.desc.key.map((k) => `${k} ${key[k]}`).join(", ")}` : `${this.desc.kind} on ${target}`;
        const adopt = this.desc.adoptable
            ? " Set `adoptExisting: true` on the resource to take it over and apply the desired settings (`pulumi import` does not work for dynamic providers), or remove it first."
            : "";
        return `${what} already exists and is in use.${adopt}`;
    }

    // ------------------------------------------------------------------------------------------------ read

    async read(id: string, props?: Props): Promise<pulumi.dynamic.ReadResult> {
        let conn: ResolvedConnection | undefined;
        return this.guard(
            [props],
            async () => {
                const state = withoutInternal(props);
                conn = this.resolve(state, this.recordedTarget(state, id));
                const client = this.client(conn);
                const key = this.keyOf(state, id);
                const found = await this.readRaw(client, key);
                if (!found) return { id: "" };
                // A singleton disabled out of band is in the state delete leaves: it reads as gone.
                if (this.desc.singleton && !this.isEnabled(found.obj) && state[this.desc.singleton.enabledField] === true) return { id: "" };
                const outs = await this.outputsFrom(found.obj, state, state, conn.url as string, state);
                const readKey = this.keyOf(outs, id);
                return { id: this.idOf(readKey, conn.url as string), props: outs };
            },
            () => conn,
        );
    }

    // ------------------------------------------------------------------------------------------------ update

    async update(_id: string, olds: Props, news: Props): Promise<pulumi.dynamic.UpdateResult> {
        let conn: ResolvedConnection | undefined;
        return this.guard(
            [olds, news],
            async () => {
                const old = withoutInternal(olds);
                const ins = withoutInternal(news);
                const target = typeof old[TARGET_URL] === "string" ? (old[TARGET_URL] as string) : undefined;
                conn = this.resolve(ins, target);
                const key = this.keyOf(ins);
                const result = await this.diff(_id, olds, news);
                const apiChanged = result.diffs.some((d) => d !== "connection" && d !== TARGET_URL);
                if (!apiChanged) {
                    // Only the stored connection moved: nothing to send.
                    return { outs: await this.outputsFrom(undefined, old, ins, conn.url as string, old) };
                }
                const client = this.client(conn);
                const desired = this.desiredBody(ins);
                const current = this.desc.api.update.needsCurrent ? (await this.readRaw(client, key))?.obj : undefined;
                if (this.desc.api.update.needsCurrent && !current) throw new ProviderError(this.goneMessage(key, conn.url as string));
                let res;
                try {
                    res = await this.send(client, this.desc.api.update, { key, desired, current }, { secrets: this.secretsOf(ins) });
                } catch (err) {
                    if (matchesGone(err, this.desc.api.read.gone)) throw new ProviderError(this.goneMessage(key, conn.url as string));
                    throw err;
                }
                const obj = await this.afterWrite(client, key, res.body);
                const fallback = { ...old, ...this.normalizedDesired(ins) };
                return { outs: await this.outputsFrom(obj, fallback, ins, conn.url as string, old) };
            },
            () => conn,
        );
    }

    private goneMessage(key: Record<string, string>, target: string): string {
        const what = this.desc.key.length ? `${this.desc.kind} for ${this.desc.key.map((k) => `${k} ${key[k]}`).join(", ")}` : `${this.desc.kind} on ${target}`;
        return `${what} no longer exists (deleted outside Pulumi): run \`pulumi refresh\` and then \`pulumi up\` to create it again`;
    }

    // ------------------------------------------------------------------------------------------------ delete

    async delete(id: string, props: Props): Promise<void> {
        let conn: ResolvedConnection | undefined;
        return this.guard(
            [props],
            async () => {
                const state = withoutInternal(props);
                conn = this.resolve(state, this.recordedTarget(state, id));
                const client = this.client(conn);
                const key = this.keyOf(state, id);
                const spec = this.desc.api.delete;
                let current: Props | undefined;
                if (spec.needsCurrent) {
                    current = (await this.readRaw(client, key))?.obj;
                    if (!current) return; // already gone
                }
                try {
                    await this.send(client, spec, { key, desired: {}, current });
                } catch (err) {
                    if (matchesGone(err, spec.gone) || matchesGone(err, this.desc.api.read.gone)) return;
                    throw err;
                }
            },
            () => conn,
        );
    }

    // ------------------------------------------------------------------------------------------------ helpers for tests and docs

    /** The normalized value the engine compares for a field (exposed for tests and tools). */
    canonical(field: string, value: unknown): unknown {
        return this.normalizeField(field, value);
    }

    /**
     * The outputs create records for checked `inputs` when the API answers `apiObject` (unwrapped) — what later
     * diffs compare against. Exposed for diff tables in tests and for tools; does no I/O.
     */
    async recordedOutputs(inputs: Props, apiObject: Props | undefined, targetUrl: string): Promise<Props> {
        const ins = withoutInternal(inputs);
        return this.outputsFrom(apiObject, this.normalizedDesired(ins), ins, normalizeBaseUrl(targetUrl));
    }

    /** What check would return as inputs (defaults applied), without validation or I/O. */
    withDefaultsApplied(inputs: Props): Props {
        return this.withDefaults(withoutInternal(inputs));
    }
}

/**
 * The hash to record for a secret's value: the recorded one when the value is the one recorded with it (no scrypt on
 * the steady path of refresh and up), else a new hash with the recorded salt (so unchanged values keep their hash).
 */
async function hashFor(value: string, previous: Props | undefined, field: string): Promise<string> {
    const prevHash = previous?.[hashField(field)];
    if (typeof prevHash === "string" && (previous?.[field] === value || (await matchesHash(value, prevHash)))) return prevHash;
    return hashSecret(value, saltOf(prevHash));
}

function cleanConnection(value: unknown): Props {
    if (!isPlainObject(value)) return {};
    const out: Props = {};
    for (const [k, v] of Object.entries(value)) {
        if (typeof v !== "string" || v.trim() === "") continue;
        let s = v.trim();
        if (k === "host" || k === "url") {
            try {
                s = normalizeBaseUrl(s);
            } catch {
                // compared as written
            }
        }
        out[k] = s;
    }
    return out;
}
