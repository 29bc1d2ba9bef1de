/**
 * One owner per object under the real engine: two components of different types, each with an OidcSsoConfig named
 * "sso" for the same organization. Their names are equal; their URNs are not. Stack config `owner:both` chooses
 * whether the second component is there.
 */
import * as pulumi from "@pulumi/pulumi";
import { OidcSsoConfig } from "pulumi-oidc-settings";

const config = new pulumi.Config("owner");

class Team extends pulumi.ComponentResource {
    constructor(type: string, name: string, clientId: string) {
        super(type, name);
        new OidcSsoConfig(
            "sso",
            {
                organizationId: config.require("organizationId"),
                configurationType: "discoveryURL",
                discoveryURL: config.require("discoveryUrl"),
                clientId,
                clientSecret: config.requireSecret("clientSecret"),
                allowedEmailDomains: ["example.com"],
            },
            { parent: this },
        );
        this.registerOutputs({});
    }
}

new Team("acme:teams:Platform", "platform", "platform-client");
if (config.getBoolean("both")) new Team("acme:teams:Security", "security", "security-client");
