/**
 * Fault injection and request statistics.
 *
 * A rule names requests as "METHOD /path/glob" (picomatch globs on the path, query string ignored; METHOD may be
 * `*`) and says what happens to the next `times` matching requests (every one when `times` is absent):
 *
 * - `latencyMs`: wait before handling (combines with the others);
 * - `status` (+ `retryAfterSeconds`): answer with that status and an error body of the API's dialect, without
 *   handling the request (nothing is applied);
 * - `drop: "before"`: destroy the connection without handling the request (nothing is applied);
 * - `drop: "after"`: handle the request (the change is applied and saved), then destroy the connection instead of
 *   answering.
 *
 * The first rule that matches and still has uses left applies; one rule per request.
 */
import picomatch from "picomatch";
import { z } from "zod";

export const faultRuleSchema = z.strictObject({
    route: z
        .string()
        .trim()
        .regex(/^(\*|[A-Za-z]+) \/\S*$/, 'route must look like "METHOD /path/glob", e.g. "POST /api/v1/sso/oidc/config" or "* /api/**"'),
    status: z.number().int().min(100).max(599).optional(),
    retryAfterSeconds: z.number().min(0).max(3600).optional(),
    latencyMs: z.number().int().min(0).max(600_000).optional(),
    drop: z.enum(["before", "after"]).optional(),
    times: z.number().int().min(1).optional(),
});

export type FaultRule = z.infer<typeof faultRuleSchema>;

export const faultRulesSchema = z
    .union([z.array(faultRuleSchema), z.strictObject({ rules: z.array(faultRuleSchema) })])
    .transform((v) => (Array.isArray(v) ? v : v.rules))
    .superRefine((rules, ctx) => {
        rules.forEach((r, i) => {
            if (r.status !== undefined && r.drop !== undefined) ctx.addIssue({ code: "custom", path: [i], message: "a rule cannot both answer with a status and drop the connection" });
            if (r.status === undefined && r.drop === undefined && r.latencyMs === undefined) {
                ctx.addIssue({ code: "custom", path: [i], message: "a rule needs status, drop or latencyMs" });
            }
        });
    });

/** Parses fault rules from JSON text or a value; throws with a readable message. */
export function parseFaultRules(input: unknown): FaultRule[] {
    const value = typeof input === "string" ? JSON.parse(input) : input;
    const parsed = faultRulesSchema.safeParse(value);
    if (!parsed.success) {
        throw new Error(`invalid fault rules: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`);
    }
    return parsed.data;
}

interface ActiveRule {
    rule: FaultRule;
    method: string;
    matches: (path: string) => boolean;
    remaining: number;
}

export class Faults {
    private rules: ActiveRule[] = [];

    /** Replaces the rules (validated; throws on an invalid rule). */
    set(rules: FaultRule[] | unknown): void {
        const parsed = parseFaultRules(rules);
        this.rules = parsed.map((rule) => {
            const [method, glob] = rule.route.split(" ", 2) as [string, string];
            return { rule, method: method.toUpperCase(), matches: picomatch(glob, { dot: true }), remaining: rule.times ?? Number.POSITIVE_INFINITY };
        });
    }

    clear(): void {
        this.rules = [];
    }

    /** The rules with the uses they have left (`times` absent means unlimited). */
    list(): Array<FaultRule & { remaining?: number }> {
        return this.rules.map((r) => ({ ...r.rule, ...(Number.isFinite(r.remaining) ? { remaining: r.remaining } : {}) }));
    }

    /** The rule that applies to this request, using up one of its uses; undefined when none does. */
    take(method: string, path: string): FaultRule | undefined {
        for (const r of this.rules) {
            if (r.remaining <= 0) continue;
            if (r.method !== "*" && r.method !== method.toUpperCase()) continue;
            if (!r.matches(path)) continue;
            r.remaining--;
            return r.rule;
        }
        return undefined;
    }
}

/** Request counters by "METHOD /path" (query string left out) and by "METHOD <route pattern>". */
export class Stats {
    private byRoute = new Map<string, number>();
    private byPattern = new Map<string, number>();
    private total = 0;

    count(method: string, path: string, pattern: string | undefined): void {
        this.total++;
        const key = `${method} ${path}`;
        this.byRoute.set(key, (this.byRoute.get(key) ?? 0) + 1);
        const p = `${method} ${pattern ?? "(no route)"}`;
        this.byPattern.set(p, (this.byPattern.get(p) ?? 0) + 1);
    }

    snapshot(): { total: number; byRoute: Record<string, number>; byPattern: Record<string, number> } {
        return { total: this.total, byRoute: Object.fromEntries(this.byRoute), byPattern: Object.fromEntries(this.byPattern) };
    }

    reset(): void {
        this.byRoute.clear();
        this.byPattern.clear();
        this.total = 0;
    }
}
