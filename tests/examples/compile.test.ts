/**
 * The examples/ projects are complete and consistent: what the root `tsc` (which type-checks examples/**\/*.ts
 * against the sources) cannot see. Each example is a nodejs/TypeScript Pulumi project whose `main` exists, whose
 * package.json declares every package index.ts imports, whose README sets every secret it reads with
 * `pulumi config set --secret` (the Infisical/Unleash credentials too) and never sets a credential in plain text,
 * whose stack examples only name config keys the program reads, and whose README explains the deletion semantics.
 */
import * as fs from "fs";
import { builtinModules } from "module";
import * as path from "path";

const examplesDir = path.join(__dirname, "..", "..", "examples");
const examples = fs
    .readdirSync(examplesDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name !== "node_modules")
    .map((e) => e.name)
    .sort();

const read = (example: string, file: string) => fs.readFileSync(path.join(examplesDir, example, file), "utf8");

/** Top-level scalar `key: value` of a Pulumi.yaml (the files are simple: no anchors, no flow style). */
function topLevel(yaml: string, key: string): string | undefined {
    const m = yaml.match(new RegExp(`^${key}:[ \\t]*(\\S.*)?$`, "m"));
    return m ? (m[1] ?? "").trim() : undefined;
}

/** Stack config keys the program reads from its own namespace (`new pulumi.Config()` is the project's). */
function programKeys(source: string): { all: Set<string>; secret: Set<string> } {
    const all = new Set<string>();
    const secret = new Set<string>();
    for (const m of source.matchAll(/\bconfig\.(get|require)(\w*)\(\s*"([^"]+)"/g)) {
        all.add(m[3]);
        if (m[2].startsWith("Secret")) secret.add(m[3]);
    }
    return { all, secret };
}

/** `pulumi config set` commands of a README (code lines, comments stripped), with whether --secret is given. */
function configSets(readme: string): Array<{ key: string; secret: boolean; line: string }> {
    const out: Array<{ key: string; secret: boolean; line: string }> = [];
    for (const raw of readme.split("\n")) {
        const line = raw.replace(/\s#.*$/, "");
        const m = line.match(/pulumi config set((?:\s+--[\w-]+)*)\s+'?([\w:.[\]-]+)'?/);
        if (m) out.push({ key: m[2], secret: /--secret\b/.test(m[1]), line: raw.trim() });
    }
    return out;
}

const CREDENTIAL = /(secret|token|password)$/i; // clientSecret, apiToken, token (not tokenEndpoint)
/** Key names for which `pulumi config set` refuses a random-looking plain value without --plaintext (pkg/cmd/pulumi/config). */
const PULUMI_SECRET_LOOKING_KEY = /passwd|pass|password|pwd|secret|token/i;

test("the index never says to install the package from the npm registry", () => {
    expect(fs.readFileSync(path.join(examplesDir, "README.md"), "utf8")).not.toMatch(/npm (install|i) (-\S+ )*pulumi-oidc-settings\b|from the registry/);
});

test("there are examples, and the index lists each of them", () => {
    expect(examples).toEqual(expect.arrayContaining(["github-actions-identity", "infisical-sso", "reference-backend-docker", "unleash-oidc"]));
    const index = fs.readFileSync(path.join(examplesDir, "README.md"), "utf8");
    for (const example of examples) expect(index).toContain(`(${example})`);
});

describe.each(examples)("examples/%s", (example) => {
    const dir = path.join(examplesDir, example);
    const pulumiYaml = read(example, "Pulumi.yaml");
    const projectName = topLevel(pulumiYaml, "name");
    const main = topLevel(pulumiYaml, "main") ?? "index.ts";
    const source = read(example, main);
    const readme = read(example, "README.md");
    const pkg = JSON.parse(read(example, "package.json"));
    const keys = programKeys(source);
    const sets = configSets(readme);

    test("Pulumi.yaml: a nodejs TypeScript project named after its folder, whose main exists", () => {
        expect(projectName).toBe(example);
        expect(pulumiYaml).toMatch(/^runtime:\s*\n\s+name:\s*nodejs\s*$/m);
        expect(pulumiYaml).toMatch(/^\s+options:\s*\n\s+typescript:\s*true\s*$/m);
        expect(main).toMatch(/\.ts$/);
        expect(fs.existsSync(path.join(dir, main))).toBe(true);
    });

    test("package.json declares every package the program imports, the package itself as a user would", () => {
        const declared = { ...pkg.dependencies, ...pkg.devDependencies };
        expect(declared["pulumi-oidc-settings"]).toBeDefined();
        expect(declared["@pulumi/pulumi"]).toBeDefined();
        const imported = [...source.matchAll(/^import\s[^;]*?from\s+"([^"]+)"/gm)].map((m) => m[1]);
        expect(imported).toContain("pulumi-oidc-settings");
        for (const spec of imported) {
            if (spec.startsWith(".") || spec.startsWith("node:") || builtinModules.includes(spec)) continue;
            const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
            expect({ spec, declared: declared[name] !== undefined }).toEqual({ spec, declared: true });
        }
        // No relative import reaches into the repository's sources: the example uses the package by name.
        expect(source).not.toMatch(/from\s+"\.\.\//);
    });

    test("the README sets every secret the program reads with `pulumi config set --secret`", () => {
        for (const key of keys.secret) {
            const set = sets.filter((s) => s.key === key || s.key === `${projectName}:${key}`);
            expect({ key, setWithSecret: set.some((s) => s.secret) }).toEqual({ key, setWithSecret: true });
        }
    });

    test("the README sets the service credentials as secrets, unless the program builds each connection itself", () => {
        const usesInfisical = /new (OidcSsoConfig|IdentityOidcAuth)\(/.test(source);
        const usesUnleash = /new UnleashOidcSettings\(/.test(source);
        const ownConnection = /connection:/.test(source);
        if (usesInfisical && !ownConnection) {
            expect(sets.some((s) => s.secret && (s.key === "infisical:token" || s.key === "infisical:clientSecret"))).toBe(true);
        }
        if (usesUnleash && !ownConnection) {
            expect(sets.find((s) => s.key === "unleash:apiToken")).toMatchObject({ secret: true });
        }
    });

    test("the README's commands run as written: a plain value for a secret-looking key name says --plaintext", () => {
        for (const s of sets) {
            if (PULUMI_SECRET_LOOKING_KEY.test(s.key.split(":").pop() ?? "") && !s.secret) expect(s.line).toMatch(/--plaintext\b/);
        }
    });

    test("no credential is ever set in plain text, in the README or the stack examples", () => {
        for (const s of sets) {
            if (CREDENTIAL.test(s.key.split(":").pop() ?? "")) expect({ line: s.line, secret: s.secret }).toEqual({ line: s.line, secret: true });
        }
        for (const file of fs.readdirSync(dir).filter((f) => /^Pulumi\..+\.yaml(\.example)?$/.test(f))) {
            for (const m of read(example, file).matchAll(/^\s+([\w-]+):([\w.-]+):(.*)$/gm)) {
                if (CREDENTIAL.test(m[2])) expect({ file, key: `${m[1]}:${m[2]}`, plain: m[3].trim() }).toEqual({ file, key: `${m[1]}:${m[2]}`, plain: "" });
            }
        }
    });

    test("the stack examples name only keys the program or a provider reads", () => {
        for (const file of fs.readdirSync(dir).filter((f) => /^Pulumi\..+\.yaml\.example$/.test(f))) {
            const text = read(example, file);
            expect(text).toMatch(/^config:\s*$/m);
            for (const m of text.matchAll(/^\s+([\w-]+):([\w.-]+):/gm)) {
                const [, ns, key] = m;
                if (["infisical", "unleash", "docker"].includes(ns)) continue;
                expect({ file, ns, key, read: keys.all.has(key) }).toEqual({ file, ns: projectName, key, read: true });
            }
        }
    });

    test("tsconfig.json is valid under TypeScript 5.x and 6.x: nodenext resolution, types named, strict, no skipLibCheck", () => {
        // TypeScript 6 refuses "moduleResolution": "node" (node10, TS5107) and loads no @types package unless named;
        // tests/install compiles each example with its own tsconfig under both versions.
        const { compilerOptions } = JSON.parse(read(example, "tsconfig.json"));
        expect(String(compilerOptions.moduleResolution).toLowerCase()).toBe("nodenext");
        expect(String(compilerOptions.module).toLowerCase()).toBe("nodenext");
        expect(compilerOptions.types).toContain("node");
        expect(compilerOptions.strict).toBe(true);
        expect(compilerOptions.skipLibCheck).toBeUndefined();
        expect(pkg.devDependencies.typescript).toBe(">=5.0.0 <7");
    });

    test("the README never says to install the package from the npm registry, where it is not published", () => {
        expect(readme).not.toMatch(/npm (install|i) (-\S+ )*pulumi-oidc-settings\b/);
    });

    test("the README gives the commands and explains what deleting does", () => {
        for (const step of ["npm install", "pulumi stack init", "pulumi up", "pulumi destroy"]) expect(readme).toContain(step);
        if (source.includes("new OidcSsoConfig(")) expect(readme).toMatch(/deactivat/i);
        if (source.includes("new IdentityOidcAuth(")) expect(readme).toMatch(/revok/i);
        if (source.includes("new UnleashOidcSettings(")) expect(readme).toMatch(/disabl/i);
    });
});
