/**
 * The first state of a fresh data directory: organizations with an admin user (whose session token is the
 * organization's static token), an automation identity with universal auth (admin of its organization), target
 * identities without any auth method (what the tests attach OIDC auth to), identities that log in with Kubernetes
 * and with AWS IAM auth (against the backend's own Kubernetes API and STS stand-ins), sub-organizations, an OIDC
 * auth template on the built-in issuer, custom roles, Unleash instances with their tokens, and the built-in
 * issuer's signing key. Only used when the data directory holds no state yet.
 *
 * Settings that name the backend's own URL (the Kubernetes host, the STS endpoint, the template's issuer) are
 * marked `followsBackendUrl` and set to the URL the backend listens on at every start (resolveSelfUrls).
 */
import { randomBytes, randomUUID } from "crypto";
import { z } from "zod";
import { generateIssuerKey, loadKey } from "./issuer";
import { hashSecret, randomHex, Vault } from "./secrets";
import { STATE_SCHEMA_VERSION, type AwsAccessKeyRecord, type CustomRoleRecord, type OidcTemplateFields, type State, type TrustedIp, type UnleashTokenKind } from "./store";
import { secretContext, sessionTokenContext } from "./aws/sts";
import { AWS_AUTH } from "./infisical/identity-aws-auth";
import { caCertContext as k8sCaContext, KUBERNETES_AUTH, reviewerJwtContext } from "./infisical/identity-kubernetes-auth";
import { templateFieldsContext } from "./infisical/auth-templates";
import { SERVICE_ACCOUNT_ISSUER, signServiceAccountToken, TOKEN_REVIEWER } from "./kubernetes/api-server";
import { AUTH_TOKEN_TYPE, signToken } from "./infisical/tokens";

const permissionRule = z.strictObject({
    subject: z.string().min(1),
    action: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    inverted: z.boolean().optional(),
});

export const seedSchema = z.strictObject({
    /** Infisical organizations (default 2). */
    organizations: z.number().int().min(1).max(500).optional(),
    /** Target machine identities per organization, without auth methods (default 3). */
    identitiesPerOrg: z.number().int().min(1).max(500).optional(),
    /** Target identities of the first organization, when it needs more than the others (default identitiesPerOrg). */
    firstOrgIdentities: z.number().int().min(1).max(500).optional(),
    /** Unleash instances, each under its own base URL (default 2). */
    unleashInstances: z.number().int().min(1).max(500).optional(),
    /** Access-token TTL of the automation identities' universal auth, in seconds (default 7200). */
    universalAuthAccessTokenTTL: z.number().int().min(1).max(315360000).optional(),
    /**
     * Settings of the organizations, in order (item 0 is organization 1; organizations without an item get the
     * defaults): licence plan (default every feature), SSO enforcement, SCIM, Google SSO enforcement (default off).
     */
    organizationSettings: z
        .array(
            z.strictObject({
                plan: z.strictObject({ oidcSSO: z.boolean().optional(), ipAllowlisting: z.boolean().optional(), machineIdentityAuthTemplates: z.boolean().optional() }).optional(),
                authEnforced: z.boolean().optional(),
                scimEnabled: z.boolean().optional(),
                googleSsoAuthEnforced: z.boolean().optional(),
                shouldUseNewPrivilegeSystem: z.boolean().optional(),
            }),
        )
        .max(500)
        .optional(),
    /** Whether the instance's SMTP configuration verifies (default true); enabling OIDC SSO needs it. */
    smtpVerified: z.boolean().optional(),
    /** Custom organization roles, created in every organization: `{slug, name?, permissions: [{subject, action}]}`. */
    customRoles: z
        .array(z.strictObject({ slug: z.string().regex(/^[a-z0-9-]+$/), name: z.string().optional(), permissions: z.array(permissionRule) }))
        .max(50)
        .optional(),
    /** Sub-organizations per organization (default 1), `org-<i>-team-<k>`; the login identities are members. */
    subOrganizationsPerOrg: z.number().int().min(0).max(50).optional(),
    /** Per organization, an identity with Kubernetes auth and one with AWS IAM auth on the backend's stand-ins (default true). */
    loginIdentities: z.boolean().optional(),
    /** Per organization, an OIDC auth template on the built-in issuer (default true). */
    oidcAuthTemplates: z.boolean().optional(),
    /** The Kubernetes API stand-in: service accounts ("namespace:name", "*") allowed to create TokenReviews (default the seeded reviewer), and its audiences. */
    kubernetes: z.strictObject({ authDelegators: z.array(z.string().min(1)).optional(), apiAudiences: z.array(z.string().min(1)).optional() }).optional(),
});

export type SeedOptions = z.infer<typeof seedSchema>;

export const SEED_DEFAULTS = {
    organizations: 2,
    identitiesPerOrg: 3,
    unleashInstances: 2,
    universalAuthAccessTokenTTL: 7200,
    smtpVerified: true,
    subOrganizationsPerOrg: 1,
    loginIdentities: true,
    oidcAuthTemplates: true,
} as const;

/** The AWS account of organization i's seeded principals (12 digits). */
export const awsAccountOf = (i: number) => String(100000000000 + i);
/** The namespace and service account organization i's Kubernetes identity accepts. */
export const K8S_NAMESPACE = "pulumi";
export const k8sServiceAccountOf = (i: number) => `org-${i}-deployer`;

const AWS_KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
function randomFrom(alphabet: string, length: number): string {
    const bytes = randomBytes(length);
    return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

const ANYWHERE: TrustedIp[] = [
    { ipAddress: "0.0.0.0", type: "ipv4", prefix: 0 },
    { ipAddress: "::", type: "ipv6", prefix: 0 },
];

export async function seedState(options: SeedOptions, vault: Vault, jwtSecret: Uint8Array): Promise<State> {
    const o = { ...SEED_DEFAULTS, ...options };
    const now = new Date().toISOString();
    const state: State = {
        schemaVersion: STATE_SCHEMA_VERSION,
        createdAt: now,
        adminTokenEnc: "",
        issuer: { keys: [] },
        infisical: {
            instance: { smtpVerified: o.smtpVerified },
            organizations: [],
            users: [],
            sessions: [],
            identities: [],
            universalAuths: [],
            accessTokens: [],
            oidcConfigs: [],
            identityOidcAuths: [],
            identityKubernetesAuths: [],
            identityAwsAuths: [],
            authTemplates: [],
        },
        unleash: { instances: [] },
        kubernetes: {
            authDelegators: options.kubernetes?.authDelegators ?? [`${TOKEN_REVIEWER.namespace}:${TOKEN_REVIEWER.name}`],
            apiAudiences: options.kubernetes?.apiAudiences ?? [SERVICE_ACCOUNT_ISSUER],
        },
        aws: { accessKeys: [] },
        stacks: {},
    };
    const issuerKey = await generateIssuerKey(vault, now);
    state.issuer.keys.push(issuerKey);
    const signingKey = await loadKey(vault, issuerKey);
    // A long-lived reviewer token (a legacy secret-based service-account token: no expiry).
    const reviewerJwt = await signServiceAccountToken(signingKey, { ...TOKEN_REVIEWER, audiences: state.kubernetes.apiAudiences });
    state.adminTokenEnc = vault.encrypt(`rb-admin-${randomHex(24)}`, "admin-token");

    for (let i = 1; i <= o.organizations; i++) {
        const settings = options.organizationSettings?.[i - 1] ?? {};
        const org = {
            id: randomUUID(),
            name: `Organization ${i}`,
            slug: `org-${i}`,
            createdAt: now,
            authEnforced: settings.authEnforced ?? false,
            scimEnabled: settings.scimEnabled ?? false,
            googleSsoAuthEnforced: settings.googleSsoAuthEnforced ?? false,
            shouldUseNewPrivilegeSystem: settings.shouldUseNewPrivilegeSystem ?? true,
            plan: {
                oidcSSO: settings.plan?.oidcSSO ?? true,
                ipAllowlisting: settings.plan?.ipAllowlisting ?? true,
                machineIdentityAuthTemplates: settings.plan?.machineIdentityAuthTemplates ?? true,
            },
            customRoles: (options.customRoles ?? []).map(
                (r): CustomRoleRecord => ({
                    id: randomUUID(),
                    slug: r.slug,
                    name: r.name ?? r.slug,
                    permissions: r.permissions.map((p) => ({ subject: p.subject, action: typeof p.action === "string" ? [p.action] : p.action, ...(p.inverted ? { inverted: true } : {}) })),
                }),
            ),
        };
        state.infisical.organizations.push(org);
        const subOrgIds: string[] = [];
        for (let k = 1; k <= o.subOrganizationsPerOrg; k++) {
            const sub = { id: randomUUID(), name: `Organization ${i} team ${k}`, slug: `org-${i}-team-${k}`, createdAt: now, rootOrgId: org.id, parentOrgId: org.id, shouldUseNewPrivilegeSystem: true };
            state.infisical.organizations.push(sub);
            subOrgIds.push(sub.id);
        }
        const subOrgMemberships = () => subOrgIds.map((orgId) => ({ orgId, role: "admin" }));

        const user = { id: randomUUID(), email: `admin@org-${i}.example.com`, orgId: org.id, role: "admin" as const };
        state.infisical.users.push(user);
        const sessionId = randomUUID();
        const token = await signToken(jwtSecret, {
            authTokenType: AUTH_TOKEN_TYPE.user,
            userId: user.id,
            tokenVersionId: sessionId,
            organizationId: org.id,
            accessVersion: 1,
        });
        state.infisical.sessions.push({ id: sessionId, userId: user.id, orgId: org.id, tokenEnc: vault.encrypt(token, `session:${sessionId}`), createdAt: now });

        // The automation identity: what a CI pipeline running Pulumi logs in as (universal auth, org admin).
        const automation = { id: randomUUID(), name: `pulumi-automation-${i}`, orgId: org.id, role: "admin", authMethods: ["universal-auth"], subOrgMemberships: subOrgMemberships(), createdAt: now };
        state.infisical.identities.push(automation);
        const uaId = randomUUID();
        const clientSecret = randomHex(32);
        state.infisical.universalAuths.push({
            id: uaId,
            identityId: automation.id,
            clientId: randomUUID(),
            clientSecretHash: hashSecret(clientSecret),
            clientSecretEnc: vault.encrypt(clientSecret, `universal-auth:${uaId}`),
            clientSecretId: randomUUID(),
            clientSecretTrustedIps: ANYWHERE,
            accessTokenTTL: o.universalAuthAccessTokenTTL,
            accessTokenMaxTTL: Math.max(o.universalAuthAccessTokenTTL, 2592000),
            accessTokenNumUsesLimit: 0,
            accessTokenTrustedIps: ANYWHERE,
            createdAt: now,
        });

        // Target identities: members of the organization, no auth method yet.
        const targets = i === 1 && options.firstOrgIdentities ? options.firstOrgIdentities : o.identitiesPerOrg;
        for (let j = 1; j <= targets; j++) {
            state.infisical.identities.push({ id: randomUUID(), name: `workload-${i}-${j}`, orgId: org.id, role: "member", authMethods: [], createdAt: now });
        }

        if (o.loginIdentities) {
            const ttls = { accessTokenTTL: o.universalAuthAccessTokenTTL, accessTokenMaxTTL: Math.max(o.universalAuthAccessTokenTTL, 2592000), accessTokenNumUsesLimit: 0, accessTokenTrustedIps: ANYWHERE };
            // Kubernetes auth on the backend's Kubernetes API stand-in, with the seeded reviewer token.
            const k8s = { id: randomUUID(), name: `pulumi-kubernetes-${i}`, orgId: org.id, role: "admin", authMethods: [KUBERNETES_AUTH], subOrgMemberships: subOrgMemberships(), createdAt: now };
            state.infisical.identities.push(k8s);
            const k8sAuthId = randomUUID();
            state.infisical.identityKubernetesAuths.push({
                id: k8sAuthId,
                identityId: k8s.id,
                kubernetesHost: "",
                followsBackendUrl: true,
                tokenReviewMode: "api",
                encryptedKubernetesCaCertificate: vault.encrypt("", k8sCaContext(k8sAuthId)),
                encryptedKubernetesTokenReviewerJwt: vault.encrypt(reviewerJwt, reviewerJwtContext(k8sAuthId)),
                allowedNamespaces: K8S_NAMESPACE,
                allowedNames: k8sServiceAccountOf(i),
                allowedAudience: "",
                gatewayId: null,
                ...ttls,
                createdAt: now,
                updatedAt: now,
            });

            // AWS IAM auth on the backend's STS stand-in: an IAM user's key and an assumed role's temporary key.
            const account = awsAccountOf(i);
            const userArn = `arn:aws:iam::${account}:user/pulumi-org-${i}`;
            const roleName = `pulumi-deployer-${i}`;
            const keys: AwsAccessKeyRecord[] = [
                { accessKeyId: `AKIA${randomFrom(AWS_KEY_ALPHABET, 16)}`, arn: userArn, userId: `AIDA${randomFrom(AWS_KEY_ALPHABET, 17)}`, session: false },
                { accessKeyId: `ASIA${randomFrom(AWS_KEY_ALPHABET, 16)}`, arn: `arn:aws:sts::${account}:assumed-role/${roleName}/ci-session`, userId: `AROA${randomFrom(AWS_KEY_ALPHABET, 17)}:ci-session`, session: true },
            ].map((k) => ({
                accessKeyId: k.accessKeyId,
                secretAccessKeyEnc: vault.encrypt(randomFrom(SECRET_ALPHABET, 40), secretContext(k.accessKeyId)),
                sessionTokenEnc: k.session ? vault.encrypt(`IQoJb3JpZ2luX2Vj${randomFrom(SECRET_ALPHABET, 300)}`, sessionTokenContext(k.accessKeyId)) : null,
                arn: k.arn,
                account,
                userId: k.userId,
                orgId: org.id,
                createdAt: now,
            }));
            state.aws.accessKeys.push(...keys);
            const aws = { id: randomUUID(), name: `pulumi-aws-${i}`, orgId: org.id, role: "admin", authMethods: [AWS_AUTH], subOrgMemberships: subOrgMemberships(), createdAt: now };
            state.infisical.identities.push(aws);
            state.infisical.identityAwsAuths.push({
                id: randomUUID(),
                identityId: aws.id,
                type: "iam",
                stsEndpoint: "",
                followsBackendUrl: true,
                allowedPrincipalArns: `${userArn}, arn:aws:iam::${account}:role/${roleName}`,
                allowedAccountIds: account,
                ...ttls,
                createdAt: now,
                updatedAt: now,
            });
        }

        if (o.oidcAuthTemplates) {
            const id = randomUUID();
            const fields: OidcTemplateFields = { oidcDiscoveryUrl: "", boundIssuer: "", boundAudiences: "" };
            state.infisical.authTemplates.push({
                id,
                orgId: org.id,
                name: "built-in-issuer",
                authMethod: "oidc",
                templateFieldsEnc: vault.encrypt(JSON.stringify(fields), templateFieldsContext(id)),
                followsBackendUrl: true,
                createdAt: now,
                updatedAt: now,
            });
        }
    }

    for (let n = 0; n < o.unleashInstances; n++) {
        const token = (kind: UnleashTokenKind): string => {
            switch (kind) {
                case "admin":
                    return `*:*.${randomHex(32)}`;
                case "client":
                    return `default:development.${randomHex(32)}`;
                default:
                    return `user:${randomHex(20)}`;
            }
        };
        const tokens = (["admin", "admin-pat", "viewer-pat", "client"] as const).map((kind) => {
            const id = randomUUID();
            return { id, kind, tokenEnc: vault.encrypt(token(kind), `unleash-token:${id}`), createdAt: now };
        });
        state.unleash.instances.push({ index: n, name: `unleash-${n}`, tokens, oidcSettings: null });
    }

    return state;
}
