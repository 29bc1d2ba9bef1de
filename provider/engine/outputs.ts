/**
 * Outputs: what the state records for a resource after create, read and update.
 *
 * - every setting field, in its canonical form (so create, read and diff agree);
 * - computed fields from the API's answer (ids, timestamps);
 * - for a setting the server derives from another (Unleash: role id → role, and the id wins), the source field shows
 *   the effective live value, so a change behind Pulumi's back is drift on the field the user wrote;
 * - `<field>Hash` for every secret: an HMAC of the value under the resource's random key (`hashKey`, a secret output
 *   kept across reads and updates, so an unchanged value keeps its hash; an older version's scrypt hash is kept while
 *   the value is unchanged). Events and diffs mask secret values; the hash is how a change of one shows in a refresh;
 * - `unsupportedSettings`: settings the program sets that the server's version lacks (see FieldRule.availableOn),
 *   kept from the previous state while no answer says otherwise;
 * - `targetUrl`, and the engine inputs given (`connection` as a secret output, `adoptExisting`, ...).
 */
import { currentUrn } from "./log";
import { hashSecret, isHashKey, matchesHash, newHashKey } from "./secrets";
import { ENGINE_INPUTS, HASH_KEY, hashField, OWNER_INPUT, ResourceModel, TARGET_URL, UNSUPPORTED } from "./model";
import { compact } from "./values";

type Props = Record<string, unknown>;

/**
 * Outputs from an API object. Fields the answer does not carry keep the fallback value (the desired value just
 * written, or the previous state), so that partial answers do not look like drift.
 */
export async function outputsFrom(model: ResourceModel, obj: Props | undefined, fallback: Props, inputs: Props, target: string, previous?: Props): Promise<Props> {
    const out: Props = {};
    for (const field of [...model.settings, ...model.computed]) {
        const raw = model.live(obj, field);
        if (raw !== undefined) out[field] = model.rule(field).computed ? raw : model.canonical(field, raw);
        else if (fallback[field] !== undefined) out[field] = model.rule(field).computed ? fallback[field] : model.canonical(field, fallback[field]);
    }
    // The effective value wins: the server uses the derived field (a stored role id), so the source field shows it.
    for (const field of model.settings) {
        const derived = model.rule(field).derivedFrom;
        const live = model.live(obj, field);
        if (derived?.sourceValue && live !== undefined && live !== null) out[derived.field] = model.canonical(derived.field, derived.sourceValue(live));
    }
    // A state written by an older version lacks the fields added since: one that is empty live stays absent, so an
    // upgrade alone never shows as a change (it appears once it carries a value).
    if (previous) {
        for (const field of model.settings) {
            if (previous[field] === undefined && out[field] !== undefined && model.same(field, out[field], undefined) && !model.isManaged(inputs, field)) delete out[field];
        }
    }
    // The key is made once, with the resource's first secret hash, and kept from then on.
    let key = isHashKey(previous?.[HASH_KEY]) ? (previous[HASH_KEY] as string) : undefined;
    for (const field of model.secrets) {
        const value = out[field];
        if (typeof value === "string" && value !== "") out[hashField(field)] = await hashFor(value, previous, field, () => (key ??= newHashKey()));
    }
    if (key) out[HASH_KEY] = key;
    // Only settings the program sets to something are listed: one it leaves empty is no concern (and a stack of an
    // older version refreshes with no new output).
    const unsupported = model.unsupportedIn(previous);
    for (const field of model.settings) {
        if (obj && model.rule(field).availableOn !== undefined) {
            if (model.lacks(obj, field) && model.isManaged(inputs, field) && !model.same(field, inputs[field], undefined)) unsupported.add(field);
            else unsupported.delete(field);
        }
    }
    if (unsupported.size > 0) out[UNSUPPORTED] = [...unsupported].sort();
    out[TARGET_URL] = target;
    for (const k of ENGINE_INPUTS) if (inputs[k] !== undefined) out[k] = inputs[k];
    // Kept for refresh and delete, whose calls carry only the state: their warnings are shown under the resource too.
    const urn = currentUrn();
    if (urn) out[OWNER_INPUT] = urn;
    return compact(out);
}

/** The desired settings as given (no defaults added): the fallback of outputs after a write. */
export function desiredSettings(model: ResourceModel, inputs: Props): Props {
    const out: Props = {};
    for (const field of model.settings) if (model.isManaged(inputs, field)) out[field] = inputs[field];
    return out;
}

/**
 * The hash to record for a secret's value: the recorded one when the value is the one recorded with it (compared in
 * plain: the provider receives the state's secrets decrypted; an older version's scrypt hash is verified only when
 * the state holds no value), else the HMAC under the resource's key.
 */
async function hashFor(value: string, previous: Props | undefined, field: string, key: () => string): Promise<string> {
    const prevHash = previous?.[hashField(field)];
    if (typeof prevHash === "string") {
        const recorded = previous?.[field];
        if (typeof recorded === "string" ? recorded === value : await matchesHash(value, prevHash, previous?.[HASH_KEY])) return prevHash;
    }
    return hashSecret(value, key());
}
