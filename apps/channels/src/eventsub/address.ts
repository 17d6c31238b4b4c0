import ipaddr from 'ipaddr.js';

/**
 * What kind of address a webhook would reach. Only `public` may be sent to
 * (and `loopback` in development): everything else is the deployment's own
 * network, a cloud metadata service, or nobody's (SSRF).
 */
export type AddressKind =
  | 'public'
  | 'loopback'
  /** RFC 1918, and IPv6 site-local. */
  | 'private'
  /** 169.254/16 (the cloud metadata address among them), fe80::/10. */
  | 'link-local'
  /** fc00::/7. */
  | 'unique-local'
  /** Carrier-grade NAT, 100.64/10. */
  | 'shared'
  /** 0.0.0.0/8 and `::`. */
  | 'unspecified'
  | 'multicast'
  | 'broadcast'
  /** Documentation, benchmarking, protocol assignments, the future-use blocks: never a server. */
  | 'reserved'
  /** Not an IP address at all. */
  | 'invalid';

/** ipaddr.js's names for the ranges it knows; any other range is not a server's. */
const RANGES: Record<string, AddressKind> = {
  unicast: 'public',
  loopback: 'loopback',
  private: 'private',
  linkLocal: 'link-local',
  uniqueLocal: 'unique-local',
  carrierGradeNat: 'shared',
  unspecified: 'unspecified',
  multicast: 'multicast',
  broadcast: 'broadcast',
  deprecatedSiteLocal: 'private',
};

const GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3');
const IETF_ASSIGNMENTS = ipaddr.parseCIDR('192.0.0.0/24');

/**
 * The address in `text` (bracketed, with a zone id or not), or null. IPv4 is
 * taken in dotted decimal only: `010.0.0.1` is octal to some parsers and
 * decimal to others, so it names no address here.
 */
export function parseIp(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (bare.includes(':')) return ipaddr.IPv6.isValid(bare) ? ipaddr.IPv6.parse(bare) : null;
  return ipaddr.IPv4.isValidFourPartDecimal(bare) ? ipaddr.IPv4.parse(bare) : null;
}

function classifyV4(a: ipaddr.IPv4): AddressKind {
  if (a.match(IETF_ASSIGNMENTS)) return 'reserved';
  return RANGES[a.range()] ?? 'reserved';
}

function classifyV6(a: ipaddr.IPv6): AddressKind {
  // IPv4-mapped (::ffff:a.b.c.d): the socket reaches the IPv4 address.
  if (a.isIPv4MappedAddress()) return classifyV4(a.toIPv4Address());
  const bytes = a.toByteArray();
  const v4 = (from: number) => new ipaddr.IPv4(bytes.slice(from, from + 4));
  const range = a.range();
  // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) reach the IPv4 address they carry.
  if (range === 'rfc6052') return classifyV4(v4(12));
  if (range === '6to4') return classifyV4(v4(2));
  // Global unicast is 2000::/3; the rest of what ipaddr.js calls unicast is unassigned.
  if (range === 'unicast') return a.match(GLOBAL_UNICAST) ? 'public' : 'reserved';
  return RANGES[range] ?? 'reserved';
}

/** What an IP address (v4, v6, bracketed, with a zone) would reach. */
export function classifyAddress(text: string): AddressKind {
  const a = parseIp(text);
  if (!a) return 'invalid';
  return a.kind() === 'ipv4' ? classifyV4(a as ipaddr.IPv4) : classifyV6(a as ipaddr.IPv6);
}
