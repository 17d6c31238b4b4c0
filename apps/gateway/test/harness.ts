import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { pino } from 'pino';
import { WebSocketServer } from 'ws';
import { API_AUDIENCE, SOCKET_AUDIENCE, type Problem } from '@neon/contracts';
import { createServer, loadConfig, redactUrl, REDACT_PATHS, type Logger } from '@neon/kit';
import type { Platform, Service } from '@neon/platform';
import { JetStreamBus, MemoryBus, type Bus } from '@neon/bus';
import type { Db } from '@neon/db';
import { buildApp } from '../src/app.js';
import { gatewaySpec, type GatewayConfig } from '../src/config.js';
import { deleteStream, engines, skipUnless, uniqueName } from '@neon/testing';

export const PUBLIC_URL = 'http://neon.test';
export const SECRET = 'test-internal-secret-0123456789abcdef';

/** Log lines as the gateway wrote them, for redaction checks. */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino(
    {
      level: 'debug',
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      serializers: {
        req: (req: { method?: string; url?: string }) => ({
          method: req.method,
          url: req.url ? redactUrl(req.url) : req.url,
        }),
      },
    },
    { write: (s: string) => void lines.push(s) },
  );
  return { logger, lines };
}

/** The gateway needs neither; touching them is a bug this makes loud. */
function unused<T extends object>(what: string): T {
  return new Proxy({} as T, {
    get() {
      throw new Error(`the gateway does not use the ${what}`);
    },
  });
}

export interface Keys {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function makeKeys(kid = `k-${randomUUID().slice(0, 8)}`): Promise<Keys> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { kid, privateKey, publicJwk };
}

export interface TokenOptions {
  sub?: string;
  username?: string;
  roles?: string[];
  audience?: string;
  issuer?: string;
  lifetimeSeconds?: number;
  issuedAt?: number;
  kid?: string;
  jti?: string;
  /** The `sua` claim; an admin's token has a fresh one unless set (null: none). */
  stepUpAt?: number | null;
}

export async function mintToken(keys: Keys, o: TokenOptions = {}): Promise<string> {
  const iat = o.issuedAt ?? Math.floor(Date.now() / 1000);
  const roles = o.roles ?? ['user'];
  const sua = o.stepUpAt === undefined ? (roles.includes('admin') ? iat : null) : o.stepUpAt;
  return new SignJWT({ username: o.username ?? 'alice', roles, ...(sua === null ? {} : { sua }) })
    .setProtectedHeader({ alg: 'RS256', kid: o.kid ?? keys.kid, typ: 'JWT' })
    .setIssuer(o.issuer ?? PUBLIC_URL)
    .setAudience(o.audience ?? API_AUDIENCE)
    .setSubject(o.sub ?? '0190f000-0000-7000-8000-000000000001')
    .setIssuedAt(iat)
    .setExpirationTime(iat + (o.lifetimeSeconds ?? 900))
    .setJti(o.jti ?? randomUUID())
    .sign(keys.privateKey);
}

export function mintTicket(keys: Keys, o: TokenOptions = {}): Promise<string> {
  return mintToken(keys, { audience: SOCKET_AUDIENCE, lifetimeSeconds: 60, ...o });
}

export interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  client: { id: string; username: string; roles: string[] } | null;
}

export interface Upstream {
  url: string;
  name: string;
  /** Every request that reached this upstream, JWKS and health checks excepted. */
  seen: Seen[];
  /** Query strings and headers of upgraded sockets. */
  sockets: { url: string; headers: IncomingHttpHeaders; protocol: string }[];
  /** Resolves the pending `/stream` response's second half. */
  releaseStream(): void;
  /** Holds /hls/ answers until the returned function is called. */
  holdMedia(): () => void;
  /** Its readiness checks: what the gateway's health check asks. */
  readiness: Map<string, () => Promise<unknown>>;
  admission: Map<string, () => Promise<unknown>>;
  close(): Promise<void>;
}

/**
 * A small Neon service of our own (kit's server): it echoes what it received,
 * serves a JWKS, streams on /api/v1/streams/slow, and accepts chat sockets.
 */
export async function startUpstream(name: string, jwks: () => JWK[]): Promise<Upstream> {
  const { logger } = captureLogger();
  const server = createServer({ name, logger, internalSecret: SECRET });
  const seen: Seen[] = [];
  const sockets: Upstream['sockets'] = [];
  let mediaGate: Promise<void> = Promise.resolve();
  let release: () => void = () => undefined;
  const released = new Promise<void>((r) => (release = r));

  server.get('/.well-known/jwks.json', async () => ({ keys: jwks() }));
  server.get('/api/v1/streams/live-feed', async (_request, reply) => {
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream' });
    reply.raw.write('data: first\n\n');
    await released;
    reply.raw.end('data: last\n\n');
    return reply;
  });
  server.get('/api/v1/streams/hang', async (_request, reply) => {
    await new Promise((r) => setTimeout(r, 3000));
    return reply.send({ late: true });
  });
  server.get('/api/v1/streams/empty', async (_request, reply) => reply.code(204).send());
  server.get('/api/v1/me', async (request) => ({ client: request.client }));
  // Media as the live origin serves it: segments cacheable, playlists not.
  server.get('/hls/*', async (request, reply) => {
    await mediaGate;
    const segment = request.url.split('?')[0]!.endsWith('.m4s');
    return reply
      .header('cache-control', segment ? 'public, max-age=60, immutable' : 'no-cache')
      .type(segment ? 'video/iso.segment' : 'application/vnd.apple.mpegurl')
      .send(segment ? Buffer.alloc(1000, 7) : '#EXTM3U\n');
  });
  server.removeAllContentTypeParsers();
  server.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: 64 * 1024 * 1024 },
    (_r, body, done) => done(null, body),
  );
  server.all('/*', async (request) => {
    const body = request.body as Buffer | undefined;
    return {
      upstream: name,
      method: request.method,
      url: request.url,
      headers: request.headers,
      client: request.client,
      bodyLength: body?.length ?? 0,
    };
  });
  server.addHook('onRequest', async (request) => {
    if (request.url.startsWith('/readyz') || request.url.startsWith('/.well-known/')) return;
    seen.push({
      method: request.method,
      url: request.url,
      headers: request.headers,
      client: request.client,
    });
  });

  const wss = new WebSocketServer({ noServer: true });
  server.server.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.push({ url: req.url ?? '', headers: req.headers, protocol: ws.protocol });
      ws.on('message', (data) => ws.send(`echo:${(data as Buffer).toString()}`));
      ws.send(JSON.stringify({ hello: name, url: req.url }));
    });
  });

  const url = await server.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    name,
    seen,
    sockets,
    readiness: server.readiness,
    admission: server.admission,
    releaseStream: () => release(),
    holdMedia() {
      let open: () => void = () => undefined;
      mediaGate = new Promise<void>((r) => (open = r));
      return () => {
        mediaGate = Promise.resolve();
        open();
      };
    },
    async close() {
      release();
      for (const c of wss.clients) c.terminate();
      wss.close();
      await server.close();
    },
  };
}

export interface GatewayHandle {
  url: string;
  /** The bus the gateway listens on (suspensions). */
  bus: Bus;
  service: Service;
  lines: string[];
  redis: Redis | null;
  /** Its Redis key prefix (unique per test gateway unless given). */
  prefix: string;
  close(): Promise<void>;
}

/** The gateway on a loopback port, over the given upstreams and optional Redis. */
export async function startGateway(
  env: Record<string, string>,
  options: { redisUrl?: string | undefined; natsUrl?: string | undefined; bus?: Bus } = {},
): Promise<GatewayHandle> {
  const { logger, lines } = captureLogger();
  const redis = options.redisUrl ? new Redis(options.redisUrl, { lazyConnect: true }) : null;
  if (redis) await redis.connect();
  // JetStream for the distributed variant, on a stream of its own; the in-process bus otherwise.
  const namespace = uniqueName('GWT').toUpperCase();
  const bus =
    options.bus ??
    (options.natsUrl
      ? await JetStreamBus.connect({ url: options.natsUrl, producer: 'gateway-test', namespace })
      : new MemoryBus({ producer: 'gateway-test' }));
  const platform: Platform = {
    shape: redis ? 'distributed' : 'embedded',
    logger,
    db: unused<Db>('database'),
    bus,
    redis,
    internalSecret: SECRET,
    dataDir: '/nonexistent',
    publicUrl: PUBLIC_URL,
  };
  const config: GatewayConfig = loadConfig(gatewaySpec, {
    WEB_ROOT: '/nonexistent',
    GATEWAY_HEALTH_INTERVAL_MS: '200',
    GATEWAY_JWKS_COOLDOWN_MS: '0',
    GATEWAY_REDIS_PREFIX: uniqueName('gwtest'),
    ...env,
  });
  const prefix = config.GATEWAY_REDIS_PREFIX;
  const service = await buildApp(platform, config);
  const url = await service.server.listen({ host: '127.0.0.1', port: 0 });
  await service.start?.();
  return {
    url,
    bus,
    service,
    lines,
    redis,
    prefix,
    async close() {
      await service.server.close();
      await service.close();
      if (!options.bus) {
        await bus.close();
        if (options.natsUrl) await deleteStream(options.natsUrl, namespace);
      }
      if (redis) await redis.quit();
    },
  };
}

const { redisUrl, natsUrl } = engines();

/** The suites run embedded (limits, tickets and bus in memory), and on Redis and JetStream when given. */
export const variants = [
  {
    name: 'in-memory limits, tickets and bus',
    redisUrl: undefined,
    natsUrl: undefined,
    skip: false as const,
  },
  {
    name: 'Redis limits and tickets, JetStream bus',
    redisUrl,
    natsUrl,
    skip: skipUnless(redisUrl && natsUrl, 'TEST_REDIS_URL and TEST_NATS_URL'),
  },
];

/** The body of a problem+json answer, checking its content type on the way. */
export async function problem(res: Response): Promise<Problem> {
  assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  return (await res.json()) as Problem;
}

/** One HTTP/1.1 answer as a client read it off the wire. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  /** Header names in the order sent, lower-cased, repeats kept. */
  names: string[];
  body: Buffer;
  text: string;
}

/**
 * Reads HTTP/1.1 answers off a raw socket as a strict client would:
 * Content-Length or chunked bodies, none for HEAD, 1xx, 204 or 304. Every
 * byte must belong to an answer: what is left after the last whole one is
 * `leftover`, so a stray answer or stray bytes show.
 */
export class AnswerReader {
  readonly answers: Answer[] = [];
  closed = false;
  private buf = Buffer.alloc(0);
  private readonly waiters = new Set<() => void>();

  /** `heads[i]` is true when the i-th request was a HEAD. */
  constructor(
    socket: Socket,
    private readonly heads: boolean[] = [],
  ) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.parse();
      this.wake();
    });
    socket.once('close', () => {
      this.closed = true;
      this.parse();
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  /** Bytes after the last whole answer. */
  get leftover(): Buffer {
    return this.buf;
  }

  /** Resolves once `count` answers are in, the socket closed, or `ms` passed (the caller counts). */
  wait(count: number, ms = 10_000): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        resolve();
      }, ms);
      const check = () => {
        if (this.answers.length >= count || this.closed) {
          clearTimeout(timer);
          this.waiters.delete(check);
          resolve();
        }
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Resolves when the peer closed the connection. */
  end(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.closed) {
          this.waiters.delete(check);
          resolve();
        }
      };
      this.waiters.add(check);
      check();
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  private parse(): void {
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = this.buf.toString('latin1', 0, end).split('\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(lines[0]!)?.[1] ?? NaN);
      if (!Number.isInteger(status)) return;
      const headers: Record<string, string> = {};
      const names: string[] = [];
      for (const l of lines.slice(1)) {
        const c = l.indexOf(':');
        const name = l.slice(0, c).toLowerCase();
        names.push(name);
        headers[name] = l.slice(c + 1).trim();
      }
      let rest = this.buf.subarray(end + 4);
      let body = Buffer.alloc(0);
      const bodyless =
        status < 200 || status === 204 || status === 304 || this.heads[this.answers.length];
      if (bodyless) {
        // No body.
      } else if (headers['transfer-encoding'] === 'chunked') {
        const pieces: Buffer[] = [];
        let at = 0;
        for (;;) {
          const eol = rest.indexOf('\r\n', at);
          if (eol < 0) return;
          const line = rest.toString('latin1', at, eol);
          // Not a chunk: the stream is out of step, and what is left stays as leftover.
          if (!/^[0-9a-f]+$/i.test(line)) return;
          const size = parseInt(line, 16);
          if (rest.length < eol + 2 + size + 2) return;
          pieces.push(rest.subarray(eol + 2, eol + 2 + size));
          at = eol + 2 + size + 2;
          if (size === 0) break;
        }
        body = Buffer.concat(pieces);
        rest = rest.subarray(at);
      } else if (headers['content-length'] !== undefined) {
        const n = Number(headers['content-length']);
        if (rest.length < n) return;
        body = Buffer.from(rest.subarray(0, n));
        rest = rest.subarray(n);
      } else if (!this.closed) return;
      else {
        // Neither length nor chunked: the body runs to the close.
        body = Buffer.from(rest);
        rest = rest.subarray(rest.length);
      }
      this.buf = rest;
      if (status >= 200) this.answers.push({ status, headers, names, body, text: body.toString() });
    }
  }
}

/** A raw TCP connection to `url` (an http:// address). */
export function openRaw(url: string, allowHalfOpen = false): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect({ host: hostname, port: Number(port), allowHalfOpen }, () => resolve(s));
    s.once('error', reject);
  });
}

/** The first `count` answers on `socket` (fewer when it closes first). */
export async function answers(
  socket: Socket,
  count: number,
  heads: boolean[] = [],
): Promise<{ answers: Answer[]; closed: boolean }> {
  const reader = new AnswerReader(socket, heads);
  await reader.wait(count);
  return { answers: reader.answers.slice(0, count), closed: reader.closed };
}

/**
 * Seeded mutations of HTTP heads for the differential tests (the same cases
 * every run): each `mutate` applies one or two of inserting a whole header
 * line at a line boundary of the head, deleting a byte, inserting a byte.
 */
export function mutator(seed: number, lines: readonly string[], bytes: readonly string[]) {
  let state = seed;
  const random = (n: number) => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state % n;
  };
  return {
    random,
    mutate: (text: string): string => {
      let out = text;
      for (let m = 1 + random(2); m > 0; m--) {
        const kind = random(4);
        const headEnd = out.indexOf('\r\n\r\n');
        if (kind === 0 && headEnd > 0) {
          // A whole header line where one means something: after a line of the head.
          const ends = [...out.slice(0, headEnd + 2).matchAll(/\r\n/g)].map((x) => x.index);
          const at = ends[random(ends.length)]! + 2;
          out = `${out.slice(0, at)}${lines[random(lines.length)]!}\r\n${out.slice(at)}`;
        } else {
          const at = random(out.length);
          out =
            kind === 1
              ? out.slice(0, at) + out.slice(at + 1)
              : out.slice(0, at) + bytes[random(bytes.length)]! + out.slice(at);
        }
      }
      return out;
    },
  };
}
