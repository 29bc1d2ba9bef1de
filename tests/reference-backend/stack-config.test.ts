/**
 * The CLI's ready files and its `stack-config` subcommand: the ready JSON is written to <data-dir>/ready.json (and
 * --ready-file), mode 0600, and removed at shutdown; `stack-config --stack <name>` prints the `pulumi config set`
 * commands of a stack, each stack with its own organization and Unleash instance (the same name always the same
 * ones), and `--run` sets them in a real Pulumi project (the engine of scripts/install-engine.sh, a file backend),
 * secrets as secrets.
 */
import { execFile } from "child_process";
import { promises as fs, statSync } from "fs";
import * as os from "os";
import * as path from "path";
import { startBackendProcess, type ProcessBackend } from "../../reference-backend/src";
import { ensureBuilt, mainJs, repoRoot } from "./build";

let workDir: string;
let dataDir: string;
let backend: ProcessBackend;

const engineBin = () => {
    const version = (JSON.parse(require("fs").readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { devDependencies: Record<string, string> }).devDependencies["@pulumi/pulumi"];
    return path.join(repoRoot, ".engine", `v${version}`, "bin");
};

function run(file: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) =>
        execFile(file, args, { cwd: opts.cwd ?? workDir, env: { PATH: process.env.PATH ?? "", HOME: workDir, ...opts.env }, timeout: 60_000 }, (error, stdout, stderr) =>
            resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        ),
    );
}
const stackConfig = (args: string[], env: Record<string, string> = {}) => run(process.execPath, [mainJs, "stack-config", "--data-dir", dataDir, ...args], { env });

beforeAll(async () => {
    await ensureBuilt();
    workDir = await fs.mkdtemp(path.join(os.tmpdir(), "rb-stack-config-"));
    dataDir = path.join(workDir, "data");
    backend = await startBackendProcess({ dataDir, seed: { organizations: 2, identitiesPerOrg: 1, unleashInstances: 2 } });
}, 120_000);
afterAll(async () => {
    await backend?.stop();
    await fs.rm(workDir, { recursive: true, force: true });
});

/** `pulumi config set --stack S [--secret] KEY VALUE` lines → {key: [value, secret]}. */
function parse(stdout: string): Record<string, [string, boolean]> {
    const out: Record<string, [string, boolean]> = {};
    for (const line of stdout.split("\n").filter((l) => l.startsWith("pulumi config set"))) {
        const m = /^pulumi config set --stack \S+( --secret)? (\S+) (.+)$/.exec(line);
        if (!m) throw new Error(`unexpected line: ${line}`);
        out[m[2] as string] = [(m[3] as string).replace(/^'(.*)'$/, "$1"), Boolean(m[1])];
    }
    return out;
}

test("the ready JSON is also in <data-dir>/ready.json, readable by the owner only", async () => {
    const file = path.join(dataDir, "ready.json");
    expect(JSON.parse(await fs.readFile(file, "utf8"))).toEqual(backend.ready);
    expect(statSync(file).mode & 0o777).toBe(0o600);
});

test("each stack gets its own organization and Unleash instance, the same ones every time", async () => {
    const r = backend.ready;
    const staging = await stackConfig(["--stack", "staging"]);
    expect(staging.code).toBe(0);
    expect(parse(staging.stdout)).toEqual({
        "infisical:host": [r.infisical.url, false],
        "infisical:clientId": [r.infisical.organizations[0]!.universalAuth.clientId, true],
        "infisical:clientSecret": [r.infisical.organizations[0]!.universalAuth.clientSecret, true],
        "unleash:url": [r.unleash.instances[0]!.url, false],
        "unleash:apiToken": [r.unleash.instances[0]!.adminToken, true],
        organizationId: [r.infisical.organizations[0]!.id, false],
        identityId: [r.infisical.organizations[0]!.identityIds[0], false],
        issuerUrl: [r.issuer.url, false],
    });
    const prod = parse((await stackConfig(["--stack", "prod", "--namespace", "app"])).stdout);
    expect(prod["infisical:clientId"]?.[0]).toBe(r.infisical.organizations[1]!.universalAuth.clientId);
    expect(prod["unleash:url"]?.[0]).toBe(r.unleash.instances[1]!.url);
    expect(prod["app:organizationId"]?.[0]).toBe(r.infisical.organizations[1]!.id);
    expect(parse((await stackConfig(["--stack", "staging"])).stdout)).toEqual(parse(staging.stdout));

    const third = await stackConfig(["--stack", "qa"]);
    expect(third.code).toBe(1);
    expect(third.stderr).toContain("the backend has 2 organizations and 2 Unleash instances");
});

test("--run sets them in a real Pulumi project, the credentials as secrets", async () => {
    const bin = engineBin();
    await fs.access(path.join(bin, "pulumi")).catch(() => {
        throw new Error(`${bin}/pulumi is missing: run 'npm run install-engine'`);
    });
    const project = path.join(workDir, "infra");
    await fs.mkdir(project);
    await fs.writeFile(path.join(project, "Pulumi.yaml"), "name: newcomer-infra\nruntime: nodejs\n");
    const env = {
        PATH: `${bin}:${process.env.PATH ?? ""}`,
        PULUMI_BACKEND_URL: `file://${path.join(workDir, "state")}`,
        PULUMI_CONFIG_PASSPHRASE: "stack-config-test",
        PULUMI_HOME: path.join(workDir, ".pulumi"),
        PULUMI_SKIP_UPDATE_CHECK: "true",
    };
    await fs.mkdir(path.join(workDir, "state"));
    expect((await run(path.join(bin, "pulumi"), ["stack", "init", "staging"], { cwd: project, env })).code).toBe(0);
    const res = await stackConfig(["--stack", "staging", "--run", "--cwd", project], env);
    expect(res.stderr).toContain("stack staging configured");
    expect(res.code).toBe(0);

    const shown = await run(path.join(bin, "pulumi"), ["config", "--stack", "staging", "--show-secrets", "--json"], { cwd: project, env });
    const config = JSON.parse(shown.stdout) as Record<string, { value: string; secret: boolean }>;
    const org = backend.ready.infisical.organizations[0]!;
    expect(config["infisical:clientSecret"]).toEqual({ value: org.universalAuth.clientSecret, secret: true });
    expect(config["unleash:apiToken"]).toEqual({ value: backend.ready.unleash.instances[0]!.adminToken, secret: true });
    expect(config["newcomer-infra:organizationId"]).toEqual({ value: org.id, secret: false });
    const file = await fs.readFile(path.join(project, "Pulumi.staging.yaml"), "utf8");
    expect(file).not.toContain(org.universalAuth.clientSecret);
}, 120_000);

test("--ready-file writes the ready JSON there too; both files go away at a clean stop", async () => {
    const readyFile = path.join(workDir, "ready-copy.json");
    const other = path.join(workDir, "other-data");
    const child = await startBackendProcess({ dataDir: other, env: { REFERENCE_BACKEND_READY_FILE: readyFile }, seed: { organizations: 1, identitiesPerOrg: 1, unleashInstances: 1 } });
    expect(JSON.parse(await fs.readFile(readyFile, "utf8")).url).toBe(child.ready.url);
    expect(await child.stop()).toBe(0);
    await expect(fs.access(readyFile)).rejects.toThrow();
    await expect(fs.access(path.join(other, "ready.json"))).rejects.toThrow();
    const gone = await run(process.execPath, [mainJs, "stack-config", "--data-dir", other, "--stack", "x"]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("start the backend first (npm run -s backend)");
}, 60_000);
