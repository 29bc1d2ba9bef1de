/**
 * aws_iam: a machine identity id and a signed `sts:GetCallerIdentity` request, which Infisical replays to AWS STS
 * and whose answer (the caller's account and ARN) it checks against the identity's AWS auth:
 * `POST /api/v1/auth/aws-auth/login` {identityId, iamHttpRequestMethod, iamRequestBody (base64),
 * iamRequestHeaders (base64 of the JSON headers)} (Infisical source
 * backend/src/services/identity-aws-auth/identity-aws-auth-service.ts `login`, which takes the region from the
 * Authorization header's credential scope and posts to https://sts.<region>.amazonaws.com; the client side as in
 * Infisical/go-sdk auth.go AwsIamAuthLogin and Infisical/node-sdk-v2 src/custom/util.ts).
 *
 * Signed with AWS's own packages (SigV4 by @smithy/signature-v4), credentials from AWS's default chain
 * (@aws-sdk/credential-provider-node: environment, SSO, shared files, web identity, ECS/EC2 metadata), region from
 * AWS_REGION, AWS_DEFAULT_REGION or the AWS profile. Loaded only when this method is used.
 */
import { ProviderError } from "../http/errors";
import { postLogin } from "./login-request";
import { INFISICAL_SETTINGS, placesOf } from "./settings";
import type { AuthMethod } from "./types";

export const STS_BODY = "Action=GetCallerIdentity&Version=2011-06-15";

async function awsRegion(env: NodeJS.ProcessEnv): Promise<string> {
    const fromEnv = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim();
    if (fromEnv) return fromEnv;
    const { loadConfig } = await import("@smithy/node-config-provider");
    const { NODE_REGION_CONFIG_OPTIONS, NODE_REGION_CONFIG_FILE_OPTIONS } = await import("@smithy/config-resolver");
    try {
        const region = await loadConfig(NODE_REGION_CONFIG_OPTIONS, NODE_REGION_CONFIG_FILE_OPTIONS)();
        if (region) return region;
    } catch {
        // no region in the profile either
    }
    throw new ProviderError("aws_iam login needs the AWS region of the STS request: set AWS_REGION (or a region in the AWS profile)");
}

/** The signed GetCallerIdentity request, as Infisical's login takes it. */
export async function signedGetCallerIdentity(env: NodeJS.ProcessEnv, secret: (v: string | undefined) => void): Promise<{ method: string; body: string; headers: Record<string, string>; region: string }> {
    const region = await awsRegion(env);
    const [{ defaultProvider }, { SignatureV4 }, { Sha256 }, { HttpRequest }] = await Promise.all([
        import("@aws-sdk/credential-provider-node"),
        import("@smithy/signature-v4"),
        import("@aws-crypto/sha256-js"),
        import("@smithy/protocol-http"),
    ]);
    let credentials;
    try {
        credentials = await defaultProvider()();
    } catch (err) {
        throw new ProviderError(
            `aws_iam login found no AWS credentials in AWS's default chain (${err instanceof Error ? err.message.split("\n")[0] : String(err)}). Fix: run with an IAM role (EC2/ECS/EKS, GitHub's aws-actions/configure-aws-credentials) or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), or AWS_PROFILE`,
        );
    }
    secret(credentials.secretAccessKey);
    secret(credentials.sessionToken);
    const host = `sts.${region}.amazonaws.com`;
    const request = new HttpRequest({
        protocol: "https:",
        hostname: host,
        path: "/",
        method: "POST",
        headers: {
            "content-type": "application/x-www-form-urlencoded; charset=utf-8",
            host,
            "content-length": String(Buffer.byteLength(STS_BODY)),
        },
        body: STS_BODY,
    });
    const signer = new SignatureV4({ credentials, region, service: "sts", sha256: Sha256 });
    const signed = await signer.sign(request);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(signed.headers)) {
        // Infisical reads `headers.Authorization || headers.authorization`.
        headers[name.toLowerCase() === "authorization" ? "Authorization" : name] = String(value);
    }
    secret(headers.Authorization);
    return { method: "POST", body: STS_BODY, headers, region };
}

export const awsIamAuth: AuthMethod = {
    name: "aws_iam",
    summary: "a machine identity id and a GetCallerIdentity request signed with the job's AWS credentials",
    logsIn: true,
    problem(settings) {
        if (!settings.identityId) return `aws_iam login needs the machine identity id: set ${placesOf(INFISICAL_SETTINGS.identityId)}`;
        return undefined;
    },
    async login(ctx) {
        const signed = await signedGetCallerIdentity(ctx.env, (v) => ctx.secret(v));
        const encodedHeaders = Buffer.from(JSON.stringify(signed.headers)).toString("base64");
        ctx.secret(encodedHeaders);
        return postLogin(ctx, "aws_iam", "/api/v1/auth/aws-auth/login", {
            identityId: ctx.settings.identityId?.value ?? "",
            iamHttpRequestMethod: signed.method,
            iamRequestBody: Buffer.from(signed.body).toString("base64"),
            iamRequestHeaders: encodedHeaders,
        });
    },
    cacheKey: (s) => [s.identityId?.value ?? ""],
    secrets: () => [],
    refusedHint: (s) =>
        `the aws_iam login of identity ${s.identityId?.value ?? "?"} (from ${s.identityId?.source ?? "nowhere"}) was refused: check that the identity has AWS auth whose allowed account ids and principal ARNs include this job's AWS role (aws sts get-caller-identity shows it)`,
    // Infisical replays the signed request to STS with axios and lets a refusal (a bad signature, an unknown or
    // expired key) through to its error handler: 500 "Something went wrong" (identity-aws-auth-service.ts `login`).
    serverErrorHint: (_s, env) => {
        const keys = env.AWS_ACCESS_KEY_ID?.trim() ? "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN, for temporary credentials)" : "the credentials AWS's default chain found (profile, web identity, instance role)";
        return `Infisical answers 500 when AWS STS refuses the signed GetCallerIdentity request of an aws_iam login: check that ${keys} are valid and not expired (\`aws sts get-caller-identity\` in the same environment must succeed), that the region (AWS_REGION) is one STS serves, and that the identity's AWS auth stsEndpoint is right`;
    },
};
