#!/usr/bin/env node
/**
 * oidc-drift: report settings changed outside Pulumi, for GitOps pipelines and scheduled runs.
 * Exit codes: 0 no drift, 2 drift (of the kinds chosen with --fail-on), 1 error.
 */
import { Command, Option } from "commander";
import { commaChoices } from "./stack-read";
import { countedDrifts, detectDrift, DRIFT_KINDS, DriftError, DriftKind, formatHuman, formatMarkdown } from "./drift";

interface CliOptions {
    cwd: string;
    stack: string;
    json?: boolean;
    markdown?: boolean;
    failOn: string;
    quiet?: boolean;
}

function parseFailOn(value: string): DriftKind[] {
    return commaChoices("--fail-on", value, DRIFT_KINDS, "kind(s)");
}

async function main(argv: string[]): Promise<number> {
    const program = new Command()
        .name("oidc-drift")
        .description("Report OIDC settings (and any other resources) of a Pulumi stack that changed outside Pulumi.")
        .option("-C, --cwd <dir>", "directory of the Pulumi project", process.cwd())
        .requiredOption("-s, --stack <name>", "stack name (env PULUMI_STACK)", process.env.PULUMI_STACK)
        .option("--json", "print the report as JSON")
        .option("--markdown", "print the report as Markdown (e.g. for a pull-request comment)")
        .addOption(new Option("--fail-on <kinds>", `drift kinds that make the exit code 2 (${DRIFT_KINDS.join(",")})`).default(DRIFT_KINDS.join(",")))
        .option("-q, --quiet", "no progress output on stderr")
        .addHelpText(
            "after",
            "\nReports settings only: output-only fields (ids, createdAt/updatedAt timestamps, values the server derives from\n" +
                "a field you manage) are refreshed into the state by `pulumi refresh` but are never drift. Secrets are masked.\n" +
                "\nThe same field-level changes, interactively with Pulumi:\n" +
                "  pulumi refresh --diff                 # what changed outside Pulumi, then choose to accept it into the state\n" +
                "  pulumi preview --refresh --diff       # also diffs the program against the refreshed state\n" +
                "\nAfter drift: `pulumi up --refresh --stack <name>` puts the program's settings back (a plain `pulumi up` changes\n" +
                "nothing: the state still matches the program). To keep the live settings, change the program to them and run\n" +
                "`pulumi refresh --stack <name>`. Nothing is written by oidc-drift: the selected stack, the stack's config and\n" +
                "its state stay as they were. Needs the Pulumi CLI on PATH.\n" +
                "\nTrust checks of the live settings (same output formats): oidc-audit --stack <name>\n" +
                "\nExit codes: 0 no drift, 2 drift, 1 error.",
        )
        .exitOverride();
    try {
        program.parse(argv);
    } catch (err) {
        // commander already printed the usage error (or the help text, exit code 0).
        return (err as { exitCode?: number }).exitCode === 0 ? 0 : 1;
    }
    const opts = program.opts<CliOptions>();
    try {
        const failOn = parseFailOn(opts.failOn);
        const progress = opts.quiet ? undefined : (m: string) => process.stderr.write(`  ${m}\n`);
        if (!opts.quiet) process.stderr.write(`Checking stack "${opts.stack}" in ${opts.cwd} for drift (refresh, preview only)...\n`);
        const report = await detectDrift({ workDir: opts.cwd, stackName: opts.stack, onProgress: progress });
        if (opts.json) process.stdout.write(JSON.stringify(report, null, 2) + "\n");
        else if (opts.markdown) process.stdout.write(formatMarkdown(report) + "\n");
        else process.stdout.write(formatHuman(report) + "\n");
        return countedDrifts(report, failOn).length > 0 ? 2 : 0;
    } catch (err) {
        const message = err instanceof DriftError ? err.message : `unexpected error: ${err instanceof Error ? err.message : String(err)}`;
        process.stderr.write(`oidc-drift: ${message}\n`);
        return 1;
    }
}

main(process.argv).then((code) => process.exit(code));
