/**
 * Look-alike spellings of the multi-tenant identity providers (issue #22.2): every URL that fetches the same discovery
 * document is the same issuer, for the SSO rule, the Unleash auto-create rule and the identity rule, at preview
 * (`trustFindings`, what the engine's check runs) and in the audit (cli/audit.ts on live settings as a refresh
 * records them). The URL is parsed with WHATWG URL, as the servers' HTTP clients parse it; the spellings below are
 * checked to be parsed to the same request target by `URL` itself, so the test is about what a fetch would do.
 */
import { auditResource } from "../../cli/audit";
import type { ResourceRead } from "../../cli/stack-read";
import { descriptions } from "../../provider/resources";
import { issuerLocation, publicIssuerOf, trustFindings } from "../../provider/trust";

const GOOGLE = "https://accounts.google.com/.well-known/openid-configuration";
const MS_COMMON = "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration";
const MS_ORGANIZATIONS = "https://login.microsoftonline.com/organizations/v2.0/.well-known/openid-configuration";
const GITLAB = "https://gitlab.com/.well-known/openid-configuration";

/** Spellings of a discovery URL that a fetch sends to the same host and path. */
function spellings(discovery: string): Array<[string, string]> {
    const u = new URL(discovery);
    const base = `${u.protocol}//${u.host}`;
    const path = u.pathname; // ends with /.well-known/openid-configuration
    const prefix = path.slice(0, path.length - "/.well-known/openid-configuration".length);
    return [
        ["as published", discovery],
        ["empty query", `${discovery}?`],
        ["a query", `${discovery}?hl=en`],
        ["empty fragment", `${discovery}#`],
        ["a fragment", `${discovery}#x`],
        ["./ segment", `${base}${prefix}/.well-known/./openid-configuration`],
        ["x/../ segment", `${base}${prefix}/x/../.well-known/openid-configuration`],
        ["%2e%2e segment", `${base}${prefix}/x/%2e%2e/.well-known/openid-configuration`],
        ["trailing-dot host", `${u.protocol}//${u.hostname}.${prefix}/.well-known/openid-configuration`],
        ["upper-case host", `${u.protocol}//${u.hostname.toUpperCase()}${path}`],
        ["explicit :443", `${u.protocol}//${u.hostname}:443${path}`],
        ["doubled slashes", `${base}/${prefix}//.well-known/openid-configuration`],
        ["trailing slash", `${discovery}/`],
        ["issuer form, trailing slash", `${base}${prefix}/`],
        ["issuer form, query", `${base}${prefix}?x=1`],
    ];
}

const PROVIDERS: Array<[string, string, string]> = [
    ["Google", GOOGLE, "google"],
    ["Microsoft common", MS_COMMON, "microsoft-multitenant"],
    ["Microsoft organizations", MS_ORGANIZATIONS, "microsoft-multitenant"],
    ["GitLab.com", GITLAB, "gitlab-com"],
];

const CASES = PROVIDERS.flatMap(([provider, discovery, id]) => spellings(discovery).map(([how, url]) => ({ provider, how, url, id })));

/** A live object as a refresh records it: each field through the resource's own normalization. */
function recorded(kind: "OidcSsoConfig" | "UnleashOidcSettings", settings: Record<string, unknown>): ResourceRead {
    const d = descriptions[kind];
    const fields = d.fields as Record<string, { normalize?: (v: unknown) => unknown }>;
    const outputs = Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, fields[k]?.normalize ? fields[k].normalize!(v) : v]));
    return {
        urn: `urn:pulumi:prod::p::pulumi-nodejs:dynamic/${d.module}:${d.type}::r`,
        name: "r",
        type: `pulumi-nodejs:dynamic/${d.module}:${d.type}`,
        kind,
        recorded: { inputs: {}, outputs },
        live: outputs,
    };
}

const sso = (discoveryURL: string, o: Record<string, unknown> = {}) => ({
    organizationId: "org-1",
    configurationType: "discoveryURL",
    discoveryURL,
    issuer: "",
    clientId: "c",
    isActive: true,
    allowedEmailDomains: "",
    ...o,
});
const unleash = (discoverUrl: string, o: Record<string, unknown> = {}) => ({
    enabled: true,
    discoverUrl,
    clientId: "c",
    autoCreate: true,
    emailDomains: "",
    defaultRootRole: "Viewer",
    ...o,
});
const ids = (kind: string, s: Record<string, unknown>) => trustFindings(kind, s).map((f) => f.ruleId);

describe("look-alike spellings of a multi-tenant identity provider are that provider", () => {
    test.each(CASES)("$provider, $how: $url", ({ url, id }) => {
        // What a fetch does with it: the same host and path as the published URL (query and fragment aside).
        const parsed = new URL(url);
        expect(parsed.hostname.replace(/\.$/, "")).toBe(new URL(PROVIDERS.find((p) => p[2] === id)![1]).hostname);
        expect(publicIssuerOf(url)?.id).toBe(id);

        // OidcSsoConfig, at preview and in the audit.
        expect(ids("OidcSsoConfig", sso(url))).toEqual(["sso-multitenant-no-email-domains"]);
        expect(auditResource(recorded("OidcSsoConfig", sso(url))).map((f) => f.ruleId)).toEqual(["sso-multitenant-no-email-domains"]);
        // "custom" configurations name the identity provider by its issuer.
        expect(ids("OidcSsoConfig", sso("", { configurationType: "custom", issuer: url }))).toEqual(["sso-multitenant-no-email-domains"]);
        // With the company's domain the rule is satisfied whatever the spelling.
        expect(ids("OidcSsoConfig", sso(url, { allowedEmailDomains: "example.com" }))).toEqual([]);

        // UnleashOidcSettings, at preview and in the audit.
        expect(ids("UnleashOidcSettings", unleash(url))).toEqual(["unleash-autocreate-multitenant-no-email-domains"]);
        expect(auditResource(recorded("UnleashOidcSettings", unleash(url))).map((f) => f.ruleId)).toEqual(["unleash-autocreate-multitenant-no-email-domains"]);
    });

    test("other hosts, ports and tenants are not the provider", () => {
        for (const url of [
            "https://accounts.google.com.evil.example/.well-known/openid-configuration",
            "https://evil.example/accounts.google.com/.well-known/openid-configuration",
            "https://accounts.google.com:8443/.well-known/openid-configuration",
            "https://accounts.google.com/x/.well-known/openid-configuration",
            "https://login.microsoftonline.com/0b4c5f5e-1111-2222-3333-444455556666/v2.0/.well-known/openid-configuration",
            "https://gitlab.com/acme/.well-known/openid-configuration",
            "https://gitlab.example.com/.well-known/openid-configuration",
            "ftp://accounts.google.com/",
            "not a url",
        ]) {
            expect([url, publicIssuerOf(url)?.id]).toEqual([url, undefined]);
            expect(ids("OidcSsoConfig", sso(url))).toEqual([]);
        }
    });

    test("the location: host lower-case without trailing dot or default port; path resolved, decoded, without the discovery suffix", () => {
        expect(issuerLocation("https://Login.MicrosoftOnline.com.:443//Common/./v2.0/x/../.well-known/openid-configuration/?p=1#f")).toEqual({
            host: "login.microsoftonline.com",
            path: "/Common/v2.0",
            segments: ["Common", "v2.0"],
        });
        expect(issuerLocation("http://accounts.google.com:80")).toEqual({ host: "accounts.google.com", path: "", segments: [] });
        expect(issuerLocation("https://accounts.google.com:8443/")?.host).toBe("accounts.google.com:8443");
        expect(issuerLocation("https://login.microsoftonline.com/%63ommon/v2.0")?.segments[0]).toBe("common");
        expect(publicIssuerOf("https://login.microsoftonline.com/%63ommon/v2.0")?.id).toBe("microsoft-multitenant");
    });

    test("identities: a look-alike of GitHub's issuer is GitHub's; the per-enterprise path stays pinned", () => {
        const identity = (issuer: string) => ({
            oidcDiscoveryUrl: issuer,
            boundIssuer: issuer,
            boundAudiences: "https://github.com/acme",
            boundSubject: "",
            boundClaims: {},
            accessTokenTrustedIps: ["10.0.0.0/8"],
            accessTokenTTL: 3600,
            accessTokenMaxTTL: 7200,
        });
        for (const url of ["https://token.actions.githubusercontent.com/x/..", "https://token.actions.githubusercontent.com/.well-known/./openid-configuration?", "https://TOKEN.actions.githubusercontent.com.:443/#"]) {
            expect(ids("IdentityOidcAuth", identity(url))).toEqual(["identity-public-issuer-unpinned"]);
        }
        expect(ids("IdentityOidcAuth", identity("https://token.actions.githubusercontent.com/acme-enterprise/"))).toEqual([]);
    });
});
