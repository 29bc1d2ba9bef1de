/**
 * Prepares a LOCAL, throwaway Infisical started with /work/shared/real-servers/infisical-harness/setup.sh for
 * `npm run test:acceptance`, and prints the environment for it (shell `KEY=value` lines):
 *
 *   node scripts/acceptance-infisical-env.ts $WORK/bootstrap.json > $WORK/acceptance.env
 *
 * From the harness's bootstrap.json (site URL, an org-scoped user JWT, the organization id) it creates through the API:
 * a machine identity with the org admin role and universal auth in that organization (to run as a machine identity),
 * and a second organization with an admin machine identity of its own (the "another organization" error case). It
 * marks the harness organization as disposable (ACCEPTANCE_DISPOSABLE_INFISICAL_ORG): it is a local test instance.
 * The result (with a fresh organization-scoped user token) is kept in $WORK/acceptance.json, and reused when the script
 * runs again.
 *
 * Never point it at a server you care about: it creates an organization. Runs on Node >= 22.6 (type stripping).
 */
import * as fs from "node:fs";
import * as path from "node:path";

interface Bootstrap {
    apiUrl: string;
    token: string;
    organizationId: string;
}

async function call(api: string, method: string, route: string, token: string | undefined, body?: unknown): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const res = await fetch(`${api}${route}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${route} -> ${res.status} ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : undefined;
}

/** A machine identity with universal auth (POST /api/v1/identities, /api/v1/auth/universal-auth/identities/{id}[/client-secrets]). */
async function machineIdentity(api: string, token: string, organizationId: string, name: string) {
    const identity = (await call(api, "POST", "/api/v1/identities", token, { name, organizationId, role: "admin" })).identity;
    const ua = (await call(api, "POST", `/api/v1/auth/universal-auth/identities/${identity.id}`, token, {})).identityUniversalAuth;
    const secret = await call(api, "POST", `/api/v1/auth/universal-auth/identities/${identity.id}/client-secrets`, token, { description: "pulumi-oidc-settings acceptance" });
    return { identityId: identity.id as string, clientId: ua.clientId as string, clientSecret: secret.clientSecret as string };
}

async function main(): Promise<void> {
    const bootstrapFile = process.argv[2];
    if (!bootstrapFile) throw new Error("usage: node scripts/acceptance-infisical-env.ts <harness WORK>/bootstrap.json");
    const boot = JSON.parse(fs.readFileSync(bootstrapFile, "utf8")) as Bootstrap;
    const keep = path.join(path.dirname(bootstrapFile), "acceptance.json");
    let made = fs.existsSync(keep) ? JSON.parse(fs.readFileSync(keep, "utf8")) : undefined;
    if (!made || made.organizationId !== boot.organizationId) {
        const machine = await machineIdentity(boot.apiUrl, boot.token, boot.organizationId, "pulumi-oidc-acceptance-admin");
        const org2 = (await call(boot.apiUrl, "POST", "/api/v2/organizations", boot.token, { name: "Acceptance Other Org" })).organization;
        const org2Token = (await call(boot.apiUrl, "POST", "/api/v3/auth/select-organization", boot.token, { organizationId: org2.id })).token as string;
        const foreign = await machineIdentity(boot.apiUrl, org2Token, org2.id, "pulumi-oidc-acceptance-foreign");
        // Selecting an organization makes the user's earlier tokens stale on some builds (2024-07:
        // auth-login-service.ts selectOrganization increments the token session version; "Stale session" after it),
        // so a fresh organization-1 token is taken with the organization-2 one, and kept.
        const userToken = (await call(boot.apiUrl, "POST", "/api/v3/auth/select-organization", org2Token, { organizationId: boot.organizationId })).token as string;
        made = { organizationId: boot.organizationId, userToken, machine, foreignOrganizationId: org2.id, foreign };
        fs.writeFileSync(keep, JSON.stringify(made, null, 2), { mode: 0o600 });
    }
    const lines = [
        `INFISICAL_HOST=${boot.apiUrl}`,
        `ACCEPTANCE_INFISICAL_ORG_ID=${boot.organizationId}`,
        `ACCEPTANCE_DISPOSABLE_INFISICAL_ORG=${boot.organizationId}`,
        `ACCEPTANCE_INFISICAL_FOREIGN_CLIENT_ID=${made.foreign.clientId}`,
        `ACCEPTANCE_INFISICAL_FOREIGN_CLIENT_SECRET=${made.foreign.clientSecret}`,
        // The two ways to run as: pass one of them on as INFISICAL_TOKEN, or as INFISICAL_UNIVERSAL_AUTH_CLIENT_ID/SECRET.
        `HARNESS_USER_TOKEN=${made.userToken ?? boot.token}`,
        `HARNESS_CLIENT_ID=${made.machine.clientId}`,
        `HARNESS_CLIENT_SECRET=${made.machine.clientSecret}`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
}

main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
});
