/**
 * Infisical's guard against URLs that point into the server's own network: validateAndPinUrl in
 * backend/src/lib/validator/safe-request.ts (today's source; blockLocalAndPrivateIpAddresses in
 * backend/src/lib/validator/validate-url.ts is the older form of the same check; ranges from
 * backend/src/lib/ip/ipRange.ts), applied to the SSO config's discoveryURL, jwksUri, tokenEndpoint and
 * userinfoEndpoint, to identity OIDC auth's oidcDiscoveryUrl and the discovery document's jwks_uri, and to a
 * Kubernetes auth's kubernetesHost (identity-kubernetes-auth-validators.ts):
 *
 * - credentials in the URL: 400 "URLs with user credentials (e.g., user:pass@) are not allowed";
 * - the host as `new URL()` gives it loses its IPv6 brackets (`[::1]` → `::1`) and one trailing FQDN dot
 *   (`localhost.` → `localhost`), as validateAndPinUrl does ("Strip both so isIP / dns.lookup / the
 *   literal-hostname check all see a clean form");
 * - an IP literal is checked as is, never looked up (safe-request.test.ts: "Literal IPs must NOT trigger DNS lookup");
 * - host `localhost` / `host.docker.internal`: 400 "Local IPs not allowed as URL" (even when internal IPs are allowed);
 * - a host name is resolved with dns.lookup (all addresses); no address: 400 "Could not resolve hostname to any IP
 *   address". A lookup that fails because the name does not resolve here (ENOTFOUND, EAI_AGAIN: machines without
 *   DNS, such as CI sandboxes) counts as a public address, where Infisical, on a machine with DNS, would resolve it;
 *   any other lookup error is a 500, as Infisical answers it;
 * - any address outside public unicast: 400 "Local IPs not allowed as URL", unless the server allows internal IP
 *   connections (ALLOW_INTERNAL_IP_CONNECTIONS=true).
 *
 * Not modelled: validateAndPinUrl's last step, verifyHostInputValidity, which refuses Infisical's own database and
 * Redis hosts (the backend has none). A value that is not a URL at all makes `new URL` throw, which Infisical
 * answers with a 500.
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

/** validateAndPinUrl's rawHost: `new URL().hostname` without IPv6 brackets and without one trailing dot. */
export function cleanHost(hostname: string): string {
    let host = hostname;
    if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
    if (host.endsWith(".")) host = host.slice(0, -1);
    return host;
}

export async function blockLocalAndPrivateIpAddresses(url: string, allowInternalIpConnections: boolean): Promise<void> {
    let parsed: URL;
    try {
        parsed = new URL(url);
    } catch {
        throw inf.internal();
    }
    if (parsed.username || parsed.password) throw inf.badRequest("URLs with user credentials (e.g., user:pass@) are not allowed");

    const host = cleanHost(parsed.hostname);
    let addresses: string[];
    if (isIP(host)) {
        addresses = [host];
    } else {
        if (host === "localhost" || host === "host.docker.internal") throw inf.badRequest(LOCAL_IPS);
        let found: Array<{ address: string }>;
        try {
            found = await dns.lookup(host, { all: true });
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
