/**
 * Small helpers over the plain JSON values the dynamic provider receives.
 *
 * During `pulumi preview`, inputs that depend on other resources' outputs arrive as this sentinel string
 * (the SDK's `runtime/rpc.unknownValue`); it may appear at any depth.
 */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** The property the SDK uses for the serialized provider (and any other engine-internal key). */
export function isInternalKey(key: string): boolean {
    return key.startsWith("__");
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** True when the value is, or contains, a preview-time unknown. */
export function containsUnknown(value: unknown): boolean {
    if (value === UNKNOWN) return true;
    if (Array.isArray(value)) return value.some(containsUnknown);
    if (isPlainObject(value)) return Object.values(value).some(containsUnknown);
    return false;
}

/** A copy without engine-internal keys (`__provider`, ...). */
export function withoutInternal(props: Record<string, unknown> | undefined): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(props ?? {})) {
        if (!isInternalKey(k)) out[k] = v;
    }
    return out;
}

/** Drops undefined members so that JSON and deep comparison agree on what "absent" means. */
export function compact<T extends Record<string, unknown>>(obj: T): T {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) {
        if (v !== undefined) out[k] = v;
    }
    return out as T;
}
