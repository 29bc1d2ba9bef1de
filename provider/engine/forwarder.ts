/**
 * The serialized providers.
 *
 * `pulumi.dynamic.Resource` serializes its provider object with the SDK's closure serializer and stores the text
 * in the state as `__provider`, in plain text (pulumi/pulumi#8265). So these objects are deliberately tiny and
 * capture nothing but a kind name: every method loads the real implementation at run time, by package name, from
 * the Pulumi program's directory (the dynamic-provider process runs with the program's directory as cwd), and
 * forwards the call. No zod schema, no `pulumi.*` object, no credential and no machine path ends up in the state.
 *
 * Resolution: `require("pulumi-oidc-settings/runtime")` relative to `<cwd>/__pulumi_oidc__.js`, which finds the
 * package in the program's node_modules, or the package itself through its "exports" (self-reference) for
 * programs inside this repository. The environment variable PULUMI_OIDC_SETTINGS_RUNTIME may name another module
 * path or specifier (for unusual layouts).
 *
 * Everything inside these functions must be self-contained: the serializer captures free variables.
 */
import type * as pulumi from "@pulumi/pulumi";

/** Loads the runtime module in the dynamic-provider process. Self-contained on purpose (it is serialized). */
function loadRuntime() {
    const spec = process.env.PULUMI_OIDC_SETTINGS_RUNTIME || "pulumi-oidc-settings/runtime";
    try {
        return require("module").createRequire(require("path").join(process.cwd(), "__pulumi_oidc__.js"))(spec);
    } catch (err) {
        throw new Error(
            "pulumi-oidc-settings: cannot load " + spec + " from " + process.cwd() + " (" + (err && (err as Error).message) + "). " +
                "Install the package in the Pulumi project (npm install pulumi-oidc-settings) and build it, or set PULUMI_OIDC_SETTINGS_RUNTIME.",
        );
    }
}

/** A provider object forwarding every method to the runtime's engine for `kind`. */
export function makeForwarder(kind: string): pulumi.dynamic.ResourceProvider {
    const load = loadRuntime;
    return {
        configure: async (req) => load().configure(req),
        check: async (olds, news) => load().provider(kind).check(olds, news),
        diff: async (id, olds, news) => load().provider(kind).diff(id, olds, news),
        create: async (inputs) => load().provider(kind).create(inputs),
        read: async (id, props) => load().provider(kind).read(id, props),
        update: async (id, olds, news) => load().provider(kind).update(id, olds, news),
        delete: async (id, props) => load().provider(kind).delete(id, props),
    };
}

/** One module-level instance per resource type: the SDK caches each object's serialization. */
export const forwarders = {
    OidcSsoConfig: makeForwarder("OidcSsoConfig"),
    IdentityOidcAuth: makeForwarder("IdentityOidcAuth"),
    UnleashOidcSettings: makeForwarder("UnleashOidcSettings"),
} as const;
