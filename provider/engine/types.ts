/**
 * The declarative description of a resource, in the spirit of the Terraform plugin framework: a zod schema of the
 * inputs, one rule per field, cross-field rules, and the API mapping. The generic engine (./engine.ts) turns a
 * description into the dynamic provider's check/diff/create/read/update/delete; adding a resource means writing one
 * description (provider/resources/*.ts) and registering it.
 */
import type { z } from "zod";
import type { HttpMethod } from "../http/client";
import type { ApiError } from "../http/errors";
import type { Normalizer } from "./normalize";

/** One field of the resource (an input, an output, or both). */
export interface FieldRule {
    /** What the field means (becomes the JSDoc and the docs). */
    doc: string;
    /** Name in request bodies when it differs from the field name. */
    apiName?: string;
    /** Name in responses when it differs from the request name (Infisical answers `orgId` to `organizationId`). */
    responseName?: string;
    /**
     * Value applied at check time when the input is absent (what the API itself assumes). Fields without a default
     * that the user leaves unset are unmanaged: never compared, never sent (or sent back unchanged).
     */
    default?: unknown;
    /**
     * For optional fields without a default: the value that means "not set" to the API. Removing a managed field
     * from the program sets it to this value once (so the live setting is cleared), after which it is unmanaged.
     */
    clearedValue?: unknown;
    /**
     * Canonical form for comparing the desired value with the live one (diff, drift). It may only equate spellings
     * that the server treats the same; the value sent is the one the user wrote (see `toApi`).
     */
    normalize?: Normalizer;
    /** Input value → request body value. Default: the value as written (the server compares some values byte for byte). */
    toApi?: (value: unknown) => unknown;
    /** A secret: a secret output, masked in every message and diff explanation, with a salted hash output `<field>Hash`. */
    secret?: boolean;
    /** A change replaces the resource (identity fields). */
    forcesReplacement?: boolean;
    /** Output only, set from API responses (ids, timestamps); never compared, never reported as drift. */
    computed?: boolean;
    /**
     * With `computed`: the server's own id of the object. A read that finds another value means the object was
     * deleted and created again outside Pulumi; refresh says so, and `oidc-drift` reports it as replaced.
     */
    objectId?: boolean;
    /**
     * The server derives this field from another one when only that one is given (Unleash resolves
     * `defaultRootRole` to `defaultRootRoleId`; an Infisical auth template provides an identity's discovery URL,
     * issuer, audiences and CA). While the user manages the source field and not this one, this one is output only:
     * no default, never sent, never carried back in full-replace bodies, never compared, never reported as drift.
     */
    derivedFrom?: {
        field: string;
        /** The source field's value that this field's live value stands for (e.g. role id 3 → "Viewer"), if known. */
        sourceValue?: (value: unknown) => unknown;
    };
    /** Part of the request URL (path or query), not of the body. */
    inPath?: boolean;
    /**
     * Not every server version has this setting: one whose answers lack the field (absent, where newer versions
     * answer null or a value) does not have it. There it is never sent alone, never compared, listed in the
     * `unsupportedSettings` output, and the user is told when it is set. The text says which versions have it.
     */
    availableOn?: string;
}

/** A rule over several fields, skipped while any of them is unknown (preview). */
export interface CrossFieldRule {
    fields: string[];
    /** Failures, each naming the property it is about. */
    check(values: Record<string, unknown>): Array<{ property: string; reason: string }>;
}

/** Which API answers mean "the object does not exist". */
export interface GoneRule {
    status: number;
    /** Only when the API's message matches (so that a wrong URL's 404 is not mistaken for a deleted object). */
    message?: RegExp;
}

/** Context given to request builders. */
export interface RequestContext {
    /** Key field values (e.g. organizationId, identityId). */
    key: Record<string, string>;
    /** Desired settings as the API expects them in a body (normalized, API names, unmanaged fields left out). */
    desired: Record<string, unknown>;
    /** The object as the API last returned it (unwrapped), when the request needs it. */
    current?: Record<string, unknown>;
    /**
     * For full-replace APIs: the current object's settings that Pulumi does not manage, to send back unchanged
     * (everything in `current` except the managed, cleared and derived fields, `version`, and empty values).
     */
    carried?: Record<string, unknown>;
}

export interface RequestSpec {
    method: HttpMethod;
    /** Path with `{field}` placeholders filled from the key, e.g. "/api/v1/auth/oidc-auth/identities/{identityId}". */
    path: string;
    /** Key fields sent as query parameters. */
    query?: string[];
    /** Request body. */
    body?: (ctx: RequestContext) => Record<string, unknown>;
    /** Whether repeating the request is harmless (default: everything but POST). */
    idempotent?: boolean;
    /** Whether `current` must be read first (full-replace APIs). */
    needsCurrent?: boolean;
    /** Update only: the body carries the key fields and only the fields that changed (partial-update APIs). */
    changedOnly?: boolean;
}

export interface ApiMapping {
    /** Reads the object; the response is unwrapped with `unwrap`. */
    read: RequestSpec & { gone: GoneRule[] };
    /** Creates the object when it does not exist. */
    create: RequestSpec & { alreadyExists?: GoneRule[] };
    /**
     * Applies the desired settings to an existing object (also used to adopt one). `goneIfConfirmed`: answers that
     * may mean the object is gone (an older version's words, which could also mean something else): a read decides.
     */
    update: RequestSpec & { goneIfConfirmed?: GoneRule[] };
    /** Puts the object in its documented safe state (or deletes it). */
    delete: RequestSpec & {
        gone?: GoneRule[];
        /**
         * Full-replace deletes (that send the carried settings back): when the API refuses the delete in a way `on`
         * recognises, it is sent again with the carried settings `on` names left out (cleared), and `note` is said.
         */
        retryWithout?: Array<{ on: (err: ApiError) => string[] | undefined; note: (fields: string[]) => string }>;
    };
    /** Property of response bodies holding the object (Infisical wraps identity auth in `identityOidcAuth`). */
    unwrap?: string;
    /** The API refuses empty strings: an empty value is left out of the body (on a full replace that clears it). */
    omitEmpty?: boolean;
}

/** What a write does beyond the object itself, said in the docs and warned about at preview and apply. */
export interface SideEffects {
    /** Said when an update will be sent. */
    update?: string;
    /** Said when the resource is deleted (destroy, or the old side of a replacement). */
    delete?: string;
}

/** What an API error means, recognised from its body (error name, message) rather than from its status alone. */
export interface ErrorRule {
    status?: number;
    /** The API's error kind (Infisical `error`, Unleash `name`), e.g. "ValidationFailure". */
    errorName?: string | RegExp;
    message?: RegExp;
    /** Only when the validation failure names this field (as the API names it). */
    invalidField?: string;
    /** Only when the request body carried this field (e.g. a setting an older server does not know). */
    requestHas?: string;
    /** The fix to show; a function when it names what the answer says (e.g. the permissions it lists as missing). */
    hint: string | ((answer: { missingPermissions: string[]; apiMessage?: string }) => string);
    /** Fail with this message instead of the API's (e.g. an unsupported server version). */
    replaceMessage?: boolean;
}

/**
 * Singletons (one per organization / per instance) exist whether or not anyone manages them; "enabled" tells
 * whether they are in use. A disabled singleton is in the safe state delete leaves, so it reads as gone when the
 * state says it was enabled, and create takes it over without `adoptExisting`.
 */
export interface SingletonRule {
    /** Field that says whether the object is in use (`isActive`, `enabled`). */
    enabledField: string;
}

export interface ResourceDescription {
    /** Name used by the runtime registry and the forwarder, e.g. "OidcSsoConfig". */
    kind: string;
    /** Pulumi type token parts: `pulumi-nodejs:dynamic/<module>:<type>`. */
    module: string;
    type: string;
    service: "infisical" | "unleash";
    /** One paragraph for the docs. */
    doc: string;
    /** Zod schema of the API settings inputs (connection, adoptExisting and verifyDiscovery are added by the engine). */
    schema: z.ZodObject<z.ZodRawShape>;
    fields: Record<string, FieldRule>;
    rules?: CrossFieldRule[];
    /** Fields that identify the object within its API (and form the resource id); empty for per-instance singletons. */
    key: string[];
    singleton?: SingletonRule;
    /** Whether `adoptExisting` is offered (objects that can exist before Pulumi manages them). */
    adoptable: boolean;
    api: ApiMapping;
    /** What delete leaves behind, for the docs and messages. */
    deletedState: string;
    /** Optional preview-time check of the identity provider (opt-in with `verifyDiscovery`). */
    discovery?: (inputs: Record<string, unknown>) => DiscoveryTarget | undefined;
    /** Resource-specific error rules (before the service-wide ones); each quirk written once, where it was observed. */
    errors?: ErrorRule[];
    /** What writes do to the rest of the account. */
    sideEffects?: SideEffects;
    /** Words for the object this resource manages, for permission hints (e.g. "the organization's SSO configuration"). */
    objectName: string;
}

/** What the discovery check verifies. */
export interface DiscoveryTarget {
    /** The field the failure is reported on. */
    property: string;
    /** Discovery document URL, or the issuer it is derived from. */
    discoveryUrl?: string;
    /** JWKS URL to check directly when there is no discovery document (custom configurations). */
    jwksUri?: string;
    /** Issuer the document must announce, and the field it comes from. */
    expectedIssuer?: {
        value: string;
        property: string;
        /**
         * The server compares the token's `iss` with this value byte for byte (Infisical's boundIssuer), so the
         * announced issuer must be exactly it; otherwise (an issuer derived from a discovery URL) spellings of the
         * same URL are accepted.
         */
        exact?: boolean;
    };
    /** Signing algorithm(s) the JWKS must offer a key for; "HS*" needs no key. */
    algorithms?: string[];
}
