/**
 * Trusted IPs as Infisical handles them: validated with Node's `net` rules (lib/ip: isValidIpOrCidr), stored as
 * `{ipAddress, type, prefix?}` with the address as written (no masking of host bits), and checked against the
 * client address of each request (ipaddr.js; IPv4-mapped IPv6 client addresses count as IPv4).
 */
import { isIPv4, isIPv6, isIP } from "net";
import ipaddr from "ipaddr.js";
import type { TrustedIp } from "./store";

export function isValidIpOrCidr(ip: string): boolean {
    if (ip.includes("/")) {
        const [addr, prefix] = ip.split("/");
        if (!addr || prefix === undefined || prefix === "" || !/^\d+$/.test(prefix)) return false;
        const n = Number.parseInt(prefix, 10);
        if (isIPv4(addr)) return n >= 0 && n <= 32;
        if (isIPv6(addr)) return n >= 0 && n <= 128;
        return false;
    }
    return isIPv4(ip) || isIPv6(ip);
}

/** Infisical's extractIPDetails. Call only with a valid value. */
export function extractIpDetails(ip: string): TrustedIp {
    if (isIPv4(ip)) return { ipAddress: ip, type: "ipv4" };
    if (isIPv6(ip)) return { ipAddress: ip, type: "ipv6" };
    const [addr, prefix] = ip.split("/") as [string, string];
    return { ipAddress: addr, type: isIP(addr) === 6 ? "ipv6" : "ipv4", prefix: Number.parseInt(prefix, 10) };
}

/** Whether the client address is inside one of the trusted ranges. */
export function isTrusted(clientIp: string, trusted: TrustedIp[]): boolean {
    let client: ipaddr.IPv4 | ipaddr.IPv6;
    try {
        client = ipaddr.process(clientIp);
    } catch {
        return false;
    }
    for (const t of trusted) {
        let addr: ipaddr.IPv4 | ipaddr.IPv6;
        try {
            addr = ipaddr.parse(t.ipAddress);
        } catch {
            continue;
        }
        if (addr.kind() !== client.kind()) continue;
        if (t.prefix === undefined) {
            if (addr.toNormalizedString() === client.toNormalizedString()) return true;
        } else if ((client as ipaddr.IPv4).match(addr as ipaddr.IPv4, t.prefix)) {
            return true;
        }
    }
    return false;
}
