/**
 * What oidc-drift tells a user to do after drift (cli/drift.ts): the commands are runnable where the CLI ran, for the
 * stack it checked, and the one that restores the program's settings reads the change first (`up --refresh`): a plain
 * `up` after a change made outside Pulumi finds the state equal to the program and changes nothing
 * (tests/e2e/drift-cli.test.ts runs both against the real engine).
 */
import * as path from "path";
import { DriftReport, formatHuman, formatMarkdown, repairOf } from "../../cli/drift";
import { pulumiCommandFor, shellWord } from "../../cli/stack-read";

const project = path.resolve("/work/infra");

function report(overrides: Partial<DriftReport> = {}): DriftReport {
    return {
        stack: "prod",
        workDir: project,
        checked: 3,
        drifted: [
            { urn: "urn:pulumi:prod::infra::x$sso", name: "sso", type: "pulumi-nodejs:dynamic/infisical:OidcSsoConfig", kind: "modified", fields: [{ field: "allowedEmailDomains", desired: "a.com", live: "b.com", secret: false }] },
            { urn: "urn:pulumi:prod::infra::x$deploy", name: "deploy", type: "pulumi-nodejs:dynamic/infisical:IdentityOidcAuth", kind: "deleted", fields: [] },
        ],
        repair: repairOf("prod", project, project),
        durationMs: 1200,
        ...overrides,
    };
}

test("the repair commands name the stack, and the directory when the CLI ran elsewhere", () => {
    expect(repairOf("prod", project, project)).toEqual({ restore: "pulumi up --refresh --stack prod", keepLive: "pulumi refresh --stack prod" });
    expect(repairOf("org/infra/prod", project, path.resolve("/work"))).toEqual({
        restore: "pulumi up --refresh --stack org/infra/prod --cwd infra",
        keepLive: "pulumi refresh --stack org/infra/prod --cwd infra",
    });
    expect(pulumiCommandFor(["refresh"], "prod", path.resolve("/work/my infra"), path.resolve("/work"))).toBe("pulumi refresh --stack prod --cwd 'my infra'");
    expect(shellWord("it's")).toBe(`'it'\\''s'`);
});

test("human report: restore with up --refresh (deleted objects too); keeping the live settings needs the program changed", () => {
    const text = formatHuman(report());
    expect(text).toContain("`pulumi up --refresh` recreates it");
    expect(text).toMatch(/^To put the program's settings back: +pulumi up --refresh --stack prod$/m);
    expect(text).toMatch(/^To keep the live settings instead: +change the program to them .*then pulumi refresh --stack prod$/m);
    expect(text).toContain("the next `pulumi up --refresh` puts the program's values back");
    expect(text).not.toMatch(/Run `pulumi up` to|`pulumi up` recreates/);
});

test("Markdown report: the same commands; no repair text when there is no drift", () => {
    const md = formatMarkdown(report());
    expect(md).toContain("run `pulumi up --refresh --stack prod`");
    expect(md).toContain("change the program to them (remove a deleted object from it), then run `pulumi refresh --stack prod`");
    const clean = report({ drifted: [], repair: undefined });
    expect(formatMarkdown(clean)).not.toContain("pulumi up");
    expect(formatHuman(clean)).not.toContain("pulumi up");
});
