/**
 * The trust checks' end-to-end program: a machine identity that GitHub Actions' tokens log in to. Its issuer is
 * GitHub's (what the rules judge); its discovery URL is the reference backend's issuer, so that `up` needs no network.
 * Stack config chooses the subject, the audiences and the accepted risks.
 */
import * as pulumi from "@pulumi/pulumi";
import { IdentityOidcAuth } from "pulumi-oidc-settings";

const config = new pulumi.Config("trust");

new IdentityOidcAuth("github-deploy", {
    identityId: config.require("identityId"),
    oidcDiscoveryUrl: config.require("discoveryUrl"),
    boundIssuer: "https://token.actions.githubusercontent.com",
    boundAudiences: config.get("boundAudiences") ?? "https://github.com/acme",
    boundSubject: config.get("boundSubject") ?? "",
    accessTokenTrustedIps: ["10.0.0.0/8"],
    accessTokenTTL: 3600,
    accessTokenMaxTTL: 7200,
    acceptRisks: config.getObject<string[]>("acceptRisks") ?? [],
});
