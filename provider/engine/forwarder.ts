/**
 * The serialized providers.
 *
 * `pulumi.dynamic.Resource` serializes its provider object with the SDK's closure serializer and stores the text
 * in the state as `__provider`, in plain text (pulumi/pulumi#8265). So these objects are deliberately tiny and
 * capture nothing but a kind name: every method loads the real implementation at run time, by package name, from
 * the Pulumi program's directory (the dynamic-provider process runs with the program's directory as cwd), and
 * forwards the call. No zod schema, no `pulumi.*` object, no credential and no machine path ends up in the state.
 *
 * Resolution: `require("pulumi-oidc-settings/runtime")` relative to the process's cwd, which finds the
 * package in the program's node_modules, or the package itself through its "exports" (self-reference) for
 * programs inside this repository. The environment variable PULUMI_OIDC_SETTINGS_RUNTIME may name another module
 * path or specifier (for unusual layouts).
 *
 * Everything inside these functions must be self-contained: the serializer captures free variables.
 */
import type * as pulumi from "@pulumi/pulumi";

/**
 * A provider object forwarding every method to the runtime's engine for `kind`. Every function the serializer
 * copies costs a fixed wrapper of ~170 bytes, so the methods are one-line calls into a single loader.
 */
export function makeForwarder(kind: string): pulumi.dynamic.ResourceProvider {
    const call = async (method: string, args: unknown[]) => {
        const spec = process.env.PULUMI_OIDC_SETTINGS_RUNTIME || "pulumi-oidc-settings/runtime";
        let rt;
        try {
            rt = require("module").createRequire(process.cwd() + "/_")(spec);
        } catch (e) {
            throw new Error("pulumi-oidc-settings: cannot load " + spec + ": npm install pulumi-oidc-settings in the Pulumi project. " + (e as Error).message);
        }
        return rt.forward(kind, method, args);
    };
    return {
        configure: (...a) => call("configure", a),
        check: (...a) => call("check", a),
        diff: (...a) => call("diff", a),
        create: (...a) => call("create", a),
        read: (...a) => call("read", a),
        update: (...a) => call("update", a),
        delete: (...a) => call("delete", a),
    };
}

/** One module-level instance per resource type: the SDK caches each object's serialization. */
export const forwarders = {
    OidcSsoConfig: makeForwarder("OidcSsoConfig"),
    IdentityOidcAuth: makeForwarder("IdentityOidcAuth"),
    UnleashOidcSettings: makeForwarder("UnleashOidcSettings"),
} as const;
