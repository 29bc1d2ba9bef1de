import { credentialsOf, scanForLeaks, SECRET_SIG_KEY, SECRET_SIG_VALUE } from "../helpers/leak-scan";

describe("leak scanner", () => {
    const secrets = { token: "st.abcdef123456", clientSecret: 'cs"with/quote', short: "abc" };

    test("finds plain, JSON-escaped, URL-encoded and base64 copies, reporting labels only", () => {
        const leaks = scanForLeaks(
            {
                log: "request with st.abcdef123456 in it",
                json: JSON.stringify({ v: 'cs"with/quote' }),
                url: `https://x/?t=${encodeURIComponent('cs"with/quote')}`,
                b64: Buffer.from("st.abcdef123456").toString("base64"),
            },
            secrets,
        );
        expect(leaks.map((l) => [l.where, l.secret, l.encoding])).toEqual([
            ["log", "token", "plain"],
            ["json", "clientSecret", "json"],
            ["url", "clientSecret", "url"],
            ["b64", "token", "base64"],
        ]);
        expect(JSON.stringify(leaks)).not.toContain("abcdef123456");
    });

    test("ignores Pulumi's encrypted values in state exports, and values too short to mean anything", () => {
        const exported = JSON.stringify({ outputs: { clientSecret: { [SECRET_SIG_KEY]: SECRET_SIG_VALUE, ciphertext: "v1:st.abcdef123456" } } });
        expect(scanForLeaks({ exported, other: "abc abc" }, secrets)).toEqual([]);
        expect(scanForLeaks({ exported: exported.replace(SECRET_SIG_VALUE, "nope") }, secrets)).toHaveLength(1);
    });

    test("errors are scanned with their stack", () => {
        const err = new Error("boom");
        err.stack = "Error: boom\n    at st.abcdef123456";
        expect(scanForLeaks({ err }, secrets)).toHaveLength(1);
    });

    test("credentialsOf collects every token and secret of a ready line", () => {
        const ready = {
            infisical: { token: "t1-value", universalAuth: { clientId: "id", clientSecret: "s1-value" }, organizations: [{ id: "o", token: "t2-value" }] },
            unleash: { adminToken: "a-value", readOnlyToken: "r-value", instances: [{ adminToken: "a2-value" }] },
            issuer: { url: "http://x" },
        };
        expect(Object.values(credentialsOf(ready)).sort()).toEqual(["a-value", "a2-value", "r-value", "s1-value", "t1-value", "t2-value"]);
    });

    test("the new login secrets: JWTs (also by their signature alone), service-account tokens, AWS secret keys", () => {
        const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmFjbWUvaW5mcmEifQ.c2lnbmF0dXJlLW9mLXRoZS1qd3QtdGhhdC1sZWFrZWQ";
        const held = {
            github: { requestToken: "gha-request-token-value", jwt },
            kubernetes: { serviceAccountToken: "sa-token-value-1" },
            aws: { accessKeyId: "AKIAEXAMPLE", secretAccessKey: "aws-secret-key-value", sessionToken: "aws-session-token-value" },
        };
        const found = credentialsOf(held);
        expect(Object.values(found).sort()).toEqual(["aws-secret-key-value", "aws-session-token-value", "gha-request-token-value", jwt, "sa-token-value-1"].sort());
        const signatureOnly = `the server said: invalid signature c2lnbmF0dXJlLW9mLXRoZS1qd3QtdGhhdC1sZWFrZWQ`;
        expect(scanForLeaks({ log: signatureOnly }, found).map((l) => [l.secret, l.encoding])).toEqual([["github.jwt", "jwt-signature"]]);
    });
});
