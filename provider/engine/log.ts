/**
 * Warnings the user sees in `pulumi preview` / `pulumi up` output.
 *
 * The dynamic-provider host (`@pulumi/pulumi/cmd/dynamic-provider`) does not connect `pulumi.log` to the engine and
 * does not pass the resource's URN to `check`/`diff`, so a provider cannot attach a diagnostic to its resource the
 * SDK's way. It is started with the engine's gRPC address as its first argument, though, and the engine's `Log`
 * RPC takes a URN: the typed classes pass their URN as an input, the engine runs each provider call inside
 * {@link forResource}, and a warning is shown under the resource it is about (else in the run's diagnostics).
 * Messages also name the object they are about (e.g. "OidcSsoConfig for organization org-1").
 *
 * Outside a provider process (tests, tools) the warnings are only kept in memory ({@link warningsShown}); when the
 * engine cannot be reached they go to stderr. The same text is sent once per process.
 */
import type * as grpc from "@grpc/grpc-js";
import { AsyncLocalStorage } from "async_hooks";
import { dirname } from "path";

type EngineClient = { log(req: unknown, cb: (err: unknown) => void): void; close?: () => void };

let client: EngineClient | undefined | null;
const sent = new Set<string>();
/** The URN of the resource whose provider call is running (when its inputs carry one). */
const current = new AsyncLocalStorage<string | undefined>();

/** The URN of the resource whose provider call is running, when known. */
export function currentUrn(): string | undefined {
    return current.getStore();
}

/** Runs `fn` so that the warnings it shows are attached to the resource `urn`. */
export function forResource<T>(urn: string | undefined, fn: () => Promise<T>): Promise<T> {
    return current.run(urn, fn);
}

/** The engine address the dynamic-provider host was started with (`<host>:<port>`), if this is such a process. */
function engineAddress(): string | undefined {
    const main = process.argv[1] ?? "";
    const addr = process.argv[2];
    if (!/dynamic-provider/.test(main) || !addr || !/^[\w.[\]:-]+:\d+$/.test(addr)) return undefined;
    return addr;
}

function engine(): EngineClient | undefined {
    if (client !== undefined) return client ?? undefined;
    client = null;
    const addr = engineAddress();
    if (!addr) return undefined;
    try {
        // The host process always has @pulumi/pulumi (it runs from it), and with it gRPC and the engine protos.
        /* eslint-disable @typescript-eslint/no-require-imports */
        const sdkDir = dirname(require.resolve("@pulumi/pulumi/package.json"));
        const grpcJs = require(require.resolve("@grpc/grpc-js", { paths: [sdkDir] })) as typeof grpc;
        const { EngineClient } = require("@pulumi/pulumi/proto/engine_grpc_pb") as { EngineClient: new (a: string, c: grpc.ChannelCredentials) => EngineClient };
        /* eslint-enable @typescript-eslint/no-require-imports */
        client = new EngineClient(addr, grpcJs.credentials.createInsecure());
    } catch {
        client = null;
    }
    return client ?? undefined;
}

/** Shows a warning in the run's output (once per process for the same text). Never throws, never waits long. */
export function warn(message: string): Promise<void> {
    return log("WARNING", message);
}

/** Shows an informational line under the resource (e.g. which fields an update changes). */
export function info(message: string): Promise<void> {
    return log("INFO", message);
}

async function log(severity: "INFO" | "WARNING", message: string): Promise<void> {
    const urn = current.getStore() ?? "";
    if (sent.has(`${urn}\n${message}`)) return;
    sent.add(`${urn}\n${message}`);
    const e = engine();
    if (!e) return;
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { LogRequest, LogSeverity } = require("@pulumi/pulumi/proto/engine_pb") as {
            LogRequest: new () => { setSeverity(s: number): void; setMessage(m: string): void; setUrn(u: string): void };
            LogSeverity: { INFO: number; WARNING: number };
        };
        const req = new LogRequest();
        req.setSeverity(LogSeverity[severity]);
        req.setMessage(message);
        req.setUrn(urn);
        await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 2000);
            e.log(req, () => {
                clearTimeout(timer);
                resolve();
            });
        });
    } catch {
        process.stderr.write(`${severity.toLowerCase()}: ${message}\n`);
    }
}

/** The warnings shown (or that would have been shown) by this process, oldest first. */
export function warningsShown(): string[] {
    return [...sent].map((entry) => entry.slice(entry.indexOf("\n") + 1));
}
