/**
 * Where the audit's rule links point (cli/docs-link.ts): a browsable URL of the package's docs derived from the
 * forms npm accepts for package.json `repository` and `homepage`, or the URL given; never a relative path.
 */
import { docsBaseUrl, docsLink, DOCS_URL_ENV, treeUrlOf } from "../../cli/docs-link";

describe("treeUrlOf: package.json repository/homepage → the repository's tree", () => {
    test.each([
        [{ repository: { type: "git", url: "git+https://github.com/acme/pulumi-oidc-settings.git" } }, "https://github.com/acme/pulumi-oidc-settings/blob/HEAD"],
        [{ repository: "https://github.com/acme/pulumi-oidc-settings" }, "https://github.com/acme/pulumi-oidc-settings/blob/HEAD"],
        [{ repository: "github:acme/pulumi-oidc-settings" }, "https://github.com/acme/pulumi-oidc-settings/blob/HEAD"],
        [{ repository: "acme/pulumi-oidc-settings" }, "https://github.com/acme/pulumi-oidc-settings/blob/HEAD"],
        [{ repository: "git@github.com:acme/pulumi-oidc-settings.git" }, "https://github.com/acme/pulumi-oidc-settings/blob/HEAD"],
        [{ repository: "git+ssh://git@github.com/acme/pulumi-oidc-settings.git" }, "https://github.com/acme/pulumi-oidc-settings/blob/HEAD"],
        [{ repository: { url: "https://gitlab.com/acme/platform/pulumi-oidc-settings.git" } }, "https://gitlab.com/acme/platform/pulumi-oidc-settings/-/blob/HEAD"],
        [{ repository: "gitlab:acme/pulumi-oidc-settings" }, "https://gitlab.com/acme/pulumi-oidc-settings/-/blob/HEAD"],
        [{ homepage: "https://github.com/acme/pulumi-oidc-settings#readme" }, "https://github.com/acme/pulumi-oidc-settings/blob/HEAD"],
        [{ repository: { url: "https://github.com/acme/monorepo.git", directory: "packages/oidc" } }, "https://github.com/acme/monorepo/blob/HEAD/packages/oidc"],
    ])("%j → %s", (pkg, url) => {
        expect(treeUrlOf(pkg)).toBe(url);
    });

    test("unknown hosts and missing fields give no URL (no guessed link)", () => {
        expect(treeUrlOf({})).toBeUndefined();
        expect(treeUrlOf({ repository: "https://git.example.com/acme/pulumi-oidc-settings.git" })).toBeUndefined();
        expect(treeUrlOf({ homepage: "https://pulumi-oidc-settings.example.com" })).toBeUndefined();
    });
});

describe("docsBaseUrl and docsLink", () => {
    const saved = process.env[DOCS_URL_ENV];
    afterEach(() => {
        if (saved === undefined) delete process.env[DOCS_URL_ENV];
        else process.env[DOCS_URL_ENV] = saved;
    });

    test("the option wins over the environment; a trailing slash is dropped", () => {
        process.env[DOCS_URL_ENV] = "https://github.com/acme/pulumi-oidc-settings/blob/env";
        expect(docsBaseUrl("https://github.com/acme/pulumi-oidc-settings/blob/abc123/")).toBe("https://github.com/acme/pulumi-oidc-settings/blob/abc123");
        expect(docsBaseUrl()).toBe("https://github.com/acme/pulumi-oidc-settings/blob/env");
    });

    test("a link is absolute when there is a base, absent otherwise", () => {
        expect(docsLink("docs/trust.md#rule", "https://h/x/blob/c")).toBe("https://h/x/blob/c/docs/trust.md#rule");
        expect(docsLink("docs/trust.md#rule", undefined)).toBeUndefined();
    });
});
