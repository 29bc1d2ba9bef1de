/**
 * Which owners (GitHub organizations, GitLab top-level groups, Terraform Cloud organizations...) a bound subject or
 * claim pattern lets in.
 *
 * Infisical matches `boundSubject` and each `boundClaims` entry with `picomatch.isMatch(value, pattern)` (default
 * options) after an exact comparison (Infisical/infisical backend/src/services/identity-oidc-auth/
 * identity-oidc-auth-fns.ts, `doesFieldValueMatchOidcPolicy`), so the patterns here are read with picomatch's
 * syntax: `*` and `?` (never across `/`), `**`, `[...]` classes, `{a,b}` and `{1..9}` braces, extglobs `@(a|b)`,
 * `!(...)`, `+(...)`, `*(...)`, `?(...)`, a leading `!` negating the whole pattern, and `\` escapes.
 *
 * The question is not "does this pattern match that string" (picomatch answers that) but "can a stranger get a
 * token this pattern accepts", i.e. whether the owner part of every string the pattern matches is fixed. A pattern
 * is split into its alternatives (braces and `@(...)` expanded); in each alternative, the owner must be spelled
 * out in the literal text before the first wildcard. Anything else leaves the owner open: `repo:*\/infra:*` (any
 * owner), `repo:acme*\/*` (anyone can register `acme-evil`), `*:ref:refs/heads/main`, `!repo:beta/*`.
 */
import picomatch from "picomatch";

/**
 * Where the owner sits in a value. `prefix`/`end`: the owner is the text between a literal prefix and the first
 * `end` after it ("" = the rest of the value, which must then be fully literal). `after`: the owner is the text
 * after the last `after` separator of the literal suffix (e-mail domains: `*@example.com`).
 */
export type OwnerFormat = { prefix: string; end: string } | { after: string };

/** What a pattern lets in: a finite set of owners (lower-cased), or anyone ("open") and why. */
export type OwnerReach = { open: false; owners: string[] } | { open: true; why: string };

type Piece = { lit: string } | { wild: string } | { alt: Piece[][] };

/** Beyond this many alternatives a pattern is treated as open (it is then not a short list of owners anyway). */
const MAX_ALTERNATIVES = 64;

function closing(text: string, start: number, open: string, close: string): number {
    let depth = 0;
    for (let i = start; i < text.length; i++) {
        const c = text[i];
        if (c === "\\") {
            i++;
            continue;
        }
        if (c === open) depth++;
        else if (c === close && --depth === 0) return i;
    }
    return -1;
}

/** Splits at top-level `sep` (outside nested braces/parentheses/brackets, escapes kept). */
function splitTop(text: string, sep: string): string[] {
    const parts: string[] = [];
    let depth = 0;
    let current = "";
    for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (c === "\\") {
            current += c + (text[i + 1] ?? "");
            i++;
            continue;
        }
        if (c === "{" || c === "(" || c === "[") depth++;
        else if (c === "}" || c === ")" || c === "]") depth--;
        if (c === sep && depth === 0) {
            parts.push(current);
            current = "";
        } else current += c;
    }
    parts.push(current);
    return parts;
}

function parse(text: string): Piece[] {
    const pieces: Piece[] = [];
    const lit = (s: string) => {
        const last = pieces[pieces.length - 1];
        if (last && "lit" in last) last.lit += s;
        else pieces.push({ lit: s });
    };
    for (let i = 0; i < text.length; i++) {
        const c = text[i];
        const next = text[i + 1];
        if (c === "\\") {
            lit(next ?? "\\");
            i++;
        } else if ("@!+*?".includes(c) && next === "(") {
            const end = closing(text, i + 1, "(", ")");
            if (end < 0) {
                lit(c);
                continue;
            }
            const body = text.slice(i + 2, end);
            // @(a|b) is exactly one of its alternatives; the other extglobs repeat, omit or negate them.
            pieces.push(c === "@" ? { alt: splitTop(body, "|").map(parse) } : { wild: text.slice(i, end + 1) });
            i = end;
        } else if (c === "(") {
            const end = closing(text, i, "(", ")");
            if (end < 0) {
                lit(c);
                continue;
            }
            pieces.push({ alt: splitTop(text.slice(i + 1, end), "|").map(parse) });
            i = end;
        } else if (c === "*" || c === "?") {
            let j = i;
            while (text[j + 1] === "*") j++;
            pieces.push({ wild: text.slice(i, j + 1) });
            i = j;
        } else if (c === "[") {
            const end = text.indexOf("]", i + 2);
            if (end < 0) {
                lit(c);
                continue;
            }
            pieces.push({ wild: text.slice(i, end + 1) });
            i = end;
        } else if (c === "{") {
            const end = closing(text, i, "{", "}");
            const body = end < 0 ? "" : text.slice(i + 1, end);
            const alternatives = splitTop(body, ",");
            if (end < 0) {
                lit(c);
                continue;
            }
            if (alternatives.length > 1) pieces.push({ alt: alternatives.map(parse) });
            else if (/^(-?\d+|[a-z])\.\.(-?\d+|[a-z])(\.\.\d+)?$/i.test(body)) pieces.push({ wild: text.slice(i, end + 1) });
            else lit(text.slice(i, end + 1)); // "{a}" is literal for picomatch
            i = end;
        } else lit(c);
    }
    return pieces;
}

/** Every alternative as a flat list of literal and wildcard pieces, or undefined when there are too many. */
function expand(pieces: Piece[]): Array<Array<{ lit: string } | { wild: string }>> | undefined {
    let variants: Array<Array<{ lit: string } | { wild: string }>> = [[]];
    for (const piece of pieces) {
        if ("alt" in piece) {
            const options: Array<Array<{ lit: string } | { wild: string }>> = [];
            for (const alternative of piece.alt) {
                const sub = expand(alternative);
                if (!sub) return undefined;
                options.push(...sub);
            }
            const next = variants.flatMap((v) => options.map((o) => [...v, ...o]));
            if (next.length > MAX_ALTERNATIVES) return undefined;
            variants = next;
        } else {
            variants = variants.map((v) => [...v, piece]);
        }
    }
    return variants;
}

function ownerOf(variant: Array<{ lit: string } | { wild: string }>, format: OwnerFormat): string | undefined {
    const firstWild = variant.findIndex((p) => "wild" in p);
    const complete = firstWild < 0;
    const text = (parts: typeof variant) => parts.map((p) => ("lit" in p ? p.lit : "")).join("");
    if ("after" in format) {
        const lastWild = variant.map((p) => "wild" in p).lastIndexOf(true);
        const suffix = text(variant.slice(lastWild + 1));
        const at = suffix.lastIndexOf(format.after);
        const owner = at < 0 ? "" : suffix.slice(at + format.after.length);
        return owner !== "" ? owner : undefined;
    }
    const literal = text(complete ? variant : variant.slice(0, firstWild));
    if (!literal.startsWith(format.prefix)) return undefined;
    const rest = literal.slice(format.prefix.length);
    const end = format.end === "" ? -1 : rest.indexOf(format.end);
    if (end > 0) return rest.slice(0, end);
    return complete && rest !== "" && end < 0 ? rest : undefined;
}

/**
 * The owners a pattern lets in, under the given formats (an alternative must pin the owner in one of them).
 * `openOwners` are owners that are themselves open to anyone (e.g. the "gmail.com" e-mail domain).
 */
export function ownerReach(pattern: string, formats: readonly OwnerFormat[], openOwners: readonly string[] = []): OwnerReach {
    const value = pattern.trim();
    if (value === "") return { open: true, why: "empty (accepts any value)" };
    if (formats.length === 0) return { open: true, why: "this issuer's values do not name an owner" };
    if (picomatch.scan(value).negated) return { open: true, why: `"${value}" is negated (accepts everything but what follows "!")` };
    const variants = expand(parse(value));
    if (!variants) return { open: true, why: `"${value}" has more than ${MAX_ALTERNATIVES} alternatives` };
    const owners = new Set<string>();
    for (const variant of variants) {
        const owner = formats.map((f) => ownerOf(variant, f)).find((o) => o !== undefined);
        if (owner === undefined) return { open: true, why: `"${value}" leaves the owner part open` };
        if (openOwners.includes(owner.toLowerCase())) return { open: true, why: `"${value}" names ${owner}, which anyone can get an account at` };
        owners.add(owner.toLowerCase());
    }
    return { open: false, owners: [...owners].sort() };
}
