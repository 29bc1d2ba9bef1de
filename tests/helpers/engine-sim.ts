/**
 * A stand-in for the Pulumi engine around one dynamic resource, for integration tests that call the provider
 * methods directly: it keeps the resource's state and drives check/diff/create/read/update/delete in the order
 * and with the data the engine uses (outputs as `olds`, `__provider` carried along, create-before-delete replaces).
 * It is what `pulumi up`, `preview`, `refresh` and `destroy` do to one resource, minus gRPC.
 */
import type * as pulumi from "@pulumi/pulumi";

type Props = Record<string, unknown>;
export type ProviderLike = Required<Pick<pulumi.dynamic.ResourceProvider, "check" | "diff" | "create" | "read" | "update" | "delete">>;

export interface UpResult {
    op: "create" | "update" | "replace" | "same";
    diffs: string[];
    replaces: string[];
}

const PROVIDER_KEY = "__provider";

export class SimulatedResource {
    id?: string;
    /** Outputs recorded in the state (what the engine passes as `olds`). */
    state?: Props;
    /** Inputs recorded by the last successful check + create/update. */
    inputs?: Props;
    readonly provider: ProviderLike;
    private readonly providerText: string;

    constructor(provider: ProviderLike, providerText = "exports.handler = () => ({}) /* simulated */") {
        this.provider = provider;
        this.providerText = providerText;
    }

    private withProvider(p: Props): Props {
        return { ...p, [PROVIDER_KEY]: this.providerText };
    }

    /** `check`, failing the test helper when there are failures (use `checkOnly` to look at them). */
    async checked(news: Props): Promise<Props> {
        const res = await this.checkOnly(news);
        if (res.failures && res.failures.length > 0) throw new Error(`check failed: ${JSON.stringify(res.failures)}`);
        return res.inputs as Props;
    }

    async checkOnly(news: Props): Promise<pulumi.dynamic.CheckResult> {
        const res = await this.provider.check(this.withProvider(this.inputs ?? {}), this.withProvider(news));
        return { ...res, inputs: res.inputs ? { ...res.inputs, [PROVIDER_KEY]: this.providerText } : res.inputs };
    }

    /** What `pulumi preview` shows for these inputs (undefined when the resource does not exist yet). */
    async preview(news: Props): Promise<(pulumi.dynamic.DiffResult & { diffs?: string[] }) | undefined> {
        if (!this.id || !this.state) return undefined;
        const inputs = await this.checked(news);
        return this.provider.diff(this.id, this.withProvider(this.state), inputs);
    }

    /** `pulumi up` for this resource. */
    async up(news: Props): Promise<UpResult> {
        const inputs = await this.checked(news);
        if (!this.id || !this.state) {
            const res = await this.provider.create(inputs);
            this.id = res.id;
            this.state = res.outs ?? {};
            this.inputs = inputs;
            return { op: "create", diffs: [], replaces: [] };
        }
        const diff = (await this.provider.diff(this.id, this.withProvider(this.state), inputs)) as pulumi.dynamic.DiffResult & { diffs?: string[] };
        const diffs = diff.diffs ?? [];
        const replaces = diff.replaces ?? [];
        if (!diff.changes) return { op: "same", diffs, replaces };
        if (replaces.length > 0) {
            // Create the replacement first, then delete the old object with its own state.
            const created = await this.provider.create(inputs);
            const oldId = this.id;
            const oldState = this.state;
            await this.provider.delete(oldId, this.withProvider(oldState));
            this.id = created.id;
            this.state = created.outs ?? {};
            this.inputs = inputs;
            return { op: "replace", diffs, replaces };
        }
        const updated = await this.provider.update(this.id, this.withProvider(this.state), inputs);
        this.state = updated.outs ?? {};
        this.inputs = inputs;
        return { op: "update", diffs, replaces };
    }

    /** `pulumi refresh`: returns "deleted" when the provider reports the object gone (the engine drops it). */
    async refresh(): Promise<"same" | "changed" | "deleted"> {
        if (!this.id || !this.state) throw new Error("nothing to refresh");
        const res = await this.provider.read(this.id, this.withProvider(this.state));
        if (!res.id) {
            this.id = undefined;
            this.state = undefined;
            return "deleted";
        }
        const before = JSON.stringify(this.state);
        const next: Props = { ...(res.props ?? {}) };
        delete next[PROVIDER_KEY];
        this.id = res.id;
        this.state = next;
        return JSON.stringify(next) === before ? "same" : "changed";
    }

    /** `pulumi destroy`. */
    async destroy(): Promise<void> {
        if (!this.id || !this.state) return;
        await this.provider.delete(this.id, this.withProvider(this.state));
        this.id = undefined;
        this.state = undefined;
    }

    /** A static `get(name, id, state)`: a read with the given id and (partial) state. */
    static async get(provider: ProviderLike, id: string, state: Props = {}): Promise<pulumi.dynamic.ReadResult> {
        return provider.read(id, { ...state, [PROVIDER_KEY]: "exports.handler = () => ({})" });
    }
}
