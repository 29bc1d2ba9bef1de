/**
 * Which owners (GitHub organizations, GitLab top-level groups, Terraform Cloud organizations, e-mail domains...) a
 * bound subject or claim pattern lets in.
 *
 * Infisical admits a token value when `value === pattern || picomatch.isMatch(value, pattern)` (default options;
 * Infisical/infisical backend/src/services/identity-oidc-auth/identity-oidc-auth-fns.ts,
 * `doesFieldValueMatchOidcPolicy`, with picomatch ^3 from backend/package.json). Patterns are therefore not read with
 * a grammar of our own: picomatch (the same major version) compiles the pattern to the regular expression it matches
 * with, and that regular expression is read with a regular-expression parser (@eslint-community/regexpp: the
 * ECMAScript parser ESLint's own rules use, typed, no dependencies). Whatever picomatch makes of a pattern (braces,
 * ranges, extglobs, classes, escapes, `**`, a leading `!`, and a `|` it sometimes reads as "or" and sometimes as a
 * literal) is what is read here.
 *
 * Each alternative of the expression is reduced to what every string it matches must contain: the literal text
 * before its first wildcard (the head) and, when it has wildcards, the literal text after its last one (the tail).
 * Character classes, sets, backreferences and any repetition are wildcards; lookarounds and word boundaries only
 * restrict, so they are skipped (the reading then admits more, never less). The owner must be spelled out in the
 * head (`repo:acme/...`) or, for e-mail-like formats, in the tail (`...@acme.com`). The exact comparison adds the
 * pattern text itself as one more value.
 */
import { parseRegExpLiteral, type AST } from "@eslint-community/regexpp";
import picomatch from "picomatch";

/**
 * Where the owner sits in a value. `prefix`/`end`: the owner is the text between a literal prefix and the first
 * `end` after it ("" = the rest of the value, which must then be fully literal). `after`: the owner is the text
 * after the last `after` separator of the literal suffix (e-mail domains: `*@example.com`); a fully literal value
 * of this format (`bot@gmail.com`) is one account.
 */
export type OwnerFormat = { prefix: string; end: string } | { after: string };

/** What a pattern lets in: a finite set of owners (lower-cased), or anyone ("open") and why. */
export type OwnerReach = { open: false; owners: string[] } | { open: true; why: string };

/** Beyond this many alternatives a pattern is treated as open (it is then not a short list of owners anyway). */
export const MAX_ALTERNATIVES = 64;

/**
 * What every string of one alternative looks like: `head`, then (when `wild`) anything, then `tail`. `ended`: an
 * end-of-input assertion was passed, so nothing more can follow.
 */
export interface Reading {
    head: string;
    wild: boolean;
    tail: string;
    ended: boolean;
}

const EMPTY: Reading = { head: "", wild: false, tail: "", ended: false };
const WILD: Reading = { head: "", wild: true, tail: "", ended: false };

class TooManyAlternatives extends Error {}

/** a then b, or undefined when no string can match both in turn (text after an end-of-input assertion). */
function concat(a: Reading, b: Reading): Reading | undefined {
    if (a.ended) {
        // After `$` only empty matches remain possible.
        return b.head === "" && b.tail === "" ? a : undefined;
    }
    if (!a.wild) return { head: a.head + b.head, wild: b.wild, tail: b.tail, ended: b.ended };
    if (!b.wild) return { head: a.head, wild: true, tail: a.tail + b.head, ended: b.ended };
    return { head: a.head, wild: true, tail: b.tail, ended: b.ended };
}

const key = (r: Reading) => JSON.stringify([r.head, r.wild, r.tail, r.ended]);

function unique(readings: Reading[]): Reading[] {
    const seen = new Map<string, Reading>();
    for (const r of readings) seen.set(key(r), r);
    if (seen.size > MAX_ALTERNATIVES) throw new TooManyAlternatives();
    return [...seen.values()];
}

function readAlternatives(alternatives: AST.Alternative[]): Reading[] {
    return unique(alternatives.flatMap((a) => readAlternative(a, EMPTY)));
}

/**
 * The readings of one alternative, starting from `from`. At the top of the expression `from` is a wildcard and a
 * wildcard is appended unless `$` was passed: `RegExp.test` finds a match anywhere, so only `^` and `$` anchor it
 * (picomatch's `^(?:…)$` usually does, but a pattern such as `))|{/` compiles to `^(?:\))|(\/)$`, whose first
 * alternative is anchored at the start only).
 */
function readAlternative(alternative: AST.Alternative, from: Reading): Reading[] {
    let readings: Reading[] = [from];
    for (const element of alternative.elements) {
        const next = readElement(element);
        if (next === "start") {
            // `^`: nothing may have been consumed; the wildcards so far (the leading one included) matched nothing.
            readings = readings.filter((r) => r.head === "" && r.tail === "" && !r.ended).map(() => EMPTY);
            continue;
        }
        readings = unique(readings.flatMap((r) => next.map((n) => concat(r, n)).filter((x): x is Reading => x !== undefined)));
    }
    return readings;
}

/** The readings of a whole expression as `RegExp.test` uses it (unanchored unless `^`/`$` say otherwise). */
function readExpression(pattern: AST.Pattern): Reading[] {
    const readings = pattern.alternatives.flatMap((alternative) =>
        readAlternative(alternative, WILD).map((r) => (r.ended ? r : (concat(r, WILD) as Reading))),
    );
    return unique(readings);
}

function readElement(element: AST.Element): Reading[] | "start" {
    switch (element.type) {
        case "Character":
            return [{ head: String.fromCodePoint(element.value), wild: false, tail: "", ended: false }];
        case "Assertion":
            if (element.kind === "start") return "start";
            if (element.kind === "end") return [{ ...EMPTY, ended: true }];
            return [EMPTY]; // lookarounds, \b: they only restrict
        case "Group":
            return element.modifiers ? [WILD] : readAlternatives(element.alternatives);
        case "CapturingGroup":
            return readAlternatives(element.alternatives);
        case "Quantifier":
            if (element.max === 0) return [EMPTY];
            if (element.min === 1 && element.max === 1) return readElement(element.element);
            return [WILD];
        default:
            // Character classes and sets, backreferences: one of several texts.
            return [WILD];
    }
}

/**
 * How picomatch reads a pattern: the readings of its compiled expression's alternatives (the regex path of
 * Infisical's match), or "too-many" beyond {@link MAX_ALTERNATIVES}. Readings that can match only the empty string
 * are dropped: picomatch never matches "".
 */
export function picomatchReadings(pattern: string): Reading[] | "too-many" {
    let regex: RegExp;
    try {
        regex = picomatch.makeRe(pattern);
    } catch {
        return []; // picomatch refuses the pattern (e.g. too long): isMatch throws, so only the exact comparison admits
    }
    try {
        const literal = parseRegExpLiteral(regex);
        return readExpression(literal.pattern).filter((r) => r.wild || r.head !== "");
    } catch (err) {
        if (err instanceof TooManyAlternatives) return "too-many";
        throw err;
    }
}

/** The owner a reading names under one format, or undefined when it names none. */
function ownerOf(r: Reading, format: OwnerFormat): string | undefined {
    if ("after" in format) {
        const suffix = r.wild ? r.tail : r.head;
        const at = suffix.lastIndexOf(format.after);
        const owner = at < 0 ? "" : suffix.slice(at + format.after.length);
        return owner !== "" ? owner : undefined;
    }
    if (!r.head.startsWith(format.prefix)) return undefined;
    const rest = r.head.slice(format.prefix.length);
    const end = format.end === "" ? -1 : rest.indexOf(format.end);
    if (end > 0) return rest.slice(0, end);
    return !r.wild && rest !== "" && end < 0 ? rest : undefined;
}

/** The owner of a reading under the first format that names one. */
function ownerUnder(r: Reading, formats: readonly OwnerFormat[]): { owner: string; format: OwnerFormat } | undefined {
    for (const format of formats) {
        const owner = ownerOf(r, format);
        if (owner !== undefined) return { owner, format };
    }
    return undefined;
}

/** Characters picomatch gives a meaning to; no account name of the listed services contains one. */
const GLOB_CHARACTERS = /[\\*?[\]{}()!+@|,]/;

/** A reading as text, "…" standing for the wildcard part. */
const show = (r: Reading) => (r.wild ? `${r.head}…${r.tail}` : r.head);

/**
 * The owners a pattern lets in, under the given formats (each admitted value must name its owner in one of them).
 * `openOwners` are owners that are themselves open to anyone (e.g. the "gmail.com" e-mail domain); a fully literal
 * value of an `after` format there is still one account (`deploy-bot@gmail.com`).
 */
export function ownerReach(pattern: string, formats: readonly OwnerFormat[], openOwners: readonly string[] = []): OwnerReach {
    const value = pattern.trim();
    if (value === "") return { open: true, why: "empty (accepts any value)" };
    if (formats.length === 0) return { open: true, why: "this issuer's values do not name an owner" };
    if (picomatch.scan(value).negated) return { open: true, why: `"${value}" is negated (accepts everything but what follows "!")` };
    const readings = picomatchReadings(value);
    if (readings === "too-many") return { open: true, why: `"${value}" has more than ${MAX_ALTERNATIVES} alternatives` };

    const exact: Reading = { head: value, wild: false, tail: "", ended: false };
    // The exact comparison (Infisical's, and picomatch's own `input === glob`) admits the pattern text itself; it
    // adds something only when the compiled expression does not match that text.
    const candidates: Array<{ reading: Reading; exactText: boolean }> = readings.map((reading) => ({ reading, exactText: false }));
    if (!compiledMatches(value, value)) candidates.push({ reading: exact, exactText: true });

    const several = readings.length > 1 ? `picomatch reads it as ${readings.length} alternatives, ${readings.map((r) => `"${show(r)}"`).join(" or ")}` : "";
    const owners = new Set<string>();
    for (const { reading, exactText } of candidates) {
        const named = ownerUnder(reading, formats);
        if (named === undefined) {
            // The pattern text, glob characters and all, where no owner format fits: no token carries such a value.
            if (exactText && GLOB_CHARACTERS.test(value)) continue;
            return { open: true, why: `"${value}" leaves the owner part open${several && !exactText ? `: ${several}, and "${show(reading)}" admits any owner` : ""}` };
        }
        let owner = named.owner.toLowerCase();
        if (openOwners.includes(owner)) {
            if ("after" in named.format && !reading.wild) owner = reading.head.toLowerCase(); // one exact address
            else return { open: true, why: `"${value}" names ${named.owner}, which anyone can get an account at${several ? ` (${several})` : ""}` };
        }
        // The pattern text taken literally names an owner no account can have (`repo:{acme,beta}/*` → "{acme,beta}").
        if (exactText && GLOB_CHARACTERS.test(owner)) continue;
        owners.add(owner);
    }
    return { open: false, owners: [...owners].sort() };
}

/** Whether the expression picomatch compiles for `pattern` matches `value` (false when picomatch refuses the pattern). */
function compiledMatches(value: string, pattern: string): boolean {
    try {
        return picomatch.makeRe(pattern).test(value);
    } catch {
        return false;
    }
}
