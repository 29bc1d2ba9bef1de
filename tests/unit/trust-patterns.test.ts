/**
 * How the trust checks read bound subjects and claims (provider/trust/patterns.ts), held against picomatch itself.
 *
 * Infisical admits a token value when `value === pattern || picomatch.isMatch(value, pattern)`
 * (Infisical/infisical backend/src/services/identity-oidc-auth/identity-oidc-auth-fns.ts,
 * `doesFieldValueMatchOidcPolicy`; picomatch ^3 from backend/package.json, the major this package depends on).
 * The property: whenever the checks say a pattern pins the owners X, no value naming another owner is admitted.
 * Candidate values come from owner-name templates, from the pattern with its wildcards filled in, and from the
 * expression picomatch compiles (fast-check's stringMatching), so the oracle actively searches for counterexamples.
 * Every counterexample a run ever found is kept below as a fixed case. CI runs 200 patterns per family; for a longer
 * hunt set TRUST_PATTERN_RUNS (e.g. 20000: about 15 minutes on a shared 2-core machine).
 */
import { parseRegExpLiteral, visitRegExpAST } from "@eslint-community/regexpp";
import fc from "fast-check";
import picomatch from "picomatch";
import { ownerReach, PUBLIC_ISSUERS, PUBLIC_MAIL_DOMAINS } from "../../provider/trust";
import { MAX_ALTERNATIVES, picomatchReadings, type OwnerFormat } from "../../provider/trust/patterns";

// ------------------------------------------------------------------------------------------------ the oracle

/** Infisical's match of one policy entry against a string claim value. */
function admitted(value: string, pattern: string): boolean {
    if (value === pattern) return true;
    try {
        return picomatch.isMatch(value, pattern);
    } catch {
        return false; // picomatch refuses the pattern: the login fails
    }
}

/** The owner a concrete value names (first format that fits), written from the formats' definition. */
function ownerOfValue(value: string, formats: readonly OwnerFormat[]): { owner: string; format: OwnerFormat } | undefined {
    for (const format of formats) {
        if ("after" in format) {
            const at = value.lastIndexOf(format.after);
            if (at >= 0 && at + format.after.length < value.length) return { owner: value.slice(at + format.after.length), format };
            continue;
        }
        if (!value.startsWith(format.prefix)) continue;
        const rest = value.slice(format.prefix.length);
        if (rest === "") continue;
        if (format.end === "") return { owner: rest, format };
        const end = rest.indexOf(format.end);
        if (end > 0) return { owner: rest.slice(0, end), format };
        if (end < 0) return { owner: rest, format };
    }
    return undefined;
}

const GLOB_CHARACTERS = /[\\*?[\]{}()!+@|,]/;

/**
 * Why a value admitted by `pattern` breaks the claim "pins `owners`", or undefined when it does not. A value that
 * is the pattern text itself and that picomatch does not match is admitted by the exact comparison only: it breaks
 * the claim when it names a real owner (no glob characters in the name) outside `owners`, or names no owner while
 * the pattern has no glob syntax at all.
 */
function violation(value: string, pattern: string, owners: readonly string[], formats: readonly OwnerFormat[], openOwners: readonly string[]): string | undefined {
    const exactOnly = value === pattern && !compiledMatches(value, pattern);
    const named = ownerOfValue(value, formats);
    if (!named) {
        if (exactOnly && GLOB_CHARACTERS.test(pattern)) return undefined;
        return `"${value}" names no owner`;
    }
    let owner = named.owner.toLowerCase();
    if (openOwners.includes(owner)) {
        if ("after" in named.format) owner = value.toLowerCase(); // one address at a public mail domain
        else return `"${value}" names ${owner}, open to anyone`;
    }
    if (exactOnly && GLOB_CHARACTERS.test(owner)) return undefined;
    return owners.includes(owner) ? undefined : `"${value}" names owner "${owner}", not one of [${owners.join(", ")}]`;
}

function compiledMatches(value: string, pattern: string): boolean {
    try {
        return picomatch.makeRe(pattern).test(value);
    } catch {
        return false;
    }
}

function safeIsMatch(value: string, pattern: string): boolean {
    try {
        return picomatch.isMatch(value, pattern);
    } catch {
        return false;
    }
}

/** The compiled expression without lookarounds (fast-check cannot generate them): it matches a superset. */
function generatorSource(pattern: string): RegExp | undefined {
    let regex: RegExp;
    try {
        regex = picomatch.makeRe(pattern);
    } catch {
        return undefined;
    }
    const ast = parseRegExpLiteral(regex);
    const cuts: Array<[number, number]> = [];
    visitRegExpAST(ast, {
        onAssertionEnter(node) {
            if ((node.kind === "lookahead" || node.kind === "lookbehind") && !cuts.some(([s, e]) => node.start >= s && node.end <= e)) cuts.push([node.start, node.end]);
        },
    });
    // Offsets are into the literal "/source/flags": the source starts at 1.
    let source = "";
    let at = 1;
    for (const [s, e] of cuts.sort((a, b) => a[0] - b[0])) {
        source += ast.raw.slice(at, s);
        at = e;
    }
    source += ast.raw.slice(at, ast.raw.lastIndexOf("/"));
    return new RegExp(source);
}

function hash(text: string): number {
    let h = 2166136261;
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
    return h >>> 0;
}

/** Values the expression itself generates (a few, seeded by the pattern so a failure reproduces). */
function valuesFromExpression(pattern: string, count: number): string[] {
    const source = generatorSource(pattern);
    if (!source) return [];
    try {
        return fc.sample(fc.stringMatching(source, { size: "small" }), { numRuns: count, seed: hash(pattern) });
    } catch {
        return [];
    }
}

/** The pattern with its glob characters replaced by owner-ish text. */
function valuesFromFilling(pattern: string, fills: readonly string[]): string[] {
    const out = new Set<string>();
    for (const fill of fills) {
        out.add(pattern.replace(/\*\*|[*?]/g, fill));
        out.add(pattern.replace(/[*?[\]{}()!+@|,\\]/g, ""));
        out.add(pattern.replace(/\{([^{}]*)\}/g, (_m, body: string) => body.split(",")[0] ?? "").replace(/\*\*|[*?]/g, fill));
        out.add(pattern.replace(/\|/g, "").replace(/\*\*|[*?]/g, fill));
        for (const part of pattern.split("|")) out.add(part.replace(/\*\*|[*?]/g, fill));
    }
    return [...out];
}

// ---------------------------------------------------------------------------------------------- the families

const github = PUBLIC_ISSUERS.find((i) => i.id === "github-actions")!;
const google = PUBLIC_ISSUERS.find((i) => i.id === "google")!;
const terraform = PUBLIC_ISSUERS.find((i) => i.id === "terraform-cloud")!;

interface Family {
    name: string;
    formats: readonly OwnerFormat[];
    openOwners: readonly string[];
    /** Pieces patterns are made of (besides the glob characters). */
    pieces: readonly string[];
    /** Values naming `owner`. */
    templates: (owner: string) => string[];
    owners: readonly string[];
}

const GLOB_PIECES = ["*", "?", "**", "|", "{", "}", ",", "(", ")", "@", "!", "+", "[", "]", "\\", "/", "@(", "!(", "+(", "*(", "?(", "{a,b}", "{1..3}", "[a-z]", "\\*", ".", "-"];

const FAMILIES: Family[] = [
    {
        name: "GitHub Actions subject",
        formats: github.subject,
        openOwners: [],
        pieces: ["repo:", "repository_owner:", "repository_owner_id:", "acme", "beta", "evil", "acme/", "/infra", ":ref:refs/heads/main", ":", "repo:acme/", "repo:evil/", "environment:prod"],
        owners: ["acme", "beta", "evil", "acme-evil", "acmex", "x", "a", "1", "a|b", "acme|evil"],
        templates: (o) => [`repo:${o}/infra:ref:refs/heads/main`, `repo:${o}/infra`, `repo:${o}/x:pull_request`, `repository_owner:${o}:x`, `repository_owner_id:${o}:repository_id:1`, `repo:${o}`],
    },
    {
        name: "Terraform Cloud subject (owner up to ':')",
        formats: terraform.subject,
        openOwners: [],
        pieces: ["organization:", "acme", "evil", ":project:", "organization:acme:", "organization:evil:", ":workspace:prod", ":run_phase:apply"],
        owners: ["acme", "evil", "acme-evil", "a", "acme|evil"],
        templates: (o) => [`organization:${o}:project:p:workspace:prod:run_phase:apply`, `organization:${o}`, `organization:${o}:x`],
    },
    {
        name: "GitHub repository claim (first segment)",
        formats: github.ownerClaims.repository,
        openOwners: [],
        pieces: ["acme", "beta", "evil", "acme/", "/infra", "infra", "acme/infra", "evil/"],
        owners: ["acme", "beta", "evil", "acme-evil", "acmex", "x", "infra", "a"],
        templates: (o) => [`${o}/infra`, `${o}/x`, o, `${o}/a/b`],
    },
    {
        name: "GitHub repository_owner claim (whole value)",
        formats: github.ownerClaims.repository_owner,
        openOwners: [],
        pieces: ["acme", "beta", "evil", "ac", "me"],
        owners: ["acme", "beta", "evil", "acme-evil", "acmex", "x", "a", "acme|evil"],
        templates: (o) => [o],
    },
    {
        name: "Google email claim (domain after @)",
        formats: google.ownerClaims.email,
        openOwners: google.openOwners ?? [],
        pieces: ["acme.com", "gmail.com", "evil.net", "@", "bot", "*@", "@acme.com", "@gmail.com", "deploy-bot@gmail.com", ".com"],
        owners: ["acme.com", "gmail.com", "evil.net", "acme.com.evil.net", "evilacme.com", "x"],
        templates: (o) => [`bot@${o}`, `deploy-bot@${o}`, `x@${o}`, `a@b@${o}`],
    },
];

function candidateValues(family: Family, pattern: string): string[] {
    const fills = ["evil", "acme", "a/b", "", "x@evil.net"];
    const values = new Set<string>([pattern, ...family.owners.flatMap(family.templates), ...valuesFromFilling(pattern, fills), ...valuesFromExpression(pattern, 30)]);
    values.delete("");
    return [...values];
}

/** Checks one pattern against the oracle; returns the counterexample found, if any. */
function check(family: Family, pattern: string, extra: readonly string[] = []): { reach: ReturnType<typeof ownerReach>; counterexample?: string } {
    const reach = ownerReach(pattern, family.formats, family.openOwners);
    const p = pattern.trim();
    // picomatch(p)(v) is picomatch.isMatch(v, p) with the expression compiled once.
    let isMatch: (v: string) => boolean = () => false;
    let compiled: RegExp | undefined;
    try {
        isMatch = picomatch(p);
        compiled = picomatch.makeRe(p);
    } catch {
        // picomatch refuses the pattern: only the exact comparison admits
    }
    for (const value of [...candidateValues(family, p), ...extra]) {
        const matched = isMatch(value);
        // Reading the compiled expression is reading what isMatch does (apart from its own `value === pattern`).
        if (compiled && value !== p && matched !== compiled.test(value)) return { reach, counterexample: `isMatch and makeRe disagree on "${value}"` };
        if (reach.open || !(value === p || matched)) continue;
        const why = violation(value, p, reach.owners, family.formats, family.openOwners);
        if (why) return { reach, counterexample: why };
    }
    return { reach };
}

// ------------------------------------------------------------------------------------------------ fixed cases

/**
 * Patterns that broke (or nearly broke) the reading, with the value that showed it. The first group is the issue's
 * (#22.1): picomatch reads these `|` as "or", and the hand-written grammar of 0.2.0 did not.
 */
const FIXED: Array<{ family: string; pattern: string; stranger: string; open: boolean }> = [
    { family: "GitHub Actions subject", pattern: "repo:acme/infra:ref:refs/heads/main|*", stranger: "repository_owner_id:999:repository_id:4242", open: true },
    { family: "GitHub Actions subject", pattern: "repo:acme/infra:ref:refs/heads/main|repo:*/**", stranger: "repo:evil/anything:ref:refs/heads/main", open: true },
    { family: "GitHub repository claim (first segment)", pattern: "acme/infra|*/infra", stranger: "evil/infra", open: true },
    { family: "Google email claim (domain after @)", pattern: "*@gmail.com|*@acme.com", stranger: "anyone@gmail.com", open: true },
    // `|` read as a literal: no stranger gets in (and none has a "|" in their name), yet it is no pin either.
    { family: "GitHub repository_owner claim (whole value)", pattern: "acme|*", stranger: "acme|evil", open: true },
    // `**` compiles to "(?:/…|$)": the "$" branch must not be read as text going on ("acmeinfra").
    { family: "GitHub repository claim (first segment)", pattern: "acme/**/infra", stranger: "evil/acme/infra", open: false },
    // The exact comparison admits the text itself; its literal owner "{acme,beta}" is no account name.
    { family: "GitHub Actions subject", pattern: "repo:{acme,beta}/*", stranger: "repo:evil/x", open: false },
    // One address at a public mail domain is one account (#22.7); any wildcard there is everyone.
    { family: "Google email claim (domain after @)", pattern: "deploy-bot@gmail.com", stranger: "evil@gmail.com", open: false },
    { family: "Google email claim (domain after @)", pattern: "deploy-bot*@gmail.com", stranger: "deploy-bot-evil@gmail.com", open: true },
    // picomatch compiles this to "^(?:\\))|(\\/)$": the first alternative is anchored at the start only, so ")evil"
    // matches (found by the generated run, seed 763740346; the reading assumed "^…$" around every alternative).
    { family: "GitHub repository_owner claim (whole value)", pattern: "))|{/", stranger: ")evil", open: true },
];

describe("picomatch is the oracle: a pattern said to pin owners admits no value naming another", () => {
    test.each(FIXED)("fixed case: $family, $pattern", ({ family, pattern, stranger, open }) => {
        const f = FAMILIES.find((x) => x.name === family)!;
        const { reach, counterexample } = check(f, pattern, [stranger]);
        expect(counterexample).toBeUndefined();
        expect(reach.open).toBe(open);
        // The stranger's value is admitted exactly when the pattern is open (the case is real, not vacuous).
        expect(admitted(stranger, pattern)).toBe(open);
    });

    test.each(FAMILIES.map((f) => [f.name, f] as const))("generated patterns: %s", (_name, family) => {
        const piece = fc.constantFrom(...GLOB_PIECES, ...family.pieces);
        const pattern = fc.oneof(
            fc.array(piece, { minLength: 1, maxLength: 8 }).map((p) => p.join("")),
            // Patterns that start like a pin (the case where a wrong reading would let strangers in).
            fc.tuple(fc.constantFrom(...family.pieces), fc.array(piece, { minLength: 0, maxLength: 6 })).map(([head, rest]) => head + rest.join("")),
        );
        let pinned = 0;
        fc.assert(
            fc.property(pattern, (p) => {
                const { reach, counterexample } = check(family, p);
                if (!reach.open) pinned++;
                if (counterexample) throw new Error(`"${p}" is said to pin [${reach.open ? "" : reach.owners.join(", ")}], but ${counterexample}`);
            }),
            { numRuns: Number(process.env.TRUST_PATTERN_RUNS ?? 200) },
        );
        // The run says something: a fair share of the generated patterns were read as pinned.
        expect(pinned).toBeGreaterThan(10);
    });
});

describe("how picomatch reads a pattern", () => {
    const shown = (p: string) => {
        const r = picomatchReadings(p);
        return r === "too-many" ? r : r.map((x) => (x.wild ? `${x.head}…${x.tail}` : x.head)).sort();
    };

    test("a top-level | is alternation in some patterns and a literal in others, as picomatch compiles it", () => {
        expect(picomatch.makeRe("repo:acme/infra:ref:refs/heads/main|*").source).toBe("^(?:repo:acme\\/infra:ref:refs\\/heads\\/main|[^/]*?\\/?)$");
        expect(shown("repo:acme/infra:ref:refs/heads/main|*")).toEqual(["repo:acme/infra:ref:refs/heads/main", "…"]);
        expect(picomatch.makeRe("acme|*").source).toBe("^(?:^(?:acme\\|[^/]*?)$)$");
        expect(shown("acme|*")).toEqual(["acme|…"]);
        // As docs/trust.md says: "or" after a "/", a literal without one.
        expect(picomatch.makeRe("a/b|*").source).toBe("^(?:a\\/b|[^/]*?\\/?)$");
        for (const p of ["a|*", "x:y|*"]) expect(shown(p)).toEqual([`${p.slice(0, -1)}…`]);
    });

    test("braces, extglobs, ranges, classes, escapes and globstars", () => {
        expect(shown("repo:{acme,beta}/*")).toEqual(["repo:acme/…", "repo:beta/…"]);
        expect(shown("repo:@(acme|beta)/x")).toEqual(["repo:acme/x", "repo:beta/x"]);
        expect(shown("repo:+(a)cme/x")).toEqual(["repo:…cme/x"]);
        expect(shown("repo:acme{1..3}/x")).toEqual(["repo:acme…/x"]);
        // picomatch also matches a class's literal text: "(?:\\[ab\\]|[ab])".
        expect(shown("repo:[ab]cme/x")).toEqual(["repo:[ab]cme/x", "repo:…cme/x"]);
        expect(shown("repo:acme\\*/x")).toEqual(["repo:acme*/x"]);
        expect(shown("repo:acme/**")).toEqual(["repo:acme", "repo:acme/…"]);
        expect(shown("a/**/b")).toEqual(["a/b", "a/…/b"]);
        expect(shown("!repo:beta/*")).toEqual(["…"]);
        expect(shown("{abc}")).toEqual(["{abc}"]);
        // Only ^ and $ anchor: an alternative without one of them is open on that side.
        expect(picomatch.makeRe("))|{/").source).toBe("^(?:\\))|(\\/)$");
        expect(shown("))|{/")).toEqual([")…", "…/"]);
    });

    test("too many alternatives", () => {
        expect(shown("{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}")).toBe("too-many");
        expect(2 ** 7).toBeGreaterThan(MAX_ALTERNATIVES);
    });
});

describe("ownerReach on the issue's cases", () => {
    const subject = github.subject;
    test("alternation that admits strangers is open, and the reason names the open alternative", () => {
        const r = ownerReach("repo:acme/infra:ref:refs/heads/main|*", subject);
        expect(r).toEqual({ open: true, why: expect.stringContaining('picomatch reads it as 2 alternatives, "repo:acme/infra:ref:refs/heads/main" or "…", and "…" admits any owner') });
        expect(ownerReach("repo:acme/infra:ref:refs/heads/main|repo:*/**", subject).open).toBe(true);
    });

    test("alternation whose every alternative pins is a list of owners", () => {
        expect(ownerReach("repo:acme/infra:*|repo:beta/infra:*", subject)).toEqual({ open: false, owners: ["acme", "beta"] });
        expect(ownerReach("{repo:acme/a,repo:acme/b}", subject)).toEqual({ open: false, owners: ["acme"] });
    });

    test("e-mail: one exact address at a public domain is one account; a wildcard there is anyone", () => {
        const email = google.ownerClaims.email;
        expect(ownerReach("deploy-bot@gmail.com", email, PUBLIC_MAIL_DOMAINS)).toEqual({ open: false, owners: ["deploy-bot@gmail.com"] });
        expect(ownerReach("*@gmail.com", email, PUBLIC_MAIL_DOMAINS).open).toBe(true);
        expect(ownerReach("{a,b}@gmail.com", email, PUBLIC_MAIL_DOMAINS)).toEqual({ open: false, owners: ["a@gmail.com", "b@gmail.com"] });
        expect(ownerReach("*@acme.com", email, PUBLIC_MAIL_DOMAINS)).toEqual({ open: false, owners: ["acme.com"] });
    });
});
