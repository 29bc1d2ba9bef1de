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
 * Records `name` as the owner of the object (kind, target URL, key) and returns undefined, or returns the name of
 * the resource that already owns it. Without a name (a resource built without the typed classes) nothing is known.
 */
export function claimOwner(model: ResourceModel, target: string, key: Record<string, string>, name: unknown): string | undefined {
    if (typeof name !== "string" || name === "") return undefined;
    const object = `${model.kind}|${target}|${model.desc.key.map((k) => key[k]).join("/")}`;
    const owner = owners.get(object);
    if (owner !== undefined && owner !== name) return owner;
    owners.set(object, name);
    return undefined;
}

export function ownerConflictMessage(model: ResourceModel, key: Record<string, string>, target: string, name: string, owner: string): string {
    return (
        `resources "${owner}" and "${name}" both manage ${model.describe(key, target)}: there is only one such object, ` +
        "so the two would overwrite each other on every run and deleting one would take it from the other. Keep one of them"
    );
}

/** Forgets every claim (tests that reuse one process for several programs). */
export function resetClaims(): void {
    owners.clear();
}
