/**
 * Machine-identity AWS IAM auth: `POST/GET/PATCH/DELETE /api/v1/auth/aws-auth/identities/:identityId` and the
 * login `POST /api/v1/auth/aws-auth/login`, after Infisical's backend/src/server/routes/v1/identity-aws-iam-auth-router.ts
 * and backend/src/services/identity-aws-auth/ (identity-aws-auth-service.ts, -validators.ts, -fns.ts).
 *
 * Login body: {identityId, iamHttpRequestMethod = "POST", iamRequestBody, iamRequestHeaders, organizationSlug?}
 * (other properties, such as the iamRequestUrl some clients send, are dropped by the router). The headers are a
 * base64 JSON object, the body base64; the region comes from the Authorization header's credential scope (400
 * "Invalid AWS region" when there is none or it is not [a-z0-9-]{1,20}). The request is replayed, headers and body
 * as given, to the STS URL resolveStsLoginUrl (identity-aws-auth-fns.ts, today's source) picks: for the global
 * endpoint https://sts.amazonaws.com the caller's regional endpoint, for any other configured stsEndpoint that
 * endpoint itself (an AWS endpoint whose region differs from the caller's is refused). Like axios it sends
 * `Accept: application/json, text/plain, *\/*`, so STS answers JSON. Then allowedAccountIds (comma list, exact) and
 * allowedPrincipalArns (comma list, `*` wildcards, matched against the principal ARN in both its formats) with the
 * service's 401 messages, organizationSlug, and an access token with identityAuth.aws {accountId, arn, userId,
 * partition, service, resourceType, resourceName}.
 *
 * Where the stored sources end: the service version that calls resolveStsLoginUrl was not among them, so the
 * answer to a refused region pairing is a guess (400 "Invalid AWS region"); and in the service version read, a
 * request STS refuses (bad signature, unknown key) or headers that are not JSON are unhandled errors, which
 * Infisical's error handler answers with 500 "Something went wrong": the backend does the same.
 */
import { randomUUID } from "crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import safeRegex from "safe-regex";
import { z } from "zod";
import { trustedCas, type Context } from "../context";
import { inf } from "../errors";
import { send } from "../outgoing";
import type { IdentityAwsAuthRecord, State } from "../store";
import { issueAccessToken, loginScope, organizationSlugSchema } from "./access-tokens";
import { authenticate, requireOrgPermission } from "./auth";
import { jsonBody, parse } from "./common";
import {
    checkAttachTtl,
    checkUpdateTtl,
    DEFAULT_TRUSTED_IPS,
    DEFAULT_TTL,
    identityOf,
    MAX_TTL,
    paramsSchema,
    planOf,
    reformatTrustedIps,
    revokeAuthMethod,
    trustedIps,
    ttl,
    TTL_REFINE_MESSAGE,
} from "./identity-auth-common";

export const AWS_AUTH = "aws-auth";
export const DEFAULT_STS_ENDPOINT = "https://sts.amazonaws.com/";
const STS_TIMEOUT_MS = 10000;

// identity-aws-auth-validators.ts
const TWELVE_DIGITS = /^\d{12}$/;
const ARN = /^arn:aws:iam::\d{12}:(user\/[a-zA-Z0-9_.@+*/-]+|role\/[a-zA-Z0-9_.@+*/-]+|\*)$/;

export const validateAccountIds = z
    .string()
    .trim()
    .default("")
    .refine((data) => data === "" || data.split(",").map((id) => id.trim()).every((id) => TWELVE_DIGITS.test(id)), { message: "Each account ID must be a 12-digit number." })
    .transform((data) => (data === "" ? "" : data.split(",").map((id) => id.trim()).join(", ")));

export const validatePrincipalArns = z
    .string()
    .trim()
    .default("")
    .refine((data) => data === "" || data.split(",").map((el) => el.trim()).every((arn) => safeRegex(`^${arn.replaceAll("*", ".*")}$`) && ARN.test(arn)), {
        message: "Each ARN must be in the format of 'arn:aws:iam::123456789012:user/UserName', 'arn:aws:iam::123456789012:role/RoleName', or 'arn:aws:iam::123456789012:*'.",
    })
    .transform((data) => data.split(",").map((arn) => arn.trim()).join(", "));

const attachSchema = z
    .object({
        stsEndpoint: z.string().trim().min(1).default(DEFAULT_STS_ENDPOINT),
        allowedPrincipalArns: validatePrincipalArns,
        allowedAccountIds: validateAccountIds,
        accessTokenTrustedIps: trustedIps.default(DEFAULT_TRUSTED_IPS),
        accessTokenTTL: ttl.default(DEFAULT_TTL),
        accessTokenMaxTTL: z.number().int().min(1).max(MAX_TTL).default(DEFAULT_TTL),
        accessTokenNumUsesLimit: z.number().int().min(0).default(0),
    })
    .refine((v) => v.accessTokenTTL <= v.accessTokenMaxTTL, TTL_REFINE_MESSAGE);

// As the router: allowedPrincipalArns and allowedAccountIds keep their default "" in PATCH, so an update that
// leaves them out clears them.
const updateSchema = z
    .object({
        stsEndpoint: z.string().trim().min(1).optional(),
        allowedPrincipalArns: validatePrincipalArns,
        allowedAccountIds: validateAccountIds,
        accessTokenTrustedIps: trustedIps.optional(),
        accessTokenTTL: ttl.optional(),
        accessTokenNumUsesLimit: z.number().int().min(0).optional(),
        accessTokenMaxTTL: ttl.optional(),
    })
    .refine((v) => (v.accessTokenMaxTTL && v.accessTokenTTL ? v.accessTokenTTL <= v.accessTokenMaxTTL : true), TTL_REFINE_MESSAGE);

const loginSchema = z.object({
    identityId: z.string().trim(),
    iamHttpRequestMethod: z.string().default("POST"),
    iamRequestBody: z.string(),
    iamRequestHeaders: z.string(),
    organizationSlug: organizationSlugSchema,
});

/** awsRegionFromHeader of the service: the region of the Authorization header's Credential scope. */
function awsRegionFromHeader(authorizationHeader: unknown): string | null {
    if (typeof authorizationHeader !== "string") return null;
    for (const field of authorizationHeader.split(" ")) {
        if (field.startsWith("Credential=")) {
            const parts = field.split("/");
            if (parts.length >= 3) return parts[2] as string;
        }
    }
    return null;
}

const isValidAwsRegion = (region: string | null): region is string => typeof region === "string" && region.length > 0 && region.length <= 20 && /^[a-z0-9-]+$/.test(region);

/** stsEndpointRegion (identity-aws-auth-fns.ts): the region label after "sts"/"sts-fips" in an AWS STS host. */
function stsEndpointRegion(stsEndpoint: string): string | undefined {
    try {
        const labels = new URL(stsEndpoint).hostname.split(".");
        const i = labels.findIndex((label) => label === "sts" || label === "sts-fips");
        if (i === -1) return undefined;
        const region = labels[i + 1];
        return region === "amazonaws" ? undefined : region;
    } catch {
        return undefined;
    }
}

/** resolveStsLoginUrl (identity-aws-auth-fns.ts). */
export function resolveStsLoginUrl(stsEndpoint: string, callerRegion: string | null): string | null {
    try {
        if (new URL(stsEndpoint).hostname === "sts.amazonaws.com") return callerRegion ? `https://sts.${callerRegion}.amazonaws.com` : stsEndpoint;
    } catch {
        // honor the configured value as-is
    }
    const configured = stsEndpointRegion(stsEndpoint);
    if (configured !== undefined && callerRegion !== configured) return null;
    return stsEndpoint;
}

interface PrincipalArnEntity {
    Partition: string;
    Service: string;
    AccountNumber: string;
    Type: string;
    FriendlyName: string;
}

/** extractPrincipalArnEntity (identity-aws-auth-fns.ts, today's). A malformed ARN is a plain Error: a 500. */
export function extractPrincipalArnEntity(arn: string, formatAsIamRole = false): PrincipalArnEntity {
    const fullParts = arn.split(":");
    if (fullParts.length !== 6) throw new Error(`Unrecognized ARN: "${arn}" contains ${fullParts.length} colon-separated parts, expected 6`);
    const [prefix, partition, service, , accountNumber, resource] = fullParts as [string, string, string, string, string, string];
    if (prefix !== "arn") throw new Error(`Unrecognized ARN: "${arn}" does not begin with "arn:"`);
    if (service !== "iam" && service !== "sts") throw new Error(`Unrecognized service: "${service}" in ARN "${arn}", expected "iam" or "sts"`);
    const parts = resource.split("/");
    if (parts.length < 2) throw new Error(`Unrecognized ARN: "${resource}" in ARN "${arn}" contains fewer than 2 slash-separated parts (expected type/name)`);
    const [rawType, ...rest] = parts as [string, ...string[]];
    let type: string;
    let friendlyName = parts[parts.length - 1] as string;
    switch (rawType) {
        case "assumed-role":
            if (rest.length < 2) throw new Error(`Unrecognized ARN: "${resource}" for assumed-role in ARN "${arn}" contains fewer than 3 slash-separated parts (type/roleName/sessionId)`);
            type = formatAsIamRole ? "role" : "assumed-role";
            friendlyName = rest[0] as string;
            break;
        case "user":
        case "role":
        case "instance-profile":
            type = rawType;
            break;
        default:
            throw new Error(`Unrecognized principal type: "${rawType}" in ARN "${arn}". Expected "user", "role", "instance-profile", or "assumed-role".`);
    }
    return { Partition: partition, Service: service, AccountNumber: accountNumber, Type: type, FriendlyName: friendlyName };
}

/** extractPrincipalArn (identity-aws-auth-fns.ts, today's). */
export function extractPrincipalArn(arn: string, formatAsIamRole = false): string {
    const e = extractPrincipalArnEntity(arn, formatAsIamRole);
    return `arn:${e.Partition}:${formatAsIamRole ? "iam" : e.Service}::${e.AccountNumber}:${e.Type}/${e.FriendlyName}`;
}

const somethingWentWrong = () => inf.internal();

function view(rec: IdentityAwsAuthRecord): Record<string, unknown> {
    return {
        id: rec.id,
        accessTokenTTL: rec.accessTokenTTL,
        accessTokenMaxTTL: rec.accessTokenMaxTTL,
        accessTokenNumUsesLimit: rec.accessTokenNumUsesLimit,
        accessTokenTrustedIps: rec.accessTokenTrustedIps,
        createdAt: rec.createdAt,
        updatedAt: rec.updatedAt,
        identityId: rec.identityId,
        type: rec.type,
        stsEndpoint: rec.stsEndpoint,
        allowedPrincipalArns: rec.allowedPrincipalArns,
        allowedAccountIds: rec.allowedAccountIds,
    };
}

const authOf = (state: Readonly<State>, identityId: string) => state.infisical.identityAwsAuths.find((a) => a.identityId === identityId);

export function registerIdentityAwsAuthRoutes(app: FastifyInstance, ctx: Context): void {
    const onRequest = async (req: FastifyRequest) => {
        req.infisicalActor = await authenticate(ctx, req);
    };
    const path = "/api/v1/auth/aws-auth/identities/:identityId";

    app.post(path, { onRequest }, async (req) => {
        const { identityId } = parse(paramsSchema, req.params);
        const body = parse(attachSchema, jsonBody(req));
        const actor = req.infisicalActor!;
        const identity = identityOf(ctx.store.state, actor, identityId);
        if (identity.authMethods.includes(AWS_AUTH)) throw inf.badRequest("Failed to add AWS Auth to already configured identity");
        checkAttachTtl(body);
        requireOrgPermission(actor, identity.orgId, "create", "identity");
        const ips = reformatTrustedIps(body.accessTokenTrustedIps, planOf(ctx, identity.orgId));
        const rec = await ctx.store.update((draft) => {
            const current = identityOf(draft, actor, identityId);
            if (current.authMethods.includes(AWS_AUTH)) throw inf.badRequest("Failed to add AWS Auth to already configured identity");
            const now = new Date().toISOString();
            const record: IdentityAwsAuthRecord = {
                id: randomUUID(),
                identityId,
                type: "iam",
                stsEndpoint: body.stsEndpoint,
                allowedPrincipalArns: body.allowedPrincipalArns,
                allowedAccountIds: body.allowedAccountIds,
                accessTokenTTL: body.accessTokenTTL,
                accessTokenMaxTTL: body.accessTokenMaxTTL,
                accessTokenNumUsesLimit: body.accessTokenNumUsesLimit,
                accessTokenTrustedIps: ips,
                createdAt: now,
                updatedAt: now,
            };
            draft.infisical.identityAwsAuths.push(record);
            current.authMethods.push(AWS_AUTH);
            return record;
        });
        return { identityAwsAuth: view(rec) };
    });

    app.get(path, { onRequest }, async (req) => {
        const { identityId } = parse(paramsSchema, req.params);
        const actor = req.infisicalActor!;
        const identity = identityOf(ctx.store.state, actor, identityId);
        if (!identity.authMethods.includes(AWS_AUTH)) throw inf.badRequest("The identity does not have AWS Auth attached");
        const rec = authOf(ctx.store.state, identityId);
        requireOrgPermission(actor, identity.orgId, "read", "identity");
        if (!rec) throw inf.badRequest("The identity does not have AWS Auth attached");
        return { identityAwsAuth: view(rec) };
    });

    app.patch(path, { onRequest }, async (req) => {
        const { identityId } = parse(paramsSchema, req.params);
        const body = parse(updateSchema, jsonBody(req));
        const actor = req.infisicalActor!;
        const identity = identityOf(ctx.store.state, actor, identityId);
        if (!identity.authMethods.includes(AWS_AUTH)) throw inf.notFound("The identity does not have AWS Auth attached");
        const existing = authOf(ctx.store.state, identityId);
        if (!existing) throw inf.notFound("The identity does not have AWS Auth attached");
        checkUpdateTtl(body, existing);
        requireOrgPermission(actor, identity.orgId, "edit", "identity");
        const ips = body.accessTokenTrustedIps ? reformatTrustedIps(body.accessTokenTrustedIps, planOf(ctx, identity.orgId)) : undefined;
        const rec = await ctx.store.update((draft) => {
            identityOf(draft, actor, identityId);
            const record = authOf(draft, identityId);
            if (!record) throw inf.notFound("The identity does not have AWS Auth attached");
            const { accessTokenTrustedIps: _ips, ...fields } = body;
            for (const [key, value] of Object.entries(fields)) {
                if (value !== undefined) (record as unknown as Record<string, unknown>)[key] = value;
            }
            if (body.stsEndpoint !== undefined) record.followsBackendUrl = false;
            if (ips) record.accessTokenTrustedIps = ips;
            record.updatedAt = new Date().toISOString();
            return record;
        });
        return { identityAwsAuth: view(rec) };
    });

    app.delete(path, { onRequest }, async (req) => {
        const { identityId } = parse(paramsSchema, req.params);
        const rec = await revokeAuthMethod<IdentityAwsAuthRecord>(ctx, req.infisicalActor!, identityId, { method: AWS_AUTH, list: "identityAwsAuths", what: "aws auth", missing: "The identity does not have aws auth" });
        return { identityAwsAuth: view(rec) };
    });

    app.post("/api/v1/auth/aws-auth/login", async (req) => {
        const body = parse(loginSchema, jsonBody(req));
        const state = ctx.store.state.infisical;
        const auth = state.identityAwsAuths.find((a) => a.identityId === body.identityId);
        if (!auth) throw inf.notFound("AWS auth method not found for identity, did you configure AWS auth?");
        const identity = state.identities.find((i) => i.id === auth.identityId);
        if (!identity) throw inf.unauthorized("Identity not found");

        let headers: Record<string, unknown>;
        try {
            headers = JSON.parse(Buffer.from(body.iamRequestHeaders, "base64").toString()) as Record<string, unknown>;
        } catch {
            throw somethingWentWrong();
        }
        if (typeof headers !== "object" || headers === null) throw somethingWentWrong();
        const requestBody = Buffer.from(body.iamRequestBody, "base64").toString();
        const authHeader = headers.Authorization || headers.authorization;
        const region = authHeader ? awsRegionFromHeader(authHeader) : null;
        if (!isValidAwsRegion(region)) throw inf.badRequest("Invalid AWS region");
        const url = resolveStsLoginUrl(auth.stsEndpoint, region);
        if (url === null) throw inf.badRequest("Invalid AWS region");

        // What axios sends: the given headers (values as strings), its default Accept, a form content type for a
        // string body without one.
        const outgoing: Record<string, string> = {};
        for (const [name, value] of Object.entries(headers)) {
            if (value !== undefined && value !== null) outgoing[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : String(value);
        }
        outgoing.accept ??= "application/json, text/plain, */*";
        if (requestBody && !outgoing["content-type"]) outgoing["content-type"] = "application/x-www-form-urlencoded";
        delete outgoing["content-length"];
        let caller: { Account?: string; Arn?: string; UserId?: string };
        try {
            const res = await send(url, { method: body.iamHttpRequestMethod.toUpperCase(), headers: outgoing, body: requestBody || undefined, timeoutMs: STS_TIMEOUT_MS, ca: trustedCas(ctx) });
            if (res.status < 200 || res.status >= 300) throw new Error(`Request failed with status code ${res.status}`);
            caller = (JSON.parse(res.text) as { GetCallerIdentityResponse: { GetCallerIdentityResult: typeof caller } }).GetCallerIdentityResponse.GetCallerIdentityResult;
            if (typeof caller !== "object" || caller === null) throw new Error("no GetCallerIdentityResult");
        } catch (err) {
            ctx.log({ time: new Date().toISOString(), level: "error", msg: "aws-auth login: STS verification failed", reqId: req.id, error: (err as Error).message });
            throw somethingWentWrong();
        }
        const Account = String(caller.Account ?? "");
        const Arn = String(caller.Arn ?? "");

        if (auth.allowedAccountIds && !auth.allowedAccountIds.split(",").map((a) => a.trim()).some((a) => a === Account)) {
            throw inf.unauthorized("Access denied: AWS account ID not allowed.");
        }
        let entity: PrincipalArnEntity;
        let formattedArn: string;
        try {
            entity = extractPrincipalArnEntity(Arn);
            formattedArn = extractPrincipalArn(Arn);
        } catch {
            throw somethingWentWrong();
        }
        if (auth.allowedPrincipalArns) {
            const asRole = extractPrincipalArn(Arn, true);
            const allowed = auth.allowedPrincipalArns
                .split(",")
                .map((p) => p.trim())
                .some((p) => {
                    // "arn:aws:iam::123456789012:*" -> /^arn:aws:iam::123456789012:.*$/ (the validator keeps these safe)
                    const regex = new RegExp(`^${p.replaceAll("*", ".*")}$`);
                    return regex.test(formattedArn) || regex.test(asRole);
                });
            if (!allowed) throw inf.unauthorized(`Access denied: AWS principal ARN not allowed. [principal-arn=${formattedArn}]`);
        }
        const subOrganizationId = loginScope(ctx.store.state, identity, body.organizationSlug);

        return issueAccessToken(
            ctx,
            (draft) => {
                if (!draft.infisical.identityAwsAuths.some((a) => a.id === auth.id)) throw inf.notFound("AWS auth method not found for identity, did you configure AWS auth?");
            },
            {
                identityId: auth.identityId,
                authMethod: AWS_AUTH,
                subOrganizationId,
                trustedIps: auth.accessTokenTrustedIps,
                accessTokenTTL: auth.accessTokenTTL,
                accessTokenMaxTTL: auth.accessTokenMaxTTL,
            },
            {
                identityAuth: {
                    aws: {
                        accountId: Account,
                        arn: Arn,
                        userId: caller.UserId,
                        partition: entity.Partition,
                        service: entity.Service,
                        resourceType: entity.Type,
                        resourceName: entity.FriendlyName,
                    },
                },
            },
        );
    });
}
