/**
 * The serialized providers.
 *
 * `pulumi.dynamic.Resource` serializes its provider object with the SDK's closure serializer and stores the text
 * in the state as `__provider`, in plain text (pulumi/pulumi#8265), twice per resource (inputs and outputs). So the
 * provider objects capture nothing but a kind name, and each is the whole exports of its own module
 * (provider/providers/<kind>.ts, exported as `pulumi-oidc-settings/providers/<Kind>`). What the serializer makes of it
 * depends on where the package is:
 *
 * - installed (in a node_modules directory, as users have it): the serializer captures a module of a package by
 *   reference, mapping its file back through the package's "exports", so `__provider` is
 *   `const provider = require("pulumi-oidc-settings/providers/<Kind>")` in the SDK's ~250-byte wrapper. The
 *   dynamic-provider process runs with the program's directory as cwd and loads it from there. If the package is not
 *   installed where `pulumi` runs, Node's "Cannot find module 'pulumi-oidc-settings/providers/<Kind>'" says so.
 * - reached some other way (a program inside this repository through the package's self-reference, a linked or
 *   workspace package): the object is serialized by value, ~2.5 KB: every method is a one-line call into one loader
 *   that requires `pulumi-oidc-settings/runtime` from the program's directory and forwards the call.
 *
 * Both texts must keep working for as long as states hold them: `pulumi-oidc-settings/runtime` and
 * `pulumi-oidc-settings/providers/<Kind>` are public entry points. No zod schema, no `pulumi.*` object, no credential
 * and no machine path ends up in the state.
 *
 * Resolution of the runtime: `require("pulumi-oidc-settings/runtime")` relative to the process's cwd, which finds the
 * package in the program's node_modules, or the package itself through its "exports" (self-reference) for
 * programs inside this repository. The environment variable PULUMI_OIDC_SETTINGS_RUNTIME may name another module
 * path or specifier (for unusual layouts).
 *
 * Everything inside makeForwarder's functions must be self-contained: the serializer captures free variables.
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

/**
 * The provider object of each resource type: the exports of its module in provider/providers (one instance each, which
 * the SDK also needs to serialize each only once). Read on use: those modules import this one.
 */
export const forwarders = {
    get OidcSsoConfig(): pulumi.dynamic.ResourceProvider {
        return require("../providers/oidc-sso-config");
    },
    get IdentityOidcAuth(): pulumi.dynamic.ResourceProvider {
        return require("../providers/identity-oidc-auth");
    },
    get UnleashOidcSettings(): pulumi.dynamic.ResourceProvider {
        return require("../providers/unleash-oidc-settings");
    },
};
