/**
 * Trust audit of a stack: the live settings of each resource of this package (read like `oidc-drift` reads them:
 * one refresh in preview mode, nothing written) checked against the trust rules of provider/trust, so a risky
 * setting made behind Pulumi's back is reported by the next scheduled run, with the same rule ids as `pulumi
 * preview`. Findings a resource accepts (`acceptRisks` in its recorded inputs) are reported as accepted.
 */
import { trustFindings, TrustFinding, TrustSeverity } from "../provider/trust";
import { docsBaseUrl, docsLink, INSTALLED_DOCS } from "./docs-link";
import { readStack, ReadStackOptions, ResourceRead } from "./stack-read";

export const SEVERITIES: readonly TrustSeverity[] = ["error", "warning"];

export interface AuditFinding extends TrustFinding {
    urn: string;
    name: string;
    type: string;
    /** The resource accepts this rule (`acceptRisks`): reported, never counted. */
    accepted: boolean;
    /** `docs` as a browsable URL, when the package's repository is known (cli/docs-link.ts). */
    docsUrl?: string;
}

export interface AuditReport {
    stack: string;
    workDir: string;
    /** Resources whose live state was read. */
    checked: number;
    /** Resources of this package whose live settings were audited (objects that are gone are not). */
    audited: number;
    findings: AuditFinding[];
    durationMs: number;
}

function acceptedRisks(r: ResourceRead): Set<string> {
    const list = r.recorded.inputs.acceptRisks ?? r.recorded.outputs.acceptRisks;
    return new Set(Array.isArray(list) ? list.filter((x): x is string => typeof x === "string") : []);
}

/** The findings of one resource's live settings; `docsBase` makes their docs links absolute (cli/docs-link.ts). */
export function auditResource(r: ResourceRead, docsBase?: string): AuditFinding[] {
    if (!r.kind || !r.live) return [];
    const accepted = acceptedRisks(r);
    return trustFindings(r.kind, r.live).map((f) => {
        const docsUrl = docsLink(f.docs, docsBase);
        return { urn: r.urn, name: r.name, type: r.type, ...f, accepted: accepted.has(f.ruleId), ...(docsUrl ? { docsUrl } : {}) };
    });
}

export interface AuditStackOptions extends ReadStackOptions {
    /** Base URL of the package's docs (`--docs-url`); default: OIDC_SETTINGS_DOCS_URL, else package.json. */
    docsUrl?: string;
}

export async function auditStack(opts: AuditStackOptions): Promise<AuditReport> {
    const read = await readStack(opts, "trust audit");
    const ours = read.resources.filter((r) => r.kind && r.live);
    const base = docsBaseUrl(opts.docsUrl);
    return {
        stack: read.stack,
        workDir: read.workDir,
        checked: read.checked,
        audited: ours.length,
        findings: ours.flatMap((r) => auditResource(r, base)),
        durationMs: read.durationMs,
    };
}

/** The findings that count for the exit code: of the chosen severities and not accepted. */
export function countedFindings(report: AuditReport, failOn: readonly TrustSeverity[]): AuditFinding[] {
    return report.findings.filter((f) => !f.accepted && failOn.includes(f.severity));
}

function label(f: AuditFinding): string {
    return f.accepted ? `${f.severity}, accepted` : f.severity;
}

export function formatAuditHuman(report: AuditReport): string {
    const lines: string[] = [];
    const open = report.findings.filter((f) => !f.accepted);
    if (report.findings.length === 0) {
        lines.push(`No trust findings: ${report.audited} resource(s) of stack "${report.stack}" audited against their live settings.`);
    } else {
        const errors = open.filter((f) => f.severity === "error").length;
        lines.push(
            `Trust findings in stack "${report.stack}": ${errors} error(s), ${open.length - errors} warning(s)` +
                `${report.findings.length > open.length ? `, ${report.findings.length - open.length} accepted` : ""} in ${report.audited} resource(s) (live settings).`,
        );
        for (const f of report.findings) {
            lines.push("");
            lines.push(`  ${f.severity === "error" && !f.accepted ? "x" : "!"} ${f.name} (${f.type}) ${f.ruleId} [${label(f)}] on ${f.property}`);
            lines.push(`      ${f.reason}`);
            lines.push(`      Fix: ${f.fix}`);
            lines.push(`      See ${f.docsUrl ?? `${f.docs} (in ${INSTALLED_DOCS})`}${f.accepted ? "" : `; to accept the risk: acceptRisks: ["${f.ruleId}"]`}`);
        }
    }
    lines.push(`(${(report.durationMs / 1000).toFixed(1)}s)`);
    return lines.join("\n");
}

function mdText(text: string): string {
    return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

export function formatAuditMarkdown(report: AuditReport): string {
    const lines: string[] = [`### Trust audit: stack \`${report.stack}\``, ""];
    if (report.findings.length === 0) {
        lines.push(`:white_check_mark: No trust findings in ${report.audited} resource(s).`);
        return lines.join("\n");
    }
    const open = report.findings.filter((f) => !f.accepted);
    lines.push(`${open.some((f) => f.severity === "error") ? ":x:" : ":warning:"} ${open.length} finding(s) in ${report.audited} resource(s), ${report.findings.length - open.length} accepted.`, "");
    lines.push("| Resource | Rule | Severity | Field | Reason | Fix |", "|---|---|---|---|---|---|");
    for (const f of report.findings) {
        const rule = f.docsUrl ? `[\`${f.ruleId}\`](${f.docsUrl})` : `\`${f.ruleId}\``;
        lines.push(`| \`${f.name}\` | ${rule} | ${label(f)} | \`${f.property}\` | ${mdText(f.reason)} | ${mdText(f.fix)} |`);
    }
    // A relative link would point into the infra repository of the pull request, where the docs are not.
    if (report.findings.some((f) => !f.docsUrl)) lines.push("", `Each rule is explained in \`${INSTALLED_DOCS}docs/trust.md\`, under its id.`);
    return lines.join("\n");
}
