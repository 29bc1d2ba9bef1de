/**
 * scripts/install-engine.sh reusing a Pulumi CLI that is already installed (step 2: a `pulumi` of the right version
 * on PATH, with its language host beside it). The engine it sets up must run without warnings: with symbolic links
 * the CLI looked for its bundled plugins beside its real path, found that install's pulumi-resource-pulumi-nodejs
 * and printed `using pulumi-resource-pulumi-nodejs from $PATH ... expected ...` on every command.
 *
 * The script runs in a scratch copy of the repository (its package.json, node_modules linked), with an "existing
 * install" made from the engine built here plus a shim of its own, as a regular install has.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describeWithEngine, engineBin, repoRoot } from "../e2e/harness";

interface Run {
    code: number;
    output: string;
}

function run(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
    return new Promise((resolve) => {
        execFile(file, args, { cwd, env, encoding: "utf8", timeout: 300_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
            resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, output: stdout + stderr });
        });
    });
}

const version: string = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")).devDependencies["@pulumi/pulumi"];

describeWithEngine("install-engine reusing an installed Pulumi CLI", () => {
    let root: string;
    let scratch: string;
    let existing: string;
    let env: NodeJS.ProcessEnv;

    beforeAll(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "oidc-install-engine-"));
        scratch = path.join(root, "repo");
        existing = path.join(root, "existing-install", "bin");
        fs.mkdirSync(path.join(scratch, "scripts"), { recursive: true });
        fs.copyFileSync(path.join(repoRoot, "scripts", "install-engine.sh"), path.join(scratch, "scripts", "install-engine.sh"));
        fs.copyFileSync(path.join(repoRoot, "package.json"), path.join(scratch, "package.json"));
        fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(scratch, "node_modules"));
        fs.mkdirSync(existing, { recursive: true });
        for (const exe of ["pulumi", "pulumi-language-nodejs"]) fs.copyFileSync(path.join(engineBin, exe), path.join(existing, exe));
        // A regular install ships its own dynamic-provider shim beside the CLI.
        fs.writeFileSync(path.join(existing, "pulumi-resource-pulumi-nodejs"), "#!/bin/sh\necho 'the existing install shim' >&2\nexit 1\n");
        for (const exe of fs.readdirSync(existing)) fs.chmodSync(path.join(existing, exe), 0o755);
        const clean: NodeJS.ProcessEnv = {};
        for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("PULUMI_")) clean[k] = v;
        env = { ...clean, PATH: `${existing}${path.delimiter}${(process.env.PATH ?? "").split(path.delimiter).filter((p) => !p.includes(`${path.sep}.engine${path.sep}`)).join(path.delimiter)}` };
    });

    afterAll(() => {
        if (root) fs.rmSync(root, { recursive: true, force: true });
    });

    test("it copies the existing CLI (no symbolic links), and a program with a dynamic resource previews without the plugin warning", async () => {
        const installed = await run("bash", [path.join(scratch, "scripts", "install-engine.sh")], scratch, env);
        expect({ code: installed.code, output: installed.output }).toEqual({ code: 0, output: expect.stringContaining(`reusing pulumi v${version} from ${existing}`) });
        const bin = path.join(scratch, ".engine", `v${version}`, "bin");
        for (const exe of ["pulumi", "pulumi-language-nodejs", "pulumi-resource-pulumi-nodejs"]) expect({ exe, link: fs.lstatSync(path.join(bin, exe)).isSymbolicLink() }).toEqual({ exe, link: false });

        // A program as the tests and the demo run it: this engine first on PATH, a dynamic resource.
        const program = path.join(root, "program");
        fs.mkdirSync(program);
        fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(program, "node_modules"));
        fs.writeFileSync(path.join(program, "package.json"), JSON.stringify({ name: "engine-probe", main: "index.js" }));
        fs.writeFileSync(path.join(program, "Pulumi.yaml"), "name: engine-probe\nruntime: nodejs\nmain: index.js\n");
        fs.writeFileSync(
            path.join(program, "index.js"),
            'const pulumi = require("@pulumi/pulumi");\n' +
                'new pulumi.dynamic.Resource({ async create(inputs) { return { id: "1", outs: inputs }; } }, "probe", { a: 1 });\n',
        );
        fs.mkdirSync(path.join(root, "state"));
        const pulumiEnv: NodeJS.ProcessEnv = {
            ...env,
            PATH: `${bin}${path.delimiter}${path.dirname(fs.realpathSync(path.join(repoRoot, "node_modules", ".bin", "node")))}${path.delimiter}${env.PATH}`,
            PULUMI_HOME: path.join(root, "home"),
            PULUMI_BACKEND_URL: `file://${path.join(root, "state")}`,
            PULUMI_CONFIG_PASSPHRASE: "probe",
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        };
        expect((await run(path.join(bin, "pulumi"), ["stack", "init", "probe", "--non-interactive"], program, pulumiEnv)).code).toBe(0);
        const preview = await run(path.join(bin, "pulumi"), ["preview", "--non-interactive", "--stack", "probe"], program, pulumiEnv);
        expect({ code: preview.code, output: preview.code === 0 ? "" : preview.output }).toEqual({ code: 0, output: "" });
        expect(preview.output).toContain("pulumi-nodejs:dynamic:Resource");
        expect(preview.output).not.toMatch(/using pulumi-resource-pulumi-nodejs from \$PATH|expected .*pulumi-resource-pulumi-nodejs/);

        // A reuse that earlier versions of the script made with symbolic links is redone.
        fs.rmSync(path.join(bin, "pulumi"));
        fs.symlinkSync(path.join(existing, "pulumi"), path.join(bin, "pulumi"));
        const again = await run("bash", [path.join(scratch, "scripts", "install-engine.sh")], scratch, env);
        expect(again.output).toContain("reusing pulumi");
        expect(fs.lstatSync(path.join(bin, "pulumi")).isSymbolicLink()).toBe(false);
    }, 600_000);
});
