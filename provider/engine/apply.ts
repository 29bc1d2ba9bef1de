/**
 * Apply: create, update and delete against the API. Each one reads top-down as the requests it sends.
 *
 * The rules they share, each written once:
 * - An object that already exists is taken over by create when it is identical to the desired one (every managed
 *   field, secrets included: a run killed after the API applied a create leaves exactly that), or when it is in the
 *   safe state delete leaves (a disabled singleton); an object in use that differs needs `adoptExisting`.
 * - Update sends only what changed where the API takes partial updates, and the whole object, with the settings
 *   Pulumi does not manage carried over, where it replaces the whole object.
 * - An object that turns out to be gone during an update is created again (and said so); a delete of an object
 *   already gone or disabled is done.
 * - Credentials go only to the server they are configured for (see ApiSession).
 */
import type * as pulumi from "@pulumi/pulumi";
import { ApiError, ProviderError } from "../http/errors";
import { ApiSession, matches } from "./api";
import { claimOwner, ownerConflictMessage } from "./claims";
import { warn } from "./log";
import { OWNER_INPUT, ResourceModel, TARGET_URL } from "./model";
import { desiredSettings, outputsFrom } from "./outputs";
import { planChanges, unsupportedMessage } from "./plan";
import type { RequestContext } from "./types";
import { withoutInternal } from "./values";

type Props = Record<string, unknown>;
type Found = { body: unknown; obj: Props };

/** An error for a create whose object exists although a later step failed: Pulumi records the resource. */
export class ResourceInitError extends Error {
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

// ---------------------------------------------------------------------------------------------------------- create

export async function create(model: ResourceModel, session: ApiSession, inputs: Props): Promise<pulumi.dynamic.CreateResult> {
    const ins = withoutInternal(inputs);
    const key = model.keyOf(ins);
    for (const k of model.desc.key) if (!key[k]) throw new ProviderError(`${k} is required`);
    const owner = claimOwner(model, session.target, key, inputs[OWNER_INPUT]);
    if (owner !== undefined) throw new ProviderError(ownerConflictMessage(model, key, session.target, String(inputs[OWNER_INPUT]), owner));

    const body = await createOrTakeOver(model, session, key, ins);
    const id = model.idOf(key, session.target);
    try {
        const obj = await session.afterWrite(key, body);
        if (!obj) throw new ProviderError(`${model.describe(key, session.target)} was written but cannot be read back`);
        await warnUnsupported(model, session.target, key, obj, ins);
        return { id, outs: await outputsFrom(model, obj, desiredSettings(model, ins), ins, session.target) };
    } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        throw new ResourceInitError(message, id, await outputsFrom(model, undefined, desiredSettings(model, ins), ins, session.target), [message]);
    }
}

/** Creates the object, or takes over the one that is there (see the module comment). Returns the last answer's body. */
async function createOrTakeOver(model: ResourceModel, session: ApiSession, key: Record<string, string>, ins: Props): Promise<unknown> {
    const api = model.desc.api;
    const secrets = model.secretValues(ins);
    // An API that refuses duplicates is asked directly: one request when the object is new. One whose create
    // overwrites (Unleash) is read first, so that settings in use are never clobbered.
    let existing: Found | undefined = api.create.alreadyExists ? undefined : await session.read(key);

    if (!existing) {
        let reconciled: Found | undefined; // what the last reconciling read found
        try {
            const res = await session.send(
                api.create,
                { key, desired: model.body(ins) },
                {
                    secrets,
                    // After an ambiguous failure: an object that is now there and identical to what we sent is ours.
                    reconcile: async () => {
                        const now = (reconciled = await session.read(key));
                        return now && model.isEnabled(now.obj) && model.differences(now.obj, ins).length === 0 ? { body: now.body } : undefined;
                    },
                },
            );
            return res.body;
        } catch (err) {
            if (!matches(err, api.create.alreadyExists)) throw err;
            existing = reconciled ?? (await session.read(key));
            if (!existing) throw err;
        }
    }

    if (model.isEnabled(existing.obj)) {
        const differing = model.differences(existing.obj, ins);
        // Identical to the desired object: nothing to tell it apart from the one a killed run created. Said, so that a
        // second stack pointed at the same object does not go unnoticed (destroying either would remove it for both).
        if (differing.length === 0) {
            await warn(
                `${model.describe(key, session.target)} already existed with exactly the desired settings: taken over without a write. ` +
                    "If another stack or tool manages it too, destroying either one removes it for both",
            );
            return existing.body;
        }
        if (!ins.adoptExisting) throw new ProviderError(existsMessage(model, key, session.target, differing));
    }
    // Disabled (the safe state delete leaves), or adopted: apply every desired setting to it.
    return (await writeAll(model, session, key, ins, existing.obj)).body;
}

function existsMessage(model: ResourceModel, key: Record<string, string>, target: string, differing: string[]): string {
    const adopt = model.desc.adoptable
        ? " Set `adoptExisting: true` on the resource to take it over and apply the desired settings (`pulumi import` does not work for dynamic providers), or remove it first."
        : "";
    return `${model.describe(key, target)} already exists, is in use and differs from the desired settings (${differing.join(", ")}).${adopt}`;
}

/** Sends every desired setting with the update request (takeover, adoption, re-creation of a full-replace object). */
async function writeAll(model: ResourceModel, session: ApiSession, key: Record<string, string>, ins: Props, current: Props | undefined) {
    const ctx: RequestContext = { key, desired: model.body(ins), current, carried: model.carried(current, ins) };
    return session.send(model.desc.api.update, ctx, { secrets: model.secretValues(ins) });
}

/**
 * Tells when the server's answer lacks settings the program sets to something (its version does not have them):
 * once, when it is learned or the program changes them.
 */
async function warnUnsupported(model: ResourceModel, target: string, key: Record<string, string>, obj: Props, ins: Props, old?: Props): Promise<void> {
    const known = model.unsupportedIn(old);
    const fields = model.settings.filter(
        (f) => model.lacks(obj, f) && model.isManaged(ins, f) && !model.same(f, ins[f], undefined) && (!known.has(f) || !model.same(f, old?.[f], ins[f])),
    );
    if (fields.length > 0) await warn(unsupportedMessage(model, model.describe(key, target), fields));
}

// ---------------------------------------------------------------------------------------------------------- update

export async function update(model: ResourceModel, session: ApiSession, id: string, olds: Props, news: Props): Promise<pulumi.dynamic.UpdateResult> {
    const old = withoutInternal(olds);
    const ins = withoutInternal(news);
    const key = model.keyOf(ins);
    const plan = await planChanges(model, id, olds, news);
    const changed = new Set(plan.diffs.filter((d) => model.settings.includes(d)));
    const moved = plan.diffs.includes(TARGET_URL);
    if (changed.size === 0 && !moved) {
        // Only the stored connection moved: nothing to send.
        return { outs: await outputsFrom(model, undefined, old, ins, session.target, old) };
    }

    const api = model.desc.api;
    // Settings that only some server versions have, changed alone: read first, since a server without them would get
    // an empty update (Infisical 2024-10 answers that with a 500).
    const unsupported = model.unsupportedIn(old);
    const onlyVersioned = changed.size > 0 && [...changed].every((f) => model.rule(f).availableOn !== undefined);
    const needsRead = moved || api.update.needsCurrent || onlyVersioned;
    const current = needsRead ? await session.read(key) : undefined;
    if (current) for (const f of changed) if (model.lacks(current.obj, f)) unsupported.add(f);
    for (const f of unsupported) changed.delete(f);
    if (current && changed.size === 0 && !moved) {
        await warnUnsupported(model, session.target, key, current.obj, ins, old);
        return { outs: await outputsFrom(model, current.obj, { ...old, ...desiredSettings(model, ins) }, ins, session.target, old) };
    }
    if (moved) {
        const from = String(old[TARGET_URL] ?? id);
        await warn(`${model.describe(key, session.target)}: moved from ${from}; nothing was changed on ${from} (if that is another server, its object is left as it was)`);
        // On the new URL the object is whatever that server holds: compare against it, not against the state.
        if (!current || (model.desc.singleton && !model.isEnabled(current.obj))) return recreate(model, session, key, ins, old, "is not on the new URL yet");
        // Keyed objects are the same object wherever their id answers. A per-instance singleton is only when it holds
        // what this resource recorded; else it is another instance's, and create's takeover rules apply.
        if (model.desc.key.length === 0 && model.differences(current.obj, old).length > 0) {
            return recreate(model, session, key, ins, old, "on the new URL holds other settings than the ones recorded");
        }
        for (const f of model.differences(current.obj, ins)) changed.add(f);
        if (changed.size === 0) return { outs: await outputsFrom(model, current.obj, old, ins, session.target, old) };
    }
    if (api.update.needsCurrent && !current) return recreate(model, session, key, ins, old, "no longer exists");

    const only = api.update.changedOnly ? new Set([...model.desc.key, ...changed]) : undefined;
    const ctx: RequestContext = { key, desired: model.body(ins, only), current: current?.obj, carried: model.carried(current?.obj, ins) };
    let res;
    try {
        res = await session.send(api.update, ctx, { secrets: model.secretValues(ins) });
    } catch (err) {
        if (matches(err, api.read.gone)) return recreate(model, session, key, ins, old, "no longer exists");
        // An older version's words that may mean "gone" (or something else): the object's absence decides.
        if (matches(err, api.update.goneIfConfirmed) && !(await session.read(key))) return recreate(model, session, key, ins, old, "no longer exists");
        throw err;
    }
    const obj = await session.afterWrite(key, res.body);
    // Infisical answers a PATCH of a missing SSO configuration with 200 and no body: nothing was updated.
    if (!obj) return recreate(model, session, key, ins, old, "no longer exists");
    await warnUnsupported(model, session.target, key, obj, ins, old);
    return { outs: await outputsFrom(model, obj, { ...old, ...desiredSettings(model, ins) }, ins, session.target, old) };
}

/** The object is not where the state says (deleted behind Pulumi's back, or a new URL): create it with every setting. */
async function recreate(model: ResourceModel, session: ApiSession, key: Record<string, string>, ins: Props, old: Props, why: string): Promise<pulumi.dynamic.UpdateResult> {
    await warn(`${model.describe(key, session.target)} ${why}: creating it with the desired settings`);
    const body = await createOrTakeOver(model, session, key, ins);
    const obj = await session.afterWrite(key, body);
    if (!obj) throw new ProviderError(`${model.describe(key, session.target)} was written but cannot be read back`);
    return { outs: await outputsFrom(model, obj, desiredSettings(model, ins), ins, session.target, old) };
}

// ---------------------------------------------------------------------------------------------------------- delete

export async function remove(model: ResourceModel, session: ApiSession, id: string, props: Props): Promise<void> {
    const state = withoutInternal(props);
    const key = model.keyOf(state, id);
    const spec = model.desc.api.delete;
    // Singletons are read first: one already disabled (or never set up) is in the state delete leaves.
    let current: Found | undefined;
    if (spec.needsCurrent || model.desc.singleton) {
        current = await session.read(key);
        if (!current || !model.isEnabled(current.obj)) return;
    }
    const effect = model.desc.sideEffects?.delete;
    if (effect) await warn(`${model.describe(key, session.target)} is being deleted: ${effect}`);
    // Settings the API refuses to take back are left out on a second try (see retryWithout), each said once.
    const leftOut: string[] = [];
    const notes: string[] = [];
    for (;;) {
        const carried = model.carried(current?.obj, {});
        for (const field of leftOut) delete carried[field];
        try {
            await session.send(spec, { key, desired: {}, current: current?.obj, carried });
            break;
        } catch (err) {
            if (matches(err, spec.gone) || matches(err, model.desc.api.read.gone)) return;
            const retry =
                err instanceof ApiError
                    ? spec.retryWithout
                          ?.map((rule) => ({ rule, fields: (rule.on(err) ?? []).filter((f) => f in carried) }))
                          .find((r) => r.fields.length > 0)
                    : undefined;
            if (!retry) throw err;
            leftOut.push(...retry.fields);
            notes.push(retry.rule.note(retry.fields));
        }
    }
    for (const note of notes) await warn(`${model.describe(key, session.target)}: ${note}`);
}
