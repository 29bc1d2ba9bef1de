/**
 * The interrupted-run suite's program: each of the three resources is switched on by stack config, so that a run
 * creates, updates or deletes exactly one of them, and a killed run leaves exactly one operation unrecorded.
 * No resource sets `adoptExisting`: recovery must not need it for an object identical to the desired one.
 */
import * as pulumi from "@pulumi/pulumi";
import { IdentityOidcAuth, OidcSsoConfig, UnleashOidcSettings } from "pulumi-oidc-settings";

const config = new pulumi.Config("irq");
const issuerUrl = config.require("issuerUrl");

export const ssoConfigId = config.getBoolean("withSso")
    ? new OidcSsoConfig("sso", {
          organizationId: config.require("organizationId"),
          configurationType: "discoveryURL",
          discoveryURL: `${issuerUrl}/.well-known/openid-configuration`,
          clientId: "infisical-interrupted",
          clientSecret: config.requireSecret("ssoClientSecret"),
          allowedEmailDomains: config.get("ssoEmailDomains") ?? "example.com",
          jwtSignatureAlgorithm: "RS256",
      }).configId
    : undefined;

export const identityId = config.getBoolean("withIdentity")
    ? new IdentityOidcAuth("ci-identity", {
          identityId: config.require("identityId"),
          oidcDiscoveryUrl: issuerUrl,
          boundIssuer: issuerUrl,
          boundAudiences: ["https://github.com/example-org"],
          boundSubject: "repo:example-org/infra:ref:refs/heads/main",
          boundClaims: { repository: "example-org/infra" },
          accessTokenTTL: config.getNumber("identityTTL") ?? 3600,
          accessTokenMaxTTL: 7200,
      }).identityId
    : undefined;

export const unleashRole = config.getBoolean("withUnleash")
    ? new UnleashOidcSettings("unleash", {
          enabled: true,
          discoverUrl: `${issuerUrl}/.well-known/openid-configuration`,
          clientId: "unleash-interrupted",
          secret: config.requireSecret("unleashSecret"),
          autoCreate: true,
          defaultRootRole: (config.get("unleashRole") ?? "Viewer") as "Viewer" | "Editor" | "Admin",
          emailDomains: ["example.com"],
      }).defaultRootRole
    : undefined;
