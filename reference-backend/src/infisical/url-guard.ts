/**
 * Infisical's guard against URLs that point into the server's own network (backend/src/lib/validator/validate-url.ts,
 * blockLocalAndPrivateIpAddresses; ranges from backend/src/lib/ip/ipRange.ts), applied to the SSO config's
 * discoveryURL, jwksUri, tokenEndpoint and userinfoEndpoint and to identity OIDC auth's oidcDiscoveryUrl:
 *
 * - credentials in the URL: 400 "URLs with user credentials (e.g., user:pass@) are not allowed";
 * - host `localhost` / `host.docker.internal`: 400 "Local IPs not allowed as URL" (even when internal IPs are allowed);
 * - an IP literal is checked as is, a host name is resolved with dns.lookup (all addresses); no address: 400
 *   "Could not resolve hostname to any IP address". A lookup that fails because the name does not resolve here
 *   (ENOTFOUND, EAI_AGAIN: machines without DNS, such as CI sandboxes) counts as a public address, where Infisical,
 *   on a machine with DNS, would resolve it; any other lookup error is a 500, as Infisical answers it;
 * - any address outside public unicast: 400 "Local IPs not allowed as URL", unless the server allows internal IP
 *   connections (ALLOW_INTERNAL_IP_CONNECTIONS=true).
 *
 * A value that is not a URL at all makes `new URL` throw, which Infisical answers with a 500.
 */
import { promises as dns } from "dns";
import { isIP } from "net";
import ipaddr from "ipaddr.js";
import { inf } from "../errors";

const LOCAL_IPS = "Local IPs not allowed as URL";

// The range names of Infisical's ipRange.ts; ipaddr.js names the same ranges alike (it inspired that file). Ranges
// ipaddr.js knows but Infisical does not (as112, amt, 6to4, teredo, …) count as public there, so they do here.
const NON_PUBLIC_V4 = new Set(["unspecified", "broadcast", "multicast", "linkLocal", "loopback", "carrierGradeNat", "private", "reserved"]);
const NON_PUBLIC_V6 = new Set(["unspecified", "loopback", "multicast", "linkLocal", "uniqueLocal", "ipv4Mapped", "reserved", "benchmarking", "discard"]);

/** Infisical's isPrivateIp: anything but public unicast. */
export function isNonPublicIp(address: string): boolean {
    const parsed = ipaddr.parse(address);
    return parsed.kind() === "ipv4" ? NON_PUBLIC_V4.has(parsed.range()) : NON_PUBLIC_V6.has(parsed.range());
}

export async function blockLocalAndPrivateIpAddresses(url: string, allowInternalIpConnections: boolean): Promise<void> {
    let parsed: URL;
    try {
        parsed = new URL(url);
    } catch {
        throw inf.internal();
    }
    if (parsed.username || parsed.password) throw inf.badRequest("URLs with user credentials (e.g., user:pass@) are not allowed");

    let addresses: string[];
    if (isIP(parsed.hostname)) {
        addresses = [parsed.hostname];
    } else {
        if (parsed.hostname === "localhost" || parsed.hostname === "host.docker.internal") throw inf.badRequest(LOCAL_IPS);
        let found: Array<{ address: string }>;
        try {
            found = await dns.lookup(parsed.hostname, { all: true });
        } catch (err) {
            const code = (err as { code?: string }).code;
            if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "ENODATA") return; // see above: no DNS here
            throw inf.internal();
        }
        if (found.length === 0) throw inf.badRequest("Could not resolve hostname to any IP address");
        addresses = found.map((entry) => entry.address);
    }
    if (addresses.some(isNonPublicIp) && !allowInternalIpConnections) throw inf.badRequest(LOCAL_IPS);
}
