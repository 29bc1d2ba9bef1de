/**
 * One owner per object: two resources of a program that manage the same object (the SSO configuration of one
 * organization, the OIDC auth of one identity, the OIDC settings of one Unleash instance) would overwrite each other
 * on every run, and deleting one would disable the other's object. All dynamic resources of a program are served by
 * one provider process, so the first resource that claims an object owns it for the run and a second one is refused,
 * at preview when its key is known, else when it is created.
 */
import type { ResourceModel } from "./model";

const owners = new Map<string, string>();

/**
 * Records `urn` (unique per resource of a program) as the owner of the object (kind, target URL, key) and returns
 * undefined, or returns the URN of the resource that already owns it. Without a URN (a resource built without the
 * typed classes, or one still unknown at preview) nothing is known.
 */
export function claimOwner(model: ResourceModel, target: string, key: Record<string, string>, urn: unknown): string | undefined {
    if (typeof urn !== "string" || !urn.startsWith("urn:")) return undefined;
    const object = `${model.kind}|${target}|${model.desc.key.map((k) => key[k]).join("/")}`;
    const owner = owners.get(object);
    if (owner !== undefined && owner !== urn) return owner;
    owners.set(object, urn);
    return undefined;
}

/** `"sso" (my:index:Team$pulumi-nodejs:dynamic/infisical:OidcSsoConfig)`: the name and the type chain of a URN. */
export function describeUrn(urn: string): string {
    const parts = urn.split("::");
    const name = parts[parts.length - 1];
    const types = parts[parts.length - 2];
    return types ? `"${name}" (${types})` : `"${name}"`;
}

export function ownerConflictMessage(model: ResourceModel, key: Record<string, string>, target: string, urn: string, owner: string): string {
    return (
        `resources ${describeUrn(owner)} and ${describeUrn(urn)} both manage ${model.describe(key, target)}: there is only one such object, ` +
        "so the two would overwrite each other on every run and deleting one would take it from the other. Keep one of them"
    );
}

/** Forgets every claim (tests that reuse one process for several programs). */
export function resetClaims(): void {
    owners.clear();
}
