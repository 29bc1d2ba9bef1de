/**
 * Networks as CI runners have them, for tests: a real forward proxy (the `proxy` package, in its own process:
 * tests/helpers/proxy-process.mjs) that records every CONNECT and may require credentials. (A private CA for a
 * server: tests/reference-backend/test-ca.ts, served by the reference backend's own HTTPS.)
 */
import { spawn } from "child_process";
import * as path from "path";

export interface TestProxy {
    /** The proxy URL, with the credentials when it requires them (what HTTPS_PROXY holds). */
    url: string;
    /** "host:port" of every CONNECT tunnel opened through it. */
    connects: string[];
    /** "METHOD url" of every plain-HTTP request it forwarded. */
    forwarded: string[];
    close(): Promise<void>;
}

/** A forward proxy on 127.0.0.1; with `credentials`, it refuses (407) anyone without them. */
export async function startProxy(credentials?: { username: string; password: string }): Promise<TestProxy> {
    const connects: string[] = [];
    const forwarded: string[] = [];
    const child = spawn(process.execPath, [path.join(__dirname, "proxy-process.mjs")], {
        env: { ...process.env, TEST_PROXY_CREDENTIALS: credentials ? `${credentials.username}:${credentials.password}` : "" },
        stdio: ["ignore", "pipe", "inherit"],
    });
    const port = await new Promise<number>((resolve, reject) => {
        let buffered = "";
        child.stdout.on("data", (chunk: Buffer) => {
            buffered += chunk.toString("utf8");
            let newline: number;
            while ((newline = buffered.indexOf("\n")) >= 0) {
                const line = JSON.parse(buffered.slice(0, newline)) as { ready?: boolean; port?: number; method?: string; url?: string };
                buffered = buffered.slice(newline + 1);
                if (line.ready) resolve(line.port as number);
                else if (line.method === "CONNECT") connects.push(line.url ?? "");
                else forwarded.push(`${line.method} ${line.url}`);
            }
        });
        child.once("exit", (code) => reject(new Error(`the test proxy exited (${code})`)));
    });
    const auth = credentials ? `${encodeURIComponent(credentials.username)}:${encodeURIComponent(credentials.password)}@` : "";
    return {
        url: `http://${auth}127.0.0.1:${port}`,
        connects,
        forwarded,
        close: () =>
            new Promise<void>((resolve) => {
                if (child.exitCode !== null) return resolve();
                child.once("exit", () => resolve());
                child.kill("SIGTERM");
            }),
    };
}

/** Waits until the proxy's log lines of the requests just made have arrived (they come through a pipe). */
export async function settle(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 100));
}
