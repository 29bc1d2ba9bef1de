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
    /** Whether an issuer or discovery URL (read by {@link issuerLocation}) is this issuer. */
    matches(at: IssuerLocation): boolean;
    /** Issuer forms that already belong to one owner (GitHub Enterprise's per-enterprise issuer, Bitbucket's per-workspace issuer). */
    pinnedByIssuer?(at: IssuerLocation): boolean;
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


export const PUBLIC_ISSUERS: readonly PublicIssuer[] = [
    {
        id: "github-actions",
        name: "GitHub Actions",
        owner: "GitHub owner (user or organization)",
        people: false,
        matches: (u) => u.host === "token.actions.githubusercontent.com",
        // GitHub Enterprise Cloud can issue from https://token.actions.githubusercontent.com/<enterprise>.
        pinnedByIssuer: (u) => u.path !== "",
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
        matches: (u) => u.host === "gitlab.com" && u.path === "",
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
        matches: (u) => u.host === "app.terraform.io" && u.path === "",
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
        matches: (u) => u.host === "agent.buildkite.com" && u.path === "",
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
        pinnedByIssuer: (u) => /^\/2\.0\/workspaces\/[^/]+\/pipelines-config\/identity\/oidc$/.test(u.path),
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
        matches: (u) => u.host === "accounts.google.com" && u.path === "",
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
            ["common", "organizations", "consumers", MICROSOFT_PERSONAL_ACCOUNTS_TENANT].includes(u.segments[0]?.toLowerCase() ?? ""),
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
        matches: (u) => u.host === "appleid.apple.com" && u.path === "",
        subject: whole,
        ownerClaims: { sub: whole, email: emailDomain },
        openOwners: [...PUBLIC_MAIL_DOMAINS, "privaterelay.appleid.com"],
        pinExample: 'boundSubject: "<the account\'s id>"',
    },
];

/**
 * Where an issuer or discovery URL leads: the host and path the server that answers it sees. Look-alike spellings
 * (`…/.well-known/openid-configuration?hl=en`, `…#`, `…/x/../.well-known/./openid-configuration`, `ACCOUNTS.google.com.`,
 * `:443`) fetch the same discovery document, so they must read as the same issuer.
 */
export interface IssuerLocation {
    /** Host name, lower-case, without trailing dots; with ":port" only when not the scheme's default. */
    host: string;
    /**
     * The path after URL resolution of "." and ".." segments, with percent-escapes decoded, empty segments dropped,
     * and without a trailing "/.well-known/openid-configuration": "" for the root, else "/a/b". Query and fragment
     * are ignored (the server answers the same document).
     */
    path: string;
    /** The path's segments. */
    segments: string[];
}

const DISCOVERY_SUFFIX = [".well-known", "openid-configuration"];

/**
 * An issuer or discovery URL as a location, or undefined when it is not an absolute http(s) URL. The URL is parsed
 * with the WHATWG URL parser (Node's `URL`, what the servers' HTTP clients use), which lower-cases the host, drops
 * the default port and resolves "." and ".." segments (also their percent-encoded forms).
 */
export function issuerLocation(value: string): IssuerLocation | undefined {
    let url: URL;
    try {
        url = new URL(value.trim());
    } catch {
        return undefined;
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") return undefined;
    const host = url.hostname.replace(/\.+$/, "") + (url.port !== "" ? `:${url.port}` : "");
    const segments = url.pathname
        .split("/")
        .map((segment) => {
            try {
                return decodeURIComponent(segment);
            } catch {
                return segment;
            }
        })
        .filter((segment) => segment !== "");
    const n = segments.length;
    if (n >= 2 && segments[n - 2].toLowerCase() === DISCOVERY_SUFFIX[0] && segments[n - 1].toLowerCase() === DISCOVERY_SUFFIX[1]) segments.splice(n - 2, 2);
    return { host, path: segments.map((s) => `/${s}`).join(""), segments };
}

/** The public multi-tenant issuer a URL belongs to, if any. */
export function publicIssuerOf(value: string): PublicIssuer | undefined {
    const at = issuerLocation(value);
    return at ? PUBLIC_ISSUERS.find((i) => i.matches(at)) : undefined;
}
