/**
 * AWS IAM auth over real HTTP: a client signs sts:GetCallerIdentity with AWS's signer (@smithy/signature-v4), the
 * login replays it to the identity's stsEndpoint (the backend's own STS stand-in, which verifies the signature by
 * recomputing it), and the returned principal is checked against allowedAccountIds / allowedPrincipalArns as
 * Infisical's identity-aws-auth-service.ts does. The stand-in is also called directly, as an AWS client would.
 */
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { decodeJwt } from "jose";
import { request } from "undici";
import { Backend, bearer, call, Ready, start } from "./helpers";

let backend: Backend;
let ready: Ready;

interface Credentials {
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
}

const BODY = "Action=GetCallerIdentity&Version=2011-06-15";

/** The signed request a client (e.g. Infisical's Go SDK) builds: headers as a flat object, body as sent. */
async function signedRequest(url: string, creds: Credentials, opts: { region?: string; date?: Date; body?: string } = {}) {
    const u = new URL(url);
    const signer = new SignatureV4({ credentials: creds, region: opts.region ?? ready.aws.region, service: "sts", sha256: Sha256 });
    const body = opts.body ?? BODY;
    const signed = await signer.sign(
        {
            method: "POST",
            protocol: u.protocol,
            hostname: u.hostname,
            port: u.port ? Number(u.port) : undefined,
            path: u.pathname,
            query: {},
            headers: { host: u.host, "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
            body,
        },
        { signingDate: opts.date },
    );
    return { headers: signed.headers as Record<string, string>, body };
}

const loginBody = (identityId: string, req: { headers: Record<string, string>; body: string }, extra: Record<string, unknown> = {}) => ({
    identityId,
    iamHttpRequestMethod: "POST",
    iamRequestUrl: Buffer.from(ready.aws.stsEndpoint).toString("base64"),
    iamRequestBody: Buffer.from(req.body).toString("base64"),
    iamRequestHeaders: Buffer.from(JSON.stringify(req.headers)).toString("base64"),
    ...extra,
});
const login = (body: unknown) => call("POST", `${ready.infisical.url}/api/v1/auth/aws-auth/login`, { body });
const adminCall = (method: string, identityId: string, body?: unknown) =>
    call(method, `${ready.infisical.url}/api/v1/auth/aws-auth/identities/${identityId}`, { authorization: bearer(ready.infisical.token), body });

beforeAll(async () => {
    backend = await start({ seed: { organizations: 2, identitiesPerOrg: 4, unleashInstances: 1 } });
    ready = backend.ready;
});
afterAll(async () => {
    await backend?.stop();
});

const org = () => ready.infisical.organizations[0]!;
const aws = () => org().awsIdentity!;

describe("login with the seeded identity (allowed: its IAM user and its deployer role)", () => {
    test("the IAM user's signed request logs in; the token carries the caller", async () => {
        const res = await login(loginBody(aws().identityId, await signedRequest(ready.aws.stsEndpoint, aws().user)));
        expect(res.status).toBe(200);
        expect(res.json).toEqual({ accessToken: expect.any(String), expiresIn: 7200, accessTokenMaxTTL: 2592000, tokenType: "Bearer" });
        expect(decodeJwt(res.json.accessToken)).toMatchObject({
            identityId: aws().identityId,
            identityAuth: { aws: { accountId: aws().account, arn: aws().user.arn, userId: expect.stringMatching(/^AIDA/), partition: "aws", service: "iam", resourceType: "user", resourceName: "pulumi-org-1" } },
        });
        // The identity is an org admin.
        expect((await call("GET", `${ready.infisical.url}/api/v1/auth/aws-auth/identities/${aws().identityId}`, { authorization: bearer(res.json.accessToken) })).status).toBe(200);
    });

    test("a request signed for AWS's regional STS host, as Infisical's SDKs sign it, is verified by the stand-in it is replayed to", async () => {
        const req = await signedRequest("https://sts.eu-west-1.amazonaws.com/", aws().user, { region: "eu-west-1" });
        expect(req.headers.host).toBe("sts.eu-west-1.amazonaws.com");
        const res = await login(loginBody(aws().identityId, req));
        expect(res.status).toBe(200);
    });

    test("an assumed role (temporary credentials with a session token) matches its role ARN", async () => {
        const res = await login(loginBody(aws().identityId, await signedRequest(ready.aws.stsEndpoint, aws().assumedRole)));
        expect(res.status).toBe(200);
        expect(decodeJwt(res.json.accessToken)).toMatchObject({ identityAuth: { aws: { arn: aws().assumedRole.arn, service: "sts", resourceType: "assumed-role", resourceName: "pulumi-deployer-1" } } });
    });

    test("another organization's principal: 401 with the principal the service formats", async () => {
        const other = ready.infisical.organizations[1]!.awsIdentity!;
        const res = await login(loginBody(aws().identityId, await signedRequest(ready.aws.stsEndpoint, other.user)));
        expect(res.json).toEqual({ reqId: expect.any(String), statusCode: 401, message: "Access denied: AWS account ID not allowed.", error: "UnauthorizedError" });
    });

    test("STS refusing the request (wrong secret, unknown key, a request older than 15 minutes) is an unhandled error: 500", async () => {
        const wrong = await signedRequest(ready.aws.stsEndpoint, { ...aws().user, secretAccessKey: "x".repeat(40) });
        const unknown = await signedRequest(ready.aws.stsEndpoint, { accessKeyId: "AKIAAAAAAAAAAAAAAAAA", secretAccessKey: "y".repeat(40) });
        const old = await signedRequest(ready.aws.stsEndpoint, aws().user, { date: new Date(Date.now() - 20 * 60 * 1000) });
        for (const req of [wrong, unknown, old]) {
            const res = await login(loginBody(aws().identityId, req));
            expect(res.json).toEqual({ reqId: expect.any(String), statusCode: 500, message: "Something went wrong", error: "InternalServerError" });
        }
    });

    test("the region comes from the signature's credential scope: none or an invalid one is 400", async () => {
        const unsigned = { headers: { host: new URL(ready.aws.stsEndpoint).host }, body: BODY };
        expect((await login(loginBody(aws().identityId, unsigned))).json).toMatchObject({ statusCode: 400, message: "Invalid AWS region" });
        const req = await signedRequest(ready.aws.stsEndpoint, aws().user, { region: "US_EAST_1" });
        expect((await login(loginBody(aws().identityId, req))).json).toMatchObject({ statusCode: 400, message: "Invalid AWS region" });
    });

    test("no AWS auth on the identity: 404", async () => {
        const res = await login(loginBody(ready.infisical.identityIds[0] as string, await signedRequest(ready.aws.stsEndpoint, aws().user)));
        expect(res.json).toMatchObject({ statusCode: 404, message: "AWS auth method not found for identity, did you configure AWS auth?" });
    });
});

describe("attach, read, update, revoke", () => {
    const target = (i: number) => ready.infisical.identityIds[i] as string;

    test("the router's validation of account ids and principal ARNs; defaults", async () => {
        const badAccount = await adminCall("POST", target(0), { allowedAccountIds: "12345" });
        expect(badAccount.json.message[0].message).toBe("Each account ID must be a 12-digit number.");
        const badArn = await adminCall("POST", target(0), { allowedPrincipalArns: "arn:aws:s3:::bucket" });
        expect(badArn.json.message[0].message).toBe(
            "Each ARN must be in the format of 'arn:aws:iam::123456789012:user/UserName', 'arn:aws:iam::123456789012:role/RoleName', or 'arn:aws:iam::123456789012:*'.",
        );
        const res = await adminCall("POST", target(0), { allowedAccountIds: `${aws().account},210987654321`, allowedPrincipalArns: `arn:aws:iam::${aws().account}:user/*` });
        expect(res.status).toBe(200);
        expect(res.json.identityAwsAuth).toEqual({
            id: expect.any(String),
            accessTokenTTL: 2592000,
            accessTokenMaxTTL: 2592000,
            accessTokenNumUsesLimit: 0,
            accessTokenTrustedIps: [
                { ipAddress: "0.0.0.0", type: "ipv4", prefix: 0 },
                { ipAddress: "::", type: "ipv6", prefix: 0 },
            ],
            createdAt: expect.any(String),
            updatedAt: expect.any(String),
            identityId: target(0),
            type: "iam",
            stsEndpoint: "https://sts.amazonaws.com/",
            allowedPrincipalArns: `arn:aws:iam::${aws().account}:user/*`,
            allowedAccountIds: `${aws().account}, 210987654321`,
        });
    });

    test("a wildcard principal ARN, the STS endpoint pointed at the stand-in; a role's session does not match user/*", async () => {
        expect((await adminCall("PATCH", target(0), { stsEndpoint: ready.aws.stsEndpoint, allowedPrincipalArns: `arn:aws:iam::${aws().account}:user/*` })).status).toBe(200);
        expect((await login(loginBody(target(0), await signedRequest(ready.aws.stsEndpoint, aws().user)))).status).toBe(200);
        const role = await login(loginBody(target(0), await signedRequest(ready.aws.stsEndpoint, aws().assumedRole)));
        expect(role.json).toMatchObject({ statusCode: 401, message: `Access denied: AWS principal ARN not allowed. [principal-arn=arn:aws:sts::${aws().account}:assumed-role/pulumi-deployer-1]` });
    });

    test("as in the router, a PATCH without allowedPrincipalArns / allowedAccountIds clears them", async () => {
        const res = await adminCall("PATCH", target(0), { accessTokenTTL: 600 });
        expect(res.json.identityAwsAuth).toMatchObject({ accessTokenTTL: 600, allowedPrincipalArns: "", allowedAccountIds: "" });
    });

    test("messages when nothing is attached; DELETE revokes the AWS-issued tokens", async () => {
        expect((await adminCall("GET", target(1))).json).toMatchObject({ statusCode: 400, message: "The identity does not have AWS Auth attached" });
        expect((await adminCall("PATCH", target(1), {})).json).toMatchObject({ statusCode: 404, message: "The identity does not have AWS Auth attached" });
        expect((await adminCall("DELETE", target(1))).json).toMatchObject({ statusCode: 400, message: "The identity does not have aws auth" });
        expect((await adminCall("POST", target(1), { stsEndpoint: ready.aws.stsEndpoint, allowedAccountIds: aws().account })).status).toBe(200);
        expect((await adminCall("POST", target(1), {})).json).toMatchObject({ statusCode: 400, message: "Failed to add AWS Auth to already configured identity" });
        const token = (await login(loginBody(target(1), await signedRequest(ready.aws.stsEndpoint, aws().user)))).json.accessToken as string;
        const member = await call("GET", `${ready.infisical.url}/api/v1/auth/aws-auth/identities/${target(1)}`, { authorization: bearer(token) });
        expect(member.status).toBe(403); // a member: authenticated, not allowed
        expect((await adminCall("DELETE", target(1))).status).toBe(200);
        expect((await call("GET", `${ready.infisical.url}/api/v1/auth/aws-auth/identities/${target(1)}`, { authorization: bearer(token) })).status).toBe(401);
    });
});

describe("the STS stand-in, called as AWS's API", () => {
    const sts = (req: { headers: Record<string, string>; body: string }, accept?: string) =>
        request(ready.aws.stsEndpoint, { method: "POST", headers: { ...req.headers, ...(accept ? { accept } : {}) }, body: req.body });

    test("GetCallerIdentity answers XML as AWS does, JSON when asked", async () => {
        const xml = await sts(await signedRequest(ready.aws.stsEndpoint, aws().user));
        expect(xml.statusCode).toBe(200);
        expect(String(xml.headers["content-type"])).toContain("text/xml");
        const text = await xml.body.text();
        expect(text).toContain('<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">');
        expect(text).toContain(`<Arn>${aws().user.arn}</Arn>`);
        expect(text).toContain(`<Account>${aws().account}</Account>`);
        const json = await sts(await signedRequest(ready.aws.stsEndpoint, aws().user), "application/json");
        expect(await json.body.json()).toMatchObject({ GetCallerIdentityResponse: { GetCallerIdentityResult: { Arn: aws().user.arn, Account: aws().account } } });
    });

    test("a tampered body or a missing session token: SignatureDoesNotMatch / InvalidClientTokenId", async () => {
        const req = await signedRequest(ready.aws.stsEndpoint, aws().user);
        const tampered = await sts({ ...req, body: "Action=GetCallerIdentity&Version=2011-06-16" }, "application/json");
        expect(tampered.statusCode).toBe(403);
        expect(await tampered.body.json()).toMatchObject({ Error: { Code: "SignatureDoesNotMatch", Type: "Sender" } });
        const { sessionToken: _t, ...withoutToken } = aws().assumedRole;
        const noToken = await sts(await signedRequest(ready.aws.stsEndpoint, withoutToken), "application/json");
        expect(noToken.statusCode).toBe(403);
        expect(await noToken.body.json()).toMatchObject({ Error: { Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid." } });
    });
});
