/**
 * Trust rules (provider/trust): each rule with risky and safe configurations, in both shapes the rules receive
 * (raw inputs with defaults, and normalized state outputs), preview-time unknowns, and glob subtleties. Where a case
 * is about a glob, picomatch (the matcher Infisical uses for bound subjects and claims) confirms that the risky
 * pattern really accepts a stranger's token and that the safe one really refuses it.
 */
import * as fs from "fs";
import * as path from "path";
import picomatch from "picomatch";
import { ownerReach, PUBLIC_ISSUERS, publicIssuerOf, TRUST_RULE_IDS, TRUST_RULES, trustFindings } from "../../provider/trust";

const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const GITHUB = "https://token.actions.githubusercontent.com";
const GITLAB = "https://gitlab.com";
const TFC = "https://app.terraform.io";
const MS = "https://login.microsoftonline.com";

/** An identity that passes every rule; each case changes what it is about. */
function identity(overrides: Record<string, unknown>): Record<string, unknown> {
    return {
        identityId: "id-1",
        oidcDiscoveryUrl: GITHUB,
        boundIssuer: GITHUB,
        boundAudiences: "https://github.com/acme",
        boundSubject: "repo:acme/infra:ref:refs/heads/main",
        boundClaims: {},
        accessTokenTrustedIps: ["10.0.0.0/8"],
        accessTokenTTL: 3600,
        accessTokenMaxTTL: 7200,
        accessTokenNumUsesLimit: 0,
        ...overrides,
    };
}

const ids = (kind: string, settings: Record<string, unknown>) => trustFindings(kind, settings).map((f) => f.ruleId).sort();

describe("IdentityOidcAuth: public issuer with the owner not pinned (error) or pinned to several owners (warning)", () => {
    // [case, overrides, expected rule ids, a subject of another owner that Infisical's matcher accepts (risky) or refuses (safe)]
    const cases: Array<[string, Record<string, unknown>, string[], { stranger: string; accepted: boolean }?]> = [
        ["GitHub, empty subject, no claims", { boundSubject: "" }, ["identity-public-issuer-unpinned"]],
        // "*" never crosses "/", so it misses every default subject, but a stranger's custom subject template has no "/".
        ["GitHub, subject *", { boundSubject: "*" }, ["identity-public-issuer-unpinned"], { stranger: "repository_owner_id:999:repository_id:4242", accepted: true }],
        ["GitHub, owner wildcard repo:*/infra:*", { boundSubject: "repo:*/infra:*" }, ["identity-public-issuer-unpinned"], { stranger: "repo:evil/infra:pull_request", accepted: true }],
        ["GitHub, repo:*/acme (the repo is named, not the owner)", { boundSubject: "repo:*/acme" }, ["identity-public-issuer-unpinned"], { stranger: "repo:evil/acme", accepted: true }],
        ["GitHub, repo:acme/* pins the owner", { boundSubject: "repo:acme/*" }, [], { stranger: "repo:evil/acme", accepted: false }],
        ["GitHub, repo:acme/** pins the owner", { boundSubject: "repo:acme/**" }, [], { stranger: "repo:evil/acme:ref:refs/heads/main", accepted: false }],
        ["GitHub, exact subject", {}, [], { stranger: "repo:evil/infra:ref:refs/heads/main", accepted: false }],
        ["GitHub, owner prefix acme* (anyone can register acme-evil)", { boundSubject: "repo:acme*/infra:*" }, ["identity-public-issuer-unpinned"], { stranger: "repo:acme-evil/infra:pull_request", accepted: true }],
        ["GitHub, owner ? wildcard", { boundSubject: "repo:acm?/infra:*" }, ["identity-public-issuer-unpinned"], { stranger: "repo:acmx/infra:pull_request", accepted: true }],
        ["GitHub, owner character class", { boundSubject: "repo:[a-z]cme/*" }, ["identity-public-issuer-unpinned"], { stranger: "repo:zcme/x", accepted: true }],
        ["GitHub, owner +(…) extglob", { boundSubject: "repo:+(a)cme/*" }, ["identity-public-issuer-unpinned"], { stranger: "repo:aaacme/x", accepted: true }],
        ["GitHub, negated pattern", { boundSubject: "!repo:beta/*" }, ["identity-public-issuer-unpinned"], { stranger: "repo:evil/x", accepted: true }],
        ["GitHub, leading wildcard before the owner", { boundSubject: "*/infra:pull_request" }, ["identity-public-issuer-unpinned"], { stranger: "repo:evil/infra:pull_request", accepted: true }],
        ["GitHub, subject of a claim strangers can choose (environment)", { boundSubject: "environment:prod" }, ["identity-public-issuer-unpinned"], { stranger: "environment:prod", accepted: true }],
        ["GitHub, escaped star is a literal owner", { boundSubject: "repo:acme\\*/x" }, [], { stranger: "repo:acmex/x", accepted: false }],
        ["GitHub, brace list of two owners", { boundSubject: "repo:{acme,beta}/*" }, ["identity-subject-multiple-owners"], { stranger: "repo:evil/x", accepted: false }],
        ["GitHub, @(…) list of two owners", { boundSubject: "repo:@(acme|beta)/**" }, ["identity-subject-multiple-owners"], { stranger: "repo:evil/x", accepted: false }],
        ["GitHub, brace list of one owner and a wildcard", { boundSubject: "repo:{acme,*}/x" }, ["identity-public-issuer-unpinned"], { stranger: "repo:evil/x", accepted: true }],
        ["GitHub, brace list inside the repo part stays one owner", { boundSubject: "repo:acme/{infra,app}:*" }, [], { stranger: "repo:evil/infra:pull_request", accepted: false }],
        ["GitHub, numeric range in the owner", { boundSubject: "repo:acme{1..3}/x" }, ["identity-public-issuer-unpinned"]],
        ["GitHub, custom subject template keyed by owner id", { boundSubject: "repository_owner_id:1234:*" }, [], { stranger: "repository_owner_id:999:x", accepted: false }],
        ["GitHub, custom template keyed by owner id, owner id wildcard", { boundSubject: "repository_owner_id:12*" }, ["identity-public-issuer-unpinned"], { stranger: "repository_owner_id:1299", accepted: true }],
        ["GitHub, empty subject, owner claim", { boundSubject: "", boundClaims: { repository_owner: "acme" } }, []],
        ["GitHub, empty subject, owner id claim (output shape)", { boundSubject: "", boundClaims: { repository_owner_id: "1234" } }, []],
        ["GitHub, empty subject, repository claim acme/*", { boundSubject: "", boundClaims: { repository: "acme/*" } }, []],
        ["GitHub, empty subject, repository claim */acme", { boundSubject: "", boundClaims: { repository: "*/acme" } }, ["identity-public-issuer-unpinned"], { stranger: "evil/acme", accepted: true }],
        ["GitHub, owner claim with a glob value", { boundSubject: "", boundClaims: { repository_owner: "acme*" } }, ["identity-public-issuer-unpinned"], { stranger: "acme-evil", accepted: true }],
        ["GitHub, owner claim with one wildcard entry among literals", { boundSubject: "", boundClaims: { repository_owner: ["acme", "*"] } }, ["identity-public-issuer-unpinned"]],
        ["GitHub, owner claim listing two owners (input list)", { boundSubject: "", boundClaims: { repository_owner: ["acme", "beta"] } }, ["identity-subject-multiple-owners"]],
        ["GitHub, owner claim listing two owners (stored \"a,b\")", { boundSubject: "", boundClaims: { repository_owner: "acme,beta" } }, ["identity-subject-multiple-owners"]],
        ["GitHub, a claim that names no owner does not pin", { boundSubject: "", boundClaims: { ref: "refs/heads/main", environment: "prod" } }, ["identity-public-issuer-unpinned"]],
        ["GitHub, open subject but owner claim pins", { boundSubject: "repo:*/infra:*", boundClaims: { repository_owner: "acme" } }, []],
        ["GitHub, two owners in the subject but one in a claim: the narrower wins", { boundSubject: "repo:{acme,beta}/*", boundClaims: { repository_owner: "acme" } }, []],
        ["GitHub, sub given as a claim", { boundSubject: "", boundClaims: { sub: "repo:acme/infra:*" } }, []],
        ["GitHub, job_workflow_ref names the called reusable workflow, not the caller", { boundSubject: "", boundClaims: { job_workflow_ref: "acme/workflows/.github/workflows/deploy.yml@refs/heads/main" } }, ["identity-public-issuer-unpinned"]],
        ["GitHub, workflow_ref names the caller's own workflow", { boundSubject: "", boundClaims: { workflow_ref: "acme/infra/.github/workflows/deploy.yml@refs/heads/main" } }, []],
        ["GitHub Enterprise issuer names the enterprise", { boundIssuer: `${GITHUB}/acme-enterprise`, oidcDiscoveryUrl: `${GITHUB}/acme-enterprise`, boundSubject: "", boundAudiences: "" }, []],
        ["GitHub issuer with a trailing slash and upper-case host", { boundIssuer: "https://TOKEN.actions.githubusercontent.com/", boundSubject: "" }, ["identity-public-issuer-unpinned"]],
        ["GitLab.com, project_path:*/…", { boundIssuer: GITLAB, oidcDiscoveryUrl: GITLAB, boundAudiences: "", boundSubject: "project_path:*/infra:ref_type:branch:ref:main" }, ["identity-public-issuer-unpinned"], { stranger: "project_path:evil/infra:ref_type:branch:ref:main", accepted: true }],
        ["GitLab.com, group pinned (subgroups allowed)", { boundIssuer: GITLAB, oidcDiscoveryUrl: GITLAB, boundAudiences: "", boundSubject: "project_path:acme/**" }, [], { stranger: "project_path:evil/acme/x:ref_type:branch:ref:main", accepted: false }],
        ["GitLab.com, namespace_path claim pins", { boundIssuer: GITLAB, oidcDiscoveryUrl: GITLAB, boundAudiences: "", boundSubject: "", boundClaims: { namespace_path: "acme" } }, []],
        ["GitLab.com, namespace_path glob acme/* pins the top-level group", { boundIssuer: GITLAB, oidcDiscoveryUrl: GITLAB, boundAudiences: "", boundSubject: "", boundClaims: { namespace_path: "acme/*" } }, []],
        ["GitLab.com, project_path claim */infra", { boundIssuer: GITLAB, oidcDiscoveryUrl: GITLAB, boundAudiences: "", boundSubject: "", boundClaims: { project_path: "*/infra" } }, ["identity-public-issuer-unpinned"]],
        ["Terraform Cloud, organization wildcard", { boundIssuer: TFC, oidcDiscoveryUrl: TFC, boundAudiences: "", boundSubject: "organization:*:project:*:workspace:prod:run_phase:*" }, ["identity-public-issuer-unpinned"], { stranger: "organization:evil:project:p:workspace:prod:run_phase:apply", accepted: true }],
        ["Terraform Cloud, organization pinned", { boundIssuer: TFC, oidcDiscoveryUrl: TFC, boundAudiences: "", boundSubject: "organization:acme:project:*:workspace:*:run_phase:*" }, [], { stranger: "organization:evil:project:p:workspace:w:run_phase:apply", accepted: false }],
        ["Google, a literal subject is one account", { boundIssuer: "https://accounts.google.com", oidcDiscoveryUrl: "https://accounts.google.com", boundAudiences: "", boundSubject: "112233445566778899" }, []],
        ["Google, email claim at gmail.com is anyone", { boundIssuer: "https://accounts.google.com", oidcDiscoveryUrl: "https://accounts.google.com", boundAudiences: "", boundSubject: "", boundClaims: { email: "*@gmail.com" } }, ["identity-public-issuer-unpinned"]],
        ["Google, email claim at the company's domain pins", { boundIssuer: "https://accounts.google.com", oidcDiscoveryUrl: "https://accounts.google.com", boundAudiences: "", boundSubject: "", boundClaims: { email: "*@acme.com" } }, []],
        // #22.7: one exact address is one account, even at a public mailbox domain.
        ["Google, one exact gmail.com address pins that account", { boundIssuer: "https://accounts.google.com", oidcDiscoveryUrl: "https://accounts.google.com", boundAudiences: "", boundSubject: "", boundClaims: { email: "deploy-bot@gmail.com" } }, [], { stranger: "evil@gmail.com", accepted: false }],
        ["Google, two exact gmail.com addresses are two owners", { boundIssuer: "https://accounts.google.com", oidcDiscoveryUrl: "https://accounts.google.com", boundAudiences: "", boundSubject: "", boundClaims: { email: ["deploy-bot@gmail.com", "ci-bot@gmail.com"] } }, ["identity-subject-multiple-owners"]],
        ["Google, a wildcard gmail.com address is anyone", { boundIssuer: "https://accounts.google.com", oidcDiscoveryUrl: "https://accounts.google.com", boundAudiences: "", boundSubject: "", boundClaims: { email: "deploy-bot*@gmail.com" } }, ["identity-public-issuer-unpinned"], { stranger: "deploy-bot-evil@gmail.com", accepted: true }],
        // #22.1: picomatch compiles these "|" as "or".
        ["GitHub, subject a|* (picomatch: or)", { boundSubject: "repo:acme/infra:ref:refs/heads/main|*" }, ["identity-public-issuer-unpinned"], { stranger: "repository_owner_id:999:repository_id:4242", accepted: true }],
        ["GitHub, subject a|repo:*/** (picomatch: or)", { boundSubject: "repo:acme/infra:ref:refs/heads/main|repo:*/**" }, ["identity-public-issuer-unpinned"], { stranger: "repo:evil/x:ref:refs/heads/main", accepted: true }],
        ["GitHub, repository claim acme/infra|*/infra (picomatch: or)", { boundSubject: "", boundClaims: { repository: "acme/infra|*/infra" } }, ["identity-public-issuer-unpinned"], { stranger: "evil/infra", accepted: true }],
        ["Google, email claim *@gmail.com|*@acme.com (picomatch: or)", { boundIssuer: "https://accounts.google.com", oidcDiscoveryUrl: "https://accounts.google.com", boundAudiences: "", boundSubject: "", boundClaims: { email: "*@gmail.com|*@acme.com" } }, ["identity-public-issuer-unpinned"], { stranger: "anyone@gmail.com", accepted: true }],
        ["GitHub, two pinned alternatives with | are two owners", { boundSubject: "repo:acme/infra:*|repo:beta/infra:*" }, ["identity-subject-multiple-owners"], { stranger: "repo:evil/infra:x", accepted: false }],
        ["GitLab.com, ci_config_ref_uri names where the CI file lives, not the project running it", { boundIssuer: GITLAB, oidcDiscoveryUrl: GITLAB, boundAudiences: "", boundSubject: "", boundClaims: { ci_config_ref_uri: "gitlab.com/acme/ci//pipeline.yml@refs/heads/main" } }, ["identity-public-issuer-unpinned"]],
        ["Microsoft personal-accounts tenant, tid of that tenant is anyone", { boundIssuer: `${MS}/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0`, oidcDiscoveryUrl: `${MS}/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0`, boundAudiences: "", boundSubject: "", boundClaims: { tid: "9188040d-6c67-4c5b-b112-36a304b66dad" } }, ["identity-public-issuer-unpinned"]],
        ["Microsoft personal-accounts tenant, an email domain does not pin (tenants set it)", { boundIssuer: `${MS}/consumers/v2.0`, oidcDiscoveryUrl: `${MS}/consumers/v2.0`, boundAudiences: "", boundSubject: "", boundClaims: { email: "*@acme.com" } }, ["identity-public-issuer-unpinned"]],
        ["Microsoft, an object id pins one account", { boundIssuer: `${MS}/consumers/v2.0`, oidcDiscoveryUrl: `${MS}/consumers/v2.0`, boundAudiences: "", boundSubject: "", boundClaims: { oid: "00000000-0000-0000-1111-222233334444" } }, []],
        ["Microsoft tenant issuer is one tenant", { boundIssuer: `${MS}/0b4c5f5e-1111-2222-3333-444455556666/v2.0`, oidcDiscoveryUrl: `${MS}/0b4c5f5e-1111-2222-3333-444455556666/v2.0`, boundAudiences: "", boundSubject: "" }, []],
        ["Bitbucket, per-workspace issuer pins", { boundIssuer: "https://api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc", oidcDiscoveryUrl: "https://api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc", boundAudiences: "", boundSubject: "" }, []],
        ["Private issuer: no opinion about subjects", { boundIssuer: "https://issuer.example.com", oidcDiscoveryUrl: "https://issuer.example.com", boundAudiences: "", boundSubject: "" }, []],
        ["Self-managed GitLab is not gitlab.com", { boundIssuer: "https://gitlab.example.com", oidcDiscoveryUrl: "https://gitlab.example.com", boundAudiences: "", boundSubject: "" }, []],
        ["Unknown subject at preview: no finding about it", { boundSubject: UNKNOWN }, []],
        ["Unknown claim value at preview: no finding about it", { boundSubject: "", boundClaims: { repository_owner: UNKNOWN } }, []],
        ["Unknown issuer at preview: no finding", { boundIssuer: UNKNOWN, oidcDiscoveryUrl: UNKNOWN, boundSubject: "" }, []],
        ["Empty issuer read back (live): the discovery URL decides", { boundIssuer: "", boundSubject: "" }, ["identity-public-issuer-unpinned"]],
    ];

    // Every row with four members: jest passes a done callback in place of a missing one.
    test.each(cases.map(([name, overrides, expected, probe]) => [name, overrides, expected, probe ?? null] as const))("%s", (_name, overrides, expected, probe) => {
        expect(ids("IdentityOidcAuth", identity(overrides))).toEqual(expected);
        if (probe) {
            const subject = (overrides.boundSubject as string) || undefined;
            const claimValues = Object.values((overrides.boundClaims as Record<string, string | string[]>) ?? {}).flat().flatMap((v) => v.split(","));
            const patterns = subject ? [subject] : claimValues;
            // Infisical: exact comparison, else picomatch.isMatch(value, pattern).
            const accepted = patterns.some((p) => p === probe.stranger || picomatch.isMatch(probe.stranger, p));
            expect(accepted).toBe(probe.accepted);
        }
    });

    test("the error names the field, the issuer, why, and how to pin; the docs anchor is the rule id", () => {
        const [f] = trustFindings("IdentityOidcAuth", identity({ boundSubject: "repo:*/infra:*" }));
        expect(f).toMatchObject({ ruleId: "identity-public-issuer-unpinned", severity: "error", property: "boundSubject", docs: "docs/trust.md#identity-public-issuer-unpinned" });
        expect(f.reason).toContain("GitHub Actions");
        expect(f.reason).toContain('"repo:*/infra:*" leaves the owner part open');
        expect(f.fix).toContain("repo:<owner>/<repo>");
        expect(f.reason).not.toMatch(/\.$/);
        expect(f.fix).not.toMatch(/\.$/);
    });

    test("the multiple-owners warning lists the owners", () => {
        const [f] = trustFindings("IdentityOidcAuth", identity({ boundSubject: "repo:{Acme,beta}/*" }));
        expect(f).toMatchObject({ ruleId: "identity-subject-multiple-owners", severity: "warning" });
        expect(f.reason).toContain("(acme, beta)");
    });
});

describe("IdentityOidcAuth: audiences and token reach (warnings)", () => {
    const cases: Array<[string, Record<string, unknown>, string[]]> = [
        ["GitHub, empty audiences", { boundAudiences: "" }, ["identity-audience-unbound"]],
        ["GitHub, empty audience list (input)", { boundAudiences: [] }, ["identity-audience-unbound"]],
        ["GitHub, wildcard audience", { boundAudiences: ["https://github.com/*"] }, ["identity-audience-unbound"]],
        ["GitHub, owner audience", { boundAudiences: ["https://github.com/acme"] }, []],
        ["GitHub, dedicated audience", { boundAudiences: "https://infisical.example.com" }, []],
        ["GitLab.com tokens carry the audience the job asks for: not this rule", { boundIssuer: GITLAB, oidcDiscoveryUrl: GITLAB, boundAudiences: "", boundSubject: "project_path:acme/infra:*" }, []],
        ["Unknown audiences at preview", { boundAudiences: UNKNOWN }, []],
        ["anywhere + default 30-day TTL", { accessTokenTrustedIps: ["0.0.0.0/0", "::/0"], accessTokenTTL: 2592000, accessTokenMaxTTL: 2592000 }, ["identity-token-anywhere-long-ttl"]],
        ["anywhere (IPv6 only) + 2 days", { accessTokenTrustedIps: ["::/0"], accessTokenTTL: 3600, accessTokenMaxTTL: 172800 }, ["identity-token-anywhere-long-ttl"]],
        ["anywhere as the API returns it ({ipAddress, type, prefix})", { accessTokenTrustedIps: [{ ipAddress: "0.0.0.0", type: "ipv4", prefix: 0 }], accessTokenTTL: 2592000, accessTokenMaxTTL: 2592000 }, ["identity-token-anywhere-long-ttl"]],
        ["anywhere + TTL 0 (no expiry)", { accessTokenTrustedIps: ["0.0.0.0/0"], accessTokenTTL: 0, accessTokenMaxTTL: 0 }, ["identity-token-anywhere-long-ttl"]],
        // Infisical reads an entry without a prefix as one address (lib/ip extractIPDetails → BlockList.addAddress),
        // and any address with prefix 0 as everything (BlockList.addSubnet(addr, 0)).
        ["0.0.0.0 alone is one address, not anywhere", { accessTokenTrustedIps: ["0.0.0.0"], accessTokenTTL: 2592000, accessTokenMaxTTL: 2592000 }, []],
        ["0.0.0.0/32 (normalized form of 0.0.0.0) is one address", { accessTokenTrustedIps: ["0.0.0.0/32"], accessTokenTTL: 2592000, accessTokenMaxTTL: 2592000 }, []],
        ["{ipAddress: 0.0.0.0} without a prefix (API shape) is one address", { accessTokenTrustedIps: [{ ipAddress: "0.0.0.0", type: "ipv4" }], accessTokenTTL: 2592000, accessTokenMaxTTL: 2592000 }, []],
        ["any address with prefix 0 is anywhere", { accessTokenTrustedIps: ["10.0.0.0/0"], accessTokenTTL: 2592000, accessTokenMaxTTL: 2592000 }, ["identity-token-anywhere-long-ttl"]],
        ["IPv6 with prefix 0 as the API returns it", { accessTokenTrustedIps: [{ ipAddress: "2001:db8::", type: "ipv6", prefix: 0 }], accessTokenTTL: 2592000, accessTokenMaxTTL: 2592000 }, ["identity-token-anywhere-long-ttl"]],
        ["anywhere + one hour, renewable to two", { accessTokenTrustedIps: ["0.0.0.0/0", "::/0"], accessTokenTTL: 3600, accessTokenMaxTTL: 7200 }, []],
        ["restricted IPs + 30 days", { accessTokenTrustedIps: [{ ipAddress: "10.0.0.0/8" }], accessTokenTTL: 2592000, accessTokenMaxTTL: 2592000 }, []],
        ["unknown TTL at preview", { accessTokenTrustedIps: ["0.0.0.0/0"], accessTokenTTL: UNKNOWN }, []],
    ];
    test.each(cases)("%s", (_name, overrides, expected) => {
        expect(ids("IdentityOidcAuth", identity(overrides))).toEqual(expected);
    });
});

describe("OidcSsoConfig: multi-tenant identity provider without allowed email domains (error)", () => {
    const sso = (o: Record<string, unknown>) => ({
        organizationId: "org-1",
        configurationType: "discoveryURL",
        discoveryURL: "https://accounts.google.com/.well-known/openid-configuration",
        issuer: "",
        clientId: "c",
        isActive: true,
        allowedEmailDomains: "",
        ...o,
    });
    const cases: Array<[string, Record<string, unknown>, string[]]> = [
        ["Google discovery URL, no domains", {}, ["sso-multitenant-no-email-domains"]],
        ["Google, a company domain", { allowedEmailDomains: ["example.com"] }, []],
        ["Google, gmail.com allowed (anyone)", { allowedEmailDomains: "example.com,gmail.com" }, ["sso-multitenant-no-email-domains"]],
        ["Microsoft common endpoint", { discoveryURL: "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration" }, ["sso-multitenant-no-email-domains"]],
        ["Microsoft organizations endpoint", { discoveryURL: "https://login.microsoftonline.com/organizations/v2.0/.well-known/openid-configuration" }, ["sso-multitenant-no-email-domains"]],
        ["Microsoft tenant endpoint", { discoveryURL: "https://login.microsoftonline.com/0b4c5f5e-1111-2222-3333-444455556666/v2.0/.well-known/openid-configuration" }, []],
        ["GitLab.com as the identity provider, custom configuration", { configurationType: "custom", discoveryURL: "", issuer: "https://gitlab.com" }, ["sso-multitenant-no-email-domains"]],
        ["Okta (single tenant)", { discoveryURL: "https://acme.okta.com/.well-known/openid-configuration" }, []],
        ["inactive configuration", { isActive: false }, []],
        ["unknown domains at preview", { allowedEmailDomains: UNKNOWN }, []],
        ["unknown discovery URL at preview", { discoveryURL: UNKNOWN }, []],
    ];
    test.each(cases)("%s", (_name, overrides, expected) => {
        expect(ids("OidcSsoConfig", sso(overrides))).toEqual(expected);
    });
});

describe("UnleashOidcSettings: auto-create (error on a multi-tenant provider without domains, warning as Admin)", () => {
    const unleash = (o: Record<string, unknown>) => ({
        enabled: true,
        discoverUrl: "https://accounts.google.com/.well-known/openid-configuration",
        clientId: "c",
        autoCreate: true,
        emailDomains: "",
        defaultRootRole: "Viewer",
        ...o,
    });
    const cases: Array<[string, Record<string, unknown>, string[]]> = [
        ["Google, auto-create, no domains", {}, ["unleash-autocreate-multitenant-no-email-domains"]],
        ["Google, auto-create, company domain", { emailDomains: ["example.com"] }, []],
        ["Google, no auto-create", { autoCreate: false }, []],
        ["disabled", { enabled: false }, []],
        ["private identity provider, no domains", { discoverUrl: "https://sso.example.com/.well-known/openid-configuration" }, []],
        ["Admin by name", { emailDomains: "example.com", defaultRootRole: "Admin" }, ["unleash-autocreate-admin"]],
        ["Admin by role id (the id wins over the name)", { emailDomains: "example.com", defaultRootRole: "Viewer", defaultRootRoleId: 1 }, ["unleash-autocreate-admin"]],
        ["Admin by name but the id says Viewer", { emailDomains: "example.com", defaultRootRole: "Admin", defaultRootRoleId: 3 }, []],
        ["both: multi-tenant without domains, as Admin", { defaultRootRole: "Admin" }, ["unleash-autocreate-admin", "unleash-autocreate-multitenant-no-email-domains"]],
        ["Admin without auto-create", { autoCreate: false, defaultRootRole: "Admin" }, []],
        ["unknown autoCreate at preview", { autoCreate: UNKNOWN, defaultRootRole: "Admin" }, []],
        ["unknown role at preview", { emailDomains: "example.com", defaultRootRole: UNKNOWN }, []],
    ];
    test.each(cases)("%s", (_name, overrides, expected) => {
        expect(ids("UnleashOidcSettings", unleash(overrides))).toEqual(expected);
    });

    test("the Admin warning names the field that decides", () => {
        const [f] = trustFindings("UnleashOidcSettings", unleash({ emailDomains: "example.com", defaultRootRoleId: 1 }));
        expect(f).toMatchObject({ ruleId: "unleash-autocreate-admin", severity: "warning", property: "defaultRootRoleId" });
    });
});

describe("rules, issuers and docs", () => {
    test("rule ids are unique, and every rule has a docs section with that anchor", () => {
        expect(new Set(TRUST_RULE_IDS).size).toBe(TRUST_RULE_IDS.length);
        const doc = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "trust.md"), "utf8");
        for (const rule of TRUST_RULES) {
            expect(doc).toMatch(new RegExp(`^### ${rule.id}$`, "m"));
            const section = doc.split(`### ${rule.id}\n`)[1].split(/\n### /)[0];
            expect(section).toMatch(/What an attacker can do/);
            expect(section).toMatch(/How to fix/);
            expect(section).toContain(`acceptRisks: ["${rule.id}"]`);
        }
    });

    test("the docs' table of rules is TRUST_RULES: same ids, order, severities and resources", () => {
        const doc = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "trust.md"), "utf8");
        const rows = [...doc.matchAll(/^\| \[([a-z-]+)\]\(#([a-z-]+)\) \| (error|warning) \| `(\w+)` \|$/gm)].map((m) => ({ id: m[1], anchor: m[2], severity: m[3], kind: m[4] }));
        expect(rows).toEqual(TRUST_RULES.map((r) => ({ id: r.id, anchor: r.id, severity: r.severity, kind: r.kind })));
    });

    test("every public issuer is listed in the docs", () => {
        const doc = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "trust.md"), "utf8");
        for (const issuer of PUBLIC_ISSUERS) expect(doc).toContain(issuer.name);
    });

    test("issuer recognition: discovery URLs, trailing slashes, host case; look-alikes are not the issuer", () => {
        expect(publicIssuerOf("https://accounts.google.com/.well-known/openid-configuration")?.id).toBe("google");
        expect(publicIssuerOf("https://GitLab.com/")?.id).toBe("gitlab-com");
        expect(publicIssuerOf("https://gitlab.com.evil.example")).toBeUndefined();
        expect(publicIssuerOf("https://token.actions.githubusercontent.com.evil.example")).toBeUndefined();
        expect(publicIssuerOf("not a url")).toBeUndefined();
    });

    test("ownerReach: too many alternatives is treated as open", () => {
        const many = "repo:{a,b,c,d}{e,f,g,h}{i,j,k,l}{m,n}/x";
        expect(ownerReach(many, [{ prefix: "repo:", end: "/" }]).open).toBe(true);
        expect(ownerReach("repo:{a,b}{c,d}/x", [{ prefix: "repo:", end: "/" }])).toEqual({ open: false, owners: ["ac", "ad", "bc", "bd"] });
    });

    test("other kinds have no findings; the rules never throw on odd shapes", () => {
        expect(trustFindings("Something", { boundSubject: "" })).toEqual([]);
        for (const kind of ["IdentityOidcAuth", "OidcSsoConfig", "UnleashOidcSettings"]) {
            expect(() => trustFindings(kind, {})).not.toThrow();
            expect(() => trustFindings(kind, { boundIssuer: 3, boundClaims: [1], accessTokenTrustedIps: "x", discoveryURL: {}, emailDomains: 5, autoCreate: true, discoverUrl: "::" })).not.toThrow();
        }
    });
});
