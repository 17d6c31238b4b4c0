import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { ClientHeaders, type ErrorCode } from '@neon/contracts';
import { clientHeaders, problemResponse, requestIdOf, type Logger } from '@neon/kit';
import type { Replica, UpstreamPools } from '../upstream/pool.js';
import { connectionTokens, upstreamRequestHeaders } from '../proxy/headers.js';
import { readTarget } from '../proxy/target.js';
import { headProblem } from '../front/head-rules.js';
import { addressInfo, type ClientAddress } from '../proxy/client-address.js';
import type { VerifiedToken } from '../auth/verifier.js';
import { Relays } from './relay.js';

/** The protocol entry the official phoenix client sends its `authToken` in. */
export const PHOENIX_TOKEN_PREFIX = 'base64url.bearer.phx.';
export const SOCKET_PATH = '/socket/websocket';

export interface UpgradeDeps {
  pools: UpstreamPools;
  logger: Logger;
  internalSecret: string;
  proto: string;
  /** Who connected, and the client, by the trusted-proxy rule. */
  address(req: IncomingMessage): ClientAddress;
  /** PUBLIC_URL's origin: the one page a browser may open a socket from. */
  publicOrigin: string;
  /** Verifies and consumes a ticket; null when it is not valid (any reason). */
  redeemTicket(token: string): Promise<VerifiedToken | null>;
}

/** Where the ticket came from, and the protocol list without it. */
export function extractTicket(
  url: URL,
  protocolHeader: string | undefined,
): { token: string | null; protocols: string[] } {
  const protocols = (protocolHeader ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  let token = url.searchParams.get('token');
  const kept: string[] = [];
  for (const p of protocols) {
    if (p.startsWith(PHOENIX_TOKEN_PREFIX)) {
      // phoenix encodes with btoa and strips the padding; base64 decoding accepts both alphabets.
      token ??= Buffer.from(p.slice(PHOENIX_TOKEN_PREFIX.length), 'base64').toString('utf8');
    } else kept.push(p);
  }
  return { token: token || null, protocols: kept };
}

function reject(
  socket: Duplex,
  code: ErrorCode,
  requestId: string,
  extra: Record<string, string> = {},
  detail?: string,
): void {
  if (socket.writable) socket.end(problemResponse(code, requestId, detail, extra));
  else socket.destroy();
}

/**
 * The HTTP upgrade handler for the chat socket: authenticates the ticket
 * before anything is upgraded, then pipes the raw connection to a chat replica
 * with the identity as query parameters and headers.
 */
export function createUpgradeHandler(deps: UpgradeDeps): {
  /** The HTTP server's `upgrade` listener. */
  handle: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Refuses new sockets (503) and ends the relayed ones with 1012; resolves once they are gone. */
  drain: () => Promise<void>;
} {
  const { pools, logger } = deps;
  const relays = new Relays();
  return { handle: upgrade, drain: () => relays.drain() };

  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const requestId = requestIdOf(req);
    if (relays.stopping) {
      reject(
        socket,
        'SERVICE_UNAVAILABLE',
        requestId,
        { 'retry-after': '1' },
        'The gateway is restarting.',
      );
      return;
    }
    void handle(req, socket, head, requestId).catch((err: unknown) => {
      logger.error({ err, requestId }, 'socket upgrade failed');
      reject(socket, 'INTERNAL', requestId);
    });
  }

  async function handle(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    requestId: string,
  ): Promise<void> {
    // The same rules as every other request: what is refused there is refused here.
    const bad = headProblem(req.rawHeaders);
    if (bad) {
      reject(socket, bad.code, requestId, {}, bad.detail);
      return;
    }
    const target = readTarget(req.url ?? '/');
    if (typeof target === 'string') {
      reject(socket, 'BAD_REQUEST', requestId, {}, target);
      return;
    }
    const url = new URL(target.url, 'http://gateway.invalid');
    const log = logger.child({ requestId, path: url.pathname });
    if (url.pathname !== SOCKET_PATH || req.headers.upgrade?.toLowerCase() !== 'websocket') {
      reject(socket, 'NOT_FOUND', requestId);
      return;
    }
    // A socket is not bound by CORS: a page elsewhere (or a sandboxed one, `null`) could open one
    // as its visitor. Browsers always send Origin; a client without one is not a browser.
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== deps.publicOrigin) {
      log.info({ status: 403 }, 'socket from another origin refused');
      reject(
        socket,
        'FORBIDDEN',
        requestId,
        {},
        `Sockets are opened from ${deps.publicOrigin} only.`,
      );
      return;
    }
    const protocolHeader = req.headers['sec-websocket-protocol'];
    const { token, protocols } = extractTicket(url, protocolHeader);
    let client: VerifiedToken | null = null;
    if (token) {
      client = await deps.redeemTicket(token);
      if (!client) {
        log.info({ status: 401 }, 'socket ticket rejected');
        reject(socket, 'AUTH_TICKET_INVALID', requestId, {
          'www-authenticate': 'Bearer error="invalid_token"',
        });
        return;
      }
    }
    // Only the gateway says who the socket belongs to.
    url.searchParams.delete('token');
    url.searchParams.delete('id');
    url.searchParams.delete('username');
    if (client) {
      url.searchParams.set('id', client.sub);
      url.searchParams.set('username', client.username);
    }
    const identity = client
      ? clientHeaders(
          {
            id: client.sub,
            username: client.username,
            roles: client.roles,
            ...(client.sid === null ? {} : { sessionId: client.sid }),
          },
          deps.internalSecret,
        )
      : { [ClientHeaders.internalToken]: deps.internalSecret };
    const headers = upstreamRequestHeaders(req.headers, {
      requestId,
      ...addressInfo(deps.address(req)),
      proto: deps.proto,
      identity,
    });
    delete headers['sec-websocket-protocol'];
    if (protocols.length > 0) headers['sec-websocket-protocol'] = protocols.join(', ');
    headers.connection = 'Upgrade';
    headers.upgrade = 'websocket';
    const path = `${url.pathname}${url.search}`;

    const tried: Replica[] = [];
    const context = {
      service: 'chat' as const,
      method: 'GET',
      path: url.pathname,
      headers: req.headers,
    };
    for (;;) {
      const replica = pools.choose(context, tried);
      if (!replica) {
        reject(socket, 'GATEWAY_UPSTREAM_UNAVAILABLE', requestId);
        return;
      }
      tried.push(replica);
      const outcome = await connect(replica, path, headers, socket, head);
      if (outcome === 'connect-failed') {
        pools.markFailed(replica, 'socket connect failed');
        continue;
      }
      log.info({ upstream: replica.url, outcome, user: client?.sub ?? null }, 'socket proxied');
      return;
    }
  }

  function connect(
    replica: Replica,
    path: string,
    headers: Record<string, string | string[]>,
    socket: Duplex,
    head: Buffer,
  ): Promise<'upgraded' | 'refused' | 'connect-failed'> {
    return new Promise((resolve) => {
      const target = new URL(replica.origin);
      const upstream = httpRequest({
        host: target.hostname,
        port: target.port,
        path,
        method: 'GET',
        headers,
        timeout: 10_000,
      });
      let settled = false;
      const settle = (v: 'upgraded' | 'refused' | 'connect-failed') => {
        if (!settled) {
          settled = true;
          resolve(v);
        }
      };
      upstream.on('timeout', () => upstream.destroy(new Error('upstream upgrade timed out')));
      upstream.on('error', () => {
        if (!settled) settle('connect-failed');
      });
      socket.once('close', () => upstream.destroy());
      upstream.on('response', (res) => {
        // The upstream refused the upgrade: relay its answer as is.
        const lines = [`HTTP/1.1 ${res.statusCode ?? 502} ${res.statusMessage ?? ''}`];
        // Hop-by-hop: the framing fields, and whatever the upstream's Connection header names.
        const named = connectionTokens(res.headers.connection ?? '');
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          const name = res.rawHeaders[i]!;
          if (/^(connection|transfer-encoding|keep-alive)$/i.test(name)) continue;
          if (named.includes(name.toLowerCase())) continue;
          lines.push(`${name}: ${res.rawHeaders[i + 1]!}`);
        }
        lines.push('connection: close');
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          if (!res.headers['content-length']) lines.push(`content-length: ${body.length}`);
          socket.end(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), body]));
          settle('refused');
        });
        res.on('error', () => {
          socket.destroy();
          settle('refused');
        });
      });
      upstream.on('upgrade', (res, upSocket, upHead) => {
        const lines = ['HTTP/1.1 101 Switching Protocols'];
        for (let i = 0; i < res.rawHeaders.length; i += 2)
          lines.push(`${res.rawHeaders[i]!}: ${res.rawHeaders[i + 1]!}`);
        socket.write(`${lines.join('\r\n')}\r\n\r\n`);
        upSocket.setTimeout(0);
        upSocket.setNoDelay(true);
        relays.add(socket, upSocket, head, upHead);
        settle('upgraded');
      });
      upstream.end();
    });
  }
}
