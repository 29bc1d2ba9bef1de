/**
 * Plan (the provider's diff): what `pulumi up` would change, from the state (the last known live settings) and the
 * checked inputs. No request is made.
 *
 * - A managed setting whose canonical form differs is an update; a key field (`forcesReplacement`) a replacement.
 * - Secrets compare the recorded value (encrypted in the state), else its hash; they are always masked.
 * - The target URL moving (another address of the same server, or another server) is an update, never a
 *   replacement: update finds out where the object is (see apply.ts). Credentials alone moving is an update that
 *   sends nothing. An unknown connection (preview) is an update at most.
 * - A replacement of the same object (same key, same server: `--replace`, `replaceOnChanges`) deletes first, so that
 *   the old resource's delete never disables the object the new one holds.
 */
import { sameValue } from "./equal";
import type * as pulumi from "@pulumi/pulumi";
import { normalizeBaseUrl } from "../connection";
import { recordedTarget, targetOf } from "./api";
import { info, warn } from "./log";
import { HASH_KEY, hashField, ResourceModel, TARGET_URL } from "./model";
import { MASK, matchesHash } from "./secrets";
import { containsUnknown, isPlainObject, UNKNOWN, withoutInternal } from "./values";

type Props = Record<string, unknown>;

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

export async function planChanges(model: ResourceModel, id: string, olds: Props, news: Props, options: { explain?: boolean } = {}): Promise<EngineDiffResult> {
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

    const unsupported = model.unsupportedIn(old);
    const ignored: string[] = [];
    for (const field of model.settings) {
        const rule = model.rule(field);
        const desired = neu[field];
        if (!model.isManaged(neu, field)) continue;
        if (unsupported.has(field)) {
            // The server's version lacks the setting: nothing to send, so nothing to plan (said when it changes).
            if (!containsUnknown(desired) && !model.same(field, old[field], desired)) ignored.push(field);
            continue;
        }
        const secret = !!rule.secret;
        if (containsUnknown(desired)) {
            note(field, !!rule.forcesReplacement, old[field], UNKNOWN, secret);
            continue;
        }
        if (secret) {
            const recorded = old[field];
            const same = typeof desired === "string" && (typeof recorded === "string" ? model.same(field, recorded, desired) : await matchesHash(desired, old[hashField(field)], old[HASH_KEY]));
            if (!same) note(field, !!rule.forcesReplacement, MASK, MASK, true);
            continue;
        }
        const a = model.canonical(field, old[field]);
        const b = model.canonical(field, desired);
        if (!sameValue(a, b)) note(field, !!rule.forcesReplacement, a, b, false);
    }

    // Where the object lives. Only the URL decides; credentials moving are stored for refresh and delete.
    const oldTarget = recordedTarget(model, old, id);
    const newTarget = containsUnknown(neu.connection) ? undefined : targetOf(model, neu);
    if (containsUnknown(neu.connection)) {
        note("connection", false, MASK, MASK, true);
    } else if (oldTarget && newTarget && normalizeBaseUrl(oldTarget) !== newTarget) {
        note(TARGET_URL, false, oldTarget, newTarget, false);
    } else if (!sameValue(cleanConnection(old.connection), cleanConnection(neu.connection))) {
        note("connection", false, MASK, MASK, true);
    }

    const sameObject =
        model.desc.key.every((k) => !containsUnknown(neu[k]) && model.same(k, old[k], neu[k])) && (!oldTarget || !newTarget || normalizeBaseUrl(oldTarget) === newTarget);

    if (options.explain) {
        // The dynamic-provider host passes no changed keys to the engine, which then labels an update by comparing
        // the old and new inputs: a change against the live state (a URL move, a masked secret, a value an older
        // version stored differently) would show no field. Say which fields change, under the resource.
        if (details.length > 0) await info(`${replaces.length > 0 ? "replace" : "update"}: ${details.map(describeDetail).join("; ")}`);
        await warnSideEffects(model, old, diffs, replaces);
        if (ignored.length > 0) await warn(unsupportedMessage(model, model.describe(model.keyOf(old), String(old[TARGET_URL] ?? id)), ignored));
    }
    return { changes: diffs.length > 0, replaces, deleteBeforeReplace: sameObject, diffs, details };
}

function describeDetail(d: DiffDetail): string {
    const show = (v: unknown) => (v === UNKNOWN ? "(known after up)" : v === undefined ? "(none)" : JSON.stringify(v));
    if (d.old === MASK && d.new === MASK) return `${d.property} (secret) changed`;
    return `${d.property}: ${show(d.old)} => ${show(d.new)}${d.kind === "replace" ? " (forces replacement)" : ""}`;
}

/** Tells that settings the program sets do not exist on the object's server (they are ignored there). */
export function unsupportedMessage(model: ResourceModel, what: string, fields: readonly string[]): string {
    const which = fields.map((f) => `${f} (${model.rule(f).availableOn ?? "newer versions have it"})`).join(", ");
    return `${what}: this server's version does not have ${which}: the setting is not applied and changes to it are ignored until the server is upgraded`;
}

/** Says at preview what the planned writes do to the rest of the account. */
async function warnSideEffects(model: ResourceModel, old: Props, diffs: string[], replaces: string[]): Promise<void> {
    const effects = model.desc.sideEffects;
    if (!effects) return;
    const what = model.describe(model.keyOf(old), String(old[TARGET_URL] ?? "?"));
    const sends = diffs.some((d) => d !== "connection");
    if (replaces.length > 0 && effects.delete) await warn(`${what} will be replaced: ${effects.delete}`);
    else if (sends && effects.update) await warn(`${what} will be updated: ${effects.update}`);
}

/** The connection argument as compared: URLs in their canonical form, empty values dropped. */
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
