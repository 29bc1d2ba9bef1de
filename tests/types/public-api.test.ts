/**
 * The public API under the TypeScript compiler (jest itself does not type-check):
 * - tests/types/public-api.check.ts: everything users wrote code against keeps its exact types;
 * - the examples and the README's quickstart compile unchanged against the package;
 * - a field added to a description shows up in its class, with the types the generator derives, and only then.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ts from "typescript";
import { z } from "zod";
import * as f from "../../provider/engine/fields";
import * as n from "../../provider/engine/normalize";
import type { ResourceDescription } from "../../provider/engine/types";
import { descriptions } from "../../provider/resources";
import { generatedFiles } from "../../scripts/gen-sdk";

const repoRoot = path.join(__dirname, "..", "..");
const examplesDir = path.join(repoRoot, "examples");
let workDir: string;
let diagnostics: readonly ts.Diagnostic[];

/** The README's quickstart: the TypeScript block of its "Quickstart" section, as a user copies it. */
function quickstart(): string {
    const readme = fs.readFileSync(path.join(repoRoot, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Quickstart"));
    const block = section.match(/```ts\n([\s\S]*?)```/);
    if (!block) throw new Error("README.md has no ```ts block under ## Quickstart");
    return block[1];
}

/** A copy of the package's sources whose classes are generated from `descs` (the engine is the real one, linked). */
function packageFrom(descs: ResourceDescription[], dir: string): void {
    fs.mkdirSync(path.join(dir, "provider"), { recursive: true });
    for (const linked of ["engine", "http", "connection.ts"]) fs.symlinkSync(path.join(repoRoot, "provider", linked), path.join(dir, "provider", linked));
    fs.copyFileSync(path.join(repoRoot, "provider", "index.ts"), path.join(dir, "provider", "index.ts"));
    for (const [file, text] of Object.entries(generatedFiles(descs))) {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.writeFileSync(path.join(dir, file), text);
    }
}

/** UnleashOidcSettings with two more fields, written the way the resources write theirs. */
function withAddedFields(desc: ResourceDescription): ResourceDescription {
    return {
        ...desc,
        schema: desc.schema.extend({ addedScopes: f.commaListInput().optional(), addedMapping: z.record(f.str(), f.str()).optional() }),
        fields: {
            ...desc.fields,
            addedScopes: { doc: "Scopes requested besides openid, as a comma list.", default: "", normalize: n.commaList() },
            addedMapping: { doc: "Claim → metadata key mapping.", default: {} },
        },
    };
}

const ADDED_FIELD_PROGRAM = `
import type * as pulumi from "@pulumi/pulumi";
import { UnleashOidcSettings, type CommaList, type UnleashOidcSettingsArgs } from "./provider";
import type { Same } from "${path.join(repoRoot, "tests", "types", "public-api.check")}";

const settings = new UnleashOidcSettings("u", { clientId: "c", secret: "s", addedScopes: ["groups", "email"], addedMapping: { email: "mail" } });
export const scopesArg: Same<UnleashOidcSettingsArgs["addedScopes"], pulumi.Input<CommaList> | undefined> = true;
export const mappingArg: Same<UnleashOidcSettingsArgs["addedMapping"], pulumi.Input<Record<string, pulumi.Input<string>>> | undefined> = true;
export const scopesOut: Same<typeof settings.addedScopes, pulumi.Output<string>> = true;
export const mappingOut: Same<typeof settings.addedMapping, pulumi.Output<Record<string, string>>> = true;
`;

/** The same program against the package as it is: the fields do not exist there. */
const WITHOUT_FIELD_PROGRAM = `
import { UnleashOidcSettings } from "pulumi-oidc-settings";
const settings = new UnleashOidcSettings("u", { clientId: "c", secret: "s", addedScopes: ["groups"] });
export const scopes = settings.addedScopes;
`;

beforeAll(() => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "public-api-types-"));
    // Programs here resolve packages (@pulumi/pulumi, zod) the way a user's project does: from node_modules.
    fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(workDir, "node_modules"), "dir");
    const added = path.join(workDir, "added");
    packageFrom(
        Object.values(descriptions).map((d) => (d.kind === "UnleashOidcSettings" ? withAddedFields(d) : d)),
        added,
    );
    fs.writeFileSync(path.join(added, "program.ts"), ADDED_FIELD_PROGRAM);
    fs.writeFileSync(path.join(workDir, "without-field.ts"), WITHOUT_FIELD_PROGRAM);
    fs.writeFileSync(path.join(workDir, "quickstart.ts"), quickstart());

    // The repository's compiler options (strict; "pulumi-oidc-settings" mapped to provider/index.ts), one program.
    const config = ts.getParsedCommandLineOfConfigFile(path.join(repoRoot, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
    if (!config) throw new Error("cannot read tsconfig.json");
    const examples = fs
        .readdirSync(examplesDir, { withFileTypes: true })
        .filter((e) => e.isDirectory() && fs.existsSync(path.join(examplesDir, e.name, "index.ts")))
        .map((e) => path.join(examplesDir, e.name, "index.ts"));
    const roots = [
        path.join(__dirname, "public-api.check.ts"),
        ...examples,
        path.join(workDir, "quickstart.ts"),
        path.join(added, "program.ts"),
        path.join(workDir, "without-field.ts"),
    ];
    const options = { ...config.options, noEmit: true, types: ["node"] };
    delete options.rootDir; // the copies live outside the repository
    const program = ts.createProgram(roots, options);
    diagnostics = ts.getPreEmitDiagnostics(program);
}, 120_000);

afterAll(() => {
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

function errorsIn(file: string): string[] {
    const real = fs.realpathSync(file);
    return diagnostics
        .filter((d) => d.file && fs.realpathSync(d.file.fileName) === real)
        .map((d) => `${path.basename(d.file!.fileName)}:${d.file!.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
}

test("the public API keeps every name, argument, state field and output with its exact type", () => {
    expect(errorsIn(path.join(__dirname, "public-api.check.ts"))).toEqual([]);
});

test("the examples compile unchanged", () => {
    const examples = fs.readdirSync(examplesDir).filter((e) => fs.existsSync(path.join(examplesDir, e, "index.ts")));
    expect(examples.length).toBeGreaterThanOrEqual(4);
    for (const example of examples) expect({ example, errors: errorsIn(path.join(examplesDir, example, "index.ts")) }).toEqual({ example, errors: [] });
});

test("the README's quickstart compiles as written", () => {
    expect(quickstart()).toContain('from "pulumi-oidc-settings"');
    expect(errorsIn(path.join(workDir, "quickstart.ts"))).toEqual([]);
});

test("a field added to a description appears in its class, Args, State and outputs with the derived types", () => {
    expect(errorsIn(path.join(workDir, "added", "program.ts"))).toEqual([]);
    const generated = fs.readFileSync(path.join(workDir, "added", "provider", "generated", "unleash-oidc-settings.ts"), "utf8");
    expect(generated).toContain("/** Scopes requested besides openid, as a comma list. */\n    addedScopes?: pulumi.Input<CommaList>;");
    expect(generated).toContain("/** Scopes requested besides openid, as a comma list. */\n    declare public readonly addedScopes: pulumi.Output<string>;");
    // Nothing but the description changed: the other classes are generated exactly as they are committed.
    const unchanged = generatedFiles();
    for (const file of ["oidc-sso-config.ts", "identity-oidc-auth.ts", "index.ts", "utilities.ts"]) {
        expect(fs.readFileSync(path.join(workDir, "added", "provider", "generated", file), "utf8")).toBe(unchanged[path.join("provider", "generated", file)]);
    }
});

test("without the description change, the same program does not compile", () => {
    const errors = errorsIn(path.join(workDir, "without-field.ts"));
    expect(errors.some((e) => e.includes("addedScopes"))).toBe(true);
});
