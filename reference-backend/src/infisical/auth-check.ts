/**
 * The two routes a client asks to learn whether its static token works, without touching anything:
 *
 * - `POST /api/v1/auth/checkAuth` (backend/src/server/routes/v1/auth-router.ts): `verifyAuth([AuthMode.JWT],
 *   { requireOrg: false })`, answers `{message: "Authenticated"}`. Only a user's token (AuthMode.JWT) may ask.
 * - `GET /api/v1/identities/details` (backend/src/server/routes/v1/identity-router.ts, the route `/details`):
 *   `verifyAuth([AuthMode.IDENTITY_ACCESS_TOKEN], { requireOrg: false })`, answers
 *   `{identityDetails: {organization: {id, name, slug}}}` from org-service findIdentityOrganization, which reads the
 *   identity's membership of a root organization (org-dal.ts: `whereNull(rootOrgId)`): a token scoped to a
 *   sub-organization still answers the root organization. Only an identity access token may ask.
 *
 * A token of the other kind passes authentication and is refused by verifyAuth with
 * `ForbiddenRequestError({ name: "Forbidden access to <req.url>" })`: 403, the default message "You are not allowed
 * to access this resource" and the URL as the error name (lib/errors/index.ts; the error handler sends `error.name`).
 * No token: 401 "Token missing"; a token that does not verify: 403 TokenError (auth.ts).
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Context } from "../context";
import { inf, InfisicalError } from "../errors";
import { authenticate, type InfisicalActor } from "./auth";

/** verifyAuth's refusal of a token of another kind. */
const forbiddenAccess = (req: FastifyRequest) => new InfisicalError(403, `Forbidden access to ${req.url}`, "You are not allowed to access this resource");

export function registerAuthCheckRoutes(app: FastifyInstance, ctx: Context): void {
    const onlyFor = (type: InfisicalActor["type"]) => async (req: FastifyRequest) => {
        const actor = await authenticate(ctx, req);
        if (actor.type !== type) throw forbiddenAccess(req);
        req.infisicalActor = actor;
    };

    app.post("/api/v1/auth/checkAuth", { onRequest: onlyFor("user") }, async () => ({ message: "Authenticated" as const }));

    app.get("/api/v1/identities/details", { onRequest: onlyFor("identity") }, async (req) => {
        const state = ctx.store.state.infisical;
        const identity = state.identities.find((i) => i.id === req.infisicalActor!.id);
        const own = identity && state.organizations.find((o) => o.id === identity.orgId);
        // An identity of a sub-organization has no root-organization membership in Infisical's query; the source read
        // does not say what it answers then. The backend answers the root organization.
        const org = own?.rootOrgId ? state.organizations.find((o) => o.id === own.rootOrgId) : own;
        if (!org) throw inf.unauthorized("Identity not found");
        return { identityDetails: { organization: { id: org.id, name: org.name, slug: org.slug } } };
    });
}
