/**
 * The backend's state: one JSON document in the data directory (`state.json`), loaded at start and rewritten
 * after every change.
 *
 * Writes are atomic (temp file, fsync, rename, fsync of the directory) and serialized: changes run on a copy of the
 * current state, in arrival order, and become the current state (and get their answer) only once the file holding
 * them is on disk. Changes that arrive while a write is on its way are committed together by the next write (group
 * commit), so a burst of concurrent requests costs a few writes, not one each. A change that throws (a validation
 * error found while applying it) leaves state and file as they were. Concurrent requests therefore never interleave
 * half-applied changes or lose one another's updates, and nothing acknowledged is lost.
 */
import { promises as fs } from "fs";
import * as path from "path";

export const STATE_FILE = "state.json";
export const STATE_SCHEMA_VERSION = 1;

export interface TrustedIp {
    ipAddress: string;
    type: "ipv4" | "ipv6";
    prefix?: number;
}

/** The organization's licence features that gate the routes served here (Infisical's license plan). */
export interface OrgPlan {
    oidcSSO: boolean;
    ipAllowlisting: boolean;
    /** Machine-identity auth templates (an Enterprise feature). Absent in older states: true. */
    machineIdentityAuthTemplates?: boolean;
}

/** A casl rule of an organization role, as Infisical packs them: `{subject, action[], inverted?}` (no conditions here). */
export interface PermissionRule {
    subject: string;
    action: string[];
    inverted?: boolean;
}

/** A custom organization role (Infisical's org roles; the built-in ones are admin, member and no-access). */
export interface CustomRoleRecord {
    id: string;
    slug: string;
    name: string;
    permissions: PermissionRule[];
}

export interface OrganizationRecord {
    id: string;
    name: string;
    slug: string;
    createdAt: string;
    /** Enforce SSO login for the organization; every SSO PATCH sets it to false. Absent in older states: false. */
    authEnforced?: boolean;
    /** SCIM provisioning; every SSO PATCH sets it to false. Absent in older states: false. */
    scimEnabled?: boolean;
    /** Google SSO enforced: enabling OIDC SSO is refused. Absent in older states: false. */
    googleSsoAuthEnforced?: boolean;
    /** Absent in older states: every feature. */
    plan?: OrgPlan;
    /**
     * Infisical's organization flag choosing how privilege changes are checked (a migration added it: false for the
     * organizations that existed then, true for new ones). Absent in older states: true.
     */
    shouldUseNewPrivilegeSystem?: boolean;
    /** Custom roles of the organization. Absent in older states: none. */
    customRoles?: CustomRoleRecord[];
    /** Set on a sub-organization: its root organization (Infisical's organizations.rootOrgId). */
    rootOrgId?: string;
    /** Set on a sub-organization: its parent organization (Infisical's organizations.parentOrgId). */
    parentOrgId?: string;
}

/** An organization's settings with the defaults of fields that older states do not have. */
export function orgSettings(
    org: OrganizationRecord,
): Required<Pick<OrganizationRecord, "authEnforced" | "scimEnabled" | "googleSsoAuthEnforced" | "shouldUseNewPrivilegeSystem">> & { plan: Required<OrgPlan> } {
    return {
        authEnforced: org.authEnforced ?? false,
        scimEnabled: org.scimEnabled ?? false,
        googleSsoAuthEnforced: org.googleSsoAuthEnforced ?? false,
        shouldUseNewPrivilegeSystem: org.shouldUseNewPrivilegeSystem ?? true,
        plan: {
            oidcSSO: org.plan?.oidcSSO ?? true,
            ipAllowlisting: org.plan?.ipAllowlisting ?? true,
            machineIdentityAuthTemplates: org.plan?.machineIdentityAuthTemplates ?? true,
        },
    };
}

/** An organization role: the built-in "admin", "member" or "no-access", or the slug of a custom role. */
export type OrgRole = string;

export interface UserRecord {
    id: string;
    email: string;
    orgId: string;
    role: OrgRole;
}

/** A long-lived user session whose JWT is the organization's static token (`ready.infisical.organizations[i].token`). */
export interface SessionRecord {
    /** The token's `tokenVersionId`: deleting the session revokes the token. */
    id: string;
    userId: string;
    orgId: string;
    /** The JWT itself, encrypted, so that the ready line can be printed again after a restart. */
    tokenEnc: string;
    createdAt: string;
}

export interface IdentityRecord {
    id: string;
    name: string;
    orgId: string;
    role: OrgRole;
    /** "universal-auth", "oidc-auth", "kubernetes-auth", "aws-auth" */
    authMethods: string[];
    /** Memberships in sub-organizations of the identity's organization (organizationSlug logins). */
    subOrgMemberships?: Array<{ orgId: string; role: OrgRole }>;
    createdAt: string;
}

export interface UniversalAuthRecord {
    id: string;
    identityId: string;
    clientId: string;
    clientSecretHash: string;
    /** Encrypted copy, only to print the ready line again after a restart. */
    clientSecretEnc: string;
    clientSecretId: string;
    clientSecretTrustedIps: TrustedIp[];
    accessTokenTTL: number;
    accessTokenMaxTTL: number;
    accessTokenNumUsesLimit: number;
    accessTokenTrustedIps: TrustedIp[];
    createdAt: string;
}

export type IdentityAuthMethod = "universal-auth" | "oidc-auth" | "kubernetes-auth" | "aws-auth";

export interface AccessTokenRecord {
    id: string;
    identityId: string;
    authMethod: IdentityAuthMethod;
    /** The organization the token acts in, when a login was scoped to a sub-organization (organizationSlug). */
    subOrganizationId?: string | null;
    trustedIps: TrustedIp[];
    accessTokenTTL: number;
    accessTokenMaxTTL: number;
    createdAt: string;
    /** ISO time, or null for a token without expiry (TTL 0). */
    expiresAt: string | null;
}

export interface OidcConfigRecord {
    id: string;
    orgId: string;
    configurationType: "custom" | "discoveryURL";
    discoveryURL: string | null;
    issuer: string | null;
    authorizationEndpoint: string | null;
    jwksUri: string | null;
    tokenEndpoint: string | null;
    userinfoEndpoint: string | null;
    allowedEmailDomains: string | null;
    isActive: boolean;
    manageGroupMemberships: boolean;
    jwtSignatureAlgorithm: "RS256" | "HS256" | "RS512" | "EdDSA";
    encryptedClientId: string;
    encryptedClientSecret: string;
    lastUsed: string | null;
    createdAt: string;
    updatedAt: string;
}

export interface IdentityOidcAuthRecord {
    id: string;
    identityId: string;
    oidcDiscoveryUrl: string;
    encryptedCaCertificate: string;
    boundIssuer: string;
    boundAudiences: string;
    boundClaims: Record<string, string>;
    claimMetadataMapping: Record<string, string> | null;
    boundSubject: string;
    accessTokenTTL: number;
    accessTokenMaxTTL: number;
    accessTokenNumUsesLimit: number;
    accessTokenTrustedIps: TrustedIp[];
    /** The auth template that provides the identity-provider settings, or null. Absent in older states: null. */
    templateId?: string | null;
    createdAt: string;
    updatedAt: string;
}

/** Seeded auth settings that point at the backend itself: rewritten to its current URL at every start. */
export interface FollowsBackend {
    followsBackendUrl?: boolean;
}

export interface IdentityKubernetesAuthRecord extends FollowsBackend {
    id: string;
    identityId: string;
    kubernetesHost: string | null;
    tokenReviewMode: "api" | "gateway";
    /** Encrypted; "" encrypted when none. */
    encryptedKubernetesCaCertificate: string;
    /** Encrypted, or null when the workload's own token reviews itself. */
    encryptedKubernetesTokenReviewerJwt: string | null;
    allowedNamespaces: string;
    allowedNames: string;
    allowedAudience: string;
    gatewayId: string | null;
    accessTokenTTL: number;
    accessTokenMaxTTL: number;
    accessTokenNumUsesLimit: number;
    accessTokenTrustedIps: TrustedIp[];
    createdAt: string;
    updatedAt: string;
}

export interface IdentityAwsAuthRecord extends FollowsBackend {
    id: string;
    identityId: string;
    type: "iam";
    stsEndpoint: string;
    allowedPrincipalArns: string;
    allowedAccountIds: string;
    accessTokenTTL: number;
    accessTokenMaxTTL: number;
    accessTokenNumUsesLimit: number;
    accessTokenTrustedIps: TrustedIp[];
    createdAt: string;
    updatedAt: string;
}

/** The identity-provider settings an OIDC auth template holds (Infisical's TOidcTemplateFields). */
export interface OidcTemplateFields {
    oidcDiscoveryUrl: string;
    boundIssuer: string;
    boundAudiences: string;
    caCert?: string;
}

export interface AuthTemplateRecord extends FollowsBackend {
    id: string;
    orgId: string;
    name: string;
    authMethod: "oidc";
    /** The fields as JSON, encrypted (Infisical keeps them encrypted with the organization's key). */
    templateFieldsEnc: string;
    createdAt: string;
    updatedAt: string;
}

/** An AWS access key the STS stand-in knows: the principal GetCallerIdentity answers for it. */
export interface AwsAccessKeyRecord {
    accessKeyId: string;
    secretAccessKeyEnc: string;
    /** Temporary credentials (ASIA…) also carry a session token. */
    sessionTokenEnc: string | null;
    arn: string;
    account: string;
    userId: string;
    /** The organization whose seeded AWS identity this key logs in as (ready line). */
    orgId: string;
    createdAt: string;
}

export type UnleashTokenKind = "admin" | "admin-pat" | "viewer-pat" | "client";

export interface UnleashTokenRecord {
    id: string;
    kind: UnleashTokenKind;
    tokenEnc: string;
    createdAt: string;
}

export interface UnleashInstanceRecord {
    index: number;
    name: string;
    tokens: UnleashTokenRecord[];
    /** The stored OIDC settings (what GET returns), with `secret` replaced by `secretEnc`; null before the first POST. */
    oidcSettings: Record<string, unknown> | null;
}

export interface IssuerKeyRecord {
    kid: string;
    alg: "RS256";
    privateJwkEnc: string;
    createdAt: string;
}

export interface State {
    schemaVersion: number;
    createdAt: string;
    adminTokenEnc: string;
    issuer: { keys: IssuerKeyRecord[] };
    infisical: {
        /** Instance-wide settings (server admin console). Absent in older states: SMTP verifies. */
        instance?: { smtpVerified: boolean };
        organizations: OrganizationRecord[];
        users: UserRecord[];
        sessions: SessionRecord[];
        identities: IdentityRecord[];
        universalAuths: UniversalAuthRecord[];
        accessTokens: AccessTokenRecord[];
        oidcConfigs: OidcConfigRecord[];
        identityOidcAuths: IdentityOidcAuthRecord[];
        identityKubernetesAuths: IdentityKubernetesAuthRecord[];
        identityAwsAuths: IdentityAwsAuthRecord[];
        authTemplates: AuthTemplateRecord[];
    };
    unleash: { instances: UnleashInstanceRecord[] };
    /** The Kubernetes API server stand-in: who may create TokenReviews, and its default audiences. */
    kubernetes: { authDelegators: string[]; apiAudiences: string[] };
    /** The STS stand-in's access keys. */
    aws: { accessKeys: AwsAccessKeyRecord[] };
    /** Pulumi stack name → the number of the organization and Unleash instance it was given (stack-config). */
    stacks: Record<string, number>;
}

/** Fills what older states (same schema version) lack, so every later read can rely on it. */
export function withDefaults(state: State): State {
    const s = state as State & Partial<Pick<State, "kubernetes" | "aws" | "stacks">>;
    s.infisical.identityKubernetesAuths ??= [];
    s.infisical.identityAwsAuths ??= [];
    s.infisical.authTemplates ??= [];
    s.kubernetes ??= { authDelegators: [], apiAudiences: [] };
    s.aws ??= { accessKeys: [] };
    s.stacks ??= {};
    return s;
}

const LOCK_FILE = "lock";
const lockedHere = new Set<string>();

function isAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (err) {
        return (err as NodeJS.ErrnoException).code === "EPERM";
    }
}

/**
 * One backend per data directory: a `lock` file with the owner's pid. A lock whose process is gone (or that names
 * this process but was not taken by it, e.g. PID 1 after a container restart) is stale and taken over.
 * Returns the function that releases it.
 */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
    const key = path.resolve(dir);
    if (lockedHere.has(key)) throw new Error(`the data directory ${dir} is already used by a backend of this process`);
    const file = path.join(dir, LOCK_FILE);
    for (let attempt = 0; attempt < 2; attempt++) {
        try {
            const handle = await fs.open(file, "wx", 0o600);
            await handle.writeFile(`${process.pid}\n`, "utf8");
            await handle.close();
            lockedHere.add(key);
            return async () => {
                lockedHere.delete(key);
                await fs.rm(file, { force: true });
            };
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
            const owner = Number.parseInt((await fs.readFile(file, "utf8").catch(() => "")).trim(), 10);
            if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
                throw new Error(`the data directory ${dir} is in use by another backend (pid ${owner}); stop it, or use another --data-dir`);
            }
            await fs.rm(file, { force: true }); // stale
        }
    }
    throw new Error(`could not lock the data directory ${dir}`);
}

export class Store {
    readonly dir: string;
    readonly file: string;
    private current: State;
    private queue: Array<{ change: (draft: State) => unknown; resolve: (value: unknown) => void; reject: (err: unknown) => void }> = [];
    private writing: Promise<void> | undefined;
    private writes = 0;

    private constructor(dir: string, state: State) {
        this.dir = dir;
        this.file = path.join(dir, STATE_FILE);
        this.current = state;
    }

    /** Opens the store of a data directory: its saved state, or `init()` (written at once) when there is none. */
    static async open(dir: string, init: () => Promise<State>): Promise<{ store: Store; created: boolean }> {
        const file = path.join(dir, STATE_FILE);
        let text: string | undefined;
        try {
            text = await fs.readFile(file, "utf8");
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
        }
        if (text !== undefined) {
            let state: State;
            try {
                state = JSON.parse(text) as State;
            } catch (err) {
                throw new Error(`${file} is not valid JSON (${(err as Error).message}); move it away to start from a fresh seed`);
            }
            if (state.schemaVersion !== STATE_SCHEMA_VERSION) {
                throw new Error(`${file} has schema version ${String(state.schemaVersion)}, this backend reads ${STATE_SCHEMA_VERSION}`);
            }
            return { store: new Store(dir, withDefaults(state)), created: false };
        }
        const store = new Store(dir, await init());
        await store.persist(store.current);
        return { store, created: true };
    }

    /** The current state. Treat it as read-only: every change goes through {@link update}. */
    get state(): Readonly<State> {
        return this.current;
    }

    /** Number of state files written since the store was opened (tests, diagnostics). */
    get writeCount(): number {
        return this.writes;
    }

    /**
     * Applies a change: `change` gets a private copy of the state, in the order the calls were made; when it returns,
     * the copy is written to disk and becomes the current state, and its return value is the result. When it throws,
     * nothing changes and the error is the result.
     */
    update<T>(change: (draft: State) => T): Promise<T> {
        return new Promise<T>((resolve, reject) => {
            this.queue.push({ change, resolve: resolve as (value: unknown) => void, reject });
            this.startWriting();
        });
    }

    /** Resolves once every change made so far is on disk. */
    async flush(): Promise<void> {
        while (this.writing) await this.writing;
    }

    private startWriting(): void {
        if (this.writing) return;
        this.writing = this.commitQueued().finally(() => {
            this.writing = undefined;
            if (this.queue.length > 0) this.startWriting();
        });
    }

    /** Applies every queued change, in order, to one copy of the state and writes it once. */
    private async commitQueued(): Promise<void> {
        const batch = this.queue.splice(0);
        const failed = new Map<number, unknown>();
        let draft: State;
        let results: unknown[];
        // A change that throws may have half-modified the copy: start again from a clean copy without it.
        restart: for (;;) {
            draft = structuredClone(this.current);
            results = [];
            for (let i = 0; i < batch.length; i++) {
                if (failed.has(i)) continue;
                try {
                    results[i] = batch[i].change(draft);
                } catch (err) {
                    failed.set(i, err);
                    continue restart;
                }
            }
            break;
        }
        try {
            if (failed.size < batch.length) await this.persist(draft);
        } catch (err) {
            batch.forEach((b, i) => b.reject(failed.has(i) ? failed.get(i) : err));
            return;
        }
        this.current = draft;
        batch.forEach((b, i) => (failed.has(i) ? b.reject(failed.get(i)) : b.resolve(results[i])));
    }

    private async persist(state: State): Promise<void> {
        const tmp = `${this.file}.${process.pid}.${Date.now()}.tmp`;
        const handle = await fs.open(tmp, "w", 0o600);
        try {
            await handle.writeFile(`${JSON.stringify(state, null, 2)}\n`, "utf8");
            await handle.sync();
        } finally {
            await handle.close();
        }
        try {
            await fs.rename(tmp, this.file);
        } catch (err) {
            await fs.rm(tmp, { force: true });
            throw err;
        }
        // Make the rename itself durable.
        try {
            const dirHandle = await fs.open(this.dir, "r");
            try {
                await dirHandle.sync();
            } finally {
                await dirHandle.close();
            }
        } catch {
            // Some file systems refuse fsync on directories; the rename is still atomic.
        }
        this.writes++;
    }
}
