/**
 * Drift detection for a Pulumi stack, built on the Automation API.
 *
 * It runs `refresh` in preview mode: the engine asks every resource's provider to read the live object and
 * compares it with the state, without running the program and without writing anything. That is the floor of
 * what drift detection costs (one read per resource), and it is why it is faster than
 * `pulumi preview --refresh`, which also runs the program and diffs every resource against its inputs.
 */
import { isDeepStrictEqual } from "util";
import { HASH_KEY } from "../provider/engine/model";
import { descriptionOf, isDriftRelevant, readStack, ResourceRead, StackReadError } from "./stack-read";

/** What happened to a resource since the last `pulumi up`. */
export type DriftKind = "modified" | "deleted";
export const DRIFT_KINDS: readonly DriftKind[] = ["modified", "deleted"];

export interface FieldDrift {
    field: string;
    /** Value recorded in the state by the last `up` ("[secret]" for secrets: they are never shown). */
    desired: unknown;
    /** Value read from the live API ("[secret]" for secrets). */
    live: unknown;
    secret: boolean;
}

export interface ResourceDrift {
    urn: string;
    name: string;
    type: string;
    kind: DriftKind;
    fields: FieldDrift[];
}

export interface DriftReport {
    stack: string;
    workDir: string;
    /** Resources whose live state was read. */
    checked: number;
    drifted: ResourceDrift[];
    durationMs: number;
}

export interface DetectDriftOptions {
    workDir: string;
    stackName: string;
    envVars?: Record<string, string>;
    /** Called with short progress messages (resource names as they are read). */
    onProgress?: (message: string) => void;
}

/** An error the user can act on; the CLI prints its message without a stack trace. */
export { StackReadError as DriftError };

const SECRET_MASK = "[secret]";

/** Engine-internal and provider-internal outputs that are not settings (e.g. the serialized dynamic provider). */
function isInternalField(field: string): boolean {
    return field.startsWith("__");
}

function isSecretValue(value: unknown): boolean {
    return value === SECRET_MASK || (typeof value === "object" && value !== null && (value as Record<string, unknown>)["4dabf18193072939515e22adb298388d"] === "1b47061264138c4ac30d75fd1eb44270");
}

/**
 * Field-by-field comparison of the state before and after the refresh read. Secret values arrive masked, so a
 * secret's change is told by its hash output (`<field>Hash`, kept by the providers of this package), else by
 * the engine's list of changed keys when it gives one. Fields for which `relevant` says false (output-only fields
 * such as ids and timestamps) are never drift; the refresh still records their new values.
 */
export function fieldDrifts(
    before: Record<string, unknown>,
    after: Record<string, unknown>,
    changedKeys?: string[],
    relevant: (field: string) => boolean = () => true,
): FieldDrift[] {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    const drifts: FieldDrift[] = [];
    for (const field of [...keys].sort()) {
        if (isInternalField(field) || !relevant(field)) continue;
        if (field.endsWith("Hash") && keys.has(field.slice(0, -"Hash".length))) continue; // reported with its field
        if (field === HASH_KEY) continue; // the key of those hashes: not a setting
        const desired = before[field];
        const live = after[field];
        const secret = isSecretValue(desired) || isSecretValue(live);
        const hash = `${field}Hash`;
        const changed = !secret
            ? !isDeepStrictEqual(desired, live)
            : keys.has(hash)
              ? !isDeepStrictEqual(before[hash], after[hash])
              : (changedKeys ?? []).includes(field);
        if (changed) {
            drifts.push({ field, desired: secret ? SECRET_MASK : desired, live: secret ? SECRET_MASK : live, secret });
        }
    }
    return drifts;
}

function driftOf(r: ResourceRead): ResourceDrift | undefined {
    const base = { urn: r.urn, name: r.name, type: r.type };
    if (!r.live) return { ...base, kind: "deleted", fields: [] };
    const desc = descriptionOf(r.type, r.recorded.outputs);
    const fields = fieldDrifts(r.recorded.outputs, r.live, r.diffs, (field) => isDriftRelevant(desc, field, r.recorded.inputs));
    return fields.length > 0 ? { ...base, kind: "modified", fields } : undefined;
}

export async function detectDrift(opts: DetectDriftOptions): Promise<DriftReport> {
    const read = await readStack(opts, "drift check");
    const drifted = read.resources.map(driftOf).filter((d): d is ResourceDrift => d !== undefined);
    return { stack: read.stack, workDir: read.workDir, checked: read.checked, drifted, durationMs: read.durationMs };
}

/** The drifts that count for the exit code. */
export function countedDrifts(report: DriftReport, failOn: readonly DriftKind[]): ResourceDrift[] {
    return report.drifted.filter((d) => failOn.includes(d.kind));
}

function show(value: unknown): string {
    if (value === undefined) return "(absent)";
    return typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value);
}

export function formatHuman(report: DriftReport): string {
    const lines: string[] = [];
    if (report.drifted.length === 0) {
        lines.push(`No drift: ${report.checked} resource(s) of stack "${report.stack}" match the live APIs.`);
    } else {
        lines.push(`Drift in stack "${report.stack}": ${report.drifted.length} of ${report.checked} resource(s) changed outside Pulumi.`);
        for (const d of report.drifted) {
            lines.push("");
            lines.push(`  ${d.kind === "deleted" ? "-" : "~"} ${d.name} (${d.type}) ${d.kind}`);
            if (d.kind === "deleted") lines.push("      the object no longer exists (or was disabled); `pulumi up` recreates it");
            for (const f of d.fields) {
                lines.push(`      ${f.field}: ${show(f.desired)} => ${show(f.live)}${f.secret ? " (secret, value hidden)" : ""}`);
            }
        }
        lines.push("");
        lines.push("Run `pulumi up` to put the desired settings back, or `pulumi refresh` to accept the live ones.");
    }
    lines.push(`(${(report.durationMs / 1000).toFixed(1)}s)`);
    return lines.join("\n");
}

function mdCell(value: unknown): string {
    return "`" + show(value).replace(/\|/g, "\\|").replace(/`/g, "'") + "`";
}

export function formatMarkdown(report: DriftReport): string {
    const lines: string[] = [`### Drift check: stack \`${report.stack}\``, ""];
    if (report.drifted.length === 0) {
        lines.push(`:white_check_mark: No drift in ${report.checked} resource(s).`);
        return lines.join("\n");
    }
    lines.push(`:warning: ${report.drifted.length} of ${report.checked} resource(s) drifted.`, "");
    lines.push("| Resource | Type | Field | Desired | Live |", "|---|---|---|---|---|");
    for (const d of report.drifted) {
        if (d.kind === "deleted") {
            lines.push(`| \`${d.name}\` | \`${d.type}\` | *(deleted)* | | |`);
        }
        for (const f of d.fields) {
            lines.push(`| \`${d.name}\` | \`${d.type}\` | \`${f.field}\` | ${mdCell(f.desired)} | ${mdCell(f.live)} |`);
        }
    }
    lines.push("", "Run `pulumi up` to restore the desired settings, or `pulumi refresh` to accept the live ones.");
    return lines.join("\n");
}
