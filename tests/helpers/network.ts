/**
 * Networks as CI runners and self-hosted servers have them, for tests: a private CA generated in the test
 * (@peculiar/x509 on Node's WebCrypto), server certificates it signs, and a real forward proxy (the `proxy` package,
 * in its own process: tests/helpers/proxy-process.mjs) that records every CONNECT and may require credentials.
 */
// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API.
import "reflect-metadata";
import { webcrypto } from "crypto";
import * as x509 from "@peculiar/x509";
import { spawn } from "child_process";
import * as path from "path";

type KeyPair = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]["keys"];
type Key = KeyPair["privateKey"];
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

async function pkcs8Pem(key: Key): Promise<string> {
    const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key as unknown as webcrypto.CryptoKey));
    return `-----BEGIN PRIVATE KEY-----\n${der.toString("base64").match(/.{1,64}/g)!.join("\n")}\n-----END PRIVATE KEY-----\n`;
}

export interface TestCa {
    /** The CA certificate (PEM): what a user puts in NODE_EXTRA_CA_CERTS or the connection's caCert. */
    certPem: string;
    /** A server certificate and key for 127.0.0.1 and localhost, signed by this CA. */
    serverCert(): Promise<{ cert: string; key: string }>;
}

export async function makeCa(name = "pulumi-oidc-settings test CA"): Promise<TestCa> {
    const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as unknown as KeyPair;
    const ca = await x509.X509CertificateGenerator.createSelfSigned({
        name: `CN=${name}`,
        keys,
        signingAlgorithm: ALG,
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 86_400_000),
        extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
    });
    return {
        certPem: ca.toString("pem"),
        async serverCert() {
            const serverKeys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as unknown as KeyPair;
            const cert = await x509.X509CertificateGenerator.create({
                subject: "CN=127.0.0.1",
                issuer: ca.subject,
                publicKey: serverKeys.publicKey,
                signingKey: keys.privateKey,
                signingAlgorithm: ALG,
                notBefore: new Date(Date.now() - 60_000),
                notAfter: new Date(Date.now() + 86_400_000),
                extensions: [
                    new x509.BasicConstraintsExtension(false),
                    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
                    new x509.SubjectAlternativeNameExtension([
                        { type: "ip", value: "127.0.0.1" },
                        { type: "dns", value: "localhost" },
                    ]),
                ],
            });
            return { cert: cert.toString("pem"), key: await pkcs8Pem(serverKeys.privateKey) };
        },
    };
}

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
