/**
 * Allowed e-mail domains of an SSO configuration behind a multi-tenant identity provider (issue #26.5): a wildcard
 * entry is looser than it looks. The oracle is Infisical's own matcher, transcribed below (no library provides it);
 * the property: when the SSO rules find nothing, the addresses Infisical lets in are exactly those at the listed
 * domains; when a list has a wildcard, the rule fires and the stranger's domain its message names is really let in.
 */
import fc from "fast-check";
import { auditResource } from "../../cli/audit";
import type { ResourceRead } from "../../cli/stack-read";
import * as f from "../../provider/engine/fields";
import { PUBLIC_MAIL_DOMAINS, trustFindings } from "../../provider/trust";

/**
 * Transcription of Infisical's `matchesAllowedEmailDomain` (Infisical/infisical,
 * backend/src/lib/validator/email-domain-matcher.ts at 0c43faeaca6a64057e2e4d7838b51c74ab07599e; called from
 * backend/src/ee/services/oidc/oidc-config-service.ts at every OIDC SSO login with the stored allowedEmailDomains),
 * used only as the oracle of this test.
 */
function matchesAllowedEmailDomain(email: string, allowedDomainsConfig: string): boolean {
    if (!allowedDomainsConfig?.trim()) return true;
    const emailParts = email.split("@");
    if (emailParts.length !== 2 || !emailParts[1]?.trim()) return false;
    const emailDomain = emailParts[1].trim().toLowerCase();
    const patterns = allowedDomainsConfig
        .split(/,\s*/)
        .map((p) => p.trim())
        .filter(Boolean);
    for (const pattern of patterns) {
        const patternLower = pattern.toLowerCase();
        if (patternLower.startsWith("*.")) {
            const suffix = patternLower.slice(2).trim();
            if (suffix && (emailDomain === suffix || emailDomain.endsWith(`.${suffix}`) || emailDomain.startsWith(`${suffix}.`) || emailDomain.includes(`.${suffix}.`))) return true;
        } else if (emailDomain === patternLower) {
            return true;
        }
    }
    return false;
}

const GOOGLE = "https://accounts.google.com/.well-known/openid-configuration";
const sso = (allowedEmailDomains: unknown, o: Record<string, unknown> = {}) => ({
    organizationId: "org-1",
    configurationType: "discoveryURL",
    discoveryURL: GOOGLE,
    issuer: "",
    clientId: "c",
    isActive: true,
    allowedEmailDomains,
    ...o,
});
const ids = (s: Record<string, unknown>) => trustFindings("OidcSsoConfig", s).map((x) => x.ruleId);
/** Infisical stores the list ", "-joined (oidc-router.ts); the provider sends it so. */
const stored = (domains: string[]) => domains.join(", ");

describe("Infisical's wildcard matching, from its source", () => {
    test("*.acme.com lets in acme.com, subdomains, and domains that start with acme.com. or contain .acme.com.", () => {
        for (const d of ["acme.com", "eu.acme.com", "a.b.acme.com", "acme.com.attacker.example", "x.acme.com.attacker.example", "ACME.com"]) {
            expect([d, matchesAllowedEmailDomain(`someone@${d}`, "*.acme.com")]).toEqual([d, true]);
        }
        for (const d of ["evilacme.com", "acme.comx", "acme.co"]) expect([d, matchesAllowedEmailDomain(`someone@${d}`, "*.acme.com")]).toEqual([d, false]);
        // The documented form *.infisical: "infisical" as a label anywhere.
        for (const d of ["infisical.com", "team.infisical.com", "infisical.attacker.example"]) expect(matchesAllowedEmailDomain(`a@${d}`, "*.infisical")).toBe(true);
        // Exact entries compare case-insensitively.
        expect(matchesAllowedEmailDomain("User@Example.com", "example.com")).toBe(true);
        expect(matchesAllowedEmailDomain("user@team.example.com", "example.com")).toBe(false);
    });
});

describe("sso-multitenant-wildcard-email-domain", () => {
    test("a wildcard domain with Google is an error naming the entry and a domain a stranger can register", () => {
        const [finding, ...rest] = trustFindings("OidcSsoConfig", sso("example.org, *.acme.com"));
        expect(rest).toEqual([]);
        expect(finding).toMatchObject({ ruleId: "sso-multitenant-wildcard-email-domain", severity: "error", property: "allowedEmailDomains", docs: "docs/trust.md#sso-multitenant-wildcard-email-domain" });
        expect(finding.reason).toContain('"*.acme.com"');
        expect(finding.reason).toContain("acme.com.attacker.example");
        expect(matchesAllowedEmailDomain("stranger@acme.com.attacker.example", "example.org, *.acme.com")).toBe(true);
        expect(finding.fix).toContain('"acme.com"');
    });

    test("exact domains pass; single-tenant providers, inactive configurations and unknowns are not judged", () => {
        expect(ids(sso(["acme.com", "eu.acme.com"]))).toEqual([]);
        expect(ids(sso("*.acme.com", { discoveryURL: "https://acme.okta.com/.well-known/openid-configuration" }))).toEqual([]);
        expect(ids(sso("*.acme.com", { isActive: false }))).toEqual([]);
        expect(ids(sso("04da6b54-80e4-46f7-96ec-b56ff0331ba9"))).toEqual([]);
    });

    test("case: Infisical lower-cases both sides, and so do the checks (a case change neither hides nor invents a finding)", () => {
        expect(matchesAllowedEmailDomain("someone@gmail.com", "GMAIL.COM")).toBe(true);
        expect(ids(sso("GMAIL.COM"))).toEqual(["sso-multitenant-no-email-domains"]);
        expect(ids(sso("*.ACME.com"))).toEqual(["sso-multitenant-wildcard-email-domain"]);
        expect(matchesAllowedEmailDomain("someone@acme.com", "ACME.COM")).toBe(true);
        expect(ids(sso("ACME.COM"))).toEqual([]);
    });

    test("a wildcard on a public mailbox domain is the no-domains error (it lets in every address there)", () => {
        expect(ids(sso("*.gmail.com"))).toEqual(["sso-multitenant-no-email-domains"]);
    });

    test("the audit reports it on live settings", () => {
        const live = sso("acme.com,*.acme.com");
        const read: ResourceRead = {
            urn: "urn:pulumi:prod::p::pulumi-nodejs:dynamic/infisical:OidcSsoConfig::sso",
            name: "sso",
            type: "pulumi-nodejs:dynamic/infisical:OidcSsoConfig",
            kind: "OidcSsoConfig",
            recorded: { inputs: {}, outputs: live },
            live,
        };
        expect(auditResource(read)).toEqual([expect.objectContaining({ name: "sso", ruleId: "sso-multitenant-wildcard-email-domain", severity: "error", accepted: false })]);
    });

    test("validation accepts the wildcard forms Infisical matches, and nothing looser", () => {
        const schema = f.emailDomains();
        for (const ok of ["*.example.com", "*.infisical", "example.com", ["a.com", "*.b.co.uk"]]) expect([ok, schema.safeParse(ok).success]).toEqual([ok, true]);
        for (const bad of ["*", "*.", "*example.com", "a.*.com", "infisical", "@example.com"]) expect([bad, schema.safeParse(bad).success]).toEqual([bad, false]);
    });
});

describe("property: Infisical's matcher is the oracle", () => {
    const label = fc.constantFrom("acme", "beta", "eu", "team", "infisical", "attacker", "com", "net", "example", "gmail", "co");
    const domain = fc.array(label, { minLength: 1, maxLength: 3 }).map((l) => l.join("."));
    const entry = fc.oneof(
        domain.filter((d) => d.includes(".")),
        domain.map((d) => `*.${d}`),
        domain.filter((d) => d.includes(".")).map((d) => d.toUpperCase()),
    );
    const domainList = fc.array(entry, { minLength: 1, maxLength: 4 });

    /** E-mail domains worth trying against a list: its own entries, around them, and strangers'. */
    function candidates(list: string[]): string[] {
        const out = new Set<string>(["attacker.example", "gmail.com", "x.y"]);
        for (const e of list) {
            const d = e.replace(/^\*\./, "").toLowerCase();
            for (const c of [d, `eu.${d}`, `${d}.attacker.example`, `x.${d}.attacker.example`, `attacker${d}`, `${d}x`]) out.add(c);
        }
        return [...out];
    }

    test("no SSO finding ⇒ Infisical lets in exactly the listed domains; a wildcard ⇒ the rule fires and its example is let in", () => {
        fc.assert(
            fc.property(domainList, (list) => {
                const value = stored(list);
                const found = ids(sso(value));
                const listed = list.map((d) => d.toLowerCase());
                if (found.length === 0) {
                    for (const d of candidates(list)) {
                        expect([d, matchesAllowedEmailDomain(`someone@${d}`, value)]).toEqual([d, listed.includes(d)]);
                    }
                    expect(listed.some((d) => PUBLIC_MAIL_DOMAINS.includes(d))).toBe(false);
                }
                const wildcard = listed.find((d) => d.startsWith("*."));
                if (wildcard) {
                    expect(found.length).toBeGreaterThan(0);
                    const suffix = wildcard.slice(2);
                    expect(matchesAllowedEmailDomain(`stranger@${suffix}.attacker.example`, value)).toBe(true);
                }
            }),
            { numRuns: 300 },
        );
    });
});
