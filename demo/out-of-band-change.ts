/**
 * Simulates another admin editing the settings in the web consoles, behind Pulumi's back:
 * the Infisical SSO config gets an extra email domain and Unleash stops auto-creating users.
 * Usage: node dist/demo/out-of-band-change.js <ready.json of the reference backend>
 */
import { readFileSync } from "fs";
import { request } from "undici";

async function call(method: "GET" | "POST" | "PATCH", url: string, authorization: string, body?: unknown): Promise<Record<string, unknown>> {
    const res = await request(url, {
        method,
        headers: { authorization, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${method} ${new URL(url).pathname} -> ${res.statusCode}: ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
}

async function main(): Promise<void> {
    const ready = JSON.parse(readFileSync(process.argv[2], "utf8"));
    const { url: infisical, token, organizationId } = ready.infisical;
    await call("PATCH", `${infisical}/api/v1/sso/oidc/config`, `Bearer ${token}`, {
        organizationId,
        allowedEmailDomains: "example.com,contractors.example.net",
    });
    console.log("Infisical: allowedEmailDomains of the org's SSO config set to example.com,contractors.example.net");

    const { url: unleash, adminToken } = ready.unleash;
    const current = await call("GET", `${unleash}/api/admin/auth/oidc/settings`, adminToken);
    // The role's name and its id (Admin = 1) together: the stored id wins over the name, so changing the name alone
    // would leave the effective role, and what the drift check reports, as it was.
    await call("POST", `${unleash}/api/admin/auth/oidc/settings`, adminToken, { ...current, autoCreate: false, defaultRootRole: "Admin", defaultRootRoleId: 1 });
    console.log("Unleash: autoCreate set to false and defaultRootRole to Admin");
}

main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
});
