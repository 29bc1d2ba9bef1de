/**
 * Check: the inputs as the program gives them → the inputs every later step works with, or failures that name the
 * field and the rule (shown by `pulumi preview` before anything is sent).
 *
 * In order: defaults applied; the schema (zod) and the description's cross-field rules; a field the program no
 * longer sets is cleared once; the connection can work; no other resource of the program owns the same object; the
 * trust rules; the credentials (once per process per server and credential: a login, or one cheap authenticated
 * request for a static token, see credentialProblem in connection.ts); and, opt-in, the identity provider's discovery
 * document. Preview-time unknowns are passed through and skip the rules that need them.
 */
import { distance } from "fastest-levenshtein";
import { z } from "zod";
import { baseUrlProblem, credentialProblem, missingCredentialsMessage, missingUrlMessage, ResolvedConnection } from "../connection";
import { acceptRisksProblems, trustFailures } from "./trust-check";
import { resolveConnection } from "./api";
import { claimOwner, ownerConflictMessage } from "./claims";
import { verifyDiscovery } from "./discovery";
import { engineInputsOf } from "./engine-inputs";
import { OWNER_INPUT, ResourceModel } from "./model";
import { containsUnknown, isPlainObject, withoutInternal } from "./values";

type Props = Record<string, unknown>;
type Failure = { property: string; reason: string };

const infisicalConnectionSchema = z.strictObject({
    host: z.string().optional(),
    caCert: z.string().optional(),
    auth: z.string().optional(),
    token: z.string().optional(),
    clientId: z.string().optional(),
    clientSecret: z.string().optional(),
    identityId: z.string().optional(),
    organizationSlug: z.string().optional(),
    oidcTokenEnvVar: z.string().optional(),
    oidcAudience: z.string().optional(),
    serviceAccountToken: z.string().optional(),
    serviceAccountTokenPath: z.string().optional(),
});
const unleashConnectionSchema = z.strictObject({
    url: z.string().optional(),
    apiToken: z.string().optional(),
    caCert: z.string().optional(),
});

/** The full input schema of a resource: its settings plus the engine inputs it offers (from their one list). */
export function inputSchema(model: ResourceModel): z.ZodObject<z.ZodRawShape> {
    const extra: Record<string, z.ZodType> = {};
    for (const input of engineInputsOf(model.desc)) {
        const schema =
            input.type === "connection"
                ? connectionSchema(model)
                : input.type === "boolean"
                  ? z.boolean({ error: "must be a boolean" })
                  : z.array(z.string({ error: "must be a list of strings" }), { error: "must be a list of strings" });
        extra[input.name] = schema.optional();
    }
    return z.strictObject({ ...model.desc.schema.shape, ...extra });
}

function connectionSchema(model: ResourceModel): z.ZodObject<z.ZodRawShape> {
    return model.desc.service === "infisical" ? infisicalConnectionSchema : unleashConnectionSchema;
}

/**
 * Inputs with defaults applied where absent (null counts as absent). A resource recorded by an older version (`olds`
 * holds its inputs) gets no default for a field that version did not have: the field stays unmanaged until the
 * program sets it, so an upgrade alone never plans a change (nor labels one with a field that does not change).
 */
export function withDefaults(model: ResourceModel, inputs: Props, olds: Props = {}): Props {
    const out: Props = {};
    for (const [k, v] of Object.entries(inputs)) if (v !== null && v !== undefined) out[k] = v;
    const recorded = model.settings.some((f) => olds[f] !== undefined);
    for (const [field, rule] of Object.entries(model.desc.fields)) {
        if (rule.computed || rule.default === undefined) continue;
        // (A field the previous inputs lacked because its source provided it, e.g. an unlinked template, gets its default.)
        const providedBefore = rule.derivedFrom !== undefined && model.sets(olds, rule.derivedFrom.field);
        if (recorded && !(field in olds) && !providedBefore) continue;
        // Provided by the server from a source the program sets (an auth template): output only.
        if (rule.derivedFrom && model.sets(out, rule.derivedFrom.field)) continue;
        if (out[field] === undefined) out[field] = rule.default;
    }
    // Boolean engine inputs (adoptExisting, verifyDiscovery) default to false, as their docs say.
    for (const input of engineInputsOf(model.desc)) if (input.type === "boolean" && out[input.name] === undefined) out[input.name] = false;
    return out;
}

export async function checkInputs(model: ResourceModel, schema: z.ZodObject<z.ZodRawShape>, olds: Props, news: Props): Promise<{ inputs: Props; failures?: Failure[] }> {
    const given = withoutInternal(news);
    const unknown = new Set(Object.keys(given).filter((k) => containsUnknown(given[k])));
    const known: Props = {};
    for (const [k, v] of Object.entries(given)) if (!unknown.has(k)) known[k] = v;
    const inputs = withDefaults(model, known, withoutInternal(olds));

    const failures: Failure[] = [];
    const failed = new Set<string>();
    const fail = (f: Failure) => {
        failures.push(f);
        failed.add(f.property.split(/[.[]/)[0]);
    };

    const parsed = schema.safeParse(inputs);
    if (!parsed.success) {
        for (const issue of parsed.error.issues) {
            if (issue.code === "unrecognized_keys") {
                for (const key of issue.keys) fail(unknownProperty(model, schema, issue.path, key));
                continue;
            }
            const top = String(issue.path[0] ?? "");
            if (unknown.has(top)) continue;
            const missing = issue.path.length === 1 && inputs[top] === undefined;
            fail({ property: propertyPath(issue.path) || top, reason: missing ? `${top} is required` : reasonFor(model, issue, top) });
        }
    }
    for (const rule of model.desc.rules ?? []) {
        if (rule.fields.some((f) => unknown.has(f) || failed.has(f))) continue;
        for (const failure of rule.check(inputs)) fail(failure);
    }

    clearRemovedFields(model, withoutInternal(olds), inputs, unknown);

    if (!unknown.has("connection") && !failed.has("connection")) {
        const problem = connectionProblem(model, inputs);
        if (problem) fail({ property: "connection", reason: problem });
    }

    const ownerFailure = failures.length === 0 ? ownerProblem(model, inputs, unknown, news[OWNER_INPUT]) : undefined;
    if (ownerFailure) fail(ownerFailure);

    if (!unknown.has("acceptRisks")) for (const f of acceptRisksProblems(inputs.acceptRisks)) fail(f);
    if (failures.length === 0) for (const f of await trustFailures(model, given, inputs, unknown)) fail(f);

    // A wrong credential fails the preview, not the next day's run.
    if (failures.length === 0 && !unknown.has("connection")) {
        const problem = await credentialProblem(resolveConnection(model, inputs));
        if (problem) fail({ property: "connection", reason: problem });
    }

    if (model.desc.discovery && inputs.verifyDiscovery === true && failures.length === 0) {
        const target = model.desc.discovery(inputs);
        const involved = target ? [target.property, target.expectedIssuer?.property].filter((p): p is string => !!p) : [];
        if (target && !involved.some((p) => unknown.has(p)) && !(target.discoveryUrl && containsUnknown(target.discoveryUrl))) {
            failures.push(...(await verifyDiscovery(target)));
        }
    }

    const out: Props = { ...inputs };
    for (const k of unknown) out[k] = given[k];
    if (typeof news[OWNER_INPUT] === "string") out[OWNER_INPUT] = news[OWNER_INPUT];
    return failures.length > 0 ? { inputs: out, failures } : { inputs: out };
}

/**
 * A field the previous inputs set and the program no longer sets is cleared: set to its cleared value once, so the
 * update removes the live setting. (Fields never set stay unmanaged: their live values are kept.)
 */
function clearRemovedFields(model: ResourceModel, olds: Props, inputs: Props, unknown: Set<string>): void {
    for (const field of model.settings) {
        const cleared = model.rule(field).clearedValue;
        if (cleared === undefined || unknown.has(field) || model.isManaged(inputs, field)) continue;
        const previous = olds[field];
        if (previous !== undefined && previous !== null && previous !== "" && !containsUnknown(previous)) inputs[field] = cleared;
    }
}

function ownerProblem(model: ResourceModel, inputs: Props, unknown: Set<string>, name: unknown): Failure | undefined {
    if (unknown.has("connection") || model.desc.key.some((k) => unknown.has(k))) return undefined;
    let target: string | undefined;
    try {
        target = resolveConnection(model, inputs).url;
    } catch {
        return undefined;
    }
    if (!target) return undefined;
    const key = model.keyOf(inputs);
    const owner = claimOwner(model, target, key, name);
    if (owner === undefined) return undefined;
    return { property: model.desc.key[0] ?? "connection", reason: ownerConflictMessage(model, key, target, String(name), owner) };
}

function unknownProperty(model: ResourceModel, schema: z.ZodObject<z.ZodRawShape>, path: ReadonlyArray<PropertyKey>, key: string): Failure {
    const candidates = path.length === 0 ? Object.keys(schema.shape) : path[0] === "connection" ? Object.keys(connectionSchema(model).shape) : [];
    const far = (c: string) => distance(c.toLowerCase(), key.toLowerCase());
    const near = candidates.filter((c) => far(c) <= 3).sort((a, b) => far(a) - far(b))[0];
    return { property: propertyPath([...path, key]), reason: `unknown property of ${model.kind}${near ? `: did you mean "${near}"?` : ""}` };
}

function reasonFor(model: ResourceModel, issue: z.core.$ZodIssue, field: string): string {
    // Never echo a secret back: zod messages may quote the input.
    if (model.desc.fields[field]?.secret) {
        if (issue.code === "custom") return issue.message; // our own messages never quote the value
        return issue.code === "invalid_type" ? `must be a ${issue.expected}` : "invalid value";
    }
    return issue.message;
}

/** Connection settings that cannot work, or missing credentials. */
function connectionProblem(model: ResourceModel, inputs: Props): string | undefined {
    const arg = isPlainObject(inputs.connection) ? inputs.connection : {};
    const urlField = model.desc.service === "infisical" ? "host" : "url";
    if (typeof arg[urlField] === "string" && (arg[urlField] as string).trim() !== "") {
        const problem = baseUrlProblem(arg[urlField] as string);
        if (problem) return `connection.${urlField} ${problem}`;
    }
    let conn: ResolvedConnection;
    try {
        conn = resolveConnection(model, inputs);
    } catch (err) {
        return err instanceof Error ? err.message : String(err);
    }
    if (conn.service === "infisical" && !conn.auth) return missingCredentialsMessage("infisical");
    if (conn.service === "unleash" && !conn.url) return missingUrlMessage();
    if (conn.service === "unleash" && !conn.apiToken) return missingCredentialsMessage("unleash");
    return undefined;
}

function propertyPath(path: ReadonlyArray<PropertyKey>): string {
    let out = "";
    for (const part of path) {
        if (typeof part === "number") out += `[${part}]`;
        else out += out === "" ? String(part) : `.${String(part)}`;
    }
    return out;
}
