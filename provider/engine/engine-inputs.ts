/**
 * The inputs the engine adds to every resource besides its API settings (`connection`, `adoptExisting`,
 * `verifyDiscovery`, `acceptRisks`), and the docs of the outputs it adds (`targetUrl`, `<secret>Hash`, `hashKey`): one list,
 * read by the typed classes' generator (scripts/gen-sdk.ts) so that these fields are described once, like the
 * resources' own fields. Adding an engine input = one entry here (then `npm run gen`), plus its handling in the engine.
 */
import type { ResourceDescription } from "./types";

export interface EngineInput {
    name: string;
    /** Shape of the value: "connection" is the service's connection object (`InfisicalConnectionArgs`, ...). */
    type: "boolean" | "string[]" | "connection";
    /** Stored encrypted and a secret output. */
    secret?: boolean;
    /** Whether the resource offers it (e.g. `adoptExisting` only where the object can exist before Pulumi). */
    appliesTo(desc: ResourceDescription): boolean;
    /** What it means for this resource (the JSDoc of the typed classes). */
    doc(desc: ResourceDescription): string;
}

const SERVICE_NAME = { infisical: "Infisical", unleash: "Unleash" } as const;

export const ENGINE_INPUT_DEFS: readonly EngineInput[] = [
    {
        name: "adoptExisting",
        type: "boolean",
        appliesTo: (desc) => desc.adoptable,
        doc: (desc) =>
            desc.singleton
                ? `Take over the object that already exists and is in use (\`${desc.singleton.enabledField}: true\`; there is one per ` +
                  `${desc.key.length > 0 ? desc.key.map((k) => `\`${k}\``).join(", ") : "instance"}) instead of failing. ` +
                  "`pulumi import` does not work for dynamic providers. Default false."
                : `Take over the object that already exists for this ${desc.key.map((k) => `\`${k}\``).join(", ")} instead of ` +
                  "failing. `pulumi import` does not work for dynamic providers. Default false.",
    },
    {
        name: "verifyDiscovery",
        type: "boolean",
        appliesTo: (desc) => desc.discovery !== undefined,
        doc: () =>
            "At preview, fetch the identity provider's discovery document (or, for endpoints given explicitly, its JWKS) and " +
            "check that it announces the configured issuer and offers a key for the signing algorithm. Default false.",
    },
    {
        name: "acceptRisks",
        type: "string[]",
        appliesTo: () => true,
        doc: () =>
            "Ids of the trust rules (docs/trust.md) whose error findings this resource accepts: a risky setting whose rule is " +
            "listed here no longer fails the preview (warnings are printed regardless); an unknown id is refused. Default none.",
    },
    {
        name: "connection",
        type: "connection",
        secret: true,
        appliesTo: () => true,
        doc: (desc) =>
            `${SERVICE_NAME[desc.service]} URL and credentials for this resource (else stack config, else environment). ` +
            "Stored encrypted and a secret output.",
    },
];

/** The engine inputs a resource has, in declaration order. */
export function engineInputsOf(desc: ResourceDescription): EngineInput[] {
    return ENGINE_INPUT_DEFS.filter((input) => input.appliesTo(desc));
}

/** Docs of the outputs the engine adds (named by TARGET_URL and hashField in engine.ts). */
export const ENGINE_OUTPUT_DOCS = {
    targetUrl: (desc: ResourceDescription): string =>
        desc.key.length > 0
            ? `API base URL (the ${SERVICE_NAME[desc.service]} site URL) the object lives on.`
            : `Base URL of the ${SERVICE_NAME[desc.service]} instance (also the resource ID).`,
    unsupportedSettings: (fields: readonly string[]): string =>
        `Settings the server's version does not have (of ${fields.map((f) => `\`${f}\``).join(", ")}): its answers lack them, so they are ` +
        "not applied there and changes to them are not planned. Absent when the server has them all.",
    secretHash: (field: string): string =>
        `Hash of \`${field}\` as last applied or read (an HMAC-SHA256 under the resource's random \`hashKey\`; states written by ` +
        "earlier versions hold a salted scrypt hash, kept while the value is unchanged): how a change of it shows in previews, refreshes " +
        "and drift reports, which mask the value itself. Useless for guessing the value without the key.",
    hashKey: (): string =>
        "Random key of this resource's secret hashes, made when the first one is and kept from then on. Stored encrypted and a " +
        "secret output, like the secrets themselves.",
};
