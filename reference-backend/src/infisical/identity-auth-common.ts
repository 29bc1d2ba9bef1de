/**
 * What the identity auth-method routes share (OIDC, Kubernetes, AWS IAM): the identity lookup in the caller's
 * organization, the TTL and trusted-IP rules, and the checks of a revoke. Each follows the identity-*-auth
 * services of Infisical (backend/src/services/identity-oidc-auth/identity-oidc-auth-service.ts and its Kubernetes
 * and AWS siblings), which repeat the same steps in the same order.
 */
import { z } from "zod";
import type { Context } from "../context";
import { inf } from "../errors";
import { extractIpDetails, isValidIpOrCidr } from "../ip";
import { orgSettings, type IdentityRecord, type OrgPlan, type OrganizationRecord, type State, type TrustedIp } from "../store";
import { requireOrgPermission, type InfisicalActor } from "./auth";
import { requireRevokeAuthBoundary, rulesOf, SUBJECT } from "./permissions";

export const MAX_TTL = 315360000;
export const DEFAULT_TTL = 2592000;

export const ttl = z.number().int().min(0).max(MAX_TTL);
export const trustedIps = z.array(z.object({ ipAddress: z.string().trim() })).min(1);
export const DEFAULT_TRUSTED_IPS = [{ ipAddress: "0.0.0.0/0" }, { ipAddress: "::/0" }];
export const TTL_REFINE_MESSAGE = "Access Token TTL cannot be greater than Access Token Max TTL.";
export const paramsSchema = z.object({ identityId: z.string().trim() });

export const orgOf = (state: Readonly<State>, orgId: string): OrganizationRecord | undefined => state.infisical.organizations.find((o) => o.id === orgId);

export function planOf(ctx: Context, orgId: string): Required<OrgPlan> {
    const org = orgOf(ctx.store.state, orgId);
    return org ? orgSettings(org).plan : { oidcSSO: true, ipAllowlisting: true, machineIdentityAuthTemplates: true };
}

/**
 * The identity, looked up in the caller's organization (membershipIdentityDAL.getIdentityById with the actor's
 * organization as scope), or a 404. An identity that is only a member of the caller's sub-organization is found but
 * refused: 403 "Sub organization not authorized to access this identity".
 */
export function identityOf(state: Readonly<State>, actor: InfisicalActor, identityId: string, message = `Failed to find identity with ID ${identityId}`): IdentityRecord {
    const identity = state.infisical.identities.find((i) => i.id === identityId && (i.orgId === actor.orgId || i.subOrgMemberships?.some((m) => m.orgId === actor.orgId)));
    if (!identity) throw inf.notFound(message);
    if (identity.orgId !== actor.orgId) throw inf.forbidden("Sub organization not authorized to access this identity");
    return identity;
}

/**
 * The trusted IPs of a request body in Infisical's stored form. Per IP, as the services do: without the plan's
 * ipAllowlisting anything but exactly "0.0.0.0/0" / "::/0" is a 400 (before its validity is looked at), then an
 * invalid one is a 400.
 */
export function reformatTrustedIps(list: Array<{ ipAddress: string }>, plan: Pick<OrgPlan, "ipAllowlisting">): TrustedIp[] {
    return list.map(({ ipAddress }) => {
        if (!plan.ipAllowlisting && ipAddress !== "0.0.0.0/0" && ipAddress !== "::/0") {
            throw inf.badRequest("Failed to add IP access range to access token due to plan restriction. Upgrade plan to add IP access range.");
        }
        if (!isValidIpOrCidr(ipAddress)) throw inf.badRequest("The IP is not a valid IPv4, IPv6, or CIDR block");
        return extractIpDetails(ipAddress);
    });
}

/** The attach check: "Access token TTL cannot be greater than max TTL" (a max TTL of 0 means none). */
export function checkAttachTtl(body: { accessTokenTTL: number; accessTokenMaxTTL: number }): void {
    if (body.accessTokenMaxTTL > 0 && body.accessTokenTTL > body.accessTokenMaxTTL) throw inf.badRequest("Access token TTL cannot be greater than max TTL");
}

/** The update check, quirks included: an absent TTL falls back to the stored *max* TTL. */
export function checkUpdateTtl(body: { accessTokenTTL?: number; accessTokenMaxTTL?: number }, existing: { accessTokenMaxTTL: number }): void {
    const maxTtl = body.accessTokenMaxTTL || existing.accessTokenMaxTTL;
    if (maxTtl > 0 && (body.accessTokenTTL || existing.accessTokenMaxTTL) > maxTtl) throw inf.badRequest("Access token TTL cannot be greater than max TTL");
}

/**
 * The permission checks of a revoke: `edit` on identity (OrgPermissionIdentityActions.Edit), then the privilege
 * boundary against the identity's own role. `what` is the service's wording ("oidc auth", "kubernetes auth",
 * "aws auth").
 */
export function requireRevokePermission(state: Readonly<State>, actor: InfisicalActor, identity: IdentityRecord, what: string): void {
    requireOrgPermission(actor, identity.orgId, "edit", SUBJECT.identity);
    const org = orgOf(state, identity.orgId);
    if (!org) throw inf.notFound(`Failed to find organization with ID ${identity.orgId}`);
    requireRevokeAuthBoundary(org, actor.permissions, rulesOf(org, identity.role), what);
}

/** Where each auth method keeps its records, and how the services word it. */
export interface AuthMethodStore {
    /** The identity's authMethods entry ("oidc-auth", "kubernetes-auth", "aws-auth"). */
    method: string;
    list: "identityOidcAuths" | "identityKubernetesAuths" | "identityAwsAuths";
    /** The revoke's wording: "oidc auth", "kubernetes auth", "aws auth". */
    what: string;
    /** The 400 when the identity does not have the method. */
    missing: string;
    /** The 404 of the identity lookup, when the service words it its own way. */
    identityNotFound?: string;
}

/**
 * A revoke, as every identity-*-auth service does it: the identity in the caller's organization, the method present
 * (400 otherwise), the permission and privilege-boundary checks, then in one write: the record removed, the method
 * taken off the identity, and the access tokens issued through it revoked. Returns the removed record.
 */
export async function revokeAuthMethod<R>(ctx: Context, actor: InfisicalActor, identityId: string, m: AuthMethodStore): Promise<R> {
    const identity = identityOf(ctx.store.state, actor, identityId, m.identityNotFound);
    if (!identity.authMethods.includes(m.method)) throw inf.badRequest(m.missing);
    requireRevokePermission(ctx.store.state, actor, identity, m.what);
    return ctx.store.update((draft) => {
        const current = identityOf(draft, actor, identityId, m.identityNotFound);
        const records = draft.infisical[m.list] as Array<{ identityId: string }>;
        const i = records.findIndex((a) => a.identityId === identityId);
        if (i < 0 || !current.authMethods.includes(m.method)) throw inf.badRequest(m.missing);
        const [removed] = records.splice(i, 1);
        current.authMethods = current.authMethods.filter((x) => x !== m.method);
        draft.infisical.accessTokens = draft.infisical.accessTokens.filter((t) => !(t.identityId === identityId && t.authMethod === m.method));
        return removed as R;
    });
}
