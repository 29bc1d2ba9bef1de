/**
 * Where every connection setting comes from, in one place. Each setting has a field of the resource's `connection`
 * argument, a stack-config key and the environment variables that may hold it (the Terraform providers' names:
 * Infisical/terraform-provider-infisical internal/client/constants.go and internal/provider/provider.go;
 * Unleash/terraform-provider-unleash), in this order: the first layer that sets a value wins.
 *
 * Nothing here reads a credential's value into a message: descriptions name the place, never the value.
 */

export type Layer = "connection" | "config" | "env" | "default";

export interface SettingDef {
    /** Field of the resource's `connection` argument. */
    readonly connection: string;
    /** Stack-config key (`pulumi config set [--secret] <key> <value>`). */
    readonly config: string;
    /** Environment variables, first one found wins. */
    readonly env: readonly string[];
    /** A credential: never shown, stored encrypted, redacted from every text. */
    readonly secret?: boolean;
    readonly doc: string;
}

/** The Infisical connection settings. */
export const INFISICAL_SETTINGS = {
    host: { connection: "host", config: "infisical:host", env: ["INFISICAL_HOST"], doc: "site URL of the Infisical instance (default https://app.infisical.com)" },
    caCert: { connection: "caCert", config: "infisical:caCert", env: [], doc: "PEM bundle of the CA(s) to trust for this server (added to the default ones)" },
    auth: { connection: "auth", config: "infisical:auth", env: ["INFISICAL_AUTH_METHOD"], doc: "login method: token, universal, oidc, kubernetes or aws_iam" },
    token: { connection: "token", config: "infisical:token", env: ["INFISICAL_TOKEN"], secret: true, doc: "static access token (token auth)" },
    clientId: { connection: "clientId", config: "infisical:clientId", env: ["INFISICAL_UNIVERSAL_AUTH_CLIENT_ID"], secret: true, doc: "universal auth client id" },
    clientSecret: { connection: "clientSecret", config: "infisical:clientSecret", env: ["INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET"], secret: true, doc: "universal auth client secret" },
    identityId: { connection: "identityId", config: "infisical:identityId", env: ["INFISICAL_MACHINE_IDENTITY_ID"], doc: "machine identity id (oidc, kubernetes, aws_iam)" },
    organizationSlug: {
        connection: "organizationSlug",
        config: "infisical:organizationSlug",
        env: ["INFISICAL_AUTH_ORGANIZATION_SLUG"],
        doc: "scope the login to this sub-organization (as Terraform's organization_slug)",
    },
    oidcTokenEnvVar: {
        connection: "oidcTokenEnvVar",
        config: "infisical:oidcTokenEnvVar",
        // The Terraform provider documents INFISICAL_OIDC_AUTH_TOKEN_KEY_NAME; its code reads INFISICAL_OIDC_AUTH_TOKEN_NAME.
        env: ["INFISICAL_OIDC_AUTH_TOKEN_KEY_NAME", "INFISICAL_OIDC_AUTH_TOKEN_NAME"],
        doc: "name of the environment variable holding the OIDC JWT (default INFISICAL_AUTH_JWT)",
    },
    oidcAudience: {
        connection: "oidcAudience",
        config: "infisical:oidcAudience",
        env: ["INFISICAL_OIDC_AUTH_AUDIENCE"],
        doc: "audience asked of GitHub Actions' token endpoint (default: GitHub's, https://github.com/<owner>)",
    },
    serviceAccountToken: {
        connection: "serviceAccountToken",
        config: "infisical:serviceAccountToken",
        env: ["INFISICAL_KUBERNETES_SERVICE_ACCOUNT_TOKEN"],
        secret: true,
        doc: "Kubernetes service-account token (instead of the token file)",
    },
    serviceAccountTokenPath: {
        connection: "serviceAccountTokenPath",
        config: "infisical:serviceAccountTokenPath",
        env: ["INFISICAL_KUBERNETES_SERVICE_ACCOUNT_TOKEN_PATH"],
        doc: "file of the Kubernetes service-account token (default /var/run/secrets/kubernetes.io/serviceaccount/token)",
    },
} as const satisfies Record<string, SettingDef>;

/** The Unleash connection settings (Unleash/terraform-provider-unleash: UNLEASH_URL, AUTH_TOKEN). */
export const UNLEASH_SETTINGS = {
    url: { connection: "url", config: "unleash:url", env: ["UNLEASH_URL"], doc: "base URL of the Unleash instance (everything before /api)" },
    apiToken: { connection: "apiToken", config: "unleash:apiToken", env: ["AUTH_TOKEN"], secret: true, doc: "admin API token or an Admin's personal access token" },
    caCert: { connection: "caCert", config: "unleash:caCert", env: [], doc: "PEM bundle of the CA(s) to trust for this server (added to the default ones)" },
} as const satisfies Record<string, SettingDef>;

export type InfisicalSetting = keyof typeof INFISICAL_SETTINGS;
export type UnleashSetting = keyof typeof UNLEASH_SETTINGS;

/** A value and where it came from. */
export interface Sourced {
    value: string;
    from: Layer;
    /** Human text for the place, e.g. "stack config infisical:identityId" (never the value). */
    source: string;
}

/** What `configure` gives the dynamic provider: `get("infisical:host")` etc. */
export interface ConfigSource {
    get(key: string): string | undefined;
}

const ALL_DEFS: SettingDef[] = [...Object.values(INFISICAL_SETTINGS), ...Object.values(UNLEASH_SETTINGS)];

let stackConfig: Record<string, string> = {};

/** Called from the dynamic provider's `configure` with the stack configuration. Keeps only the keys we use. */
export function setStackConfig(source: ConfigSource | undefined): void {
    const next: Record<string, string> = {};
    for (const def of ALL_DEFS) {
        let value: string | undefined;
        try {
            value = source?.get(def.config);
        } catch {
            value = undefined;
        }
        const cleaned = clean(value);
        if (cleaned !== undefined) next[def.config] = cleaned;
    }
    stackConfig = next;
}

/** The stack configuration values in use, by config key (tests and diagnostics; never print credentials). */
export function getStackConfigValues(): Readonly<Record<string, string>> {
    return stackConfig;
}

export function clean(value: unknown): string | undefined {
    return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

/** Human text for a place: "the resource's connection.x", "stack config k", "environment variable V". */
export function describePlace(def: SettingDef, layer: Layer, envName?: string): string {
    switch (layer) {
        case "connection":
            return `the resource's connection.${def.connection}`;
        case "config":
            return `stack config ${def.config}`;
        case "env":
            return `environment variable ${envName ?? def.env[0] ?? def.config}`;
        default:
            return "the default";
    }
}

/** Every place a setting can be given, for "set X, Y or Z" messages. */
export function placesOf(def: SettingDef): string {
    const places = [`connection.${def.connection}`, `\`pulumi config set ${def.secret ? "--secret " : ""}${def.config} …\``];
    if (def.env.length > 0) places.push(`the environment variable ${def.env[0]}`);
    return places.join(", ");
}

/** The value of one setting in one layer. */
export function valueIn(def: SettingDef, layer: Layer, arg: Record<string, unknown> | undefined, env: NodeJS.ProcessEnv): Sourced | undefined {
    if (layer === "connection") {
        const value = clean(arg?.[def.connection]);
        return value === undefined ? undefined : { value, from: layer, source: describePlace(def, layer) };
    }
    if (layer === "config") {
        const value = stackConfig[def.config];
        return value === undefined ? undefined : { value, from: layer, source: describePlace(def, layer) };
    }
    if (layer === "env") {
        for (const name of def.env) {
            const value = clean(env[name]);
            if (value !== undefined) return { value, from: layer, source: describePlace(def, layer, name) };
        }
    }
    return undefined;
}

export const LAYERS: readonly Layer[] = ["connection", "config", "env"];

/** The first layer's value of a setting (connection, then stack config, then environment). */
export function firstValue(def: SettingDef, arg: Record<string, unknown> | undefined, env: NodeJS.ProcessEnv): Sourced | undefined {
    for (const layer of LAYERS) {
        const v = valueIn(def, layer, arg, env);
        if (v) return v;
    }
    return undefined;
}
