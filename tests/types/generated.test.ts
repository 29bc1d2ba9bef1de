/**
 * The typed classes in provider/generated/ are what scripts/gen-sdk.ts makes of the current resource descriptions.
 */
import * as fs from "fs";
import * as path from "path";
import { GENERATED_DIR, generatedFiles, HEADER } from "../../scripts/gen-sdk";

const repoRoot = path.join(__dirname, "..", "..");
const STALE = "provider/generated is out of date with provider/resources (or provider/engine/engine-inputs.ts): run `npm run gen` and commit the result";

test("every generated file matches the descriptions (run `npm run gen` when this fails)", () => {
    const expected = generatedFiles();
    const onDisk = fs.readdirSync(path.join(repoRoot, GENERATED_DIR)).map((name) => path.join(GENERATED_DIR, name));
    const stale = [
        ...Object.keys(expected).filter((file) => !fs.existsSync(path.join(repoRoot, file)) || fs.readFileSync(path.join(repoRoot, file), "utf8") !== expected[file]),
        ...onDisk.filter((file) => !(file in expected)),
    ];
    if (stale.length > 0) throw new Error(`${STALE}. Differs: ${stale.join(", ")}`);
});

test("the generated files say so on their first line, and the generator is deterministic", () => {
    const files = generatedFiles();
    for (const text of Object.values(files)) expect(text.split("\n")[0]).toBe(HEADER);
    expect(generatedFiles()).toEqual(files);
});

test("provider/index.ts keeps no per-resource list: the classes come from the generated module", () => {
    const index = fs.readFileSync(path.join(repoRoot, "provider", "index.ts"), "utf8");
    expect(index).toContain('export * from "./generated";');
    for (const kind of ["OidcSsoConfig", "IdentityOidcAuth", "UnleashOidcSettings"]) {
        expect(index).not.toMatch(new RegExp(`(class|interface) ${kind}`));
    }
    expect(index).not.toMatch(/declare public readonly/);
});
