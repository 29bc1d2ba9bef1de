/**
 * Drift detection for a Pulumi stack, built on the Automation API.
 *
 * It runs `refresh` in preview mode: the engine asks every resource's provider to read the live object and
 * compares it with the state, without running the program and without writing anything. That is the floor of
 * what drift detection costs (one read per resource), and it is why it is faster than
 * `pulumi preview --refresh`, which also runs the program and diffs every resource against its inputs.
 */
import * as path from "path";
import deepEqual from "deep-equal";
import { EngineEvent, LocalWorkspace, Stack, StepEventMetadata } from "@pulumi/pulumi/automation";

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
export class DriftError extends Error {}

const SECRET_MASK = "[secret]";

/** Engine-internal and provider-internal outputs that are not settings (e.g. the serialized dynamic provider). */
function isInternalField(field: string): boolean {
    return field.startsWith("__");
}

function isSecretValue(value: unknown): boolean {
    return value === SECRET_MASK || (typeof value === "object" && value !== null && (value as Record<string, unknown>)["4dabf18193072939515e22adb298388d"] === "1b47061264138c4ac30d75fd1eb44270");
}

function resourceName(urn: string): string {
    return urn.split("::").pop() ?? urn;
}

/**
 * Field-by-field comparison of the state before and after the refresh read. Secret values arrive masked, so a
 * secret's change is told by its salted hash output (`<field>Hash`, kept by the providers of this package), else by
 * the engine's list of changed keys when it gives one.
 */
export function fieldDrifts(before: Record<string, unknown>, after: Record<string, unknown>, changedKeys?: string[]): FieldDrift[] {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    const drifts: FieldDrift[] = [];
    for (const field of [...keys].sort()) {
        if (isInternalField(field)) continue;
        if (field.endsWith("Hash") && keys.has(field.slice(0, -"Hash".length))) continue; // reported with its field
        const desired = before[field];
        const live = after[field];
        const secret = isSecretValue(desired) || isSecretValue(live);
        const hash = `${field}Hash`;
        const changed = !secret
            ? !deepEqual(desired, live, { strict: true })
            : keys.has(hash)
              ? !deepEqual(before[hash], after[hash], { strict: true })
              : (changedKeys ?? []).includes(field);
        if (changed) {
            drifts.push({ field, desired: secret ? SECRET_MASK : desired, live: secret ? SECRET_MASK : live, secret });
        }
    }
    return drifts;
}

function driftFromStep(meta: StepEventMetadata): ResourceDrift | undefined {
    if (meta.type === "pulumi:pulumi:Stack" || meta.type.startsWith("pulumi:providers:")) return undefined;
    const base = { urn: meta.urn, name: resourceName(meta.urn), type: meta.type };
    if (meta.op === "delete" || (meta.old && !meta.new)) {
        return { ...base, kind: "deleted", fields: [] };
    }
    if (!meta.old || !meta.new) return undefined;
    const fields = fieldDrifts(meta.old.outputs ?? {}, meta.new.outputs ?? {}, meta.diffs);
    return fields.length > 0 ? { ...base, kind: "modified", fields } : undefined;
}

/**
 * Explains the failures users hit most, instead of the engine's raw output. `diagnostics` are the engine's error
 * diagnostics of the run (provider errors, already written for humans), when it got that far.
 */
function explain(err: unknown, opts: DetectDriftOptions, diagnostics: string[] = []): DriftError {
    const text = err instanceof Error ? err.message : String(err);
    if (/no stack named|stack .* not found|could not find stack/i.test(text)) {
        return new DriftError(`stack "${opts.stackName}" does not exist in ${opts.workDir} (see \`pulumi stack ls\`)`);
    }
    if (/incorrect passphrase|passphrase must be set|PULUMI_CONFIG_PASSPHRASE/i.test(text)) {
        return new DriftError(
            `cannot decrypt the secrets of stack "${opts.stackName}": wrong or missing passphrase ` +
                "(set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE)",
        );
    }
    if (diagnostics.length > 0) {
        return new DriftError(`drift check of stack "${opts.stackName}" failed:\n${[...new Set(diagnostics)].join("\n")}`);
    }
    // Otherwise the error lines of the engine's output.
    const providerLines = text
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => /error:/.test(line) && !/update failed|preview failed|refresh failed/i.test(line));
    const summary = providerLines.length > 0 ? providerLines.join("\n") : text.trim().split("\n").slice(-5).join("\n");
    return new DriftError(`drift check of stack "${opts.stackName}" failed:\n${summary}`);
}

export async function detectDrift(opts: DetectDriftOptions): Promise<DriftReport> {
    const started = Date.now();
    const workDir = path.resolve(opts.workDir);
    let stack: Stack;
    try {
        stack = await LocalWorkspace.selectStack({ stackName: opts.stackName, workDir }, { envVars: opts.envVars });
    } catch (err) {
        throw explain(err, { ...opts, workDir });
    }

    const drifted = new Map<string, ResourceDrift>();
    const diagnostics: string[] = [];
    let checked = 0;
    const onEvent = (event: EngineEvent): void => {
        const diag = event.diagnosticEvent;
        if (diag?.severity === "error" && !/^(preview|update|refresh) failed\s*$/i.test(diag.message.trim())) {
            const where = diag.urn ? `${resourceName(diag.urn)}: ` : "";
            diagnostics.push(`  ${where}${diag.message.trim()}`);
        }
        const pre = event.resourcePreEvent?.metadata;
        if (pre && pre.type !== "pulumi:pulumi:Stack" && !pre.type.startsWith("pulumi:providers:")) {
            checked++;
            opts.onProgress?.(`reading ${resourceName(pre.urn)} (${pre.type})`);
        }
        const step = event.resOutputsEvent?.metadata ?? event.resourcePreEvent?.metadata;
        if (step) {
            const drift = driftFromStep(step);
            if (drift) drifted.set(drift.urn, drift);
        }
    };
    try {
        await stack.previewRefresh({ onEvent, color: "never" });
    } catch (err) {
        throw explain(err, { ...opts, workDir }, diagnostics);
    }
    return { stack: opts.stackName, workDir, checked, drifted: [...drifted.values()], durationMs: Date.now() - started };
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
