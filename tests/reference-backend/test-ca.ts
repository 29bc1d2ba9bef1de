/**
 * A private CA made in the test (@peculiar/x509 over Node's WebCrypto): its certificate, and a server certificate it
 * issued for 127.0.0.1 / localhost, as PEM, to serve the reference backend over HTTPS (`tls` of startBackend).
 */
// @peculiar/x509 resolves its services with tsyringe, which needs the Reflect metadata polyfill loaded first.
import "reflect-metadata";
import { webcrypto } from "crypto";
import * as x509 from "@peculiar/x509";

export interface TestCa {
    /** The CA certificate (what clients trust). */
    ca: string;
    /** The server's certificate chain (leaf, then CA) and its private key. */
    cert: string;
    key: string;
}

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

function pemKey(der: ArrayBuffer): string {
    const b64 = Buffer.from(der).toString("base64").replace(/(.{64})/g, "$1\n");
    return `-----BEGIN PRIVATE KEY-----\n${b64}${b64.endsWith("\n") ? "" : "\n"}-----END PRIVATE KEY-----\n`;
}

export async function makeTestCa(hosts: { dns?: string[]; ip?: string[] } = { dns: ["localhost"], ip: ["127.0.0.1"] }): Promise<TestCa> {
    const crypto = webcrypto;
    x509.cryptoProvider.set(crypto as unknown as Parameters<typeof x509.cryptoProvider.set>[1]);
    const notBefore = new Date(Date.now() - 60_000);
    const notAfter = new Date(Date.now() + 24 * 3600_000);

    const caKeys = await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
    const caCert = await x509.X509CertificateGenerator.createSelfSigned({
        name: "CN=reference-backend test CA",
        keys: caKeys,
        notBefore,
        notAfter,
        signingAlgorithm: ALG,
        extensions: [
            new x509.BasicConstraintsExtension(true, 0, true),
            new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
            await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
        ],
    });

    const serverKeys = await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
    const names = [...(hosts.dns ?? []).map((value) => ({ type: "dns" as const, value })), ...(hosts.ip ?? []).map((value) => ({ type: "ip" as const, value }))];
    const serverCert = await x509.X509CertificateGenerator.create({
        subject: "CN=reference-backend",
        issuer: caCert.subject,
        publicKey: serverKeys.publicKey,
        signingKey: caKeys.privateKey,
        notBefore,
        notAfter,
        signingAlgorithm: ALG,
        extensions: [
            new x509.BasicConstraintsExtension(false, undefined, true),
            new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
            new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
            new x509.SubjectAlternativeNameExtension(names),
            await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
        ],
    });

    const ca = caCert.toString("pem");
    return { ca, cert: `${serverCert.toString("pem")}\n${ca}`, key: pemKey(await crypto.subtle.exportKey("pkcs8", serverKeys.privateKey)) };
}
