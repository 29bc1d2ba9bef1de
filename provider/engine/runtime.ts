/**
 * The runtime entry point (`pulumi-oidc-settings/runtime`), loaded by the serialized providers inside the
 * dynamic-provider process, by package name from the Pulumi program's directory.
 *
 * It holds the process-wide state the serialized providers must not carry: the stack configuration received in
 * `configure`, the engines built from the descriptions, the keep-alive agents and the universal-auth token cache.
 */
import { readFileSync } from "fs";
import { dirname, join } from "path";
import type * as pulumi from "@pulumi/pulumi";
import { ConfigSource, setStackConfig } from "../connection";
import { descriptions } from "../resources";
import { ResourceEngine } from "./engine";

const engines = new Map<string, ResourceEngine>();

/** The engine of a resource kind ("OidcSsoConfig", "IdentityOidcAuth", "UnleashOidcSettings"). */
export function provider(kind: string): ResourceEngine {
    let engine = engines.get(kind);
    if (!engine) {
        const desc = descriptions[kind];
        if (!desc) {
            throw new Error(
                `pulumi-oidc-settings: unknown resource kind "${kind}" (known: ${Object.keys(descriptions).join(", ")}); ` +
                    "the installed package is older than the one that created this resource: upgrade it",
            );
        }
        engine = new ResourceEngine(desc);
        engines.set(kind, engine);
    }
    return engine;
}

/**
 * Receives the stack configuration (the dynamic provider's `configure`). Called once per serialized provider in
 * the process; every call carries the same stack configuration.
 */
export async function configure(req: pulumi.dynamic.ConfigureRequest | { config?: ConfigSource } | undefined): Promise<void> {
    setStackConfig(req?.config);
}

/**
 * The dynamic-provider host prints every error of check, diff, read and delete with `console.error(\`${e}: ${e.stack}\`)`
 * before returning it to the engine, which shows it as the resource's error anyway: the user saw each error three
 * more times, twice with a stack trace into node_modules. Those lines are dropped for this package's own errors
 * (only the exact text the host builds from an error it got from us); anything else the process prints stays.
 */
const reported = new Set<string>();
function quietHostEcho(): void {
    if (!/dynamic-provider/.test(process.argv[1] ?? "")) return;
    const original = console.error.bind(console);
    console.error = (...args: unknown[]) => {
        if (args.length === 1 && typeof args[0] === "string" && reported.delete(args[0])) return;
        original(...args);
    };
}
quietHostEcho();

/** The entry point of the serialized providers: one call per provider method. */
export async function forward(kind: string, method: string, args: unknown[]): Promise<unknown> {
    if (method === "configure") return configure(args[0] as pulumi.dynamic.ConfigureRequest);
    const engine = provider(kind) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    try {
        return await engine[method](...args);
    } catch (err) {
        if (err instanceof Error) reported.add(`${err}: ${err.stack}`);
        throw err;
    }
}

/** Kinds this runtime serves. */
export const kinds: readonly string[] = Object.keys(descriptions);

/** Version of the runtime (the package version), for diagnostics. */
export const version: string = (() => {
    // Works from the sources and from dist/: the nearest package.json of this package.
    let dir = __dirname;
    for (let i = 0; i < 6; i++) {
        try {
            const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
            if (pkg.name === "pulumi-oidc-settings") return String(pkg.version);
        } catch {
            // not here: go up
        }
        dir = dirname(dir);
    }
    return "unknown";
})();
