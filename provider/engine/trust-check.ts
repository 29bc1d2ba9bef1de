/**
 * The trust rules (provider/trust) at check time: an error finding fails the preview on its field unless the
 * resource accepts that rule by id (`acceptRisks`); warnings are shown and never block. No request is made.
 */
import { TRUST_RULE_IDS, trustFindings } from "../trust";
import { warn } from "./log";
import type { ResourceModel } from "./model";

type Props = Record<string, unknown>;
type Failure = { property: string; reason: string };

/** Rule ids in `acceptRisks` that do not exist (a typo would silently accept nothing). */
export function acceptRisksProblems(value: unknown): Failure[] {
    if (!Array.isArray(value)) return [];
    return value
        .map((id, i) => ({ id, i }))
        .filter(({ id }) => typeof id === "string" && !TRUST_RULE_IDS.includes(id))
        .map(({ id, i }) => ({ property: `acceptRisks[${i}]`, reason: `unknown trust rule id "${String(id)}" (known: ${TRUST_RULE_IDS.join(", ")})` }));
}

export async function trustFailures(model: ResourceModel, given: Props, inputs: Props, unknown: Set<string>): Promise<Failure[]> {
    const settings: Props = { ...inputs };
    for (const k of unknown) settings[k] = given[k];
    const accepted = new Set(Array.isArray(inputs.acceptRisks) ? inputs.acceptRisks.filter((x): x is string => typeof x === "string") : []);
    const failures: Failure[] = [];
    const key = model.keyOf(inputs);
    const what = model.desc.key.length ? `${model.kind} (${model.desc.key.map((k) => `${k} ${key[k] ?? "?"}`).join(", ")})` : model.kind;
    for (const f of trustFindings(model.kind, settings)) {
        const text = `${f.ruleId}: ${f.reason}. Fix: ${f.fix}. See ${f.docs}`;
        if (f.severity === "error" && !accepted.has(f.ruleId)) {
            failures.push({ property: f.property, reason: `${f.ruleId}: ${f.reason}. Fix: ${f.fix}. To accept the risk: acceptRisks: ["${f.ruleId}"]. See ${f.docs}` });
        } else if (f.severity === "warning") {
            await warn(`${what}: ${f.property}: ${text}`);
        }
    }
    return failures;
}
