/**
 * Equality of setting values, the one comparison behind diffs, plans and drift.
 *
 * Values here are JSON (strings, numbers, booleans, null, arrays, plain objects). Most settings are strings, so the
 * common case is `===`; structures (bound claims, mappings, lists) go to deep-equal in strict mode. deep-equal is
 * loaded on the first structure compared: it is ~100 modules, which a run that compares only strings never needs
 * (the profile in bench/results.md counted its loading and its cost per compare).
 */
import type deepEqualFn from "deep-equal";

let deepEqual: typeof deepEqualFn | undefined;

export function sameValue(a: unknown, b: unknown): boolean {
    if (a === b) return true;
    if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    deepEqual ??= require("deep-equal") as typeof deepEqualFn;
    return deepEqual(a, b, { strict: true });
}
