/**
 * The benchmark program: N resources, a mix of the three types (SSO configs across organizations, identity OIDC
 * auths, Unleash settings across instances), either with the package's providers ("real") or with a no-op dynamic
 * provider of the same shape ("noop": same inputs and secrets, no HTTP). The difference is our overhead over the
 * engine's own floor. `bench:generation` changes one setting of every resource, for the update measurement.
 */
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { IdentityOidcAuth, OidcSsoConfig, UnleashOidcSettings } from "pulumi-oidc-settings";

interface Plan {
    issuerUrl: string;
    sso: Array<{ organizationId: string; token: string }>;
    identities: string[];
    unleash: Array<{ url: string; apiToken: string }>;
}

const config = new pulumi.Config("bench");
const plan = JSON.parse(fs.readFileSync(config.require("planFile"), "utf8")) as Plan;
const variant = config.require("variant");
const generation = config.getNumber("generation") ?? 0;

/** A provider that does nothing but echo its inputs: the engine's floor for a dynamic resource. */
const noopProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds, news) {
        return { inputs: news };
    },
    async diff(_id, olds, news) {
        const changed = Object.keys(news).filter((k) => !k.startsWith("__") && JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
        return { changes: changed.length > 0 };
    },
    async create(inputs) {
        return { id: `noop-${Math.random().toString(36).slice(2)}`, outs: inputs };
    },
    async read(id, props) {
        return { id, props };
    },
    async update(_id, _olds, news) {
        return { outs: news };
    },
    async delete() {},
};

class Noop extends pulumi.dynamic.Resource {
    constructor(name: string, props: Record<string, pulumi.Input<unknown>>, secretOutputs: string[]) {
        super(noopProvider, name, props, { additionalSecretOutputs: secretOutputs });
    }
}

const discoveryUrl = `${plan.issuerUrl}/.well-known/openid-configuration`;
const sso = (i: number) => {
    const t = plan.sso[i];
    return {
        organizationId: t.organizationId,
        configurationType: "discoveryURL" as const,
        discoveryURL: discoveryUrl,
        clientId: `bench-${generation}`,
        clientSecret: pulumi.secret(`bench-sso-secret-${i}`),
        allowedEmailDomains: ["example.com"],
        connection: { token: pulumi.secret(t.token) },
    };
};
const identity = (i: number) => ({
    identityId: plan.identities[i],
    oidcDiscoveryUrl: plan.issuerUrl,
    boundIssuer: plan.issuerUrl,
    boundAudiences: ["https://github.com/example-org"],
    boundSubject: `repo:example-org/infra-${i}:ref:refs/heads/main`,
    accessTokenTTL: 3600 + generation,
    accessTokenMaxTTL: 7200,
});
const unleash = (i: number) => {
    const t = plan.unleash[i];
    return {
        enabled: true,
        discoverUrl: discoveryUrl,
        clientId: `bench-${generation}`,
        secret: pulumi.secret(`bench-unleash-secret-${i}`),
        autoCreate: true,
        defaultRootRole: "Viewer" as const,
        adoptExisting: true,
        connection: { url: t.url, apiToken: pulumi.secret(t.apiToken) },
    };
};

for (let i = 0; i < plan.sso.length; i++) {
    if (variant === "real") new OidcSsoConfig(`sso-${i}`, sso(i));
    else new Noop(`sso-${i}`, sso(i), ["clientSecret"]);
}
for (let i = 0; i < plan.identities.length; i++) {
    if (variant === "real") new IdentityOidcAuth(`identity-${i}`, identity(i));
    else new Noop(`identity-${i}`, identity(i), []);
}
for (let i = 0; i < plan.unleash.length; i++) {
    if (variant === "real") new UnleashOidcSettings(`unleash-${i}`, unleash(i));
    else new Noop(`unleash-${i}`, unleash(i), ["secret"]);
}
