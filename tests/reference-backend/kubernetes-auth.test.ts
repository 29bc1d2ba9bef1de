/**
 * Kubernetes auth over real HTTP: the login sends the service-account token to the identity's Kubernetes host (the
 * backend's own API server stand-in) as a TokenReview and checks the answer as Infisical's
 * identity-kubernetes-auth-service.ts does; attaching validates the host and the token reviewer like
 * identity-kubernetes-auth-validators.ts. Service-account tokens come from the stand-in's TokenRequest API.
 */
import { decodeJwt } from "jose";
import { Backend, bearer, call, mint, Ready, start } from "./helpers";

let backend: Backend;
let ready: Ready;

const api = (path: string) => `${ready.infisical.url}/api/v1/auth/kubernetes-auth${path}`;
const login = (identityId: string, jwt: string, extra: Record<string, unknown> = {}) => call("POST", api("/login"), { body: { identityId, jwt, ...extra } });
const adminCall = (method: string, identityId: string, body?: unknown) => call(method, api(`/identities/${identityId}`), { authorization: bearer(ready.infisical.token), body });

/** A service-account token from the stand-in's TokenRequest API. */
async function saToken(namespace: string, name: string, spec: Record<string, unknown> = {}): Promise<string> {
    const url = ready.kubernetes.tokenRequestUrl.replace("{namespace}", namespace).replace("{name}", name);
    const res = await call("POST", url, { body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec } });
    expect(res.status).toBe(201);
    return res.json.status.token as string;
}

beforeAll(async () => {
    backend = await start({ seed: { organizations: 1, identitiesPerOrg: 8, unleashInstances: 1, kubernetes: { authDelegators: ["infisical:token-reviewer", "ci:self-reviewer"] } } });
    ready = backend.ready;
});
afterAll(async () => {
    await backend?.stop();
});

describe("the seeded identity (reviewer token stored, namespace pulumi, name org-1-deployer)", () => {
    const seeded = () => ready.infisical.organizations[0]!.kubernetesIdentity!;

    test("a token of the allowed service account logs in; the access token acts as the (admin) identity and carries namespace and name", async () => {
        const { identityId, namespace, serviceAccountName } = seeded();
        const res = await login(identityId, await saToken(namespace, serviceAccountName));
        expect(res.status).toBe(200);
        expect(res.json).toEqual({ accessToken: expect.any(String), expiresIn: 7200, accessTokenMaxTTL: 2592000, tokenType: "Bearer" });
        expect(decodeJwt(res.json.accessToken)).toMatchObject({ authTokenType: "identityAccessToken", identityId, identityAuth: { kubernetes: { namespace, name: serviceAccountName } } });
        const own = await call("GET", api(`/identities/${identityId}`), { authorization: bearer(res.json.accessToken) });
        expect(own.status).toBe(200);
        expect(own.json.identityKubernetesAuth).toMatchObject({ kubernetesHost: ready.kubernetes.host, allowedNamespaces: "pulumi", allowedNames: serviceAccountName, tokenReviewMode: "api", caCert: "" });
        expect(own.json.identityKubernetesAuth.tokenReviewerJwt).toMatch(/^eyJ/);
    });

    test.each([
        ["another service account", "pulumi", "someone-else", "Access denied: K8s name not allowed."],
        ["another namespace", "default", "org-1-deployer", "Access denied: K8s namespace not allowed."],
    ])("%s: 401", async (_what, namespace, name, message) => {
        const res = await login(seeded().identityId, await saToken(namespace, name));
        expect(res.json).toEqual({ reqId: expect.any(String), statusCode: 401, message, error: "UnauthorizedError" });
    });

    test("tokens the API server does not authenticate: 401 KubernetesTokenReviewError with the review's error", async () => {
        const { identityId, namespace, serviceAccountName } = seeded();
        const sub = `system:serviceaccount:${namespace}:${serviceAccountName}`;
        const expired = await mint(ready, { sub, aud: ready.kubernetes.apiAudiences, claims: { iss: ready.kubernetes.issuer }, expiresIn: -60 });
        const oidcToken = await mint(ready, { sub, aud: ready.kubernetes.apiAudiences }); // right key, but the OIDC issuer
        const otherAudience = await saToken(namespace, serviceAccountName, { audiences: ["vault"] });
        for (const [jwt, error] of [
            [expired, "[invalid bearer token, service account token has expired]"],
            [oidcToken, "[invalid bearer token, token issuer is not a service account issuer]"],
            [otherAudience, `[invalid bearer token, token audiences ["vault"] is invalid for the target audiences ${JSON.stringify(ready.kubernetes.apiAudiences)}]`],
            ["not-a-token", "[invalid bearer token, square/go-jose: compact JWS format must have three parts]"],
        ] as const) {
            const res = await login(identityId, jwt);
            expect({ status: res.status, error: res.json.error, message: res.json.message }).toEqual({ status: 401, error: "KubernetesTokenReviewError", message: error });
        }
    });

    test("no Kubernetes auth on the identity: 404", async () => {
        const res = await login(ready.infisical.identityIds[0] as string, await saToken("pulumi", "org-1-deployer"));
        expect(res.json).toMatchObject({ statusCode: 404, message: "Kubernetes auth method not found for identity, did you configure Kubernetes auth?" });
    });
});

describe("attach, read, update, revoke", () => {
    const target = (i: number) => ready.infisical.identityIds[i] as string;
    const body = (extra: Record<string, unknown> = {}) => ({ kubernetesHost: ready.kubernetes.host, allowedNamespaces: "ci", allowedNames: "", allowedAudience: "", ...extra });

    test("the router's validation: 422", async () => {
        const noHost = await adminCall("POST", target(0), body({ kubernetesHost: null }));
        expect(noHost.status).toBe(422);
        expect(noHost.json.message[0]).toMatchObject({ path: ["kubernetesHost"], message: "When token review mode is set to API, a Kubernetes host must be provided" });
        const badHost = await adminCall("POST", target(0), body({ kubernetesHost: "https://k8s_internal:6443" }));
        expect(badHost.json.message[0].message).toBe("Kubernetes host must only contain alphabets, numbers, colons, periods, hyphen, and forward slashes.");
        const gateway = await adminCall("POST", target(0), body({ tokenReviewMode: "gateway" }));
        expect(gateway.json.message[0]).toMatchObject({ path: ["gatewayId"], message: "When token review mode is set to Gateway, a gateway must be selected" });
        expect((await adminCall("POST", target(0), { kubernetesHost: ready.kubernetes.host })).status).toBe(422); // allowed* are required
    });

    test("the host must answer: connection refused is 400 KubernetesHostConnectionRefused", async () => {
        const res = await adminCall("POST", target(0), body({ kubernetesHost: "http://127.0.0.1:1" }));
        expect(res.json).toEqual({
            reqId: expect.any(String),
            statusCode: 400,
            message: "Failed to connect to Kubernetes host at http://127.0.0.1:1: Connection refused. Verify the host URL and ensure the kubernetes host is accessible.",
            error: "KubernetesHostConnectionRefused",
        });
    });

    test("a token reviewer without TokenReview permission is refused (400 TokenReviewerPermissionError)", async () => {
        const res = await adminCall("POST", target(0), body({ tokenReviewerJwt: await saToken("ci", "deployer") }));
        expect(res.status).toBe(400);
        expect(res.json.error).toBe("TokenReviewerPermissionError");
        expect(res.json.message).toBe(
            'Token reviewer lacks required permissions: tokenreviews.authentication.k8s.io is forbidden: User "system:serviceaccount:ci:deployer" cannot create resource "tokenreviews" in API group "authentication.k8s.io" at the cluster scope. Ensure the service account has the \'system:auth-delegator\' ClusterRole binding.',
        );
        const invalid = await adminCall("POST", target(0), body({ tokenReviewerJwt: "eyJub3QiOiJ2YWxpZCJ9.e30.c2ln" }));
        expect(invalid.json.message).toBe("The token reviewer JWT is invalid or expired. Please provide a valid service account token with TokenReview permissions.");
    });

    test("without a reviewer the workload's token reviews itself: allowed only for a service account with TokenReview permission", async () => {
        const attached = await adminCall("POST", target(1), body({ allowedNamespaces: "ci, pulumi", allowedAudience: "vault", accessTokenTTL: 60, accessTokenMaxTTL: 120 }));
        expect(attached.status).toBe(200);
        expect(attached.json.identityKubernetesAuth).toEqual({
            id: expect.any(String),
            accessTokenTTL: 60,
            accessTokenMaxTTL: 120,
            accessTokenNumUsesLimit: 0,
            accessTokenTrustedIps: [
                { ipAddress: "0.0.0.0", type: "ipv4", prefix: 0 },
                { ipAddress: "::", type: "ipv6", prefix: 0 },
            ],
            createdAt: expect.any(String),
            updatedAt: expect.any(String),
            tokenReviewMode: "api",
            identityId: target(1),
            kubernetesHost: ready.kubernetes.host,
            allowedNamespaces: "ci, pulumi",
            allowedNames: "",
            allowedAudience: "vault",
            gatewayId: null,
            caCert: "",
        });
        // ci:self-reviewer may create TokenReviews. Its token is both the reviewer (the API server's audience
        // authenticates it) and the reviewed token (the "vault" audience passes the review).
        const both = () => ({ audiences: [...ready.kubernetes.apiAudiences, "vault"] });
        const ok = await login(target(1), await saToken("ci", "self-reviewer", both()));
        expect(ok.status).toBe(200);
        expect(ok.json.expiresIn).toBe(60);
        const forbidden = await login(target(1), await saToken("ci", "deployer", both()));
        expect(forbidden.json).toMatchObject({ statusCode: 401, error: "KubernetesTokenReviewerForbidden" });
        expect(forbidden.json.message).toContain('User "system:serviceaccount:ci:deployer" cannot create resource "tokenreviews"');
        // Made for "vault" only, the token cannot authenticate to the API server as the reviewer.
        const vaultOnly = await login(target(1), await saToken("ci", "self-reviewer", { audiences: ["vault"] }));
        expect(vaultOnly.json).toMatchObject({ statusCode: 401, error: "KubernetesTokenReviewerUnauthorized", message: "Unauthorized" });
        // A token for the API server's audience is not one for "vault": the review itself refuses it.
        const wrongAudience = await login(target(1), await saToken("ci", "self-reviewer"));
        expect(wrongAudience.json).toMatchObject({ statusCode: 401, error: "KubernetesTokenReviewError" });
        expect(wrongAudience.json.message).toContain('is invalid for the target audiences ["vault"]');
    });

    test("GET, PATCH, DELETE: the service's messages; DELETE revokes the tokens issued through it", async () => {
        expect((await adminCall("GET", target(2))).json).toMatchObject({ statusCode: 404, message: `Failed to find Kubernetes Auth for identity with ID ${target(2)}` });
        expect((await adminCall("PATCH", target(2), { allowedNames: "x" })).json).toMatchObject({ statusCode: 400, message: "Failed to update Kubernetes Auth" });
        expect((await adminCall("DELETE", target(2))).json).toMatchObject({ statusCode: 400, message: "The identity does not have kubernetes auth" });

        const reviewer = ready.infisical.organizations[0]!.kubernetesIdentity!;
        const stored = (await adminCall("GET", reviewer.identityId)).json.identityKubernetesAuth.tokenReviewerJwt as string;
        expect((await adminCall("POST", target(2), body({ tokenReviewerJwt: stored }))).status).toBe(200);
        expect((await adminCall("POST", target(2), body())).json).toMatchObject({ statusCode: 400, message: "Failed to add Kubernetes Auth to already configured identity" });
        const patched = await adminCall("PATCH", target(2), { allowedNames: "deployer, runner", tokenReviewerJwt: null });
        expect(patched.json.identityKubernetesAuth).toMatchObject({ allowedNames: "deployer, runner", allowedNamespaces: "ci", tokenReviewerJwt: "" });
        expect((await adminCall("PATCH", target(2), { tokenReviewerJwt: stored })).json.identityKubernetesAuth.tokenReviewerJwt).toBe(stored);

        const token = (await login(target(2), await saToken("ci", "runner"))).json.accessToken as string;
        expect(token).toBeDefined();
        const revoked = await adminCall("DELETE", target(2));
        expect(revoked.status).toBe(200);
        expect(revoked.json.identityKubernetesAuth.caCert).toBeUndefined();
        expect(revoked.json.identityKubernetesAuth.tokenReviewerJwt).toBeUndefined();
        // The identity is a member: with a live token it would be 403; revoked, it is 401.
        expect((await call("GET", api(`/identities/${target(2)}`), { authorization: bearer(token) })).status).toBe(401);
    });
});

describe("the stand-in API server itself", () => {
    test("TokenReview without credentials: 401 Status; /version answers", async () => {
        const res = await call("POST", ready.kubernetes.tokenReviewUrl, { body: { kind: "TokenReview", spec: { token: "x" } } });
        expect(res.status).toBe(401);
        expect(res.json).toEqual({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "Unauthorized", reason: "Unauthorized", code: 401 });
        expect((await call("GET", `${ready.kubernetes.host}/version`)).json).toMatchObject({ major: "1", gitVersion: expect.any(String) });
    });

    test("TokenRequest refuses lifetimes under ten minutes, as the API server does", async () => {
        const url = ready.kubernetes.tokenRequestUrl.replace("{namespace}", "ci").replace("{name}", "deployer");
        const res = await call("POST", url, { body: { spec: { expirationSeconds: 60 } } });
        expect(res.status).toBe(422);
        expect(res.json.message).toContain("may not specify a duration less than 10 minutes");
    });
});

test("a server that does not allow internal IP connections refuses a Kubernetes host on loopback at attach", async () => {
    const strict = await start({ allowInternalIpConnections: false, seed: { organizations: 1, identitiesPerOrg: 1, unleashInstances: 1 } });
    try {
        const r = strict.ready;
        const res = await call("POST", `${r.infisical.url}/api/v1/auth/kubernetes-auth/identities/${r.infisical.identityIds[0]}`, {
            authorization: bearer(r.infisical.token),
            body: { kubernetesHost: r.kubernetes.host, allowedNamespaces: "", allowedNames: "", allowedAudience: "" },
        });
        expect(res.json).toMatchObject({ statusCode: 400, error: "KubernetesHostConnectionError", message: `Failed to connect to Kubernetes host at ${r.kubernetes.host}: Local IPs not allowed as URL` });
    } finally {
        await strict.stop();
    }
});
