/**
 * The public API of the package as it was written by hand in provider/index.ts before the typed classes were generated
 * (commit 120d735), declarations only: the reference that tests/types/public-api.check.ts holds the generated classes
 * to. Users' code was written against this; do not edit it to make a check pass.
 */
import type * as pulumi from "@pulumi/pulumi";

/** Where and how to reach Infisical, for one resource. Every field is optional; see the fallbacks in the package docs. */
export interface InfisicalConnectionArgs {
    /** Site URL of the Infisical instance (the API is under /api), e.g. https://app.infisical.com (the default). */
    host?: pulumi.Input<string>;
    /** Static access token (machine identity token auth, or a user token). Stored encrypted. */
    token?: pulumi.Input<string>;
    /** Universal auth client id of a machine identity (with clientSecret). */
    clientId?: pulumi.Input<string>;
    /** Universal auth client secret of a machine identity (with clientId). Stored encrypted. */
    clientSecret?: pulumi.Input<string>;
}

/** Where and how to reach Unleash, for one resource. */
export interface UnleashConnectionArgs {
    /** Base URL of the Unleash instance (everything before /api), e.g. https://unleash.example.com. */
    url?: pulumi.Input<string>;
    /** Admin API token or personal access token of an Admin. Stored encrypted. */
    apiToken?: pulumi.Input<string>;
}

/** A comma-separated list, written either as "a, b" or as ["a", "b"]. */
export type CommaList = string | pulumi.Input<string>[];

type OutputsOf<T> = { [K in keyof T]-?: pulumi.Output<NonNullable<pulumi.Unwrap<T[K]>>> };

// ---------------------------------------------------------------------------------------------- OidcSsoConfig

/** Arguments of {@link OidcSsoConfig}. */
export interface OidcSsoConfigArgs {
    /** ID of the Infisical organization whose SSO is configured. Changing it replaces the resource. */
    organizationId: pulumi.Input<string>;
    /** "discoveryURL": endpoints come from `discoveryURL`; "custom": `issuer` and every endpoint are given. */
    configurationType: pulumi.Input<"custom" | "discoveryURL">;
    /** OIDC discovery URL of the identity provider (required with configurationType "discoveryURL"). */
    discoveryURL?: pulumi.Input<string>;
    /** Issuer of the identity provider (required with configurationType "custom"). */
    issuer?: pulumi.Input<string>;
    /** Authorization endpoint (required with configurationType "custom"). */
    authorizationEndpoint?: pulumi.Input<string>;
    /** JWKS URL (required with configurationType "custom"). */
    jwksUri?: pulumi.Input<string>;
    /** Token endpoint (required with configurationType "custom"). */
    tokenEndpoint?: pulumi.Input<string>;
    /** Userinfo endpoint (required with configurationType "custom"). */
    userinfoEndpoint?: pulumi.Input<string>;
    /** Client ID of the Infisical application registered at the identity provider. */
    clientId: pulumi.Input<string>;
    /**
     * Client secret of that application. Always stored encrypted and exposed as a secret output. Infisical never
     * returns it: a change of the desired value is applied, a change made outside Pulumi cannot be detected.
     */
    clientSecret: pulumi.Input<string>;
    /** Whether SSO through this configuration is enabled. Default true. */
    isActive?: pulumi.Input<boolean>;
    /** Email domains allowed to sign in ("a.com, b.com" or ["a.com", "b.com"]); empty allows any. Default "". */
    allowedEmailDomains?: pulumi.Input<CommaList>;
    /** Synchronize group memberships from the identity provider's groups at each login. Default false. */
    manageGroupMemberships?: pulumi.Input<boolean>;
    /** Signature algorithm of the ID tokens: "RS256" (default), "HS256", "RS512" or "EdDSA". */
    jwtSignatureAlgorithm?: pulumi.Input<"RS256" | "HS256" | "RS512" | "EdDSA">;
    /**
     * Take over a configuration that already exists and is active (one per organization; `pulumi import` does not
     * work for dynamic providers). Without it, creating over an active configuration fails. Default false.
     */
    adoptExisting?: pulumi.Input<boolean>;
    /** At preview, fetch the discovery document (or JWKS) and check issuer and signing keys. Default false. */
    verifyDiscovery?: pulumi.Input<boolean>;
    /** Infisical URL and credentials for this resource (else stack config, else environment). Stored encrypted. */
    connection?: pulumi.Input<InfisicalConnectionArgs>;
}

/** State of an {@link OidcSsoConfig}, for {@link OidcSsoConfig.get}. */
export interface OidcSsoConfigState extends Partial<OidcSsoConfigArgs> {
    /** ID of the configuration object in Infisical. */
    configId?: pulumi.Input<string>;
    /** Salted hash of the last applied client secret (how changes of the desired value are detected). */
    clientSecretHash?: pulumi.Input<string>;
    /** API base URL the configuration lives on. */
    targetUrl?: pulumi.Input<string>;
}

/**
 * The OIDC single sign-on configuration of an Infisical organization (one per organization).
 * Deleting it deactivates it (`isActive: false`): the API has no delete.
 */
export declare class OidcSsoConfig extends pulumi.dynamic.Resource {
    /** Organization ID. */
    readonly organizationId: pulumi.Output<string>;
    /** "custom" or "discoveryURL". */
    readonly configurationType: pulumi.Output<"custom" | "discoveryURL">;
    /** Discovery URL (normalized: no trailing slash). */
    readonly discoveryURL: pulumi.Output<string>;
    /** Issuer. */
    readonly issuer: pulumi.Output<string>;
    /** Authorization endpoint. */
    readonly authorizationEndpoint: pulumi.Output<string>;
    /** JWKS URL. */
    readonly jwksUri: pulumi.Output<string>;
    /** Token endpoint. */
    readonly tokenEndpoint: pulumi.Output<string>;
    /** Userinfo endpoint. */
    readonly userinfoEndpoint: pulumi.Output<string>;
    /** Client ID. */
    readonly clientId: pulumi.Output<string>;
    /** Last applied client secret (secret output). */
    readonly clientSecret: pulumi.Output<string>;
    /** Whether the configuration is active. */
    readonly isActive: pulumi.Output<boolean>;
    /** Allowed email domains, canonical ("a.com,b.com": sorted, lower case). */
    readonly allowedEmailDomains: pulumi.Output<string>;
    /** Whether group memberships are managed from the identity provider. */
    readonly manageGroupMemberships: pulumi.Output<boolean>;
    /** ID token signature algorithm. */
    readonly jwtSignatureAlgorithm: pulumi.Output<string>;
    /** Whether an existing configuration may be taken over. */
    readonly adoptExisting: pulumi.Output<boolean>;
    /** Whether the discovery check runs at preview. */
    readonly verifyDiscovery: pulumi.Output<boolean>;
    /** The connection argument, if given (secret output). */
    readonly connection: pulumi.Output<InfisicalConnectionArgs | undefined>;
    /** ID of the configuration object in Infisical. */
    readonly configId: pulumi.Output<string>;
    /** Salted scrypt hash of the last applied client secret. */
    readonly clientSecretHash: pulumi.Output<string>;
    /** API base URL (the Infisical site URL) the configuration lives on. */
    readonly targetUrl: pulumi.Output<string>;

    constructor(name: string, args: OidcSsoConfigArgs, opts?: pulumi.CustomResourceOptions);
    constructor(name: string, argsOrState: OidcSsoConfigArgs | OidcSsoConfigState, opts?: pulumi.CustomResourceOptions);

    /**
     * Reads an existing configuration into the program without managing it. `id` is the organization ID;
     * `state.connection` may say where and how to reach Infisical.
     */
    static get(name: string, id: pulumi.Input<pulumi.ID>, state?: OidcSsoConfigState, opts?: pulumi.CustomResourceOptions): OidcSsoConfig;
}

// ---------------------------------------------------------------------------------------------- IdentityOidcAuth

/** Arguments of {@link IdentityOidcAuth}. */
export interface IdentityOidcAuthArgs {
    /** ID of the machine identity. Changing it replaces the resource. */
    identityId: pulumi.Input<string>;
    /** Base URL of the identity provider; Infisical reads `<url>/.well-known/openid-configuration`. */
    oidcDiscoveryUrl: pulumi.Input<string>;
    /** Issuer (`iss`) the tokens must carry. */
    boundIssuer: pulumi.Input<string>;
    /** Accepted audiences ("a, b" or ["a", "b"]); empty accepts any. Default "". */
    boundAudiences?: pulumi.Input<CommaList>;
    /** Claims the tokens must carry: {claim: "v1, v2"} or {claim: ["v1", "v2"]}; values may be globs. Default {}. */
    boundClaims?: pulumi.Input<Record<string, pulumi.Input<CommaList>>>;
    /** Subject (`sub`) the tokens must carry; may be a glob. Default "" (any). */
    boundSubject?: pulumi.Input<string>;
    /** PEM CA certificate(s) to trust for the identity provider's endpoints. Default "" (public CAs). */
    caCert?: pulumi.Input<string>;
    /** IPs or CIDR ranges the access tokens may be used from, as strings or {ipAddress}. Default anywhere. */
    accessTokenTrustedIps?: pulumi.Input<pulumi.Input<string | { ipAddress: pulumi.Input<string> }>[]>;
    /** Access token lifetime in seconds (0..315360000, at most accessTokenMaxTTL). Default 2592000. */
    accessTokenTTL?: pulumi.Input<number>;
    /** Maximum access token lifetime in seconds (0..315360000). Default 2592000. */
    accessTokenMaxTTL?: pulumi.Input<number>;
    /** Uses allowed per access token; 0 means unlimited. Default 0. */
    accessTokenNumUsesLimit?: pulumi.Input<number>;
    /** Take over OIDC auth already attached to the identity instead of failing. Default false. */
    adoptExisting?: pulumi.Input<boolean>;
    /** At preview, check that the discovery document announces `boundIssuer` and that its JWKS has keys. Default false. */
    verifyDiscovery?: pulumi.Input<boolean>;
    /** Infisical URL and credentials for this resource (else stack config, else environment). Stored encrypted. */
    connection?: pulumi.Input<InfisicalConnectionArgs>;
}

/** State of an {@link IdentityOidcAuth}, for {@link IdentityOidcAuth.get}. */
export interface IdentityOidcAuthState extends Partial<IdentityOidcAuthArgs> {
    /** ID of the OIDC auth object in Infisical. */
    identityOidcAuthId?: pulumi.Input<string>;
    /** When it was attached. */
    createdAt?: pulumi.Input<string>;
    /** When it was last changed. */
    updatedAt?: pulumi.Input<string>;
    /** API base URL it lives on. */
    targetUrl?: pulumi.Input<string>;
}

/** OIDC auth of an Infisical machine identity. Deleting it revokes the OIDC auth method. */
export declare class IdentityOidcAuth extends pulumi.dynamic.Resource {
    /** Machine identity ID. */
    readonly identityId: pulumi.Output<string>;
    /** Identity provider base URL (normalized). */
    readonly oidcDiscoveryUrl: pulumi.Output<string>;
    /** Bound issuer. */
    readonly boundIssuer: pulumi.Output<string>;
    /** Bound audiences, canonical ("a,b"). */
    readonly boundAudiences: pulumi.Output<string>;
    /** Bound claims, values canonical ("v1,v2"). */
    readonly boundClaims: pulumi.Output<Record<string, string>>;
    /** Bound subject. */
    readonly boundSubject: pulumi.Output<string>;
    /** CA certificate(s). */
    readonly caCert: pulumi.Output<string>;
    /** Trusted IPs as canonical CIDRs, sorted. */
    readonly accessTokenTrustedIps: pulumi.Output<string[]>;
    /** Access token lifetime (s). */
    readonly accessTokenTTL: pulumi.Output<number>;
    /** Maximum access token lifetime (s). */
    readonly accessTokenMaxTTL: pulumi.Output<number>;
    /** Uses per access token (0 = unlimited). */
    readonly accessTokenNumUsesLimit: pulumi.Output<number>;
    /** Whether existing OIDC auth may be taken over. */
    readonly adoptExisting: pulumi.Output<boolean>;
    /** Whether the discovery check runs at preview. */
    readonly verifyDiscovery: pulumi.Output<boolean>;
    /** The connection argument, if given (secret output). */
    readonly connection: pulumi.Output<InfisicalConnectionArgs | undefined>;
    /** ID of the OIDC auth object in Infisical. */
    readonly identityOidcAuthId: pulumi.Output<string>;
    /** When it was attached (ISO 8601). */
    readonly createdAt: pulumi.Output<string>;
    /** When it was last changed (ISO 8601). */
    readonly updatedAt: pulumi.Output<string>;
    /** API base URL (the Infisical site URL) it lives on. */
    readonly targetUrl: pulumi.Output<string>;

    constructor(name: string, args: IdentityOidcAuthArgs, opts?: pulumi.CustomResourceOptions);
    constructor(name: string, argsOrState: IdentityOidcAuthArgs | IdentityOidcAuthState, opts?: pulumi.CustomResourceOptions);

    /** Reads the OIDC auth of an identity without managing it. `id` is the identity ID. */
    static get(name: string, id: pulumi.Input<pulumi.ID>, state?: IdentityOidcAuthState, opts?: pulumi.CustomResourceOptions): IdentityOidcAuth;
}

// ---------------------------------------------------------------------------------------------- UnleashOidcSettings

/** Arguments of {@link UnleashOidcSettings}. */
export interface UnleashOidcSettingsArgs {
    /** Whether OIDC login is enabled. Default true. */
    enabled?: pulumi.Input<boolean>;
    /** Discovery URL of the identity provider (…/.well-known/openid-configuration); required when enabled. */
    discoverUrl?: pulumi.Input<string>;
    /** Client ID of the Unleash application at the identity provider. */
    clientId: pulumi.Input<string>;
    /** Client secret. Always stored encrypted and a secret output; changes outside Pulumi are detected (masked). */
    secret: pulumi.Input<string>;
    /** Create users at first login from their email. Default false. */
    autoCreate?: pulumi.Input<boolean>;
    /** Sign users out of the identity provider too. Default false. */
    enableSingleSignOut?: pulumi.Input<boolean>;
    /** Root role of auto-created users. Unset keeps the instance's value. */
    defaultRootRole?: pulumi.Input<"Viewer" | "Editor" | "Admin">;
    /** Root role ID of auto-created users (takes precedence over defaultRootRole). Unset keeps the instance's value. */
    defaultRootRoleId?: pulumi.Input<number>;
    /** Email domains whose users are auto-created ("a.com, b.com" or ["a.com", "b.com"]). Default "". */
    emailDomains?: pulumi.Input<CommaList>;
    /** ACR values to request, space separated. Unset keeps the instance's value. */
    acrValues?: pulumi.Input<string | pulumi.Input<string>[]>;
    /** ID token signature algorithm: "RS256" (default), "RS384" or "RS512". */
    idTokenSigningAlgorithm?: pulumi.Input<"RS256" | "RS384" | "RS512">;
    /** Synchronize group memberships from the ID token. Default false. */
    enableGroupSyncing?: pulumi.Input<boolean>;
    /** JSON path of the groups in the ID token (required with enableGroupSyncing). */
    groupJsonPath?: pulumi.Input<string>;
    /** Also request the "groups" scope. Default false. */
    addGroupsScope?: pulumi.Input<boolean>;
    /** Use PKCE. Default false. */
    enablePkce?: pulumi.Input<boolean>;
    /** Take over settings that are already enabled (one per instance) instead of failing. Default false. */
    adoptExisting?: pulumi.Input<boolean>;
    /** At preview, fetch the discovery document and check issuer and signing keys. Default false. */
    verifyDiscovery?: pulumi.Input<boolean>;
    /** Unleash URL and token for this resource (else stack config, else environment). Stored encrypted. */
    connection?: pulumi.Input<UnleashConnectionArgs>;
}

/** State of an {@link UnleashOidcSettings}, for {@link UnleashOidcSettings.get}. */
export interface UnleashOidcSettingsState extends Partial<UnleashOidcSettingsArgs> {
    /** Base URL of the Unleash instance (also the resource ID). */
    targetUrl?: pulumi.Input<string>;
}

/**
 * The OIDC login settings of an Unleash instance (one per instance; the resource ID is the instance URL).
 * Deleting it disables OIDC login (`enabled: false`).
 */
export declare class UnleashOidcSettings extends pulumi.dynamic.Resource {
    /** Whether OIDC login is enabled. */
    readonly enabled: pulumi.Output<boolean>;
    /** Discovery URL (normalized). */
    readonly discoverUrl: pulumi.Output<string>;
    /** Client ID. */
    readonly clientId: pulumi.Output<string>;
    /** Client secret as Unleash returns it (secret output). */
    readonly secret: pulumi.Output<string>;
    /** Whether users are auto-created. */
    readonly autoCreate: pulumi.Output<boolean>;
    /** Whether single sign-out is on. */
    readonly enableSingleSignOut: pulumi.Output<boolean>;
    /** Root role of auto-created users. */
    readonly defaultRootRole: pulumi.Output<string>;
    /** Root role ID of auto-created users. */
    readonly defaultRootRoleId: pulumi.Output<number>;
    /** Auto-create email domains, canonical ("a.com,b.com"). */
    readonly emailDomains: pulumi.Output<string>;
    /** ACR values (single spaces). */
    readonly acrValues: pulumi.Output<string>;
    /** ID token signature algorithm. */
    readonly idTokenSigningAlgorithm: pulumi.Output<string>;
    /** Whether group syncing is on. */
    readonly enableGroupSyncing: pulumi.Output<boolean>;
    /** Groups JSON path. */
    readonly groupJsonPath: pulumi.Output<string>;
    /** Whether the groups scope is requested. */
    readonly addGroupsScope: pulumi.Output<boolean>;
    /** Whether PKCE is used. */
    readonly enablePkce: pulumi.Output<boolean>;
    /** Whether enabled settings may be taken over. */
    readonly adoptExisting: pulumi.Output<boolean>;
    /** Whether the discovery check runs at preview. */
    readonly verifyDiscovery: pulumi.Output<boolean>;
    /** The connection argument, if given (secret output). */
    readonly connection: pulumi.Output<UnleashConnectionArgs | undefined>;
    /** Base URL of the Unleash instance (also the resource ID). */
    readonly targetUrl: pulumi.Output<string>;

    constructor(name: string, args: UnleashOidcSettingsArgs, opts?: pulumi.CustomResourceOptions);
    constructor(name: string, argsOrState: UnleashOidcSettingsArgs | UnleashOidcSettingsState, opts?: pulumi.CustomResourceOptions);

    /** Reads the OIDC settings of an instance without managing them. `id` is the instance's base URL. */
    static get(name: string, id: pulumi.Input<pulumi.ID>, state?: UnleashOidcSettingsState, opts?: pulumi.CustomResourceOptions): UnleashOidcSettings;
}

/** The output types, for code that passes resources around. */
export type OidcSsoConfigOutputs = OutputsOf<OidcSsoConfigState>;
export type IdentityOidcAuthOutputs = OutputsOf<IdentityOidcAuthState>;
export type UnleashOidcSettingsOutputs = OutputsOf<UnleashOidcSettingsState>;
