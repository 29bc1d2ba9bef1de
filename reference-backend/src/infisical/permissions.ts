/**
 * Organization roles and permissions, with casl (@casl/ability), the library Infisical's permission service uses.
 *
 * Roles are Infisical's packed casl rules `{subject, action[], inverted?}`
 * (backend/src/ee/services/permission/org-permission.ts): the built-in `admin` holds every action on the subjects the
 * backend serves (sso, identity, machine-identity-auth-template); custom roles are seeded or set through the admin
 * routes. The built-in `member` and `no-access` hold nothing on these subjects here (Infisical's member may read,
 * create, edit and delete identities; the backend's seeded target identities behave like no-access, which the
 * provider's tests rely on; see the README).
 *
 * - A failed check is casl's ForbiddenError as Infisical's error handler words it
 *   (backend/src/server/plugins/error-handler.ts): 403 PermissionDenied "You are not allowed to <action> on
 *   <subject>", `details` the rules casl finds for that action and subject.
 * - Revoking an identity's auth method also checks the privilege boundary (validatePrivilegeChangeOperation in
 *   backend/src/ee/services/permission/permission-fns.ts): with the organization's shouldUseNewPrivilegeSystem the
 *   caller needs `revoke-auth` on `identity`; without it, the caller must hold every permission of the identity's
 *   role (validatePermissionBoundary, backend/src/lib/casl/boundary.ts). A failure is 403 PermissionBoundaryError
 *   with `details: {missingPermissions}`.
 */
import { createMongoAbility, type MongoAbility } from "@casl/ability";
import { inf, InfisicalError } from "../errors";
import type { OrganizationRecord, PermissionRule } from "../store";

/** Infisical's org permission subjects and actions that the backend's routes check. */
export const SUBJECT = { sso: "sso", identity: "identity", authTemplate: "machine-identity-auth-template" } as const;
export const IDENTITY_ACTIONS = ["read", "create", "edit", "delete", "grant-privileges", "revoke-auth", "create-token", "get-token", "delete-token"] as const;
export const TEMPLATE_ACTIONS = ["list-templates", "create-templates", "edit-templates", "delete-templates", "unlink-templates", "attach-templates"] as const;

const ADMIN_RULES: PermissionRule[] = [
    { subject: SUBJECT.sso, action: ["read", "create", "edit", "delete"] },
    { subject: SUBJECT.identity, action: [...IDENTITY_ACTIONS] },
    { subject: SUBJECT.authTemplate, action: [...TEMPLATE_ACTIONS] },
];

export const BUILT_IN_ROLES: Readonly<Record<string, PermissionRule[]>> = { admin: ADMIN_RULES, member: [], "no-access": [] };

/** The rules of a role in an organization: a built-in role, else one of the organization's custom roles, else none. */
export function rulesOf(org: Pick<OrganizationRecord, "customRoles"> | undefined, role: string): PermissionRule[] {
    if (Object.hasOwn(BUILT_IN_ROLES, role)) return BUILT_IN_ROLES[role] as PermissionRule[];
    return org?.customRoles?.find((r) => r.slug === role)?.permissions ?? [];
}

export function abilityOf(rules: PermissionRule[]): MongoAbility {
    return createMongoAbility(rules.map((r) => ({ subject: r.subject, action: r.action, inverted: r.inverted ?? false })));
}

/** casl's ForbiddenError as Infisical's error handler answers it. */
export function permissionDenied(ability: MongoAbility, action: string, subject: string): InfisicalError {
    const details = ability.rulesFor(action, subject).map((el) => ({ action: el.action, inverted: el.inverted, subject: el.subject, conditions: el.conditions }));
    return inf.permissionDenied(`You are not allowed to ${action} on ${subject}`, details);
}

interface MissingPermission {
    action: string;
    subject: string;
}

/**
 * validatePermissionBoundary (backend/src/lib/casl/boundary.ts): every action the managed role may do must be one
 * the actor may do. The backend's roles have no conditions, so the condition-subset comparison of the original
 * never applies (a parent rule without conditions is a superset); the walk over the rules, the skip of pairs
 * already checked and the "no non-inverted parent rule" test are the original's.
 */
function validatePermissionBoundary(actor: MongoAbility, managed: MongoAbility): MissingPermission[] {
    const checked = new Set<string>();
    const missing: MissingPermission[] = [];
    for (const rule of managed.rules) {
        const subject = String(rule.subject);
        const actions = (typeof rule.action === "string" ? [rule.action] : [...rule.action]).filter((a) => !checked.has(`${a}:${subject}`));
        for (const action of actions) {
            if (!actor.possibleRulesFor(action, subject).some((r) => !r.inverted)) missing.push({ action, subject });
        }
        for (const action of actions) checked.add(`${action}:${subject}`);
    }
    return missing;
}

/**
 * The privilege boundary of revoking an identity's auth method (the revoke* functions of the identity auth
 * services): throws 403 PermissionBoundaryError unless the actor may change the managed identity.
 * `what` is the service's own wording, e.g. "oidc auth" → "Failed to revoke oidc auth of identity with more
 * privileged role" (identity-oidc-auth-service.ts), with constructPermissionErrorMessage's suffix.
 */
export function requireRevokeAuthBoundary(org: OrganizationRecord, actorRules: PermissionRule[], managedRules: PermissionRule[], what: string): void {
    const newSystem = org.shouldUseNewPrivilegeSystem ?? true;
    const actor = abilityOf(actorRules);
    const action = "revoke-auth";
    const subject = SUBJECT.identity;
    const missingPermissions = newSystem ? (actor.can(action, subject) ? [] : [{ action, subject }]) : validatePermissionBoundary(actor, abilityOf(managedRules));
    if (missingPermissions.length === 0) return;
    const message = `Failed to revoke ${what} of identity with more privileged role${newSystem ? `. Missing permission ${action} on ${subject}` : ""}`;
    throw new InfisicalError(403, "PermissionBoundaryError", message, { missingPermissions });
}
