/**
 * Stack configuration from the backend's ready data: the `pulumi config set [--secret]` commands that point one
 * Pulumi stack at the reference backend, with its own organization (and so its own SSO config, machine identities
 * and universal-auth credentials) and its own Unleash instance, so that two stacks (staging, prod) never manage the
 * same object.
 *
 * Which organization and instance a stack gets is decided once by the running backend (POST
 * /_admin/stacks/:stack, kept in its state): the first stack asked for gets number 0, the next 1, and the same
 * name always gets its number back. The CLI's `stack-config` subcommand asks for it and prints (or runs) the
 * commands.
 */
import type { Ready } from "./index";

export interface ConfigEntry {
    key: string;
    value: string;
    secret: boolean;
}

export interface StackConfigOptions {
    /** Namespace of the program's own keys (organizationId, identityId, issuerUrl); default none: the project's. */
    namespace?: string;
}

/** The configuration of the stack that was given organization and Unleash instance number `index`. */
export function stackConfig(ready: Ready, index: number, opts: StackConfigOptions = {}): ConfigEntry[] {
    const org = ready.infisical.organizations[index];
    const instance = ready.unleash.instances[index];
    if (!org || !instance) {
        throw new Error(
            `stack number ${index} needs organization ${index + 1} and Unleash instance ${index + 1}, but the backend has ${ready.infisical.organizations.length} organizations and ${ready.unleash.instances.length} Unleash instances: start it on a fresh data directory with a larger seed, e.g. --seed '{"organizations": ${index + 1}, "unleashInstances": ${index + 1}}'`,
        );
    }
    const own = (key: string) => (opts.namespace ? `${opts.namespace}:${key}` : key);
    const identityId = org.identityIds[0];
    return [
        { key: "infisical:host", value: ready.infisical.url, secret: false },
        { key: "infisical:clientId", value: org.universalAuth.clientId, secret: true },
        { key: "infisical:clientSecret", value: org.universalAuth.clientSecret, secret: true },
        { key: "unleash:url", value: instance.url, secret: false },
        { key: "unleash:apiToken", value: instance.adminToken, secret: true },
        { key: own("organizationId"), value: org.id, secret: false },
        ...(identityId ? [{ key: own("identityId"), value: identityId, secret: false }] : []),
        { key: own("issuerUrl"), value: ready.issuer.url, secret: false },
    ];
}

/** A value quoted for a POSIX shell. */
export function shellQuote(value: string): string {
    return /^[A-Za-z0-9_./:@=+-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;
}

/** The commands as a user would type them. */
export function configCommands(stack: string, entries: ConfigEntry[]): string[] {
    return entries.map((e) => `pulumi config set --stack ${shellQuote(stack)}${e.secret ? " --secret" : ""} ${shellQuote(e.key)} ${shellQuote(e.value)}`);
}
