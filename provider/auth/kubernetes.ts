/**
 * kubernetes: a machine identity id and the pod's service-account token, exchanged at
 * `POST /api/v1/auth/kubernetes-auth/login` {identityId, jwt} (Infisical source
 * backend/src/server/routes/v1/identity-kubernetes-auth-router.ts; Terraform internal/client/login.go
 * KubernetesMachineIdentityAuth). Infisical sends the token to the cluster's TokenReview API.
 *
 * The token is a value (`serviceAccountToken`) or, by default, the file Kubernetes mounts into every pod, read again
 * at each login: projected tokens are rotated by the kubelet (about hourly).
 */
import { readFile } from "fs/promises";
import { ProviderError } from "../http/errors";
import { postLogin } from "./login-request";
import { INFISICAL_SETTINGS, placesOf } from "./settings";
import type { AuthMethod, AuthSettings } from "./types";

/** Terraform: INFISICAL_KUBERNETES_SERVICE_ACCOUNT_DEFAULT_TOKEN_PATH. */
export const DEFAULT_SERVICE_ACCOUNT_TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token";

function tokenPath(settings: AuthSettings): string {
    return settings.serviceAccountTokenPath?.value ?? DEFAULT_SERVICE_ACCOUNT_TOKEN_PATH;
}

function pathText(settings: AuthSettings): string {
    return settings.serviceAccountTokenPath ? `${tokenPath(settings)} (from ${settings.serviceAccountTokenPath.source})` : `${tokenPath(settings)} (the default)`;
}

export const kubernetesAuth: AuthMethod = {
    name: "kubernetes",
    summary: "a machine identity id and the pod's Kubernetes service-account token",
    logsIn: true,
    problem(settings) {
        if (!settings.identityId) return `kubernetes login needs the machine identity id: set ${placesOf(INFISICAL_SETTINGS.identityId)}`;
        return undefined;
    },
    async login(ctx) {
        const s = ctx.settings;
        let jwt = s.serviceAccountToken?.value;
        if (!jwt) {
            try {
                jwt = (await readFile(tokenPath(s), "utf8")).trim();
            } catch (err) {
                const code = (err as NodeJS.ErrnoException).code ?? "error";
                throw new ProviderError(
                    `kubernetes login cannot read the service-account token file ${pathText(s)}: ${code}. Fix: run inside a pod whose service account token is mounted ` +
                        `(automountServiceAccountToken, or a projected volume), or set ${placesOf(INFISICAL_SETTINGS.serviceAccountTokenPath)} to the token's file, or the token itself in ${INFISICAL_SETTINGS.serviceAccountToken.env[0]}`,
                );
            }
            if (!jwt) throw new ProviderError(`kubernetes login: the service-account token file ${pathText(s)} is empty`);
        }
        ctx.secret(jwt);
        return postLogin(ctx, "kubernetes", "/api/v1/auth/kubernetes-auth/login", { identityId: s.identityId?.value ?? "", jwt });
    },
    cacheKey: (s) => [s.identityId?.value ?? "", s.serviceAccountToken?.value ?? tokenPath(s)],
    secrets: (s) => [s.serviceAccountToken?.value],
    refusedHint: (s) =>
        `the kubernetes login of identity ${s.identityId?.value ?? "?"} (from ${s.identityId?.source ?? "nowhere"}) was refused: check that the identity has Kubernetes auth, that its allowed namespaces, service-account names and audience match this pod's token (${s.serviceAccountToken ? s.serviceAccountToken.source : pathText(s)}), and that Infisical can reach the cluster's TokenReview API`,
};
