/**
 * The reference backend in a child process (the CLI, `main.js`), for tests whose own process blocks: a test that
 * runs the Pulumi CLI or another tool with `execFileSync`/`spawnSync` freezes its event loop, so an in-process
 * backend (`startBackend`) could not answer that tool and both would wait on each other. The child answers on its own.
 *
 *     const backend = await startBackendProcess({ seed: { organizations: 2 } });
 *     spawnSync("pulumi", ["preview", "--refresh"], ...);   // may call the backend meanwhile
 *     await backend.faults.set([...]);                        // through the admin routes
 *     await backend.stop();
 *
 * It runs the compiled CLI (dist/reference-backend/src/main.js; `npm run build` first when used from the sources).
 */
import { ChildProcess, spawn } from "child_process";
import { existsSync, promises as fs } from "fs";
import * as os from "os";
import * as path from "path";
import { Agent, request } from "undici";
import type { FaultRule } from "./faults";
import type { LogLine } from "./context";
import type { BackendOptions, Ready } from "./index";

export interface ProcessBackendOptions extends Omit<BackendOptions, "log" | "outgoingTimeoutMs"> {
    /** Node binary (default: the one running this process). */
    nodeBin?: string;
    /** The CLI script (default: main.js next to this file, or dist/reference-backend/src/main.js from the sources). */
    mainJs?: string;
    /** Extra environment variables of the child. */
    env?: Record<string, string>;
    /** Milliseconds to wait for the ready line (default 20000). */
    startTimeoutMs?: number;
}

export interface ProcessBackend {
    ready: Ready;
    pid: number;
    /** The request log lines printed so far. */
    logs(): LogLine[];
    /** What the child wrote to stderr so far. */
    stderr(): string;
    faults: { set(rules: FaultRule[]): Promise<void>; clear(): Promise<void>; list(): Promise<FaultRule[]> };
    stats(): Promise<{ total: number; byRoute: Record<string, number>; byPattern: Record<string, number> }>;
    resetStats(): Promise<void>;
    /** SIGTERM, then the exit (SIGKILL after 10 s); removes the temporary data directory. Resolves with the exit code. */
    stop(): Promise<number | null>;
}

function defaultMainJs(): string {
    const here = path.join(__dirname, "main.js");
    if (existsSync(here)) return here;
    // Running from the TypeScript sources (ts-jest): the compiled CLI of the repository.
    return path.resolve(__dirname, "..", "..", "dist", "reference-backend", "src", "main.js");
}

export async function startBackendProcess(options: ProcessBackendOptions = {}): Promise<ProcessBackend> {
    const mainJs = options.mainJs ?? defaultMainJs();
    if (!existsSync(mainJs)) throw new Error(`${mainJs} is missing: build the project first (npm run build)`);
    const temporary = !options.dataDir;
    const dataDir = options.dataDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), "reference-backend-")));

    const args = [mainJs, "--port", String(options.port ?? 0), "--host", options.host ?? "127.0.0.1", "--data-dir", dataDir];
    if (options.seed) args.push("--seed", JSON.stringify(options.seed));
    if (options.faults) args.push("--faults", JSON.stringify(options.faults));
    if (options.publicUrl) args.push("--public-url", options.publicUrl);
    if (options.allowInternalIpConnections) args.push("--allow-internal-ip-connections");
    // TLS material goes to the child as files (0600) in a directory of their own, removed when it stops.
    let tlsDir: string | undefined;
    if (options.tls) {
        tlsDir = await fs.mkdtemp(path.join(os.tmpdir(), "reference-backend-tls-"));
        const write = async (name: string, text: string) => {
            const file = path.join(tlsDir as string, name);
            await fs.writeFile(file, text, { mode: 0o600 });
            return file;
        };
        args.push("--tls-cert", await write("cert.pem", options.tls.cert), "--tls-key", await write("key.pem", options.tls.key));
        if (options.tls.ca) args.push("--tls-ca", await write("ca.pem", options.tls.ca));
    }

    const child: ChildProcess = spawn(options.nodeBin ?? process.execPath, args, {
        env: { PATH: process.env.PATH ?? "", ...options.env },
        stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    const logLines: LogLine[] = [];
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

    const ready = await new Promise<Ready>((resolve, reject) => {
        let settled = false;
        const fail = (err: Error) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            child.kill("SIGKILL");
            reject(err);
        };
        const timer = setTimeout(() => fail(new Error(`the reference backend printed no ready line within ${options.startTimeoutMs ?? 20000} ms; stderr: ${stderr}`)), options.startTimeoutMs ?? 20000);
        child.stdout?.on("data", (chunk: Buffer) => {
            stdout += chunk.toString("utf8");
            let nl: number;
            while ((nl = stdout.indexOf("\n")) >= 0) {
                const line = stdout.slice(0, nl);
                stdout = stdout.slice(nl + 1);
                if (!settled) {
                    settled = true;
                    clearTimeout(timer);
                    try {
                        resolve(JSON.parse(line) as Ready);
                    } catch {
                        child.kill("SIGKILL");
                        reject(new Error(`the reference backend's first line is not JSON: ${line.slice(0, 200)}`));
                    }
                } else {
                    try {
                        logLines.push(JSON.parse(line) as LogLine);
                    } catch {
                        // not a log line
                    }
                }
            }
        });
        child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
        child.once("error", fail);
        void exited.then((code) => fail(new Error(`the reference backend exited (${code}) before it was ready: ${stderr.trim()}`)));
    });
    if (temporary) void exited.then(() => fs.rm(dataDir, { recursive: true, force: true }).catch(() => undefined));
    if (tlsDir) void exited.then(() => fs.rm(tlsDir as string, { recursive: true, force: true }).catch(() => undefined));
    // Over HTTPS the admin calls trust the CA given with the certificate.
    const dispatcher = options.tls?.ca ? new Agent({ connect: { ca: options.tls.ca } }) : undefined;
    if (dispatcher) void exited.then(() => dispatcher.close().catch(() => undefined));

    const admin = async (method: "GET" | "PUT" | "DELETE" | "POST", url: string, body?: unknown): Promise<unknown> => {
        const res = await request(url, {
            dispatcher,
            method,
            headers: { authorization: `Bearer ${ready.admin.token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
            body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await res.body.text();
        const json = text ? (JSON.parse(text) as unknown) : undefined;
        if (res.statusCode !== 200) throw new Error(`${method} ${new URL(url).pathname} answered ${res.statusCode}: ${text}`);
        return json;
    };

    let stopping: Promise<number | null> | undefined;
    return {
        ready,
        pid: child.pid ?? -1,
        logs: () => [...logLines],
        stderr: () => stderr,
        faults: {
            set: async (rules) => {
                await admin("PUT", ready.admin.faultsUrl, rules);
            },
            clear: async () => {
                await admin("DELETE", ready.admin.faultsUrl);
            },
            list: async () => ((await admin("GET", ready.admin.faultsUrl)) as { rules: FaultRule[] }).rules,
        },
        stats: async () => (await admin("GET", ready.admin.statsUrl)) as { total: number; byRoute: Record<string, number>; byPattern: Record<string, number> },
        resetStats: async () => {
            await admin("POST", `${ready.admin.statsUrl}/reset`);
        },
        stop: () => {
            stopping ??= (async () => {
                if (child.exitCode === null && child.signalCode === null) {
                    child.kill("SIGTERM");
                    const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
                    const code = await exited;
                    clearTimeout(killer);
                    if (temporary) await fs.rm(dataDir, { recursive: true, force: true }).catch(() => undefined);
                    return code;
                }
                return exited;
            })();
            return stopping;
        },
    };
}
