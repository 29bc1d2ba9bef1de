import * as fs from "fs";
import * as path from "path";
import { END, START, renderReference, updatedReadme } from "../../scripts/gen-reference";

const readme = fs.readFileSync(path.join(__dirname, "..", "..", "README.md"), "utf8");

test("the README's resource reference is generated from the current descriptions (run `npm run docs`)", () => {
    expect(updatedReadme(readme)).toBe(readme);
});

test("the reference documents every resource with its secret and replacement fields", () => {
    const reference = readme.slice(readme.indexOf(START), readme.indexOf(END));
    for (const kind of ["OidcSsoConfig", "IdentityOidcAuth", "UnleashOidcSettings"]) expect(reference).toContain(`### ${kind}`);
    expect(reference).toMatch(/\| `clientSecret` \|[^\n]*secret/);
    expect(reference).toMatch(/\| `secret` \|[^\n]*secret/);
    expect(reference).toMatch(/\| `identityId` \|[^\n]*forces replacement/);
    expect(renderReference()).toContain('"RS256" \\| "HS256" \\| "RS512" \\| "EdDSA"');
});
