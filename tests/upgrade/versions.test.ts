/**
 * Every version is in the changelog, and every earlier version has an upgrade fixture and test: a stack written by
 * it must keep working under the current package (tests/upgrade/v<version>.test.ts).
 */
import * as fs from "fs";
import * as path from "path";

const repoRoot = path.resolve(__dirname, "..", "..");
const version: string = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")).version;
const changelog = fs.readFileSync(path.join(repoRoot, "CHANGELOG.md"), "utf8");
const versions = [...changelog.matchAll(/^## (\d+\.\d+\.\d+)\b/gm)].map((m) => m[1]);

test("the package version has a changelog section, the newest one", () => {
    expect(versions[0]).toBe(version);
});

test.each(versions.filter((v) => v !== version))("version %s has an upgrade fixture and test", (earlier) => {
    expect(fs.existsSync(path.join(repoRoot, "tests", "fixtures", `v${earlier}`, "stack-export.json"))).toBe(true);
    expect(fs.existsSync(path.join(repoRoot, "tests", "fixtures", `v${earlier}`, "backend-data", "state.json"))).toBe(true);
    expect(fs.existsSync(path.join(__dirname, `v${earlier}.test.ts`))).toBe(true);
});
