/**
 * Type-level proof that the generated classes keep the public API users wrote code against (tests/types/v0-public-api.ts):
 * every name, argument, state field and output property that existed keeps its exact type and optionality; what
 * is new is optional to pass. It is a compile-time check: `npm run build` (tsc) and tests/types/public-api.test.ts
 * fail when it does not hold. Nothing here runs.
 */
import type * as pulumi from "@pulumi/pulumi";
import type * as now from "../../provider";
import type * as v0 from "./v0-public-api";

/** Whether A and B are the same type (not merely assignable both ways: `any`, optionality and readonly count). */
export type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/**
 * Keys of `Old` that `New` dropped or whose type or modifiers changed (never when the old API is preserved). The
 * `connection` object may gain optional settings (new login methods): there, everything the old type held must still
 * be accepted.
 */
export type Broken<New, Old> = {
    [K in keyof Old]-?: K extends keyof New
        ? K extends "connection"
            ? Pick<Old, K> extends Pick<New, K>
                ? never
                : K
            : Same<Pick<New, K>, Pick<Old, K>> extends true
              ? never
              : K
        : K;
}[keyof Old];

/**
 * Argument keys whose old values `New` no longer accepts. An argument may become optional (a required setting that a
 * new source can provide, e.g. oidcDiscoveryUrl from an auth template): every program written against `Old` still
 * compiles. (Read sides, state and outputs, stay exact: see Broken.)
 */
export type BrokenArgs<New, Old> = {
    [K in keyof Old]-?: K extends keyof New ? (Pick<Old, K> extends Pick<New, K> ? never : K) : K;
}[keyof Old];

/** Required keys of T. */
export type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];

/** Compiles only when T is `never`; otherwise the error names the offending keys. */
export function none<T extends never>(): void {}

// Arguments: everything an existing program passes is still accepted, and nothing is newly required.
none<BrokenArgs<now.OidcSsoConfigArgs, v0.OidcSsoConfigArgs>>();
none<BrokenArgs<now.IdentityOidcAuthArgs, v0.IdentityOidcAuthArgs>>();
none<BrokenArgs<now.UnleashOidcSettingsArgs, v0.UnleashOidcSettingsArgs>>();
none<Exclude<RequiredKeys<now.OidcSsoConfigArgs>, RequiredKeys<v0.OidcSsoConfigArgs>>>();
none<Exclude<RequiredKeys<now.IdentityOidcAuthArgs>, RequiredKeys<v0.IdentityOidcAuthArgs>>>();
none<Exclude<RequiredKeys<now.UnleashOidcSettingsArgs>, RequiredKeys<v0.UnleashOidcSettingsArgs>>>();

// State (for `get`) and the Outputs types.
none<Broken<now.OidcSsoConfigState, v0.OidcSsoConfigState>>();
none<Broken<now.IdentityOidcAuthState, v0.IdentityOidcAuthState>>();
none<Broken<now.UnleashOidcSettingsState, v0.UnleashOidcSettingsState>>();
none<Broken<now.OidcSsoConfigOutputs, v0.OidcSsoConfigOutputs>>();
none<Broken<now.IdentityOidcAuthOutputs, v0.IdentityOidcAuthOutputs>>();
none<Broken<now.UnleashOidcSettingsOutputs, v0.UnleashOidcSettingsOutputs>>();

// The classes' output properties (and everything they inherit from pulumi.dynamic.Resource).
none<Broken<now.OidcSsoConfig, v0.OidcSsoConfig>>();
none<Broken<now.IdentityOidcAuth, v0.IdentityOidcAuth>>();
none<Broken<now.UnleashOidcSettings, v0.UnleashOidcSettings>>();

// Constructors and `get` accept what they accepted, and return a class usable where the old one was.
type Ctor<Args, R> = new (name: string, args: Args, opts?: pulumi.CustomResourceOptions) => R;
type Get<State, R> = (name: string, id: pulumi.Input<pulumi.ID>, state?: State, opts?: pulumi.CustomResourceOptions) => R;
export type Constructors = [
    Ctor<v0.OidcSsoConfigArgs, v0.OidcSsoConfig>,
    Ctor<v0.OidcSsoConfigArgs | v0.OidcSsoConfigState, v0.OidcSsoConfig>,
    Ctor<v0.IdentityOidcAuthArgs, v0.IdentityOidcAuth>,
    Ctor<v0.IdentityOidcAuthArgs | v0.IdentityOidcAuthState, v0.IdentityOidcAuth>,
    Ctor<v0.UnleashOidcSettingsArgs, v0.UnleashOidcSettings>,
    Ctor<v0.UnleashOidcSettingsArgs | v0.UnleashOidcSettingsState, v0.UnleashOidcSettings>,
    Get<v0.OidcSsoConfigState, v0.OidcSsoConfig>,
    Get<v0.IdentityOidcAuthState, v0.IdentityOidcAuth>,
    Get<v0.UnleashOidcSettingsState, v0.UnleashOidcSettings>,
];
export type ConstructorsNow = [
    typeof now.OidcSsoConfig,
    typeof now.OidcSsoConfig,
    typeof now.IdentityOidcAuth,
    typeof now.IdentityOidcAuth,
    typeof now.UnleashOidcSettings,
    typeof now.UnleashOidcSettings,
    typeof now.OidcSsoConfig.get,
    typeof now.IdentityOidcAuth.get,
    typeof now.UnleashOidcSettings.get,
];
export const constructorsAccepted = (c: ConstructorsNow): Constructors => c;

// The shared types keep their exact shapes.
none<Broken<now.InfisicalConnectionArgs, v0.InfisicalConnectionArgs>>();
none<Broken<now.UnleashConnectionArgs, v0.UnleashConnectionArgs>>();
export const commaListSame: Same<now.CommaList, v0.CommaList> = true;
