/**
 * The first state of a fresh data directory: organizations with an admin user (whose session token is the
 * organization's static token), an automation identity with universal auth (admin of its organization), target
 * identities without any auth method (what the tests attach OIDC auth to), Unleash instances with their tokens,
 * and the built-in issuer's signing key. Only used when the data directory holds no state yet.
 */
import { randomUUID } from "crypto";
import { z } from "zod";
import { generateIssuerKey } from "./issuer";
import { hashSecret, randomHex, Vault } from "./secrets";
import { STATE_SCHEMA_VERSION, type State, type TrustedIp, type UnleashTokenKind } from "./store";
import { AUTH_TOKEN_TYPE, signToken } from "./infisical/tokens";

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
                plan: z.strictObject({ oidcSSO: z.boolean().optional(), ipAllowlisting: z.boolean().optional() }).optional(),
                authEnforced: z.boolean().optional(),
                scimEnabled: z.boolean().optional(),
                googleSsoAuthEnforced: z.boolean().optional(),
            }),
        )
        .max(500)
        .optional(),
    /** Whether the instance's SMTP configuration verifies (default true); enabling OIDC SSO needs it. */
    smtpVerified: z.boolean().optional(),
});

export type SeedOptions = z.infer<typeof seedSchema>;

export const SEED_DEFAULTS = { organizations: 2, identitiesPerOrg: 3, unleashInstances: 2, universalAuthAccessTokenTTL: 7200, smtpVerified: true } as const;

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
        },
        unleash: { instances: [] },
    };
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
            plan: { oidcSSO: settings.plan?.oidcSSO ?? true, ipAllowlisting: settings.plan?.ipAllowlisting ?? true },
        };
        state.infisical.organizations.push(org);

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
        const automation = { id: randomUUID(), name: `pulumi-automation-${i}`, orgId: org.id, role: "admin" as const, authMethods: ["universal-auth"], createdAt: now };
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

    state.issuer.keys.push(await generateIssuerKey(vault, now));
    return state;
}
