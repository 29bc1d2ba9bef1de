#!/usr/bin/env node
/**
 * CLI of the reference backend:
 *
 *     node dist/reference-backend/src/main.js [--port 4400] [--host 127.0.0.1] [--data-dir .data/reference-backend]
 *                                             [--seed seed.json] [--faults faults.json] [--public-url URL] [--quiet]
 *                                             [--allow-internal-ip-connections] [--ready-file FILE]
 *                                             [--tls-cert FILE --tls-key FILE [--tls-ca FILE]]
 *     node dist/reference-backend/src/main.js stack-config --stack NAME [--data-dir DIR | --ready FILE]
 *                                             [--namespace NS] [--run [--cwd DIR]]
 *
 * Every server flag has an environment variable (REFERENCE_BACKEND_PORT, _HOST, _DATA_DIR, _SEED, _FAULTS,
 * _PUBLIC_URL, _QUIET, _READY_FILE, _TLS_CERT, _TLS_KEY, _TLS_CA, and Infisical's own
 * ALLOW_INTERNAL_IP_CONNECTIONS=true); a flag wins over its variable. Once listening, the server prints exactly one
 * JSON line, the ready object, to stdout and writes it (mode 0600) to `<data-dir>/ready.json` and to the
 * --ready-file, if any (both removed at shutdown); after that one JSON line per request (method, route, status, ms,
 * reqId; never a header, body, query or credential). Diagnostics go to stderr. SIGINT/SIGTERM close the server and
 * flush the state, then exit 0.
 *
 * `stack-config` prints the `pulumi config set` commands of a stack (stack-config.ts), or runs them with --run
 * (secrets through standard input, never on a command line), from the ready data of a running backend.
 */
import { spawnSync } from "child_process";
import { promises as fsp, readFileSync } from "fs";
import * as path from "path";
import { Command, InvalidArgumentError } from "commander";
import { Agent, request } from "undici";
import { seedSchema } from "./seed";
import { parseFaultRules, type FaultRule } from "./faults";
import { startBackend, type Backend, type Ready } from "./index";
import { configCommands, stackConfig } from "./stack-config";

export const READY_FILE = "ready.json";

function port(value: string): number {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("must be a port number (0 picks a free one)");
    return n;
}

/** A JSON document from a file, or inline when the value itself starts with "[" or "{". */
function jsonFrom(value: string, what: string): unknown {
    const text = /^\s*[[{]/.test(value) ? value : readFileSync(value, "utf8");
    try {
        return JSON.parse(text) as unknown;
    } catch (err) {
        throw new Error(`${what} ${/^\s*[[{]/.test(value) ? "(inline)" : value} is not valid JSON: ${(err as Error).message}`);
    }
}

function pem(file: string | undefined, what: string): string | undefined {
    if (!file) return undefined;
    try {
        return readFileSync(file, "utf8");
    } catch (err) {
        throw new Error(`${what} ${file} cannot be read: ${(err as Error).message}`);
    }
}

interface ServeOptions {
    port: number;
    host: string;
    dataDir: string;
    seed?: string;
    faults?: string;
    publicUrl?: string;
    quiet: boolean;
    allowInternalIpConnections: boolean;
    readyFile?: string;
    tlsCert?: string;
    tlsKey?: string;
    tlsCa?: string;
}

async function writePrivate(file: string, text: string): Promise<void> {
    await fsp.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await fsp.writeFile(tmp, text, { mode: 0o600 });
    await fsp.rename(tmp, file);
}

async function serve(opts: ServeOptions): Promise<void> {
    const seed = opts.seed ? seedSchema.parse(jsonFrom(opts.seed, "seed file")) : undefined;
    const faults: FaultRule[] | undefined = opts.faults ? parseFaultRules(jsonFrom(opts.faults, "fault rules")) : undefined;
    if (Boolean(opts.tlsCert) !== Boolean(opts.tlsKey)) throw new Error("--tls-cert and --tls-key go together");
    const cert = pem(opts.tlsCert, "TLS certificate");
    const key = pem(opts.tlsKey, "TLS key");
    const tls = cert && key ? { cert, key, ca: pem(opts.tlsCa, "TLS CA") } : undefined;

    // A reader that went away (e.g. `head -n 1`) must not kill the server.
    process.stdout.on("error", () => undefined);
    const write = (line: unknown) => {
        if (!process.stdout.destroyed) process.stdout.write(`${JSON.stringify(line)}\n`);
    };
    const readyFiles = [path.join(path.resolve(opts.dataDir), READY_FILE), ...(opts.readyFile ? [path.resolve(opts.readyFile)] : [])];

    // Signal handlers first: a signal sent right after the ready line (or during the start) must stop cleanly.
    const started = startBackend({
        port: opts.port,
        host: opts.host,
        dataDir: opts.dataDir,
        seed,
        faults,
        publicUrl: opts.publicUrl,
        allowInternalIpConnections: opts.allowInternalIpConnections,
        tls,
        log: opts.quiet ? false : (line) => write(line),
    });
    let stopping = false;
    const shutdown = (signal: string) => {
        if (stopping) {
            process.stderr.write(`reference-backend: ${signal} again, exiting now\n`);
            process.exit(1);
        }
        stopping = true;
        process.stderr.write(`reference-backend: ${signal}, shutting down\n`);
        started
            .then(async (backend: Backend) => {
                await Promise.all(readyFiles.map((f) => fsp.rm(f, { force: true })));
                await backend.stop();
            })
            .then(
                () => process.exit(0),
                (err: unknown) => {
                    process.stderr.write(`reference-backend: shutdown failed: ${err instanceof Error ? err.message : String(err)}\n`);
                    process.exit(1);
                },
            );
    };
    process.on("SIGINT", () => shutdown("SIGINT"));
    process.on("SIGTERM", () => shutdown("SIGTERM"));

    const backend = await started;
    if (stopping) return;
    const text = `${JSON.stringify(backend.ready)}\n`;
    await Promise.all(readyFiles.map((f) => writePrivate(f, text)));
    write(backend.ready);
}

interface StackConfigCliOptions {
    stack: string;
    dataDir: string;
    ready?: string;
    namespace?: string;
    run: boolean;
    cwd?: string;
}

async function printStackConfig(opts: StackConfigCliOptions): Promise<void> {
    const readyPath = path.resolve(opts.ready ?? path.join(opts.dataDir, READY_FILE));
    let ready: Ready;
    try {
        ready = JSON.parse(readFileSync(readyPath, "utf8")) as Ready;
    } catch (err) {
        throw new Error(`cannot read the ready data at ${readyPath} (${(err as Error).message}): start the backend first (npm run -s backend), or name its ready file with --ready`);
    }
    // The running backend decides which organization and Unleash instance the stack gets (and remembers it).
    const dispatcher = new Agent({ connect: { rejectUnauthorized: false } }); // its own, possibly self-signed, certificate
    let index: number;
    try {
        const res = await request(`${ready.url}/_admin/stacks/${encodeURIComponent(opts.stack)}`, { method: "POST", headers: { authorization: `Bearer ${ready.admin.token}` }, dispatcher });
        const body = (await res.body.json()) as { index?: number; error?: string };
        if (res.statusCode !== 200 || typeof body.index !== "number") throw new Error(body.error ?? `HTTP ${res.statusCode}`);
        index = body.index;
    } catch (err) {
        throw new Error(`the backend at ${ready.url} did not answer (${(err as Error).message}): is it still running? (${readyPath} is removed when it stops cleanly)`);
    } finally {
        await dispatcher.close();
    }
    const entries = stackConfig(ready, index, { namespace: opts.namespace });
    if (!opts.run) {
        process.stdout.write(`# stack ${opts.stack}: organization ${index + 1} and Unleash instance ${index + 1} of the reference backend at ${ready.url}\n`);
        process.stdout.write(`${configCommands(opts.stack, entries).join("\n")}\n`);
        return;
    }
    for (const e of entries) {
        // A secret goes through standard input ("if value is not present, it is read from standard in").
        const args = ["config", "set", "--stack", opts.stack, ...(e.secret ? ["--secret", e.key] : [e.key, e.value])];
        const res = spawnSync("pulumi", args, { cwd: opts.cwd, input: e.secret ? e.value : undefined, stdio: ["pipe", "inherit", "inherit"], encoding: "utf8" });
        if (res.error) throw new Error(`pulumi config set ${e.key}: ${res.error.message} (is the Pulumi CLI on PATH?)`);
        if (res.status !== 0) throw new Error(`pulumi config set ${e.key} exited with ${res.status}`);
    }
    process.stderr.write(`reference-backend: stack ${opts.stack} configured (organization ${index + 1}, Unleash instance ${index + 1})\n`);
}

async function main(): Promise<void> {
    const env = process.env;
    const program = new Command()
        .name("reference-backend")
        .description("Local Infisical + Unleash OIDC API server with a built-in OIDC issuer, for tests and demos")
        .enablePositionalOptions()
        .option("--port <port>", "TCP port, 0 for a free one (env REFERENCE_BACKEND_PORT)", port, env.REFERENCE_BACKEND_PORT ? port(env.REFERENCE_BACKEND_PORT) : 4400)
        .option("--host <host>", "address to listen on; 0.0.0.0 in a container (env REFERENCE_BACKEND_HOST)", env.REFERENCE_BACKEND_HOST ?? "127.0.0.1")
        .option("--data-dir <dir>", "directory of the persistent state (env REFERENCE_BACKEND_DATA_DIR)", env.REFERENCE_BACKEND_DATA_DIR ?? ".data/reference-backend")
        .option("--seed <file>", "JSON seed file, used when the data dir is empty (env REFERENCE_BACKEND_SEED)", env.REFERENCE_BACKEND_SEED)
        .option("--faults <file>", "JSON fault rules, a file or inline JSON (env REFERENCE_BACKEND_FAULTS)", env.REFERENCE_BACKEND_FAULTS)
        .option("--public-url <url>", "base URL to advertise instead of http://<host>:<port> (env REFERENCE_BACKEND_PUBLIC_URL)", env.REFERENCE_BACKEND_PUBLIC_URL)
        .option("--quiet", "no request log lines (env REFERENCE_BACKEND_QUIET=1)", env.REFERENCE_BACKEND_QUIET === "1" || env.REFERENCE_BACKEND_QUIET === "true")
        .option(
            "--allow-internal-ip-connections",
            "Infisical URLs may resolve to loopback/private addresses, e.g. the built-in issuer on 127.0.0.1 (env ALLOW_INTERNAL_IP_CONNECTIONS=true)",
            env.ALLOW_INTERNAL_IP_CONNECTIONS === "true",
        )
        .option("--ready-file <file>", "also write the ready JSON to this file, mode 0600 (env REFERENCE_BACKEND_READY_FILE)", env.REFERENCE_BACKEND_READY_FILE)
        .option("--tls-cert <file>", "serve HTTPS with this PEM certificate chain (env REFERENCE_BACKEND_TLS_CERT)", env.REFERENCE_BACKEND_TLS_CERT)
        .option("--tls-key <file>", "the PEM private key of --tls-cert (env REFERENCE_BACKEND_TLS_KEY)", env.REFERENCE_BACKEND_TLS_KEY)
        .option("--tls-ca <file>", "a PEM CA the backend's requests to itself trust, e.g. the one that issued --tls-cert (env REFERENCE_BACKEND_TLS_CA)", env.REFERENCE_BACKEND_TLS_CA)
        .showHelpAfterError()
        .action(async (opts: ServeOptions) => serve(opts));
    program
        .command("stack-config")
        .description("print (or, with --run, run) the `pulumi config set` commands that point a stack at the running backend; each stack gets its own organization and Unleash instance")
        .requiredOption("--stack <name>", "the Pulumi stack (passed as --stack to every command)")
        .option("--data-dir <dir>", "the backend's data directory, which holds ready.json (env REFERENCE_BACKEND_DATA_DIR)", env.REFERENCE_BACKEND_DATA_DIR ?? ".data/reference-backend")
        .option("--ready <file>", "the ready JSON file instead (e.g. the backend's --ready-file)")
        .option("--namespace <ns>", "namespace of the program's own keys organizationId, identityId, issuerUrl (default: the project's)")
        .option("--run", "run the commands (in --cwd) instead of printing them; secrets go through standard input", false)
        .option("--cwd <dir>", "the Pulumi project directory for --run")
        .showHelpAfterError()
        .action(async (opts: StackConfigCliOptions) => printStackConfig(opts));
    await program.parseAsync(process.argv);
}

main().catch((err: unknown) => {
    process.stderr.write(`reference-backend: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
});
