#!/usr/bin/env node
/**
 * oidc-audit: check the live OIDC settings of a stack's resources against the trust rules (docs/trust.md), for
 * scheduled runs. Exit codes: 0 no finding that counts, 2 findings (of the severities chosen with --fail-on, not
 * accepted in acceptRisks), 1 error.
 */
import { Command, Option } from "commander";
import { TrustSeverity } from "../provider/trust";
import { auditStack, countedFindings, formatAuditHuman, formatAuditMarkdown, SEVERITIES } from "./audit";
import { DOCS_URL_ENV } from "./docs-link";
import { commaChoices, StackReadError } from "./stack-read";

interface CliOptions {
    cwd: string;
    stack: string;
    json?: boolean;
    markdown?: boolean;
    failOn: string;
    quiet?: boolean;
    docsUrl?: string;
}

function parseFailOn(value: string): TrustSeverity[] {
    return commaChoices("--fail-on", value, SEVERITIES, "severity");
}

async function main(argv: string[]): Promise<number> {
    const program = new Command()
        .name("oidc-audit")
        .description("Check the live OIDC settings of a Pulumi stack's resources for trust that is wider than meant (docs/trust.md).")
        .option("-C, --cwd <dir>", "directory of the Pulumi project", process.cwd())
        .requiredOption("-s, --stack <name>", "stack name (env PULUMI_STACK)", process.env.PULUMI_STACK)
        .option("--json", "print the report as JSON")
        .option("--markdown", "print the report as Markdown (e.g. for an issue or a pull-request comment)")
        .addOption(new Option("--fail-on <severities>", `severities that make the exit code 2 (${SEVERITIES.join(",")})`).default("error"))
        .option("-q, --quiet", "no progress output on stderr")
        .option("--docs-url <url>", `base URL under which docs/trust.md resolves, for the rule links (env ${DOCS_URL_ENV}; default: the package's repository)`)
        .addHelpText(
            "after",
            "\nReads every resource live (a refresh in preview mode: nothing is written) and applies the rules `pulumi preview`\n" +
                "applies to the program, so settings changed outside Pulumi are audited too. Findings a resource accepts in\n" +
                "acceptRisks are listed as accepted and never fail the run. Nothing is written: the selected stack, the stack's\n" +
                "config and its state stay as they were. Needs the Pulumi CLI on PATH.\n\nExit codes: 0 no finding that counts, 2 findings, 1 error.",
        )
        .exitOverride();
    try {
        program.parse(argv);
    } catch (err) {
        return (err as { exitCode?: number }).exitCode === 0 ? 0 : 1;
    }
    const opts = program.opts<CliOptions>();
    try {
        const failOn = parseFailOn(opts.failOn);
        const progress = opts.quiet ? undefined : (m: string) => process.stderr.write(`  ${m}\n`);
        if (!opts.quiet) process.stderr.write(`Auditing stack "${opts.stack}" in ${opts.cwd} (live settings, refresh preview only)...\n`);
        const report = await auditStack({ workDir: opts.cwd, stackName: opts.stack, onProgress: progress, docsUrl: opts.docsUrl });
        if (opts.json) process.stdout.write(JSON.stringify(report, null, 2) + "\n");
        else if (opts.markdown) process.stdout.write(formatAuditMarkdown(report) + "\n");
        else process.stdout.write(formatAuditHuman(report) + "\n");
        return countedFindings(report, failOn).length > 0 ? 2 : 0;
    } catch (err) {
        const message = err instanceof StackReadError ? err.message : `unexpected error: ${err instanceof Error ? err.message : String(err)}`;
        process.stderr.write(`oidc-audit: ${message}\n`);
        return 1;
    }
}

main(process.argv).then((code) => process.exit(code));
