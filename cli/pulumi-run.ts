/**
 * Runs one `pulumi` command on a named stack and streams its engine events, without selecting the stack.
 *
 * The Automation API's `LocalWorkspace.selectStack` runs `pulumi stack select`, which rewrites the user's workspace
 * settings (the stack a bare `pulumi up` targets). The CLIs of this package must leave the user's project, workspace
 * and state as they found them, so they run the command the Automation API would run (`pulumi <command> --stack
 * <name> --event-log <file> --non-interactive`) themselves and read the event log, whose lines are the Automation
 * API's `EngineEvent`s (the same JSON the Automation API parses, @pulumi/pulumi/automation/stack.js `readLines`).
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { EngineEvent } from "@pulumi/pulumi/automation";

/** What `pulumi` printed and how it exited. */
export interface PulumiResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** The `pulumi` executable is not on PATH. */
export class PulumiNotFoundError extends Error {
    constructor(readonly command: string) {
        super(
            `Pulumi CLI not found on PATH (looked for "${command}"). Install it and put it on PATH: ` +
                "`curl -fsSL https://get.pulumi.com | sh` (installs into ~/.pulumi/bin; then `export PATH=\"$HOME/.pulumi/bin:$PATH\"`), " +
                "`brew install pulumi/tap/pulumi`, or in GitHub Actions the step `uses: pulumi/actions@v7`; " +
                "see https://www.pulumi.com/docs/iac/download-install/",
        );
    }
}

/** Reads the complete lines appended to a file since the last call (the engine writes one JSON event per line). */
class LineReader {
    private offset = 0;
    private rest = "";

    constructor(private readonly file: string) {}

    read(): string[] {
        let fd: number;
        try {
            fd = fs.openSync(this.file, "r");
        } catch {
            return []; // not created yet
        }
        try {
            const chunks: Buffer[] = [];
            const buf = Buffer.alloc(64 * 1024);
            for (;;) {
                const n = fs.readSync(fd, buf, 0, buf.length, this.offset);
                if (n === 0) break;
                chunks.push(Buffer.from(buf.subarray(0, n)));
                this.offset += n;
            }
            const text = this.rest + Buffer.concat(chunks).toString("utf8");
            const lines = text.split("\n");
            this.rest = lines.pop() ?? "";
            return lines.filter((l) => l.trim() !== "");
        } finally {
            fs.closeSync(fd);
        }
    }
}

export interface RunPulumiOptions {
    /** The Pulumi project directory (`pulumi` runs there, as the user would). */
    cwd: string;
    env?: Record<string, string | undefined>;
    /** Called with each engine event, in order, while the command runs. */
    onEvent?: (event: EngineEvent) => void;
    /** Variables of the environment the command must not see. */
    unsetEnv?: string[];
    /** The executable; default `pulumi` (found on PATH). */
    command?: string;
}

/**
 * Runs `pulumi <args> --event-log <tmp> --non-interactive`. Resolves with the exit code and output (a non-zero exit
 * is not an exception: the caller explains it); rejects with PulumiNotFoundError when the CLI is not on PATH.
 */
export async function runPulumi(args: string[], opts: RunPulumiOptions): Promise<PulumiResult> {
    const command = opts.command ?? "pulumi";
    const logDir = fs.mkdtempSync(path.join(os.tmpdir(), "oidc-settings-events-"));
    const logFile = path.join(logDir, "events.jsonl");
    const reader = new LineReader(logFile);
    const deliver = (): void => {
        for (const line of reader.read()) {
            let event: EngineEvent;
            try {
                event = JSON.parse(line) as EngineEvent;
            } catch {
                continue; // a torn line cannot happen for complete lines; ignore anything that is not JSON
            }
            opts.onEvent?.(event);
        }
    };
    try {
        return await new Promise<PulumiResult>((resolve, reject) => {
            // PULUMI_DEBUG_COMMANDS: `--event-log` is a hidden flag, as the Automation API runs it.
            const env: Record<string, string | undefined> = { ...process.env, ...opts.env, PULUMI_DEBUG_COMMANDS: "true" };
            for (const name of opts.unsetEnv ?? []) delete env[name];
            const child = spawn(command, [...args, "--event-log", logFile, "--non-interactive"], {
                cwd: opts.cwd,
                env,
                stdio: ["ignore", "pipe", "pipe"],
            });
            let stdout = "";
            let stderr = "";
            child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
            child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
            const timer = setInterval(deliver, 100);
            child.once("error", (err: NodeJS.ErrnoException) => {
                clearInterval(timer);
                reject(err.code === "ENOENT" ? new PulumiNotFoundError(command) : err);
            });
            child.once("close", (code, signal) => {
                clearInterval(timer);
                deliver();
                resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
            });
        });
    } finally {
        fs.rmSync(logDir, { recursive: true, force: true });
    }
}
