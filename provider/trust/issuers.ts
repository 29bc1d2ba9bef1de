/**
 * Public multi-tenant OIDC issuers: one issuer URL shared by every customer of the service, so that its tokens
 * say *which* customer (owner) they belong to only in their subject or claims. Trusting such an issuer without
 * pinning the owner trusts everyone who has an account there. This list is the one place that knows them; each
 * entry says where its tokens name the owner. docs/trust.md lists them for users.
 *
 * Sources for the token formats: GitHub "About security hardening with OpenID Connect" (sub `repo:<owner>/<repo>:…`,
 * claims repository_owner, repository_owner_id, repository, repository_id, workflow_ref, enterprise; default
 * aud `https://github.com/<owner>`; subject templates customizable per repository, starting with the first chosen
 * claim); GitLab "OpenID Connect (OIDC) Authentication Using ID Tokens" (sub `project_path:<group>/<project>:…`,
 * namespace_path, namespace_id, project_path, project_id; aud chosen by the job); Terraform Cloud "Workload identity"
 * (sub `organization:<org>:project:…`, terraform_organization_name/_id); Buildkite OIDC (sub `organization:<slug>:…`);
 * Bitbucket Pipelines OIDC (issuer per workspace, aud `ari:cloud:bitbucket::workspace/<uuid>`); Google and Microsoft
 * identity platform discovery documents.
 */
import type { OwnerFormat } from "./patterns";

export interface PublicIssuer {
    /** Short id used in messages and docs. */
    id: string;
    name: string;
    /** Who the owners are, in the service's words (for messages). */
    owner: string;
    /** Whether people sign in through it (SSO); the others issue tokens to workloads (CI jobs, runs). */
    people: boolean;
    /** Whether a URL (issuer or discovery URL, normalized: lower-case host, no trailing slash) is this issuer. */
    matches(url: URL): boolean;
    /** Issuer forms that already belong to one owner (GitHub Enterprise's per-enterprise issuer, Bitbucket's per-workspace issuer). */
    pinnedByIssuer?(url: URL): boolean;
    /** Where the subject names the owner (any of these). */
    subject: OwnerFormat[];
    /** Claims that name the owner, and where in their value. */
    ownerClaims: Record<string, OwnerFormat[]>;
    /** Owner values that anyone can have (a public mailbox domain, the tenant all personal accounts share). */
    openOwners?: readonly string[];
    /** The audience its tokens carry by default names the owner (so an unbound audience list accepts tokens minted for anyone). */
    perOwnerAudience?: string;
    /** How to pin the owner, for the fix text. */
    pinExample: string;
}

const whole: OwnerFormat[] = [{ prefix: "", end: "" }];
const firstSegment: OwnerFormat[] = [{ prefix: "", end: "/" }];
const emailDomain: OwnerFormat[] = [{ after: "@" }];

/** Mailbox providers anyone can get an address at: an e-mail domain restriction to one of them restricts nothing. */
export const PUBLIC_MAIL_DOMAINS: readonly string[] = [
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "yahoo.com", "icloud.com",
    "me.com", "proton.me", "protonmail.com", "aol.com", "gmx.com", "mail.com", "yandex.com",
];

/** The Entra ID tenant every personal Microsoft account belongs to. */
const MICROSOFT_PERSONAL_ACCOUNTS_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad";

const path = (url: URL) => url.pathname.replace(/\/+$/, "");

export const PUBLIC_ISSUERS: readonly PublicIssuer[] = [
    {
        id: "github-actions",
        name: "GitHub Actions",
        owner: "GitHub owner (user or organization)",
        people: false,
        matches: (u) => u.host === "token.actions.githubusercontent.com",
        // GitHub Enterprise Cloud can issue from https://token.actions.githubusercontent.com/<enterprise>.
        pinnedByIssuer: (u) => path(u) !== "",
        subject: [
            { prefix: "repo:", end: "/" },
            { prefix: "repository_owner:", end: ":" },
            { prefix: "repository_owner_id:", end: ":" },
            { prefix: "repository_id:", end: ":" },
            // Not job_workflow_ref: it names the *reusable* workflow, which any repository may call when it is public.
        ],
        ownerClaims: {
            repository_owner: whole,
            repository_owner_id: whole,
            repository: firstSegment,
            repository_id: whole,
            workflow_ref: firstSegment, // the caller's own workflow (job_workflow_ref is the called one: see above)
            enterprise: whole,
            enterprise_id: whole,
        },
        perOwnerAudience: "https://github.com/<owner>",
        pinExample: 'boundSubject: "repo:<owner>/<repo>:ref:refs/heads/main", or boundClaims: {repository_owner: "<owner>"}',
    },
    {
        id: "gitlab-com",
        name: "GitLab.com",
        owner: "GitLab.com top-level group or user namespace",
        people: true,
        matches: (u) => u.host === "gitlab.com" && path(u) === "",
        subject: [{ prefix: "project_path:", end: "/" }],
        ownerClaims: {
            namespace_path: firstSegment,
            namespace_id: whole,
            project_path: firstSegment,
            project_id: whole,
            // Not ci_config_ref_uri: a project may run its pipeline from a CI file kept in another group's project.
        },
        pinExample: 'boundSubject: "project_path:<group>/<project>:ref_type:branch:ref:main", or boundClaims: {namespace_path: "<group>"}',
    },
    {
        id: "terraform-cloud",
        name: "HCP Terraform (Terraform Cloud)",
        owner: "Terraform Cloud organization",
        people: false,
        matches: (u) => u.host === "app.terraform.io" && path(u) === "",
        subject: [{ prefix: "organization:", end: ":" }],
        ownerClaims: {
            terraform_organization_name: whole,
            terraform_organization_id: whole,
            terraform_project_id: whole,
            terraform_workspace_id: whole,
        },
        pinExample: 'boundSubject: "organization:<org>:project:<project>:workspace:<workspace>:run_phase:*", or boundClaims: {terraform_organization_name: "<org>"}',
    },
    {
        id: "buildkite",
        name: "Buildkite",
        owner: "Buildkite organization",
        people: false,
        matches: (u) => u.host === "agent.buildkite.com" && path(u) === "",
        subject: [{ prefix: "organization:", end: ":" }],
        ownerClaims: { organization_slug: whole, organization_id: whole },
        pinExample: 'boundSubject: "organization:<org>:pipeline:<pipeline>:*", or boundClaims: {organization_slug: "<org>"}',
    },
    {
        id: "bitbucket-pipelines",
        name: "Bitbucket Pipelines",
        owner: "Bitbucket workspace",
        people: false,
        matches: (u) => u.host === "api.bitbucket.org",
        // The documented issuer names the workspace: https://api.bitbucket.org/2.0/workspaces/<workspace>/pipelines-config/identity/oidc
        pinnedByIssuer: (u) => /^\/2\.0\/workspaces\/[^/]+\/pipelines-config\/identity\/oidc$/.test(path(u)),
        subject: [],
        ownerClaims: { workspaceUuid: whole, repositoryUuid: whole },
        perOwnerAudience: "ari:cloud:bitbucket::workspace/<workspace-uuid>",
        pinExample: "boundIssuer: the workspace's issuer (https://api.bitbucket.org/2.0/workspaces/<workspace>/pipelines-config/identity/oidc)",
    },
    {
        id: "google",
        name: "Google",
        owner: "Google account or Workspace domain",
        people: true,
        matches: (u) => u.host === "accounts.google.com" && path(u) === "",
        subject: whole, // the account's unique numeric id
        ownerClaims: { sub: whole, email: emailDomain, hd: whole },
        openOwners: PUBLIC_MAIL_DOMAINS,
        pinExample: 'boundSubject: "<the account\'s numeric id>", or boundClaims: {hd: "<your Workspace domain>"}',
    },
    {
        id: "microsoft-multitenant",
        name: "Microsoft Entra ID multi-tenant endpoint",
        owner: "Microsoft Entra tenant or personal Microsoft account",
        people: true,
        // common, organizations, consumers, and the tenant id every personal account shares.
        matches: (u) =>
            ["login.microsoftonline.com", "login.windows.net", "sts.windows.net"].includes(u.host) &&
            ["common", "organizations", "consumers", MICROSOFT_PERSONAL_ACCOUNTS_TENANT].includes(path(u).split("/")[1]?.toLowerCase() ?? ""),
        subject: whole,
        // Not email: in multi-tenant Entra ID it is set by each tenant's admins, unverified (the "nOAuth" problem).
        ownerClaims: { oid: whole, tid: whole },
        openOwners: [MICROSOFT_PERSONAL_ACCOUNTS_TENANT],
        pinExample: "the tenant's own endpoint (https://login.microsoftonline.com/<tenant-id>/v2.0)",
    },
    {
        id: "apple",
        name: "Sign in with Apple",
        owner: "Apple Account",
        people: true,
        matches: (u) => u.host === "appleid.apple.com" && path(u) === "",
        subject: whole,
        ownerClaims: { sub: whole, email: emailDomain },
        openOwners: [...PUBLIC_MAIL_DOMAINS, "privaterelay.appleid.com"],
        pinExample: 'boundSubject: "<the account\'s id>"',
    },
];

/** The URL an issuer or discovery URL stands for, or undefined when it is not an absolute URL. */
export function issuerUrl(value: string): URL | undefined {
    const text = value.trim().replace(/\/\.well-known\/openid-configuration\/?$/i, "");
    try {
        const url = new URL(text);
        return url.protocol === "https:" || url.protocol === "http:" ? url : undefined;
    } catch {
        return undefined;
    }
}

/** The public multi-tenant issuer a URL belongs to, if any. */
export function publicIssuerOf(value: string): PublicIssuer | undefined {
    const url = issuerUrl(value);
    return url ? PUBLIC_ISSUERS.find((i) => i.matches(url)) : undefined;
}
