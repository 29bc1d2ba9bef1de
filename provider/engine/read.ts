/**
 * Read (refresh, `get`): the live object → the state. Drift is computed by the engine from the old and new outputs,
 * so everything here is in the same canonical form as after a write.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ApiSession } from "./api";
import type { ResourceModel } from "./model";
import { warn } from "./log";
import { outputsFrom } from "./outputs";
import { withoutInternal } from "./values";

type Props = Record<string, unknown>;

export async function read(model: ResourceModel, session: ApiSession, id: string, props: Props | undefined): Promise<pulumi.dynamic.ReadResult> {
    const state = withoutInternal(props);
    const key = model.keyOf(state, id);
    const found = await session.read(key);
    if (!found) return { id: "" };
    // A singleton disabled out of band is in the state delete leaves: it reads as gone.
    const enabled = model.desc.singleton?.enabledField;
    if (enabled && !model.isEnabled(found.obj) && state[enabled] === true) return { id: "" };
    const outs = await outputsFrom(model, found.obj, state, state, session.target, state);
    for (const field of model.computed) {
        const before = state[field];
        if (!model.rule(field).objectId || typeof before !== "string" || outs[field] === before) continue;
        await warn(
            `${model.describe(key, session.target)} was replaced outside Pulumi: its ${field} changed from ${before} to ${String(outs[field])} ` +
                "(someone deleted it and created it again). Its settings are compared as usual; check who else manages it",
        );
    }
    return { id: model.idOf(model.keyOf(outs, id), session.target), props: outs };
}
