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

function parseIpv4(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const bytes: number[] = [];
  for (const part of parts) {
    // Decimal only, no leading zeros: `010` is octal to some parsers and decimal to others.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    bytes.push(n);
  }
  return bytes;
}

function parseIpv6(text: string): number[] | null {
  if (text.length > 45 || !/^[0-9A-Fa-f:.]+$/.test(text)) return null;
  let head = text;
  let tail: number[] = [];
  // A dotted IPv4 may end the address (`::ffff:10.0.0.1`): two groups.
  const lastColon = head.lastIndexOf(':');
  if (lastColon >= 0 && head.slice(lastColon + 1).includes('.')) {
    const v4 = parseIpv4(head.slice(lastColon + 1));
    if (!v4) return null;
    tail = v4;
    head = head.slice(0, lastColon + 1);
    // `::1.2.3.4` leaves `::`; `a::1.2.3.4` leaves `a::`; `a:1.2.3.4` leaves `a:` (one group before).
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const groups = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return null;
      const n = parseInt(g, 16);
      out.push(n >> 8, n & 0xff);
    }
    return out;
  };
  const left = groups(halves[0]!);
  const right = halves.length === 2 ? groups(halves[1]!) : [];
  if (!left || !right) return null;
  const given = left.length + right.length + tail.length;
  if (halves.length === 1) return given === 16 ? [...left, ...tail] : null;
  // `::` stands for at least one group of zeros.
  if (given > 14) return null;
  return [...left, ...new Array<number>(16 - given).fill(0), ...right, ...tail];
}

/** 4 bytes for an IPv4 address, 16 for IPv6 (a zone id, `%eth0`, is dropped), null otherwise. */
export function parseIp(text: string): number[] | null {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (bare.includes(':')) {
    const zone = bare.indexOf('%');
    return parseIpv6(zone >= 0 ? bare.slice(0, zone) : bare);
  }
  return parseIpv4(bare);
}

const inV4 = (b: number[], prefix: number[], bits: number): boolean => {
  for (let i = 0; i < 4; i++) {
    const take = Math.max(0, Math.min(8, bits - i * 8));
    if (take === 0) return true;
    const mask = (0xff << (8 - take)) & 0xff;
    if ((b[i]! & mask) !== (prefix[i]! & mask)) return false;
  }
  return true;
};

function classifyV4(b: number[]): AddressKind {
  if (inV4(b, [0, 0, 0, 0], 8)) return 'unspecified';
  if (inV4(b, [127, 0, 0, 0], 8)) return 'loopback';
  if (inV4(b, [10, 0, 0, 0], 8) || inV4(b, [172, 16, 0, 0], 12) || inV4(b, [192, 168, 0, 0], 16))
    return 'private';
  if (inV4(b, [169, 254, 0, 0], 16)) return 'link-local';
  if (inV4(b, [100, 64, 0, 0], 10)) return 'shared';
  if (inV4(b, [255, 255, 255, 255], 32)) return 'broadcast';
  if (inV4(b, [224, 0, 0, 0], 4)) return 'multicast';
  if (
    inV4(b, [240, 0, 0, 0], 4) || // future use
    inV4(b, [192, 0, 0, 0], 24) || // IETF protocol assignments
    inV4(b, [192, 0, 2, 0], 24) || // TEST-NET-1
    inV4(b, [192, 88, 99, 0], 24) || // 6to4 relay anycast (deprecated)
    inV4(b, [198, 18, 0, 0], 15) || // benchmarking
    inV4(b, [198, 51, 100, 0], 24) || // TEST-NET-2
    inV4(b, [203, 0, 113, 0], 24) // TEST-NET-3
  )
    return 'reserved';
  return 'public';
}

const startsWith = (b: number[], prefix: number[]) => prefix.every((v, i) => b[i] === v);

function classifyV6(b: number[]): AddressKind {
  const zeros = (from: number, to: number) => b.slice(from, to).every((v) => v === 0);
  if (zeros(0, 16)) return 'unspecified';
  if (zeros(0, 15) && b[15] === 1) return 'loopback';
  // IPv4-mapped (::ffff:a.b.c.d): the socket reaches the IPv4 address.
  if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) return classifyV4(b.slice(12));
  // NAT64 (64:ff9b::/96) reaches the embedded IPv4 address through the translator.
  if (startsWith(b, [0, 0x64, 0xff, 0x9b]) && zeros(4, 12)) return classifyV4(b.slice(12));
  // IPv4-compatible (::a.b.c.d, deprecated) and the rest of ::/8.
  if (b[0] === 0) return 'reserved';
  if (b[0] === 0xff) return 'multicast';
  if ((b[0]! & 0xfe) === 0xfc) return 'unique-local';
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return 'link-local';
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0xc0) return 'private'; // site-local, deprecated
  // 6to4 (2002::/16) carries an IPv4 address whose network it is.
  if (b[0] === 0x20 && b[1] === 0x02) return classifyV4(b.slice(2, 6));
  if (
    startsWith(b, [0x20, 0x01, 0x0d, 0xb8]) || // documentation
    startsWith(b, [0x20, 0x01, 0x00, 0x00]) || // Teredo
    startsWith(b, [0x20, 0x01, 0x00, 0x02, 0x00, 0x00]) // benchmarking
  )
    return 'reserved';
  // Global unicast is 2000::/3; the rest is unassigned (100::/64, discard, among it).
  if ((b[0]! & 0xe0) !== 0x20) return 'reserved';
  return 'public';
}

/** What an IP address (v4, v6, bracketed, with a zone) would reach. */
export function classifyAddress(text: string): AddressKind {
  const b = parseIp(text);
  if (!b) return 'invalid';
  return b.length === 4 ? classifyV4(b) : classifyV6(b);
}
