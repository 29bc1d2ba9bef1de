/**
 * The generic engine: turns a {@link ResourceDescription} into a dynamic provider. Each method is one lifecycle
 * step, implemented in its own file:
 *
 *   check   → check.ts    inputs → validated inputs, failures named by field (preview)
 *   diff    → plan.ts     state + inputs → what `up` would change (no I/O)
 *   create, update, delete → apply.ts   requests that change the object
 *   read    → read.ts     the live object → the state (refresh, drift)
 *   outputs → outputs.ts  what the state records after each of them
 *
 * with the description's questions answered in model.ts and the API calls in api.ts. This class only adds what
 * every step needs: nothing a method returns, throws or logs contains a secret or a credential (errors are redacted
 * of the resource's secret values and of the connection's credentials before they leave).
 */
import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { normalizeBaseUrl } from "../connection";
import { ProviderError } from "../http/errors";
import { ApiSession } from "./api";
import { create, remove, update } from "./apply";
import { checkInputs, inputSchema, withDefaults } from "./check";
import { OWNER_INPUT, ResourceModel } from "./model";
import { forResource } from "./log";
import { desiredSettings, outputsFrom } from "./outputs";
import { EngineDiffResult, planChanges } from "./plan";
import { read } from "./read";
import { redact } from "./secrets";
import type { ResourceDescription } from "./types";
import { withoutInternal } from "./values";

export { ENGINE_INPUTS, HASH_KEY, hashField, TARGET_URL } from "./model";
export type { DiffDetail, EngineDiffResult } from "./plan";

type Props = Record<string, unknown>;

export class ResourceEngine implements pulumi.dynamic.ResourceProvider {
    readonly desc: ResourceDescription;
    readonly model: ResourceModel;
    private readonly schema: z.ZodObject<z.ZodRawShape>;

    constructor(desc: ResourceDescription) {
        this.desc = desc;
        this.model = new ResourceModel(desc);
        this.schema = inputSchema(this.model);
    }

    async check(olds: Props, news: Props): Promise<pulumi.dynamic.CheckResult> {
        return this.guard([news], undefined, () => checkInputs(this.model, this.schema, olds ?? {}, news));
    }

    async diff(id: string, olds: Props, news: Props): Promise<EngineDiffResult> {
        return this.guard([olds, news], undefined, () => planChanges(this.model, id, olds, news, { explain: true }));
    }

    async create(inputs: Props): Promise<pulumi.dynamic.CreateResult> {
        let session: ApiSession | undefined;
        return this.guard([inputs], () => session, () => create(this.model, (session = ApiSession.forDesired(this.model, withoutInternal(inputs))), inputs));
    }

    async read(id: string, props?: Props): Promise<pulumi.dynamic.ReadResult> {
        let session: ApiSession | undefined;
        return this.guard([props], () => session, () => read(this.model, (session = ApiSession.forState(this.model, props ?? {}, id)), id, props));
    }

    async update(id: string, olds: Props, news: Props): Promise<pulumi.dynamic.UpdateResult> {
        let session: ApiSession | undefined;
        return this.guard([olds, news], () => session, () => update(this.model, (session = ApiSession.forDesired(this.model, withoutInternal(news))), id, olds, news));
    }

    async delete(id: string, props: Props): Promise<void> {
        let session: ApiSession | undefined;
        return this.guard([props], () => session, () => remove(this.model, (session = ApiSession.forState(this.model, props, id)), id, props));
    }

    // ------------------------------------------------------------------------------------------------ for tests and tools

    /** The normalized value the engine compares for a field. */
    canonical(field: string, value: unknown): unknown {
        return this.model.canonical(field, value);
    }

    /** The outputs create records for checked `inputs` when the API answers `apiObject` (unwrapped); no I/O. */
    async recordedOutputs(inputs: Props, apiObject: Props | undefined, targetUrl: string): Promise<Props> {
        const ins = withoutInternal(inputs);
        return outputsFrom(this.model, apiObject, desiredSettings(this.model, ins), ins, normalizeBaseUrl(targetUrl));
    }

    /** What check would return as inputs (defaults applied), without validation or I/O. */
    withDefaultsApplied(inputs: Props): Props {
        return withDefaults(this.model, withoutInternal(inputs));
    }

    /**
     * Runs a step, with its warnings attached to the resource (the URN its props carry); an error leaves it redacted
     * of every secret of the props and of the session's credentials.
     */
    private async guard<T>(propsList: Array<Props | undefined>, session: (() => ApiSession | undefined) | undefined, fn: () => Promise<T>): Promise<T> {
        const urn = propsList.map((p) => p?.[OWNER_INPUT]).findLast((u): u is string => typeof u === "string" && u.startsWith("urn:"));
        try {
            return await forResource(urn, fn);
        } catch (err) {
            throw sanitize(err, [...this.model.secretValues(...propsList), ...(session?.()?.secrets() ?? [])]);
        }
    }
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
