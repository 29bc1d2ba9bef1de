/** The login methods by name: adding one is its file plus one line here. */
import { awsIamAuth } from "./aws-iam";
import { kubernetesAuth } from "./kubernetes";
import { oidcAuth } from "./oidc";
import { tokenAuth } from "./token";
import type { AuthMethod, AuthMethodName } from "./types";
import { universalAuth } from "./universal";

export const AUTH_METHODS: Readonly<Record<AuthMethodName, AuthMethod>> = {
    token: tokenAuth,
    universal: universalAuth,
    oidc: oidcAuth,
    kubernetes: kubernetesAuth,
    aws_iam: awsIamAuth,
};
