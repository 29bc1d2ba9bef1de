#!/usr/bin/env node
/**
 * CLI of the reference backend:
 *
 *     node dist/reference-backend/src/main.js [--port 4400] [--host 127.0.0.1] [--data-dir .data/reference-backend]
 *                                             [--seed seed.json] [--faults faults.json] [--public-url URL] [--quiet]
 *                                             [--allow-internal-ip-connections]
 *
 * Every flag has an environment variable (REFERENCE_BACKEND_PORT, _HOST, _DATA_DIR, _SEED, _FAULTS, _PUBLIC_URL,
 * _QUIET, and Infisical's own ALLOW_INTERNAL_IP_CONNECTIONS=true); a flag wins over its variable. Once listening, it prints exactly one JSON line, the ready object, to
 * stdout; after that one JSON line per request (method, route, status, ms, reqId; never a header, body, query or
 * credential). Diagnostics go to stderr. SIGINT/SIGTERM close the server and flush the state, then exit 0.
 */
import { readFileSync } from "fs";
import { Command, InvalidArgumentError } from "commander";
import { seedSchema } from "./seed";
import { parseFaultRules, type FaultRule } from "./faults";
import { startBackend, type Backend } from "./index";

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

async function main(): Promise<void> {
    const env = process.env;
    const program = new Command()
        .name("reference-backend")
        .description("Local Infisical + Unleash OIDC API server with a built-in OIDC issuer, for tests and demos")
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
        .showHelpAfterError();
    program.parse(process.argv);
    const opts = program.opts<{ port: number; host: string; dataDir: string; seed?: string; faults?: string; publicUrl?: string; quiet: boolean; allowInternalIpConnections: boolean }>();

    const seed = opts.seed ? seedSchema.parse(jsonFrom(opts.seed, "seed file")) : undefined;
    const faults: FaultRule[] | undefined = opts.faults ? parseFaultRules(jsonFrom(opts.faults, "fault rules")) : undefined;

    // A reader that went away (e.g. `head -n 1`) must not kill the server.
    process.stdout.on("error", () => undefined);
    const write = (line: unknown) => {
        if (!process.stdout.destroyed) process.stdout.write(`${JSON.stringify(line)}\n`);
    };

    // Signal handlers first: a signal sent right after the ready line (or during the start) must stop cleanly.
    const started = startBackend({
        port: opts.port,
        host: opts.host,
        dataDir: opts.dataDir,
        seed,
        faults,
        publicUrl: opts.publicUrl,
        allowInternalIpConnections: opts.allowInternalIpConnections,
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
            .then((backend: Backend) => backend.stop())
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
    if (!stopping) write(backend.ready);
}

main().catch((err: unknown) => {
    process.stderr.write(`reference-backend: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
});
