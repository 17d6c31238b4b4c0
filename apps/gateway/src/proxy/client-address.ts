import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import proxyaddr from '@fastify/proxy-addr';
import { ConfigError } from '@neon/kit';

/** Whether `address`, `hop` steps back from the socket, is a proxy of ours. */
export type Trust = (address: string, hop: number) => boolean;

/** Who is asking: the address that connected, and the client behind it. */
export interface ClientAddress {
  /** The TCP peer: a client, or a proxy in front of the gateway. */
  peer: string;
  /** The client: the peer, or when the peer is a trusted proxy, the first untrusted address in X-Forwarded-For. */
  ip: string;
  /** The peer is a trusted proxy, so the X-Forwarded-For it sent is its own record. */
  trustPeer: boolean;
}

/**
 * `GATEWAY_TRUSTED_PROXIES` as a trust function: addresses and CIDRs
 * (`10.0.0.0/8`, `2001:db8::/32`) or proxy-addr's names `loopback`,
 * `linklocal`, `uniquelocal`, comma-separated; null when none is trusted.
 */
export function compileTrust(list: string | undefined): Trust | null {
  const entries = (list ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (entries.length === 0) return null;
  try {
    return proxyaddr.compile(entries);
  } catch (err) {
    throw new ConfigError([
      {
        variable: 'GATEWAY_TRUSTED_PROXIES',
        message: `must list IP addresses, CIDRs, loopback, linklocal or uniquelocal (${
          err instanceof Error ? err.message : String(err)
        })`,
      },
    ]);
  }
}

/**
 * The one rule for a client's address, on the fast path, in Fastify
 * (`request.ip` uses the same trust function) and for sockets:
 * X-Forwarded-For is believed only as far back as the addresses in it are
 * trusted proxies, starting from the peer. A client that connects directly
 * and sends its own X-Forwarded-For is its peer address.
 */
export function clientAddress(
  trust: Trust | null,
  headers: IncomingHttpHeaders,
  socket: Socket,
): ClientAddress {
  const peer = socket.remoteAddress ?? '';
  if (trust === null || !trust(peer, 0)) return { peer, ip: peer, trustPeer: false };
  // proxy-addr reads only these two of a request.
  return { peer, ip: proxyaddr({ headers, socket } as IncomingMessage, trust), trustPeer: true };
}

/** The ForwardInfo fields of an address. */
export function addressInfo(a: ClientAddress): {
  peerIp: string;
  clientIp: string;
  trustPeer: boolean;
} {
  return { peerIp: a.peer, clientIp: a.ip, trustPeer: a.trustPeer };
}
