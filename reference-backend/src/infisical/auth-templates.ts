/**
 * Machine-identity auth templates (OIDC): an organization's shared identity-provider settings
 * (backend/src/ee/services/identity-auth-template/identity-auth-template-schemas.ts, oidcTemplateFieldsSchema:
 * oidcDiscoveryUrl, boundIssuer, boundAudiences, caCert). An identity's OIDC auth linked to a template (templateId)
 * holds a copy of these four fields; editing the template propagates them to every linked identity, deleting it
 * unlinks them and they keep the copy (Infisical's Terraform provider, identity_oidc_auth_template resource:
 * "Editing a template propagates its settings to every identity linked to it", "Linked identities are unlinked by
 * the API and keep the settings copied onto them").
 *
 * Infisical manages templates through its own routes, which were not among the stored sources; the backend seeds
 * them and lets tests manage them through the admin routes (`/_admin/infisical/organizations/:id/auth-templates`).
 */
import { randomUUID } from "crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { Context } from "../context";
import type { Vault } from "../secrets";
import type { AuthTemplateRecord, OidcTemplateFields, State } from "../store";
import { commaSpaced } from "./common";

export const templateFieldsContext = (templateId: string) => `auth-template:${templateId}:fields`;
export const oidcCaCertContext = (authId: string) => `identity-oidc-auth:${authId}:caCert`;

export function readTemplateFields(vault: Vault, rec: AuthTemplateRecord): OidcTemplateFields {
    return JSON.parse(vault.decrypt(rec.templateFieldsEnc, templateFieldsContext(rec.id))) as OidcTemplateFields;
}

/** findByIdAndOrgId + the OIDC method check of the service. */
export function findOidcTemplate(state: Readonly<State>, orgId: string, templateId: string): AuthTemplateRecord | undefined {
    return state.infisical.authTemplates.find((t) => t.id === templateId && t.orgId === orgId && t.authMethod === "oidc");
}

/** Writes a template's fields and copies them onto every identity OIDC auth linked to it. */
export function writeTemplateFields(draft: State, vault: Vault, template: AuthTemplateRecord, fields: OidcTemplateFields): void {
    template.templateFieldsEnc = vault.encrypt(JSON.stringify(fields), templateFieldsContext(template.id));
    template.updatedAt = new Date().toISOString();
    for (const auth of draft.infisical.identityOidcAuths) {
        if (auth.templateId !== template.id) continue;
        auth.oidcDiscoveryUrl = fields.oidcDiscoveryUrl;
        auth.boundIssuer = fields.boundIssuer;
        auth.boundAudiences = fields.boundAudiences ?? "";
        auth.encryptedCaCertificate = vault.encrypt(fields.caCert ?? "", oidcCaCertContext(auth.id));
        auth.updatedAt = template.updatedAt;
    }
}

// oidcTemplateFieldsSchema: the login appends /.well-known/openid-configuration itself, so a URL with it is refused.
const fieldsSchema = z.strictObject({
    oidcDiscoveryUrl: z
        .string()
        .trim()
        .url()
        .max(2048)
        .refine((v) => !v.endsWith("/.well-known/openid-configuration"), "The OIDC discovery URL must not end with /.well-known/openid-configuration"),
    boundIssuer: z.string().trim().min(1).max(2048),
    boundAudiences: z.string().trim().max(2048).default("").transform(commaSpaced),
    caCert: z.string().trim().max(102400).optional(),
});

const createSchema = z.strictObject({ name: z.string().trim().min(1).max(64), templateFields: fieldsSchema });
const updateSchema = z.strictObject({ name: z.string().trim().min(1).max(64).optional(), templateFields: fieldsSchema.partial().optional() });

function view(vault: Vault, rec: AuthTemplateRecord): Record<string, unknown> {
    return { id: rec.id, orgId: rec.orgId, name: rec.name, authMethod: rec.authMethod, templateFields: readTemplateFields(vault, rec), createdAt: rec.createdAt, updatedAt: rec.updatedAt };
}

const issues = (err: z.ZodError) => err.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");

/** The admin routes that stand in for Infisical's template routes (tests and demos). */
export function registerAuthTemplateAdminRoutes(app: FastifyInstance, ctx: Context, onRequest: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>): void {
    const base = "/_admin/infisical/organizations/:id/auth-templates";
    const orgExists = (id: string) => ctx.store.state.infisical.organizations.some((o) => o.id === id);
    app.get(base, { onRequest }, async (req, reply) => {
        const { id } = req.params as { id: string };
        if (!orgExists(id)) return reply.code(404).send({ error: "no such organization" });
        return { templates: ctx.store.state.infisical.authTemplates.filter((t) => t.orgId === id).map((t) => view(ctx.vault, t)) };
    });
    app.post(base, { onRequest }, async (req, reply) => {
        const { id } = req.params as { id: string };
        const parsed = createSchema.safeParse(req.body);
        if (!parsed.success) return reply.code(400).send({ error: issues(parsed.error) });
        if (!orgExists(id)) return reply.code(404).send({ error: "no such organization" });
        const rec = await ctx.store.update((draft) => {
            const now = new Date().toISOString();
            const templateId = randomUUID();
            const record: AuthTemplateRecord = { id: templateId, orgId: id, name: parsed.data.name, authMethod: "oidc", templateFieldsEnc: "", createdAt: now, updatedAt: now };
            record.templateFieldsEnc = ctx.vault.encrypt(JSON.stringify(parsed.data.templateFields), templateFieldsContext(templateId));
            draft.infisical.authTemplates.push(record);
            return record;
        });
        return view(ctx.vault, rec);
    });
    app.patch(`${base}/:templateId`, { onRequest }, async (req, reply) => {
        const { id, templateId } = req.params as { id: string; templateId: string };
        const parsed = updateSchema.safeParse(req.body);
        if (!parsed.success) return reply.code(400).send({ error: issues(parsed.error) });
        const rec = await ctx.store.update((draft) => {
            const template = draft.infisical.authTemplates.find((t) => t.id === templateId && t.orgId === id);
            if (!template) return undefined;
            if (parsed.data.name !== undefined) template.name = parsed.data.name;
            if (parsed.data.templateFields) {
                // The API merges the patch into the stored fields and propagates it.
                const fields = { ...readTemplateFields(ctx.vault, template), ...Object.fromEntries(Object.entries(parsed.data.templateFields).filter(([, v]) => v !== undefined)) };
                template.followsBackendUrl = false;
                writeTemplateFields(draft, ctx.vault, template, fields as OidcTemplateFields);
            }
            return template;
        });
        return rec ? view(ctx.vault, rec) : reply.code(404).send({ error: "no such template" });
    });
    app.delete(`${base}/:templateId`, { onRequest }, async (req, reply) => {
        const { id, templateId } = req.params as { id: string; templateId: string };
        const rec = await ctx.store.update((draft) => {
            const i = draft.infisical.authTemplates.findIndex((t) => t.id === templateId && t.orgId === id);
            if (i < 0) return undefined;
            const [removed] = draft.infisical.authTemplates.splice(i, 1);
            for (const auth of draft.infisical.identityOidcAuths) if (auth.templateId === templateId) auth.templateId = null;
            return removed;
        });
        return rec ? view(ctx.vault, rec) : reply.code(404).send({ error: "no such template" });
    });
}
