/**
 * Reads every resource of a stack from its live API without changing anything: a `refresh` in preview mode (the
 * engine asks each resource's provider to read the live object; the program is not run, nothing is written). Shared
 * by `oidc-drift` (compares what was read with the state) and `oidc-audit` (applies the trust rules to it).
 */
import * as fs from "fs";
import * as path from "path";
import type { EngineEvent, StepEventMetadata } from "@pulumi/pulumi/automation";
import { PulumiNotFoundError, PulumiResult, runPulumi } from "./pulumi-run";
import { descriptions } from "../provider/resources";
import type { FieldRule, ResourceDescription } from "../provider/engine/types";
import { UNSUPPORTED } from "../provider/engine/model";

/** An error the user can act on; the CLIs print its message without a stack trace. */
export class StackReadError extends Error {}

/** A word as the shell reads it: unchanged when it is plain, else single-quoted. */
export function shellWord(word: string): string {
    return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * A `pulumi` command line for the stack that was read, runnable where the CLI was run: `--stack` always (these CLIs
 * never select a stack, so the selected one may be another), `--cwd` when the project is not the current directory.
 */
export function pulumiCommandFor(args: string[], stack: string, workDir: string, from: string = process.cwd()): string {
    const where = path.resolve(workDir) === path.resolve(from) ? [] : ["--cwd", path.relative(from, workDir) || "."];
    return ["pulumi", ...args, "--stack", stack, ...where].map(shellWord).join(" ");
}

/** A `--fail-on a,b` value: a non-empty comma list of the allowed words, else an error naming the allowed ones. */
export function commaChoices<T extends string>(option: string, value: string, allowed: readonly T[], what: string): T[] {
    const chosen = value.split(",").map((k) => k.trim()).filter(Boolean);
    const unknown = chosen.filter((k) => !(allowed as readonly string[]).includes(k));
    if (unknown.length > 0 || chosen.length === 0) {
        throw new StackReadError(`${option}: unknown ${what} "${unknown.join(",") || value}"; use a comma list of ${allowed.join(", ")}`);
    }
    return chosen as T[];
}

export interface ReadStackOptions {
    workDir: string;
    stackName: string;
    envVars?: Record<string, string>;
    /** Called with short progress messages (resource names as they are read). */
    onProgress?: (message: string) => void;
}

/** One resource as the state recorded it and as it was read live. */
export interface ResourceRead {
    urn: string;
    name: string;
    type: string;
    /** This package's resource kind ("OidcSsoConfig", ...), when the resource is one of ours. */
    kind?: string;
    /** Inputs and outputs the state recorded at the last `up`. */
    recorded: { inputs: Record<string, unknown>; outputs: Record<string, unknown> };
    /** Outputs read from the live API; undefined when the object is gone. */
    live?: Record<string, unknown>;
    /** The engine's list of changed keys, when it gives one. */
    diffs?: string[];
}

export interface StackRead {
    stack: string;
    workDir: string;
    /** Resources whose live state was read. */
    checked: number;
    resources: ResourceRead[];
    durationMs: number;
}

export function resourceName(urn: string): string {
    return urn.split("::").pop() ?? urn;
}

/** Type tokens of this package's resources: `pulumi-nodejs:dynamic/<module>:<type>` → description. */
const byType = new Map(Object.values(descriptions).map((d) => [`pulumi-nodejs:dynamic/${d.module}:${d.type}`, d]));

/**
 * This package's description of a resource. Dynamic resources registered without a type name have the generic type
 * `pulumi-nodejs:dynamic:Resource`; their serialized provider (`__provider`) then tells the kind, since each
 * forwarder captures its kind's name (by value) or requires `pulumi-oidc-settings/providers/<Kind>` (by reference).
 */
export function descriptionOf(type: string, outputs: Record<string, unknown> | undefined): ResourceDescription | undefined {
    const typed = byType.get(type);
    if (typed) return typed;
    if (!type.startsWith("pulumi-nodejs:dynamic")) return undefined;
    const provider = outputs?.__provider;
    if (typeof provider !== "string") return undefined;
    return Object.values(descriptions).find((d) => provider.includes(`"${d.kind}"`) || provider.includes(`/providers/${d.kind}"`));
}

/**
 * Whether a field is a setting whose change outside Pulumi is drift. Output-only fields (`computed`: ids,
 * timestamps) are not; nor is a field the server derives from another one while the user manages that one and not
 * this one (`derivedFrom`, e.g. Unleash's resolved `defaultRootRoleId` when the program sets `defaultRootRole`).
 * Fields that are not in the description (engine inputs such as `connection`) are compared as before.
 */
export function isDriftRelevant(desc: ResourceDescription | undefined, field: string, recordedInputs: Record<string, unknown>): boolean {
    if (field === UNSUPPORTED) return false; // what the server's version lacks: a fact about the server, not a setting
    const rule: (FieldRule & { derivedFrom?: { field: string } }) | undefined = desc?.fields[field];
    if (!rule) return true;
    if (rule.computed) return false;
    const source = rule.derivedFrom?.field;
    if (source && recordedInputs[source] !== undefined && recordedInputs[source] !== null && (recordedInputs[field] === undefined || recordedInputs[field] === null)) {
        return false;
    }
    return true;
}

/** Explains the failures users hit most, instead of the engine's raw output. */
function explain(err: unknown, opts: ReadStackOptions, what: string, diagnostics: string[] = []): StackReadError {
    const text = err instanceof Error ? err.message : String(err);
    if (/no stack named|stack .* not found|could not find stack/i.test(text)) {
        return new StackReadError(`stack "${opts.stackName}" does not exist in ${opts.workDir} (see \`pulumi stack ls\`)`);
    }
    if (/no Pulumi\.yaml project file found|no Pulumi project found/i.test(text)) {
        return new StackReadError(`no Pulumi project in ${opts.workDir} (no Pulumi.yaml): run it in the project's directory or pass --cwd <dir>`);
    }
    if (/incorrect passphrase|passphrase must be set|PULUMI_CONFIG_PASSPHRASE/i.test(text)) {
        return new StackReadError(
            `cannot decrypt the secrets of stack "${opts.stackName}": wrong or missing passphrase ` +
                "(set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE)",
        );
    }
    if (diagnostics.length > 0) {
        return new StackReadError(`${what} of stack "${opts.stackName}" failed:\n${[...new Set(diagnostics)].join("\n")}`);
    }
    const providerLines = text
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => /error:/.test(line) && !/update failed|preview failed|refresh failed/i.test(line));
    const summary = providerLines.length > 0 ? providerLines.join("\n") : text.trim().split("\n").slice(-5).join("\n");
    return new StackReadError(`${what} of stack "${opts.stackName}" failed:\n${summary}`);
}

function isStackOrProvider(type: string): boolean {
    return type === "pulumi:pulumi:Stack" || type.startsWith("pulumi:providers:");
}

/**
 * Reads the stack's resources live (refresh, preview only). `what` names the operation in error messages.
 *
 * It runs `pulumi refresh --preview-only --stack <name>` directly (cli/pulumi-run.ts) rather than through
 * `LocalWorkspace.selectStack`, which would run `pulumi stack select` and change the stack the user's next bare
 * `pulumi up` targets: nothing in the project, the workspace settings or the state is written.
 */
export async function readStack(opts: ReadStackOptions, what: string): Promise<StackRead> {
    const started = Date.now();
    const workDir = path.resolve(opts.workDir);
    const o = { ...opts, workDir };
    if (!fs.existsSync(workDir) || !fs.statSync(workDir).isDirectory()) {
        throw new StackReadError(`${workDir} is not a directory (--cwd names the Pulumi project's directory)`);
    }

    const resources = new Map<string, ResourceRead>();
    const diagnostics: string[] = [];
    let checked = 0;
    const record = (meta: StepEventMetadata): void => {
        if (isStackOrProvider(meta.type) || !meta.old) return;
        const gone = meta.op === "delete" || !meta.new;
        const recorded = { inputs: meta.old.inputs ?? {}, outputs: meta.old.outputs ?? {} };
        resources.set(meta.urn, {
            urn: meta.urn,
            name: resourceName(meta.urn),
            type: meta.type,
            kind: descriptionOf(meta.type, recorded.outputs)?.kind,
            recorded,
            live: gone ? undefined : (meta.new?.outputs ?? {}),
            diffs: meta.diffs,
        });
    };
    const onEvent = (event: EngineEvent): void => {
        const diag = event.diagnosticEvent;
        if (diag?.severity === "error" && !/^(preview|update|refresh) failed\s*$/i.test(diag.message.trim())) {
            const where = diag.urn ? `${resourceName(diag.urn)}: ` : "";
            diagnostics.push(`  ${where}${diag.message.trim()}`);
        }
        const pre = event.resourcePreEvent?.metadata;
        if (pre && !isStackOrProvider(pre.type)) {
            checked++;
            opts.onProgress?.(`reading ${resourceName(pre.urn)} (${pre.type})`);
        }
        // The outputs event carries what the read returned; the pre event stands in when there is none.
        const step = event.resOutputsEvent?.metadata ?? event.resourcePreEvent?.metadata;
        if (step && (event.resOutputsEvent || !resources.has(step.urn))) record(step);
    };
    let result: PulumiResult;
    try {
        // PULUMI_SKIP_CONFIRMATIONS=true (common in CI, where it stands for --yes) makes the CLI refuse
        // `--preview-only` ("--yes and --preview-only cannot be used together"): a read-only run needs no confirmation.
        result = await runPulumi(["refresh", "--preview-only", "--stack", opts.stackName, "--color", "never"], {
            cwd: workDir,
            env: opts.envVars,
            unsetEnv: ["PULUMI_SKIP_CONFIRMATIONS"],
            onEvent,
        });
    } catch (err) {
        if (err instanceof PulumiNotFoundError) throw new StackReadError(err.message);
        throw explain(err, o, what);
    }
    if (result.code !== 0) {
        throw explain(new Error(`${result.stderr}\n${result.stdout}`), o, what, diagnostics);
    }
    return { stack: opts.stackName, workDir, checked, resources: [...resources.values()], durationMs: Date.now() - started };
}
