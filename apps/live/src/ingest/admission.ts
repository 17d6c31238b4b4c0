import { isIPv4, isIPv6 } from 'node:net';

/**
 * The group a peer address is counted in: an IPv4 address alone (IPv4-mapped
 * IPv6 included), an IPv6 address by its /64, since one subscriber commonly
 * holds a whole /64 and could otherwise take a fresh address per connection.
 */
export function addressGroup(address: string | undefined): string {
  if (!address) return 'unknown';
  let a = address;
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped) return mapped[1]!;
  if (isIPv4(a)) return a;
  if (!isIPv6(a)) return a;
  return `${expandIPv6(a).slice(0, 4).join(':')}::/64`;
}

/** The eight hextets of an IPv6 address, without leading zeros. */
function expandIPv6(address: string): string[] {
  let a = address.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (v4) {
    const [b0, b1, b2, b3] = v4.slice(1).map(Number) as [number, number, number, number];
    a = `${a.slice(0, v4.index)}${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const [head, tail] = a.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups =
    tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => parseInt(g, 16).toString(16));
}

export interface PendingLimits {
  /** Connections without an accepted publish from one address group. */
  perAddress: number;
  /** Connections without an accepted publish, all addresses together. */
  total: number;
}

/** A connection's place among those that have not published; `release` is idempotent. */
export interface PendingTicket {
  readonly group: string;
  release(): void;
}

/**
 * Counts connections that have not published yet (they have shown no stream
 * key) per address group and in total, and refuses new ones over either cap.
 * A connection leaves the count when its publish is accepted or it closes.
 */
export class PendingAdmission {
  private readonly byGroup = new Map<string, number>();
  private count = 0;

  constructor(private readonly limits: PendingLimits) {}

  get pending(): number {
    return this.count;
  }

  pendingIn(group: string): number {
    return this.byGroup.get(group) ?? 0;
  }

  /** A ticket for a new connection, or why it is refused. */
  admit(
    address: string | undefined,
  ): { ok: true; ticket: PendingTicket } | { ok: false; reason: 'address' | 'total' } {
    const group = addressGroup(address);
    const inGroup = this.pendingIn(group);
    if (inGroup >= this.limits.perAddress) return { ok: false, reason: 'address' };
    if (this.count >= this.limits.total) return { ok: false, reason: 'total' };
    this.byGroup.set(group, inGroup + 1);
    this.count++;
    let released = false;
    const ticket: PendingTicket = {
      group,
      release: () => {
        if (released) return;
        released = true;
        this.count--;
        const n = (this.byGroup.get(group) ?? 1) - 1;
        if (n <= 0) this.byGroup.delete(group);
        else this.byGroup.set(group, n);
      },
    };
    return { ok: true, ticket };
  }
}
