/**
 * An AWS STS stand-in at the backend's root `<url>/` (where a regional STS host answers too, so that a request signed
 * for https://sts.<region>.amazonaws.com/, the way Infisical's SDKs sign it, verifies when replayed here), answering `GetCallerIdentity` (the Query API: POST with a form body
 * `Action=GetCallerIdentity&Version=2011-06-15`, or GET with the same query) for the access keys in
 * `state.aws.accessKeys`, so that Infisical's AWS IAM login can replay a signed request to it over real HTTP.
 *
 * The SigV4 signature is verified by recomputing it with AWS's own signer (@smithy/signature-v4 with
 * @aws-crypto/sha256-js, what the AWS SDK for JavaScript signs with): the request as received, reduced to the headers
 * it lists as signed, signed again with the key's secret at its X-Amz-Date, region and service, and the two
 * signatures compared in constant time. Like STS it refuses, in AWS's words: no Authorization (403
 * MissingAuthenticationToken), a malformed one (400 IncompleteSignature), an unknown access key or a session token
 * that does not belong to it (403 InvalidClientTokenId), a service other than sts, a request dated more than 15
 * minutes away, or a wrong signature (403 SignatureDoesNotMatch), another action (400 InvalidAction).
 *
 * The answer is XML, as AWS gives it, unless the request accepts application/json (STS then answers JSON: what
 * Infisical reads, because axios sends `Accept: application/json, text/plain, *\/*`).
 * Not modelled: any other STS action, regional endpoint names, request IDs that mean anything.
 */
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { createHash, randomUUID, timingSafeEqual } from "crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { XMLBuilder } from "fast-xml-parser";
import type { Context } from "../context";
import type { AwsAccessKeyRecord } from "../store";

export const STS_PATH = "/";
export const stsUrl = (ctx: Pick<Context, "baseUrl">) => `${ctx.baseUrl()}${STS_PATH}`;
const NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/";
const MAX_SKEW_MS = 15 * 60 * 1000;

export const secretContext = (accessKeyId: string) => `aws-access-key:${accessKeyId}`;
export const sessionTokenContext = (accessKeyId: string) => `aws-session-token:${accessKeyId}`;

interface StsError {
    status: number;
    type: "Sender" | "Receiver";
    code: string;
    message: string;
}

const xml = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: "@_", format: true, suppressEmptyNode: false });

function wantsJson(req: FastifyRequest): boolean {
    return /application\/json/i.test(String(req.headers.accept ?? ""));
}

function sendError(req: FastifyRequest, reply: FastifyReply, err: StsError): FastifyReply {
    const requestId = randomUUID();
    if (wantsJson(req)) {
        return reply.code(err.status).type("application/json").send({ Error: { Code: err.code, Message: err.message, Type: err.type }, RequestId: requestId });
    }
    const body = xml.build({ ErrorResponse: { "@_xmlns": NAMESPACE, Error: { Type: err.type, Code: err.code, Message: err.message }, RequestId: requestId } });
    return reply.code(err.status).type("text/xml").send(body);
}

/** "20240102T030405Z" → Date; undefined when malformed. */
function parseAmzDate(value: string): Date | undefined {
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
    if (!m) return undefined;
    const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
    const date = new Date(Date.UTC(y as number, (mo as number) - 1, d, h, mi, s));
    return Number.isNaN(date.getTime()) ? undefined : date;
}

const amzDateOf = (d: Date) => d.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}Z$/, "Z");

interface ParsedAuthorization {
    accessKeyId: string;
    date: string;
    region: string;
    service: string;
    signedHeaders: string[];
    signature: string;
}

function parseAuthorization(header: string): ParsedAuthorization | undefined {
    const m = /^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})\s*$/.exec(header);
    if (!m) return undefined;
    return { accessKeyId: m[1] as string, date: m[2] as string, region: m[3] as string, service: m[4] as string, signedHeaders: (m[5] as string).split(";"), signature: m[6] as string };
}

/** Recomputes the request's signature with the key's secret (AWS's signer) and compares it. */
async function signatureMatches(req: FastifyRequest, auth: ParsedAuthorization, signingDate: Date, secretAccessKey: string, sessionToken: string | undefined): Promise<boolean> {
    const url = new URL(req.url, "http://placeholder");
    const body = typeof req.body === "string" ? req.body : "";
    // A signed payload hash must be the body's (the signer trusts the header, AWS checks it).
    const contentSha = req.headers["x-amz-content-sha256"];
    if (typeof contentSha === "string" && contentSha !== "UNSIGNED-PAYLOAD" && contentSha !== createHash("sha256").update(body).digest("hex")) return false;
    const headers: Record<string, string> = {};
    for (const name of auth.signedHeaders) {
        // X-Amz-Date and X-Amz-Security-Token are written by the signer itself (from signingDate and the credentials).
        if (name === "x-amz-date" || name === "x-amz-security-token") continue;
        const value = req.headers[name];
        if (value === undefined) return false;
        headers[name] = Array.isArray(value) ? value.join(",") : value;
    }
    const query: Record<string, string | string[]> = {};
    for (const key of new Set(url.searchParams.keys())) {
        const values = url.searchParams.getAll(key);
        query[key] = values.length === 1 ? (values[0] as string) : values;
    }
    const signer = new SignatureV4({
        credentials: { accessKeyId: auth.accessKeyId, secretAccessKey, sessionToken },
        region: auth.region,
        service: auth.service,
        sha256: Sha256,
        applyChecksum: false,
    });
    const signed = await signer.sign(
        { method: req.method, protocol: "http:", hostname: String(req.headers.host ?? ""), path: url.pathname, query, headers, body },
        { signingDate, signableHeaders: new Set(auth.signedHeaders) },
    );
    const recomputed = parseAuthorization(String(signed.headers.authorization ?? ""));
    if (!recomputed || recomputed.signedHeaders.join(";") !== auth.signedHeaders.join(";")) return false;
    return timingSafeEqual(Buffer.from(recomputed.signature, "hex"), Buffer.from(auth.signature, "hex"));
}

export function registerStsRoutes(app: FastifyInstance, ctx: Context): void {
    const handler = async (req: FastifyRequest, reply: FastifyReply) => {
        const header = req.headers.authorization;
        if (!header) return sendError(req, reply, { status: 403, type: "Sender", code: "MissingAuthenticationToken", message: "Request is missing Authentication Token" });
        const auth = parseAuthorization(header);
        if (!auth) {
            return sendError(req, reply, { status: 400, type: "Sender", code: "IncompleteSignature", message: `Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. Authorization=${header.split(" ")[0]}` });
        }
        const amzDate = String(req.headers["x-amz-date"] ?? "");
        const signingDate = parseAmzDate(amzDate);
        if (!signingDate || !auth.signedHeaders.includes("host")) {
            return sendError(req, reply, { status: 400, type: "Sender", code: "IncompleteSignature", message: "Date and host must be signed: X-Amz-Date and Host are required signed headers" });
        }
        const key: AwsAccessKeyRecord | undefined = ctx.store.state.aws.accessKeys.find((k) => k.accessKeyId === auth.accessKeyId);
        const sessionToken = key?.sessionTokenEnc ? ctx.vault.decrypt(key.sessionTokenEnc, sessionTokenContext(key.accessKeyId)) : undefined;
        const sentToken = req.headers["x-amz-security-token"];
        if (!key || (sessionToken !== undefined && sentToken !== sessionToken) || (sessionToken === undefined && sentToken !== undefined)) {
            return sendError(req, reply, { status: 403, type: "Sender", code: "InvalidClientTokenId", message: "The security token included in the request is invalid." });
        }
        if (auth.service !== "sts") {
            return sendError(req, reply, { status: 403, type: "Sender", code: "SignatureDoesNotMatch", message: "Credential should be scoped to correct service: 'sts'. " });
        }
        const now = Date.now();
        if (signingDate.getTime() < now - MAX_SKEW_MS) {
            return sendError(req, reply, { status: 403, type: "Sender", code: "SignatureDoesNotMatch", message: `Signature expired: ${amzDate} is now earlier than ${amzDateOf(new Date(now - MAX_SKEW_MS))} (${amzDateOf(new Date(now))} - 15 min.)` });
        }
        if (signingDate.getTime() > now + MAX_SKEW_MS) {
            return sendError(req, reply, { status: 403, type: "Sender", code: "SignatureDoesNotMatch", message: `Signature not yet current: ${amzDate} is still later than ${amzDateOf(new Date(now + MAX_SKEW_MS))} (${amzDateOf(new Date(now))} + 15 min.)` });
        }
        const secret = ctx.vault.decrypt(key.secretAccessKeyEnc, secretContext(key.accessKeyId));
        if (auth.date !== amzDate.slice(0, 8) || !(await signatureMatches(req, auth, signingDate, secret, sessionToken))) {
            return sendError(req, reply, {
                status: 403,
                type: "Sender",
                code: "SignatureDoesNotMatch",
                message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
            });
        }

        const params = new URLSearchParams(req.method === "GET" ? (req.url.split("?")[1] ?? "") : typeof req.body === "string" ? req.body : "");
        const action = params.get("Action");
        if (action !== "GetCallerIdentity") {
            return sendError(req, reply, { status: 400, type: "Sender", code: "InvalidAction", message: `Could not find operation ${action ?? ""} for version ${params.get("Version") ?? "NO_VERSION_SPECIFIED"}` });
        }
        const requestId = randomUUID();
        const result = { Arn: key.arn, UserId: key.userId, Account: key.account };
        if (wantsJson(req)) {
            return reply.type("application/json").send({ GetCallerIdentityResponse: { GetCallerIdentityResult: result, ResponseMetadata: { RequestId: requestId } } });
        }
        return reply.type("text/xml").send(xml.build({ GetCallerIdentityResponse: { "@_xmlns": NAMESPACE, GetCallerIdentityResult: result, ResponseMetadata: { RequestId: requestId } } }));
    };
    app.post(STS_PATH, handler);
    app.get(STS_PATH, handler);
}
