/**
 * The reference backend (a local stand-in for the Infisical and Unleash APIs, with a built-in OIDC issuer) in a
 * Docker container, and the three resources of pulumi-oidc-settings pointed at it.
 *
 * 1. builds reference-backend/Dockerfile with the repository root as the build context;
 * 2. runs it with a named volume for /data, listening on 127.0.0.1:<hostPort> (container port 4400);
 * 3. reads the backend's ready line (the first JSON line it prints: URLs, tokens and ids) from the container logs;
 * 4. unless `manageSettings` is false, manages an SSO config, an identity's OIDC auth and the Unleash OIDC settings
 *    on that backend, with each resource's `connection` (the tokens never leave Pulumi secrets).
 *
 * Needs a Docker engine (DOCKER_HOST or the local socket). Without Docker, `npm run backend` runs the same server.
 */
import * as path from "path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { IdentityOidcAuth, OidcSsoConfig, UnleashOidcSettings } from "pulumi-oidc-settings";

const CONTAINER_PORT = 4400;

const config = new pulumi.Config();
const hostPort = config.getNumber("hostPort") ?? 4400;
const manageSettings = config.getBoolean("manageSettings") ?? true;
const repoRoot = path.resolve(__dirname, "..", "..");

// ------------------------------------------------------------------------------------------------ the container

const image = new docker.Image("reference-backend", {
    build: {
        context: repoRoot,
        dockerfile: path.join(repoRoot, "reference-backend", "Dockerfile"),
    },
    imageName: "pulumi-oidc-settings/reference-backend:local",
    skipPush: true, // a local image: nothing is pushed to a registry
});

const data = new docker.Volume("reference-backend-data", {});

const container = new docker.Container("reference-backend", {
    name: config.get("containerName") ?? "oidc-reference-backend",
    // The image ID: a rebuilt image replaces the container.
    image: image.repoDigest,
    ports: [{ internal: CONTAINER_PORT, external: hostPort, ip: "127.0.0.1" }],
    volumes: [{ volumeName: data.name, containerPath: "/data" }],
    restart: "unless-stopped",
    healthcheck: {
        tests: ["CMD", "node", "-e", `fetch("http://127.0.0.1:${CONTAINER_PORT}/healthz").then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`],
        interval: "2s",
        timeout: "2s",
        startPeriod: "2s",
        retries: 15,
    },
    // `pulumi up` returns once /healthz answers, so the ready line is in the logs.
    wait: true,
    waitTimeout: 60,
}, {
    // A fixed name and host port: the old container must go before the new one starts. Pulumi first deletes the
    // settings below (they depend on it) and recreates them on the new container; /data survives in the volume.
    deleteBeforeReplace: true,
});

/** Where the backend is reachable from this machine. */
const origin = container.ports.apply((ports) => `http://127.0.0.1:${ports?.[0]?.external ?? hostPort}`);

// ------------------------------------------------------------------------------------------------ the ready line

/** The parts of the backend's ready line this program uses. */
interface ReadyLine {
    ready: true;
    issuer: { url: string };
    infisical: { url: string; token: string; organizationId: string; identityIds: string[] };
    unleash: { url: string; adminToken: string };
}

/** The last ready line in the logs (the one of the running process: a restart prints a new one). */
function lastReadyLine(lines: string[]): ReadyLine {
    let found: ReadyLine | undefined;
    for (const raw of lines) {
        const line = raw.trim();
        if (!line.startsWith("{")) continue;
        try {
            const obj = JSON.parse(line);
            if (obj?.ready === true && obj.infisical && obj.unleash && obj.issuer) found = obj as ReadyLine;
        } catch {
            // a request log line cut short, or not JSON
        }
    }
    if (!found) throw new Error("no ready line in the logs of the reference backend container (see `docker logs <container>`)");
    return found;
}

/** The same path on the published address: the ready line is printed inside the container. */
function rebase(url: string, base: string): string {
    const u = new URL(url);
    return `${base}${u.pathname.replace(/\/+$/, "")}`;
}

// ------------------------------------------------------------------------------------------------ the settings

let settings: Record<string, pulumi.Output<unknown>> = {};
if (manageSettings) {
    const logs = docker.getLogsOutput({
        name: container.name,
        showStdout: true,
        showStderr: false,
        discardHeaders: true,
        logsListStringEnabled: true,
    });
    const ready = logs.apply((l) => lastReadyLine(l.logsListStrings ?? []));

    const infisical = {
        host: pulumi.all([ready, origin]).apply(([r, base]) => rebase(r.infisical.url, base)),
        token: pulumi.secret(ready.apply((r) => r.infisical.token)),
    };
    const unleash = {
        url: pulumi.all([ready, origin]).apply(([r, base]) => rebase(r.unleash.url, base)),
        apiToken: pulumi.secret(ready.apply((r) => r.unleash.adminToken)),
    };
    // The backend fetches the issuer's discovery document itself (Unleash checks discoverUrl when it is saved, Infisical
    // at OIDC logins), from inside the container: so the issuer URL stays as the backend printed it.
    const issuer = ready.apply((r) => r.issuer.url.replace(/\/+$/, ""));

    const sso = new OidcSsoConfig("org-sso", {
        organizationId: ready.apply((r) => r.infisical.organizationId),
        configurationType: "discoveryURL",
        discoveryURL: pulumi.interpolate`${issuer}/.well-known/openid-configuration`,
        clientId: "infisical-web",
        clientSecret: config.requireSecret("ssoClientSecret"),
        allowedEmailDomains: ["example.com"],
        connection: infisical,
    }, { dependsOn: [container] });

    const ci = new IdentityOidcAuth("ci-login", {
        identityId: ready.apply((r) => r.infisical.identityIds[0]),
        oidcDiscoveryUrl: issuer,
        boundIssuer: issuer,
        boundAudiences: ["https://github.com/example-org"],
        boundSubject: "repo:example-org/infra:ref:refs/heads/main",
        boundClaims: { repository: "example-org/infra", ref: "refs/heads/main" },
        accessTokenTTL: 900,
        accessTokenMaxTTL: 3600,
        connection: infisical,
    }, { dependsOn: [container] });

    const unleashLogin = new UnleashOidcSettings("unleash-login", {
        enabled: true,
        discoverUrl: pulumi.interpolate`${issuer}/.well-known/openid-configuration`,
        clientId: "unleash-web",
        secret: config.requireSecret("unleashClientSecret"),
        autoCreate: true,
        defaultRootRole: "Viewer",
        emailDomains: ["example.com"],
        enableGroupSyncing: true,
        groupJsonPath: "groups",
        enablePkce: true,
        connection: unleash,
    }, { dependsOn: [container] });

    settings = {
        ssoConfigId: sso.configId,
        ssoIsActive: sso.isActive,
        ciIdentityId: ci.identityId,
        ciBoundSubject: ci.boundSubject,
        unleashInstance: unleashLogin.targetUrl,
        unleashEnabled: unleashLogin.enabled,
        unleashSecret: unleashLogin.secret, // a secret output: shown as [secret]
    };
}

export const backendUrl = origin;
export const containerName = container.name;
export const imageId = image.repoDigest;
export const dataVolume = data.name;
export const { ssoConfigId, ssoIsActive, ciIdentityId, ciBoundSubject, unleashInstance, unleashEnabled, unleashSecret } = settings;
