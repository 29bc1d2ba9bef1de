/**
 * Drift detection for a Pulumi stack, built on the Automation API.
 *
 * It runs `refresh` in preview mode: the engine asks every resource's provider to read the live object and
 * compares it with the state, without running the program and without writing anything. That is the floor of
 * what drift detection costs (one read per resource), and it is why it is faster than
 * `pulumi preview --refresh`, which also runs the program and diffs every resource against its inputs.
 */
import { HASH_KEY } from "../provider/engine/model";
import { sameValue } from "../provider/engine/equal";
import { descriptionOf, isDriftRelevant, pulumiCommandFor, readStack, ResourceRead, StackReadError } from "./stack-read";

/**
 * What happened to a resource since the last `pulumi up`: settings changed, the object is gone, or it was deleted and
 * made again outside Pulumi (a new server id, e.g. an identity's OIDC auth revoked and re-attached by someone else).
 */
export type DriftKind = "modified" | "deleted" | "replaced";
export const DRIFT_KINDS: readonly DriftKind[] = ["modified", "deleted", "replaced"];

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

/** The commands that settle a drift, for the stack and directory that were checked. */
export interface DriftRepair {
    /**
     * Puts the program's settings back: `pulumi up --refresh`. A plain `pulumi up` finds nothing to do, since the
     * state still holds what the last `up` sent; the refresh reads the change first, so `up` sees the difference.
     */
    restore: string;
    /**
     * Records the live settings in the state: `pulumi refresh`. The program must be changed to them too, or the
     * next `pulumi up --refresh` puts the program's values back.
     */
    keepLive: string;
}

export interface DriftReport {
    stack: string;
    workDir: string;
    /** Resources whose live state was read. */
    checked: number;
    drifted: ResourceDrift[];
    /** How to settle the drift (only when there is drift). */
    repair?: DriftRepair;
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
            ? !sameValue(desired, live)
            : keys.has(hash)
              ? !sameValue(before[hash], after[hash])
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
    // A new server id is another object, whatever its settings: said first, with the settings that differ after it.
    const ids = desc ? Object.keys(desc.fields).filter((field) => desc.fields[field].objectId) : [];
    const newIds = fieldDrifts(r.recorded.outputs, r.live, undefined, (field) => ids.includes(field) && typeof r.recorded.outputs[field] === "string");
    if (newIds.length > 0) return { ...base, kind: "replaced", fields: [...newIds, ...fields] };
    return fields.length > 0 ? { ...base, kind: "modified", fields } : undefined;
}

export async function detectDrift(opts: DetectDriftOptions): Promise<DriftReport> {
    const read = await readStack(opts, "drift check");
    const drifted = read.resources.map(driftOf).filter((d): d is ResourceDrift => d !== undefined);
    const repair = drifted.length > 0 ? repairOf(read.stack, read.workDir) : undefined;
    return { stack: read.stack, workDir: read.workDir, checked: read.checked, drifted, ...(repair ? { repair } : {}), durationMs: read.durationMs };
}

/** The repair commands, runnable from `from` (the directory the CLI was started in). */
export function repairOf(stack: string, workDir: string, from: string = process.cwd()): DriftRepair {
    return {
        restore: pulumiCommandFor(["up", "--refresh"], stack, workDir, from),
        keepLive: pulumiCommandFor(["refresh"], stack, workDir, from),
    };
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
            lines.push(`  ${d.kind === "deleted" ? "-" : d.kind === "replaced" ? "+-" : "~"} ${d.name} (${d.type}) ${d.kind}`);
            if (d.kind === "deleted") lines.push("      the object no longer exists (or was disabled); `pulumi up --refresh` recreates it");
            if (d.kind === "replaced") lines.push("      the object was deleted and made again outside Pulumi (a new id); whoever did it may also own it now");
            for (const f of d.fields) {
                lines.push(`      ${f.field}: ${show(f.desired)} => ${show(f.live)}${f.secret ? " (secret, value hidden)" : ""}`);
            }
        }
        const repair = report.repair ?? repairOf(report.stack, report.workDir);
        lines.push("");
        lines.push(`To put the program's settings back:  ${repair.restore}`);
        lines.push("  (a plain `pulumi up` changes nothing: the state still matches the program until a refresh reads the change)");
        lines.push(`To keep the live settings instead:   change the program to them (remove a deleted object), then ${repair.keepLive}`);
        lines.push("  (a refresh alone records them in the state, and the next `pulumi up --refresh` puts the program's values back)");
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
        if (d.kind === "replaced") {
            lines.push(`| \`${d.name}\` | \`${d.type}\` | *(replaced outside Pulumi: a new id)* | | |`);
        }
        for (const f of d.fields) {
            lines.push(`| \`${d.name}\` | \`${d.type}\` | \`${f.field}\` | ${mdCell(f.desired)} | ${mdCell(f.live)} |`);
        }
    }
    const repair = report.repair ?? repairOf(report.stack, report.workDir);
    lines.push(
        "",
        `To put the program's settings back, run \`${repair.restore}\` (a plain \`pulumi up\` changes nothing: the state still matches the program until a refresh reads the change).`,
        "",
        `To keep the live settings instead, change the program to them (remove a deleted object from it), then run \`${repair.keepLive}\`: ` +
            "a refresh alone records them in the state, and the next `pulumi up --refresh` puts the program's values back.",
    );
    return lines.join("\n");
}
