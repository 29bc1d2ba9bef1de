/**
 * The resource registry: every description the runtime serves, by kind. Adding a resource = writing its
 * description file and listing it here (plus its typed class in provider/index.ts).
 */
import type { ResourceDescription } from "../engine/types";
import { identityOidcAuth } from "./identity-oidc-auth";
import { oidcSsoConfig } from "./oidc-sso-config";
import { unleashOidcSettings } from "./unleash-oidc-settings";

export const descriptions: Record<string, ResourceDescription> = Object.fromEntries(
    [oidcSsoConfig, identityOidcAuth, unleashOidcSettings].map((d) => [d.kind, d]),
);

export { identityOidcAuth, oidcSsoConfig, unleashOidcSettings };
