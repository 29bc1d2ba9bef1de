/**
 * The audit's pure parts (cli/audit.ts, cli/stack-read.ts): which resources are ours and of what kind (by type token,
 * or by the serialized provider for resources registered as the generic dynamic type), findings on live settings
 * with accepted risks, the exit-code rule, the report formats, and which fields count as drift.
 */
import * as pulumi from "@pulumi/pulumi";
import { auditResource, AuditReport, countedFindings, formatAuditHuman, formatAuditMarkdown } from "../../cli/audit";
import { descriptionOf, isDriftRelevant, ResourceRead } from "../../cli/stack-read";
import { forwarders } from "../../provider/engine/forwarder";
import { descriptions } from "../../provider/resources";

const GITHUB = "https://token.actions.githubusercontent.com";

/** An identity as the state records it after a refresh (normalized outputs). */
function identityRead(live: Record<string, unknown> | undefined, acceptRisks?: string[]): ResourceRead {
    const outputs = {
        identityId: "id-1",
        oidcDiscoveryUrl: GITHUB,
        boundIssuer: GITHUB,
        boundAudiences: "https://github.com/acme",
        boundSubject: "repo:acme/infra:*",
        boundClaims: {},
        accessTokenTrustedIps: ["10.0.0.0/8"],
        accessTokenTTL: 3600,
        accessTokenMaxTTL: 7200,
        updatedAt: "2026-01-01T00:00:00.000Z",
    };
    return {
        urn: "urn:pulumi:prod::p::pulumi-nodejs:dynamic/infisical:IdentityOidcAuth::deploy",
        name: "deploy",
        type: "pulumi-nodejs:dynamic/infisical:IdentityOidcAuth",
        kind: "IdentityOidcAuth",
        recorded: { inputs: acceptRisks ? { acceptRisks } : {}, outputs },
        live: live && { ...outputs, ...live },
    };
}

function report(findings: ReturnType<typeof auditResource>): AuditReport {
    return { stack: "prod", workDir: "/x", checked: 2, audited: 1, findings, durationMs: 1200 };
}

describe("kinds", () => {
    test("by the type token of each description", () => {
        for (const d of Object.values(descriptions)) {
            expect(descriptionOf(`pulumi-nodejs:dynamic/${d.module}:${d.type}`, {})?.kind).toBe(d.kind);
        }
        expect(descriptionOf("aws:s3/bucket:Bucket", {})).toBeUndefined();
    });

    test("by the serialized provider when the type is the generic dynamic one", async () => {
        for (const [kind, provider] of Object.entries(forwarders)) {
            const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
            expect(descriptionOf("pulumi-nodejs:dynamic:Resource", { __provider: sf.text })?.kind).toBe(kind);
        }
        expect(descriptionOf("pulumi-nodejs:dynamic:Resource", {})).toBeUndefined();
    });
});

describe("audit of live settings", () => {
    test("a safe live object has no finding; a subject cleared behind Pulumi's back has the error", () => {
        expect(auditResource(identityRead({}))).toEqual([]);
        const findings = auditResource(identityRead({ boundSubject: "" }));
        expect(findings).toEqual([
            expect.objectContaining({ name: "deploy", ruleId: "identity-public-issuer-unpinned", severity: "error", property: "boundSubject", accepted: false }),
        ]);
        expect(countedFindings(report(findings), ["error"])).toHaveLength(1);
        expect(countedFindings(report(findings), ["warning"])).toHaveLength(0);
    });

    test("a finding the resource accepts is reported as accepted and never counted", () => {
        const findings = auditResource(identityRead({ boundSubject: "" }, ["identity-public-issuer-unpinned"]));
        expect(findings).toEqual([expect.objectContaining({ ruleId: "identity-public-issuer-unpinned", accepted: true })]);
        expect(countedFindings(report(findings), ["error", "warning"])).toEqual([]);
    });

    test("objects that are gone, and resources that are not ours, are not audited", () => {
        expect(auditResource(identityRead(undefined))).toEqual([]);
        expect(auditResource({ ...identityRead({ boundSubject: "" }), kind: undefined })).toEqual([]);
    });

    test("formats: human and Markdown name the resource, rule, severity, field, fix and docs", () => {
        const findings = [
            ...auditResource(identityRead({ boundSubject: "", accessTokenTrustedIps: ["0.0.0.0/0"], accessTokenTTL: 2592000, accessTokenMaxTTL: 2592000 })),
        ];
        const human = formatAuditHuman(report(findings));
        expect(human).toContain('Trust findings in stack "prod": 1 error(s), 1 warning(s) in 1 resource(s)');
        expect(human).toContain("deploy (pulumi-nodejs:dynamic/infisical:IdentityOidcAuth) identity-public-issuer-unpinned [error] on boundSubject");
        expect(human).toContain("identity-token-anywhere-long-ttl [warning] on accessTokenTrustedIps");
        expect(human).toContain('acceptRisks: ["identity-public-issuer-unpinned"]');
        const md = formatAuditMarkdown(report(findings));
        // No relative link (it would point into the infra repository of the pull request): the rule id, and where
        // the docs are; an absolute link when the package's docs URL is known.
        expect(md).toContain("| `deploy` | `identity-public-issuer-unpinned` | error | `boundSubject` |");
        expect(md).toContain("node_modules/pulumi-oidc-settings/docs/trust.md");
        expect(md).not.toContain("](docs/");
        const linked = formatAuditMarkdown(report(auditResource(identityRead({ boundSubject: "" }), "https://github.com/acme/pulumi-oidc-settings/blob/abc123")));
        expect(linked).toContain(
            "| `deploy` | [`identity-public-issuer-unpinned`](https://github.com/acme/pulumi-oidc-settings/blob/abc123/docs/trust.md#identity-public-issuer-unpinned) | error |",
        );
        expect(md.split("\n").filter((l) => l.startsWith("| `deploy`"))).toHaveLength(2);
        expect(formatAuditHuman(report([]))).toMatch(/^No trust findings: 1 resource\(s\) of stack "prod"/);
        expect(formatAuditMarkdown(report([]))).toContain(":white_check_mark: No trust findings in 1 resource(s).");
    });
});

describe("which fields are drift", () => {
    const identity = descriptions.IdentityOidcAuth;
    test("output-only fields (ids, timestamps) are not; settings and engine inputs are", () => {
        expect(isDriftRelevant(identity, "updatedAt", {})).toBe(false);
        expect(isDriftRelevant(identity, "createdAt", {})).toBe(false);
        expect(isDriftRelevant(identity, "identityOidcAuthId", {})).toBe(false);
        expect(isDriftRelevant(identity, "boundSubject", {})).toBe(true);
        expect(isDriftRelevant(identity, "connection", {})).toBe(true);
        expect(isDriftRelevant(undefined, "anything", {})).toBe(true);
    });

    test("a value the server derives from a managed field is not, unless the user manages it too", () => {
        const unleash = descriptions.UnleashOidcSettings;
        const derived = Object.entries(unleash.fields).find(([, rule]) => (rule as { derivedFrom?: unknown }).derivedFrom);
        expect(derived?.[0]).toBe("defaultRootRoleId");
        const [field, rule] = derived as [string, { derivedFrom: { field: string } }];
        expect(isDriftRelevant(unleash, field, { [rule.derivedFrom.field]: "Viewer" })).toBe(false);
        expect(isDriftRelevant(unleash, field, { [rule.derivedFrom.field]: "Viewer", [field]: 3 })).toBe(true);
        expect(isDriftRelevant(unleash, field, {})).toBe(true);
    });
});
