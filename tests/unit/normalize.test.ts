import * as n from "../../provider/engine/normalize";
import { normalizeBaseUrl } from "../../provider/connection";

describe("normalizers", () => {
    test("text: null and undefined are the empty string, strings are trimmed", () => {
        expect(n.text(null)).toBe("");
        expect(n.text(undefined)).toBe("");
        expect(n.text("  abc ")).toBe("abc");
        expect(n.text("")).toBe("");
    });

    test("url: case of scheme/host, default port and trailing slashes do not matter; the path does", () => {
        expect(n.url("HTTPS://Login.Example.COM:443/realms/acme/")).toBe("https://login.example.com/realms/acme");
        expect(n.url("https://login.example.com/realms/acme///")).toBe("https://login.example.com/realms/acme");
        expect(n.url("https://login.example.com/")).toBe("https://login.example.com");
        expect(n.url("http://localhost:8080/x")).toBe("http://localhost:8080/x");
        expect(n.url("https://a.example.com/A")).not.toBe(n.url("https://a.example.com/a"));
        expect(n.url(null)).toBe("");
        expect(n.url("not a url/")).toBe("not a url");
    });

    test("commaList: order, spacing, duplicates, empty items and (for domains) case are irrelevant", () => {
        const domains = n.commaList({ lowercase: true });
        expect(domains("b.com, A.com,,a.com ")).toBe("a.com,b.com");
        expect(domains(["B.com", " a.com"])).toBe("a.com,b.com");
        expect(domains("")).toBe("");
        expect(domains(null)).toBe("");
        const audiences = n.commaList();
        expect(audiences("api://Prod, api://dev")).toBe("api://Prod,api://dev");
        expect(audiences("x")).not.toBe(audiences("X"));
    });

    test("spaceList keeps order and collapses whitespace", () => {
        expect(n.spaceList("  urn:a   phr ")).toBe("urn:a phr");
        expect(n.spaceList(["urn:a", "phr"])).toBe("urn:a phr");
        expect(n.spaceList("phr urn:a")).not.toBe(n.spaceList("urn:a phr"));
    });

    test("canonicalCidr: plain IPs get their full prefix, host bits are cleared, IPv6 is compressed", () => {
        expect(n.canonicalCidr("1.2.3.4")).toBe("1.2.3.4/32");
        expect(n.canonicalCidr("10.1.2.3/8")).toBe("10.0.0.0/8");
        expect(n.canonicalCidr("0.0.0.0/0")).toBe("0.0.0.0/0");
        expect(n.canonicalCidr("2001:0db8:0000::1/32")).toBe("2001:db8::/32");
        expect(n.canonicalCidr("::/0")).toBe("::/0");
        expect(n.canonicalCidr("1.2.3.4/33")).toBeUndefined();
        expect(n.canonicalCidr("1.2.3")).toBeUndefined();
        expect(n.canonicalCidr("banana")).toBeUndefined();
        expect(n.canonicalCidr("1.2.3.4/x")).toBeUndefined();
    });

    test("trustedIps: strings, {ipAddress} and the API's {ipAddress, type, prefix} shapes are equal", () => {
        const written = ["1.2.3.4", { ipAddress: "10.1.2.3/8" }, "::/0"];
        const api = [
            { ipAddress: "::", type: "ipv6", prefix: 0 },
            { ipAddress: "10.0.0.0", type: "ipv4", prefix: 8 },
            { ipAddress: "1.2.3.4", type: "ipv4" },
        ];
        expect(n.trustedIps(written)).toEqual(["1.2.3.4/32", "10.0.0.0/8", "::/0"]);
        expect(n.trustedIps(api)).toEqual(n.trustedIps(written));
        expect(n.trustedIps(["1.2.3.4", "1.2.3.4/32"])).toEqual(["1.2.3.4/32"]);
        expect(n.trustedIps(["1.2.3.5"])).not.toEqual(n.trustedIps(["1.2.3.4"]));
    });

    test("claims: values as comma lists in any order and shape; null is {}", () => {
        expect(n.claims({ groups: ["b", "a"], sub: "x, y" })).toEqual({ groups: "a,b", sub: "x,y" });
        expect(n.claims({ groups: "a, b" })).toEqual(n.claims({ groups: ["b", "a"] }));
        expect(n.claims(null)).toEqual({});
        expect(n.claims({ a: "x" })).not.toEqual(n.claims({ a: "y" }));
    });

    test("pem: line endings and surrounding whitespace", () => {
        expect(n.pem("-----BEGIN CERTIFICATE-----\r\nabc\r\n-----END CERTIFICATE-----\r\n")).toBe("-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----");
        expect(n.pem(null)).toBe("");
    });

    test("normalizers are idempotent", () => {
        const samples: Array<[n.Normalizer, unknown]> = [
            [n.url, "HTTPS://X.example.com/a/"],
            [n.commaList({ lowercase: true }), "B.com, a.com"],
            [n.trustedIps, ["1.2.3.4", { ipAddress: "10.9.0.0", prefix: 8 }]],
            [n.claims, { b: ["2", "1"] }],
            [n.spaceList, " a  b "],
        ];
        for (const [fn, value] of samples) expect(fn(fn(value))).toEqual(fn(value));
    });

    test("normalizeBaseUrl: site URL and API URL name the same target", () => {
        expect(normalizeBaseUrl("https://app.infisical.com/api/")).toBe("https://app.infisical.com");
        expect(normalizeBaseUrl("HTTPS://APP.infisical.com:443")).toBe("https://app.infisical.com");
        expect(normalizeBaseUrl("https://example.com/unleash/")).toBe("https://example.com/unleash");
        expect(normalizeBaseUrl("http://127.0.0.1:4242/api")).toBe("http://127.0.0.1:4242");
    });
});
