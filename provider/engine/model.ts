/**
 * A resource description with the questions every lifecycle step asks of it answered in one place: which fields are
 * settings, how a field is named in requests and responses, how two values compare, what goes in a request body, what
 * identifies the object. Pure: no I/O, no state.
 */
import { sameValue } from "./equal";
import { ENGINE_INPUT_DEFS } from "./engine-inputs";
import type { FieldRule, ResourceDescription } from "./types";
import { stringsIn } from "./secrets";
import { isPlainObject } from "./values";

type Props = Record<string, unknown>;

/** Inputs every resource may have in addition to its API settings (handled by the engine, never sent to the API). */
export const ENGINE_INPUTS: readonly string[] = ENGINE_INPUT_DEFS.map((input) => input.name);
/** Output: the API base URL the object lives on. */
export const TARGET_URL = "targetUrl";
/** Output: settings the server's version does not have (fields with `availableOn` its answers lack). */
export const UNSUPPORTED = "unsupportedSettings";
/**
 * Internal input set by the typed classes: the resource's URN, unique in the program (type chain and name), to tell
 * two resources that claim the same object apart and name them. (0.2.0 set `__resourceName`, the short name.)
 */
export const OWNER_INPUT = "__resourceUrn";

/** Output holding the hash of a secret field's value: how a change of it shows in events that mask secrets. */
export function hashField(field: string): string {
    return `${field}Hash`;
}
/** Secret output: the resource's random key of its secrets' HMAC hashes (see secrets.ts). */
export const HASH_KEY = "hashKey";

/** Connection fields that are credentials (never shown); the URL fields are not secret. */
export const CREDENTIAL_KEYS = ["token", "clientId", "clientSecret", "apiToken", "serviceAccountToken"] as const;

export class ResourceModel {
    readonly desc: ResourceDescription;
    /** Fields sent to and read from the API (everything but computed outputs). */
    readonly settings: readonly string[];
    /** Output-only fields (ids, timestamps). */
    readonly computed: readonly string[];
    readonly secrets: readonly string[];

    constructor(desc: ResourceDescription) {
        this.desc = desc;
        const names = Object.keys(desc.fields);
        this.settings = names.filter((f) => !desc.fields[f].computed);
        this.computed = names.filter((f) => desc.fields[f].computed);
        this.secrets = this.settings.filter((f) => desc.fields[f].secret);
    }

    get kind(): string {
        return this.desc.kind;
    }

    rule(field: string): FieldRule {
        return this.desc.fields[field] ?? { doc: "" };
    }

    /** The name a field has in request bodies. */
    requestName(field: string): string {
        return this.rule(field).apiName ?? field;
    }

    /** The name a field has in responses. */
    responseName(field: string): string {
        const rule = this.rule(field);
        return rule.responseName ?? rule.apiName ?? field;
    }

    /** The field's value in an API object (as returned). */
    live(obj: Props | undefined, field: string): unknown {
        return obj?.[this.responseName(field)];
    }

    canonical(field: string, value: unknown): unknown {
        const n = this.rule(field).normalize;
        return n ? n(value) : value;
    }

    same(field: string, a: unknown, b: unknown): boolean {
        return sameValue(this.canonical(field, a), this.canonical(field, b));
    }

    /** Whether an API answer shows that the server's version lacks the field (see FieldRule.availableOn). */
    lacks(obj: Props, field: string): boolean {
        return this.rule(field).availableOn !== undefined && !(this.responseName(field) in obj);
    }

    /** The settings a state records as missing on its server. */
    unsupportedIn(state: Props | undefined): Set<string> {
        const list = state?.[UNSUPPORTED];
        return new Set(Array.isArray(list) ? list.filter((f): f is string => typeof f === "string") : []);
    }

    /** Whether the program sets the field (a value, or the cleared value after it was removed from the program). */
    isManaged(inputs: Props, field: string): boolean {
        return inputs[field] !== undefined && inputs[field] !== null;
    }

    /** Whether the program sets the field to a value (not merely to its cleared value ""). */
    sets(inputs: Props, field: string): boolean {
        return this.isManaged(inputs, field) && inputs[field] !== "";
    }

    /**
     * Whether a derived field is only the server's resolution of a source field the program manages (not carried):
     * also while the source is being cleared (an Unleash role removed: its stored id must not keep it).
     */
    isDerivedOnly(inputs: Props, field: string): boolean {
        const derived = this.rule(field).derivedFrom;
        return !!derived && this.isManaged(inputs, derived.field) && !this.isManaged(inputs, field);
    }

    // ------------------------------------------------------------------------------------------------ identity

    /** The key of the object (e.g. {organizationId}); `get(name, id)` reads with the id alone for single-field keys. */
    keyOf(props: Props, id?: string): Record<string, string> {
        const key: Record<string, string> = {};
        for (const k of this.desc.key) {
            const v = props[k];
            if (typeof v === "string" && v !== "") key[k] = v;
        }
        if (id && this.desc.key.length === 1 && key[this.desc.key[0]] === undefined) key[this.desc.key[0]] = id;
        return key;
    }

    /** The resource id: the key fields joined, or the target URL for per-instance singletons. */
    idOf(key: Record<string, string>, target: string): string {
        return this.desc.key.length === 0 ? target : this.desc.key.map((k) => key[k]).join("/");
    }

    /** "OidcSsoConfig for organizationId org-1" / "UnleashOidcSettings on https://unleash.example.com". */
    describe(key: Record<string, string>, target: string): string {
        return this.desc.key.length
            ? `${this.kind} for ${this.desc.key.map((k) => `${k} ${key[k]}`).join(", ")} on ${target}`
            : `${this.kind} on ${target}`;
    }

    unwrap(body: unknown): Props | undefined {
        const obj = this.desc.api.unwrap && isPlainObject(body) ? body[this.desc.api.unwrap] : body;
        return isPlainObject(obj) ? obj : undefined;
    }

    /** Whether a singleton is in use (non-singletons always are). */
    isEnabled(obj: Props): boolean {
        const s = this.desc.singleton;
        return !s || this.live(obj, s.enabledField) === true;
    }

    // ------------------------------------------------------------------------------------------------ requests

    /**
     * The request body for the managed settings: request names, values as the user wrote them (or `toApi`), empty
     * values left out where the API refuses them. `only` restricts it to some fields (partial updates).
     */
    body(inputs: Props, only?: ReadonlySet<string>): Props {
        const body: Props = {};
        for (const field of this.settings) {
            const rule = this.rule(field);
            if (rule.inPath || !this.isManaged(inputs, field)) continue;
            if (only && !only.has(field)) continue;
            const value = rule.toApi ? rule.toApi(inputs[field]) : inputs[field];
            if (value === undefined || (this.desc.api.omitEmpty && isEmpty(value))) continue;
            body[this.requestName(field)] = value;
        }
        return body;
    }

    /**
     * For full-replace APIs: the settings of the current object that the program does not manage, to be sent back
     * unchanged (including ones this package does not know, e.g. added by a newer server). Left out: managed and
     * cleared fields, fields the server derives from a managed one, `version`, and empty values.
     */
    carried(current: Props | undefined, inputs: Props): Props {
        const out: Props = {};
        const byResponseName = new Map(this.settings.map((f) => [this.responseName(f), f]));
        for (const [name, value] of Object.entries(current ?? {})) {
            if (name === "version" || isEmpty(value)) continue;
            const field = byResponseName.get(name);
            if (field && (this.isManaged(inputs, field) || this.isDerivedOnly(inputs, field) || this.rule(field).computed)) continue;
            out[field ? this.requestName(field) : name] = value;
        }
        return out;
    }

    /**
     * The managed fields whose live value differs from the desired one. A secret the API does not return counts as
     * differing: it cannot be verified.
     */
    differences(obj: Props, inputs: Props): string[] {
        const out: string[] = [];
        for (const field of this.settings) {
            if (!this.isManaged(inputs, field) || this.rule(field).inPath || this.lacks(obj, field)) continue;
            const live = this.live(obj, field);
            if (live === undefined && this.rule(field).secret) {
                out.push(field);
                continue;
            }
            if (!this.same(field, live, inputs[field])) out.push(field);
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------------ secrets

    /** Every secret value in play for these props (to redact from errors): secret fields and connection credentials. */
    secretValues(...propsList: Array<Props | undefined>): string[] {
        const out: string[] = [];
        for (const props of propsList) {
            if (!props) continue;
            for (const field of this.secrets) out.push(...stringsIn(props[field]));
            if (isPlainObject(props.connection)) {
                for (const k of CREDENTIAL_KEYS) out.push(...stringsIn(props.connection[k]));
            }
        }
        return out;
    }
}

function isEmpty(value: unknown): boolean {
    return (
        value === undefined ||
        value === null ||
        value === "" ||
        (Array.isArray(value) && value.length === 0) ||
        (isPlainObject(value) && Object.keys(value).length === 0)
    );
}
