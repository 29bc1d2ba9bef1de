/**
 * The declarative description of a resource, in the spirit of the Terraform plugin framework: a zod schema of the
 * inputs, one rule per field, cross-field rules, and the API mapping. The generic engine (./engine.ts) turns a
 * description into the dynamic provider's check/diff/create/read/update/delete; adding a resource means writing one
 * description (provider/resources/*.ts) and registering it.
 */
import type { z } from "zod";
import type { HttpMethod } from "../http/client";
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
    /** Canonical form for diffs and outputs; accepts input and API shapes alike. */
    normalize?: Normalizer;
    /** Input value → request body value (defaults to the normalized value). */
    toApi?: (value: unknown) => unknown;
    /** A secret: a secret output, masked in every message and diff explanation. */
    secret?: boolean;
    /**
     * The API never returns it: the state keeps a salted hash of the last applied value (`<field>Hash`), so a change
     * of the desired value is seen; an out-of-band change is not (unless a response happens to include it).
     */
    writeOnly?: boolean;
    /** A change replaces the resource (identity fields). */
    forcesReplacement?: boolean;
    /** Output only, set from API responses (ids, timestamps); never compared. */
    computed?: boolean;
    /** Part of the request URL (path or query), not of the body. */
    inPath?: boolean;
    /** Sent in create requests only (the update request does not take it). */
    createOnly?: boolean;
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
}

export interface ApiMapping {
    /** Reads the object; the response is unwrapped with `unwrap`. */
    read: RequestSpec & { gone: GoneRule[] };
    /** Creates the object when it does not exist. */
    create: RequestSpec & { alreadyExists?: GoneRule[] };
    /** Applies the desired settings to an existing object (also used to adopt one). */
    update: RequestSpec;
    /** Puts the object in its documented safe state (or deletes it). */
    delete: RequestSpec & { gone?: GoneRule[] };
    /** Property of response bodies holding the object (Infisical wraps identity auth in `identityOidcAuth`). */
    unwrap?: string;
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
    /** Resource-specific fix hints for error statuses (before the service-wide ones). */
    hint?: (status: number, apiMessage: string | undefined) => string | undefined;
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
    expectedIssuer?: { value: string; property: string };
    /** Signing algorithm(s) the JWKS must offer a key for; "HS*" needs no key. */
    algorithms?: string[];
}
