/**
 * Where the package's docs (docs/trust.md, ...) can be linked from a report. A relative `docs/trust.md#rule` breaks
 * in an infra repository's pull request or job summary (that repository has no such file), and the copy shipped in
 * node_modules is not linkable, so reports link into the package's own repository:
 *
 *   1. `--docs-url <base>` or the environment variable OIDC_SETTINGS_DOCS_URL: `<base>/docs/trust.md#rule` (e.g.
 *      `https://github.com/<owner>/<repo>/blob/<commit>` for the docs of the commit you installed);
 *   2. else the package.json `repository` (or `homepage`) of the installed package, when it names a GitHub or GitLab
 *      repository: its default branch (`blob/HEAD`);
 *   3. else no link: the rule id and the path inside the installed package.
 */
import * as fs from "fs";
import * as path from "path";

export const DOCS_URL_ENV = "OIDC_SETTINGS_DOCS_URL";
const PACKAGE_NAME = "pulumi-oidc-settings";

interface PackageJson {
    name?: string;
    homepage?: string;
    repository?: string | { type?: string; url?: string; directory?: string };
}

/** This package's package.json (from the sources or from dist/). */
function ownPackageJson(): PackageJson | undefined {
    let dir = __dirname;
    for (;;) {
        const file = path.join(dir, "package.json");
        if (fs.existsSync(file)) {
            try {
                const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as PackageJson;
                if (pkg.name === PACKAGE_NAME) return pkg;
            } catch {
                // not ours; keep looking
            }
        }
        const up = path.dirname(dir);
        if (up === dir) return undefined;
        dir = up;
    }
}

/**
 * The browsable tree URL of a package.json `repository`/`homepage` value on GitHub or GitLab (default branch), e.g.
 * "git+https://github.com/acme/x.git" or "github:acme/x" → "https://github.com/acme/x/blob/HEAD". Other hosts: none
 * (their URL scheme for a file is unknown).
 */
export function treeUrlOf(pkg: Pick<PackageJson, "repository" | "homepage">): string | undefined {
    const repo = typeof pkg.repository === "string" ? pkg.repository : pkg.repository?.url;
    const directory = typeof pkg.repository === "object" && pkg.repository.directory ? `/${pkg.repository.directory.replace(/^\/+|\/+$/g, "")}` : "";
    for (const candidate of [repo, pkg.homepage]) {
        if (!candidate) continue;
        const shorthand = candidate.match(/^(github|gitlab):([\w.-]+(?:\/[\w.-]+)+?)(?:\.git)?$/) ?? candidate.match(/^()([\w.-]+\/[\w.-]+)$/);
        let host: string;
        let project: string;
        if (shorthand) {
            host = shorthand[1] === "gitlab" ? "gitlab.com" : "github.com";
            project = shorthand[2];
        } else {
            const m = candidate.replace(/^git\+/, "").match(/^(?:https?|ssh|git):\/\/(?:[^@/]+@)?([^/:]+)(?::\d+)?\/(.+?)(?:\.git)?\/?(?:#.*)?$/) ?? candidate.match(/^[^@]+@([^:]+):(.+?)(?:\.git)?$/);
            if (!m) continue;
            [, host, project] = m;
            project = project.replace(/\/-\/.*$/, "").replace(/\/(tree|blob)\/.*$/, "");
        }
        if (host === "github.com" && /^[\w.-]+\/[\w.-]+$/.test(project)) return `https://github.com/${project}/blob/HEAD${directory}`;
        if (host === "gitlab.com" || host.startsWith("gitlab.")) return `https://${host}/${project}/-/blob/HEAD${directory}`;
    }
    return undefined;
}

/** The base under which `docs/<file>` resolves in a browser, or undefined when none is known. */
export function docsBaseUrl(override?: string): string | undefined {
    const given = override ?? process.env[DOCS_URL_ENV];
    if (given?.trim()) return given.trim().replace(/\/+$/, "");
    const pkg = ownPackageJson();
    return pkg ? treeUrlOf(pkg) : undefined;
}

/** A docs reference such as "docs/trust.md#rule" as a browsable URL, or undefined without a base. */
export function docsLink(ref: string, base: string | undefined): string | undefined {
    return base ? `${base}/${ref.replace(/^\/+/, "")}` : undefined;
}

/** Where the docs are in the installed package, for reports without a link. */
export const INSTALLED_DOCS = `node_modules/${PACKAGE_NAME}/`;
