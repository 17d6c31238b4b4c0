import { EVENTSUB_CALLBACK_MAX } from '@neon/contracts';
import { classifyAddress, parseIp } from './address.js';

/** Why a callback may not be sent to; the message is shown to the application. */
export class CallbackRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CallbackRefused';
  }
}

export interface CallbackPolicy {
  /** Development: `http` to hosts that resolve to loopback only. */
  allowHttpLoopback: boolean;
}

/** `dns.promises.lookup(host, { all: true })`, or a stand-in for tests. */
export type Resolve = (host: string) => Promise<{ address: string; family: number }[]>;

/**
 * The callback as a URL, or why it cannot be one: `https` (or `http` when the
 * development setting is on), no user info, no fragment, a port in 1–65535,
 * at most 2,048 characters. Where it resolves to is checked separately, at
 * every send.
 */
export function parseCallback(raw: string, policy: CallbackPolicy): URL {
  if (raw.length > EVENTSUB_CALLBACK_MAX)
    throw new CallbackRefused(`must be at most ${EVENTSUB_CALLBACK_MAX} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CallbackRefused('is not a URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttpLoopback))
    throw new CallbackRefused('must be an https URL');
  // The parser drops an empty `@` or `#`: look at the text as given.
  const authority = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(raw)?.[1] ?? '';
  if (url.username || url.password || authority.includes('@'))
    throw new CallbackRefused('must not carry user info');
  if (raw.includes('#')) throw new CallbackRefused('must not have a fragment');
  if (url.port !== '') {
    const port = Number(url.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new CallbackRefused('must have a port from 1 to 65535');
  }
  if (url.hostname === '') throw new CallbackRefused('must name a host');
  return url;
}

/** The host to resolve: an IPv6 literal without its brackets. */
export function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/**
 * Resolves the callback's host and picks the address to connect to. Every
 * address the name resolves to must be public (or, for a development `http`
 * callback, every one loopback): a name that also resolves to an internal
 * address is refused outright rather than filtered, and the connection is
 * then pinned to an address checked here, so a second lookup cannot swap in
 * another (DNS rebinding).
 */
export async function resolveCallback(
  url: URL,
  policy: CallbackPolicy,
  resolve: Resolve,
  timeoutMs: number,
): Promise<{ address: string; family: 4 | 6 }> {
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttpLoopback))
    throw new CallbackRefused('must be an https URL');
  const host = hostOf(url);
  let addresses: { address: string; family: number }[];
  if (parseIp(host)) addresses = [{ address: host, family: host.includes(':') ? 6 : 4 }];
  else {
    let timer: NodeJS.Timeout | undefined;
    try {
      addresses = await Promise.race([
        resolve(host),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new CallbackRefused(`host did not resolve within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } catch (err) {
      if (err instanceof CallbackRefused) throw err;
      throw new CallbackRefused('host does not resolve');
    } finally {
      clearTimeout(timer);
    }
  }
  if (addresses.length === 0) throw new CallbackRefused('host does not resolve');
  const wanted = url.protocol === 'http:' ? 'loopback' : 'public';
  const literal = addresses.length === 1 && addresses[0]!.address === host;
  for (const a of addresses) {
    const kind = classifyAddress(a.address);
    if (kind === wanted) continue;
    // For a name, what it resolved to is not told: an internal name's address would be.
    if (wanted === 'loopback')
      throw new CallbackRefused(
        literal
          ? `an http callback must be to loopback; this address is ${kind}`
          : 'an http callback must resolve to loopback addresses only',
      );
    throw new CallbackRefused(
      literal
        ? `must be to a public address; this one is ${kind}`
        : 'must resolve to public addresses only',
    );
  }
  // IPv4 first when there is one: many hosts resolve to IPv6 they cannot reach from here.
  const chosen = addresses.find((a) => a.family === 4) ?? addresses[0]!;
  return { address: chosen.address, family: chosen.family === 6 ? 6 : 4 };
}
