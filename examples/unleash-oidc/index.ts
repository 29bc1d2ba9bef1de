/**
 * OpenID Connect login for an Unleash (Enterprise) instance: users sign in through the company identity provider,
 * are created at first login with a default root role, and get their group memberships from the ID token.
 *
 * Connection: `unleash:url` and `unleash:apiToken` (an admin API token or an Admin's personal access token) in the
 * stack config; set the token with `pulumi config set --secret`.
 */
import * as pulumi from "@pulumi/pulumi";
import { UnleashOidcSettings } from "pulumi-oidc-settings";

const config = new pulumi.Config();

const login = new UnleashOidcSettings("oidc-login", {
    enabled: true,
    // e.g. https://example.okta.com/.well-known/openid-configuration
    discoverUrl: config.require("discoverUrl"),
    clientId: config.require("clientId"),
    // Unleash returns it, so a change made in the Unleash UI shows up (masked) in `pulumi refresh`.
    secret: config.requireSecret("clientSecret"),
    enablePkce: true,
    // Create users at their first login, as Viewers, but only for the company's email domains.
    autoCreate: true,
    defaultRootRole: (config.get("defaultRootRole") as "Viewer" | "Editor" | "Admin" | undefined) ?? "Viewer",
    emailDomains: config.get("emailDomains") ?? "example.com",
    // Map the IdP's groups (claim named by groupJsonPath in the ID token) to Unleash groups with an SSO group ID.
    enableGroupSyncing: config.getBoolean("enableGroupSyncing") ?? true,
    groupJsonPath: config.get("groupJsonPath") ?? "groups",
    // Okta and some others only put groups in the token when the "groups" scope is requested.
    addGroupsScope: config.getBoolean("addGroupsScope") ?? true,
    idTokenSigningAlgorithm: "RS256",
    // At preview, fetch the discovery document and check the issuer and signing keys.
    verifyDiscovery: config.getBoolean("verifyDiscovery") ?? true,
    // OIDC may already be enabled (configured in the UI): take it over instead of failing.
    adoptExisting: config.getBoolean("adoptExisting") ?? false,
});

export const instance = login.targetUrl;
export const enabled = login.enabled;
export const autoCreate = login.autoCreate;
export const defaultRootRole = login.defaultRootRole;
export const emailDomains = login.emailDomains;
export const groupSyncing = login.enableGroupSyncing;
/** Register this as the sign-in redirect URI of the Unleash application at the identity provider. */
export const redirectUri = pulumi.interpolate`${login.targetUrl}/auth/oidc/callback`;
/** A secret output: `pulumi stack output` shows [secret]. */
export const clientSecret = login.secret;
