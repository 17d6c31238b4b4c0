import { existsSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { resolve } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import {
  ACCESS_TOKEN_TTL_SECONDS,
  API_AUDIENCE,
  PUBLIC_API_AUDIENCE,
  SOCKET_AUDIENCE,
  SOCKET_TICKET_TTL_SECONDS,
  routeFor,
  type ServiceName,
} from '@neon/contracts';
import {
  clientHeaders,
  ConfigError,
  createServer,
  redactUrl,
  requestIdOf,
  sendProblem,
  splitUrls,
  writeProblem,
  type Logger,
} from '@neon/kit';
import type { Subscription } from '@neon/bus';
import type { Platform, Service, ServiceModule } from '@neon/platform';
import { gatewaySpec, type GatewayConfig } from './config.js';
import { API_SURFACE, createAdmission, type Admission } from './auth/admission.js';
import { JwksCache } from './auth/jwks.js';
import { Revocations } from './auth/revocations.js';
import { memoryTicketStore, redisTicketStore } from './auth/ticket-store.js';
import {
  TokenCache,
  TokenError,
  TokenVerifier,
  type VerifiedToken,
  type VerifyRules,
} from './auth/verifier.js';
import { memoryRateLimiter, redisRateLimiter, type RateLimiter } from './limits/rate-limiter.js';
import { EdgeCache } from './edge/edge-cache.js';
import { LiveHolderDirectory } from './upstream/live-holders.js';
import { forward, isConnectFailure, type ResponseDecoration } from './proxy/forward.js';
import { corsHeaders, securityHeaders } from './proxy/security.js';
import { readTarget, type Target } from './proxy/target.js';
import { clientAddress, compileTrust, type ClientAddress } from './proxy/client-address.js';
import {
  fastProxy,
  NodeResponse,
  type FastProxyOptions,
  type FastRequest,
} from './proxy/fast-path.js';
import { FrontDoor } from './front/front-door.js';
import { headProblem } from './front/head-rules.js';
import type { FastResponse } from './front/response.js';
import { createUpgradeHandler } from './socket/upgrade.js';
import { UpstreamPools, type Replica } from './upstream/pool.js';
import { registerPoolMetrics } from './upstream/pool-metrics.js';
import { attributePolicy, roundRobinPolicy, type UpstreamPolicy } from './upstream/policy.js';

export { deviceClass, region, roundRobinPolicy, attributePolicy } from './upstream/policy.js';
export type { UpstreamPolicy, RouteContext, ReplicaView, DeviceClass } from './upstream/policy.js';

const PRECOMPRESSED = /\.(?:br|gz)$/;
/** Vite's content-hashed output (`/assets/<name>-<hash>.<ext>`): a new build means a new name. */
const HASHED_ASSET = /\/assets\/[^/]+-[\w-]{8,}\.\w+(?:\.(?:br|gz))?$/;

/**
 * Hashed assets never change under their name, so browsers keep them a year without asking;
 * everything else (index.html above all, which names the current hashes) is revalidated.
 */
function webCacheControl(path: string): string {
  return HASHED_ASSET.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache';
}

/** A bodiless request as either way in read it (the front door, or node's server). */
interface FastHead {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  socket: Socket;
}

interface FastRoute extends Target {
  service: ServiceName;
}

/** What a deployment may plug in beyond the environment. */
export interface GatewayHooks {
  /** Chooses the replica per request (default from GATEWAY_ROUTING_POLICY). */
  policy?: UpstreamPolicy;
}

const LEEWAY_SECONDS = 60;
/** Playback media the edge may cache: the origin still decides with Cache-Control. */
const MEDIA_PATH = /^\/(hls|dash)\//;
/** The notification stream: a browser's EventSource authenticates with a socket ticket in ?token=. */
const NOTIFY_STREAM_PATH = '/api/v1/notifications/stream';
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** The gateway's headers on a proxied answer: without Origin, from PUBLIC_URL, from elsewhere. */
function responseDecorations(
  security: Record<string, string>,
  cors: Record<string, string>,
): { plain: ResponseDecoration; cors: ResponseDecoration; otherOrigin: ResponseDecoration } {
  const of = (h: Record<string, string>): ResponseDecoration => ({
    owned: new Set(Object.keys(h)),
    headers: Object.entries(h).flat(),
  });
  return {
    plain: of(security),
    cors: of({ ...security, ...cors }),
    otherOrigin: of({ ...security, vary: 'Origin' }),
  };
}

/** Builds the gateway, the one public HTTP entry; never listens. */
export async function buildApp(
  platform: Platform,
  config: GatewayConfig,
  hooks: GatewayHooks = {},
): Promise<Service> {
  const logger = platform.logger.child({ service: 'gateway' });
  if (config.GATEWAY_TRUSTED_PROXY_HOPS !== undefined && config.GATEWAY_TRUSTED_PROXY_HOPS !== '0')
    throw new ConfigError([
      {
        variable: 'GATEWAY_TRUSTED_PROXY_HOPS',
        message:
          'is replaced by GATEWAY_TRUSTED_PROXIES, the addresses or CIDRs of the proxies in front',
      },
    ]);
  // One rule for every path: Fastify's request.ip, the fast path's and the socket's client address.
  const trust = compileTrust(config.GATEWAY_TRUSTED_PROXIES);
  const server = createServer({
    ...(trust ? { trustProxy: trust } : {}),
    name: 'gateway',
    logger,
    internalSecret: platform.internalSecret,
    processMetrics: true,
    bodyLimit: config.GATEWAY_BODY_LIMIT_BYTES,
  });
  const publicUrl = new URL(platform.publicUrl);
  const issuer = platform.publicUrl.replace(/\/+$/, '');
  const proto = publicUrl.protocol.replace(':', '');

  // With several live replicas, a channel's playlists and media are answered only by the one
  // holding its broadcast; they record which in Redis.
  const liveHolders =
    platform.redis && splitUrls(config.LIVE_URL).length > 1
      ? new LiveHolderDirectory({ redis: platform.redis, logger, refreshMs: 5000 })
      : null;
  const pools = new UpstreamPools(
    {
      identity: splitUrls(config.IDENTITY_URL),
      channels: splitUrls(config.CHANNELS_URL),
      live: splitUrls(config.LIVE_URL),
      chat: splitUrls(config.CHAT_URL),
      notify: splitUrls(config.NOTIFY_URL),
      payments: splitUrls(config.PAYMENTS_URL),
    },
    {
      logger,
      policy:
        hooks.policy ??
        (config.GATEWAY_ROUTING_POLICY === 'attributes' ? attributePolicy() : roundRobinPolicy()),
      healthIntervalMs: config.GATEWAY_HEALTH_INTERVAL_MS,
      connectTimeoutMs: Math.min(config.GATEWAY_UPSTREAM_TIMEOUT_MS, 5000),
      ...(liveHolders ? { affinity: (context) => liveHolders.route(context) } : {}),
    },
  );
  registerPoolMetrics(server.metrics, pools);

  const jwks = new JwksCache(() => fetchJwks(pools), {
    cooldownMs: config.GATEWAY_JWKS_COOLDOWN_MS,
    logger,
  });
  const verifier = new TokenVerifier(jwks);
  const tokenCache = new TokenCache(config.GATEWAY_TOKEN_CACHE_SIZE, LEEWAY_SECONDS);
  const revocations = new Revocations(LEEWAY_SECONDS);
  let revocationEvents: Subscription | null = null;
  const accessRules: VerifyRules = {
    issuer,
    audience: API_AUDIENCE,
    maxLifetimeSeconds: ACCESS_TOKEN_TTL_SECONDS,
    leewaySeconds: LEEWAY_SECONDS,
  };
  const publicRules: VerifyRules = { ...accessRules, audience: PUBLIC_API_AUDIENCE, oauth: true };
  // A ticket lives 60 s: it gets no grace past its expiry.
  const ticketRules: VerifyRules = {
    issuer,
    audience: SOCKET_AUDIENCE,
    maxLifetimeSeconds: SOCKET_TICKET_TTL_SECONDS,
    leewaySeconds: LEEWAY_SECONDS,
    expiryLeewaySeconds: 0,
  };

  const redis = platform.redis;
  const tickets = redis
    ? redisTicketStore(redis, `${config.GATEWAY_REDIS_PREFIX}:ticket`)
    : memoryTicketStore();
  /** Verifies and consumes a single-use socket ticket; null when it is not valid (any reason). */
  async function redeemTicket(token: string): Promise<VerifiedToken | null> {
    try {
      const ticket = await verifier.verify(token, ticketRules);
      if (!ticket.jti || revocations.revoked(ticket.sub, ticket.iat, ticket.roles, ticket.sid))
        return null;
      const ttl = Math.ceil(ticket.exp - Date.now() / 1000) + LEEWAY_SECONDS;
      return (await tickets.consume(ticket.jti, ttl)) ? ticket : null;
    } catch (err) {
      if (err instanceof TokenError) return null;
      throw err;
    }
  }
  const authLimiter: RateLimiter = redis
    ? redisRateLimiter(
        redis,
        `${config.GATEWAY_REDIS_PREFIX}:rl:auth`,
        config.GATEWAY_AUTH_RATE_LIMIT,
        config.GATEWAY_AUTH_RATE_WINDOW_SECONDS,
      )
    : memoryRateLimiter(config.GATEWAY_AUTH_RATE_LIMIT, config.GATEWAY_AUTH_RATE_WINDOW_SECONDS);
  const apiLimiter: RateLimiter | null =
    config.GATEWAY_API_RATE_LIMIT === 0
      ? null
      : redis
        ? redisRateLimiter(
            redis,
            `${config.GATEWAY_REDIS_PREFIX}:rl:api`,
            config.GATEWAY_API_RATE_LIMIT,
            config.GATEWAY_API_RATE_WINDOW_SECONDS,
          )
        : memoryRateLimiter(config.GATEWAY_API_RATE_LIMIT, config.GATEWAY_API_RATE_WINDOW_SECONDS);

  const edge =
    config.GATEWAY_EDGE_CACHE_BYTES > 0 ? new EdgeCache(config.GATEWAY_EDGE_CACHE_BYTES) : null;
  const security = securityHeaders(proto === 'https');
  const cors = corsHeaders(publicUrl.origin);
  const decorations = responseDecorations(security, cors.actual);
  // Set by drain() or, without one, by close(): answers carry `Connection: close` and new requests get 503.
  let draining = false;
  let stopping = false;
  function decoration(origin: string | undefined): ResponseDecoration {
    if (origin === undefined || origin === '') return decorations.plain;
    return origin === publicUrl.origin ? decorations.cors : decorations.otherOrigin;
  }
  const forwardOptions = {
    pools,
    address: (request: FastifyRequest): ClientAddress => ({
      peer: request.socket.remoteAddress ?? '',
      ip: request.ip,
      trustPeer: trust !== null && trust(request.socket.remoteAddress ?? '', 0),
    }),
    upstreamTimeoutMs: config.GATEWAY_UPSTREAM_TIMEOUT_MS,
    bodyLimit: config.GATEWAY_BODY_LIMIT_BYTES,
    proto,
    decoration,
    draining: () => draining,
  };

  const admit = createAdmission({
    verifier,
    tokenCache,
    revocations,
    accessRules,
    publicRules,
    authLimiter,
    apiLimiter,
    internalSecret: platform.internalSecret,
    logger,
  });

  // Proxied answers are written past Fastify (see forward): they get the same headers from `decorations`.
  server.addHook('onSend', async (request, reply) => {
    void reply.headers(security);
    const origin = request.headers.origin;
    if (origin === publicUrl.origin) void reply.headers(cors.actual);
    else if (origin) {
      // The web build's own Vary (Accept-Encoding) is kept: a cache must key on both.
      const vary = reply.getHeader('vary');
      void reply.header('vary', typeof vary === 'string' && vary ? `${vary}, Origin` : 'Origin');
    }
  });

  const webRoot = resolve(config.WEB_ROOT);
  const hasWeb = existsSync(webRoot);
  if (hasWeb) {
    await server.register(fastifyStatic, {
      root: webRoot,
      wildcard: false,
      index: ['index.html'],
      // Source maps (the app's source) and dotfiles are never public, should a build leave them.
      // The precompressed variants are reached only through content negotiation.
      dotfiles: 'ignore',
      allowedPath: (path) =>
        !path.endsWith('.map') && !/(^|\/)\./.test(path) && !PRECOMPRESSED.test(path),
      // The build writes .br and .gz next to each text asset (apps/web/build/precompress.ts).
      preCompressed: true,
      cacheControl: false,
      setHeaders: (res, path) => {
        res.setHeader('vary', 'Accept-Encoding');
        res.setHeader('cache-control', webCacheControl(path));
      },
    });
    // A range is of the file as stored: it is answered from the uncompressed file, never a variant.
    server.addHook('onRequest', async (request) => {
      if (request.headers.range !== undefined && request.headers['accept-encoding'] !== undefined)
        if (routeFor(request.url.split('?', 1)[0]!) === null)
          delete request.headers['accept-encoding'];
    });
  } else {
    logger.warn({ webRoot }, 'web build not found; run npm run build:web');
  }

  async function handle(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const target = readTarget(request.url);
    if (typeof target === 'string') return sendProblem(reply, 'BAD_REQUEST', target);
    const { path, url } = target;

    if (request.method === 'OPTIONS' && request.headers['access-control-request-method']) {
      if (request.headers.origin !== publicUrl.origin)
        return sendProblem(
          reply,
          'FORBIDDEN',
          'Cross-origin requests are not allowed from this origin.',
        );
      return reply.code(204).headers(cors.preflight).send();
    }

    const service = routeFor(path);
    if (!service) {
      if (
        !API_SURFACE.test(path) &&
        (request.method === 'GET' || request.method === 'HEAD') &&
        hasWeb
      )
        return reply.type('text/html').header('cache-control', 'no-cache').sendFile('index.html');
      return sendProblem(reply, 'NOT_FOUND', `No route for ${request.method} ${path}`);
    }
    // The access line carries the path, added only when it would print. Fastify's request logger
    // is this request's own child: adding to its bindings costs less than a second child.
    if (logger.isLevelEnabled('info')) {
      const log = request.log as FastifyRequest['log'] & Partial<Pick<Logger, 'setBindings'>>;
      const bindings = { path: redactUrl(url), upstream: service };
      if (log.setBindings) log.setBindings(bindings);
      else request.log = request.log.child(bindings);
    }

    const admission = await admit(request.raw, path, request.ip, request.log);
    if (admission.kind === 'problem')
      return sendProblem(reply, admission.code, admission.detail, {
        headers: admission.headers,
      });
    for (let i = 0; i < admission.own.length; i += 2)
      void reply.header(admission.own[i]!, admission.own[i + 1]!);

    let { client, identity } = admission;
    let upstreamUrl = url;
    if (path === NOTIFY_STREAM_PATH && url.includes('token=')) {
      // EventSource cannot send Authorization: the stream authenticates with a socket ticket,
      // which never reaches the service.
      const target = new URL(url, 'http://gateway.invalid');
      const token = target.searchParams.get('token');
      target.searchParams.delete('token');
      upstreamUrl = target.pathname + target.search;
      if (token) {
        const ticket = await redeemTicket(token);
        if (!ticket) {
          request.log.info({ status: 401 }, 'stream ticket rejected');
          return sendProblem(reply, 'AUTH_TICKET_INVALID', 'The stream ticket is not valid.', {
            headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
          });
        }
        client = ticket;
        identity = clientHeaders(
          ticket.sid === null
            ? { id: ticket.sub, username: ticket.username, roles: ticket.roles }
            : {
                id: ticket.sub,
                username: ticket.username,
                roles: ticket.roles,
                sessionId: ticket.sid,
              },
          platform.internalSecret,
        );
      }
    }
    if (edge && !client && request.method === 'GET' && MEDIA_PATH.test(path))
      return edge.serve(url, reply, (capture) =>
        forward(request, reply, service, url, identity, forwardOptions, capture),
      );
    return forward(request, reply, service, upstreamUrl, identity, forwardOptions);
  }

  const logRequests = logger.isLevelEnabled('info');
  function recordFast(r: FastRequest, status: number): void {
    server.recordRequest({
      method: r.method,
      route: '/*',
      status,
      ms: performance.now() - r.started,
      requestId: r.requestId,
      ...(logRequests ? { fields: { path: redactUrl(r.url), upstream: r.service } } : {}),
    });
  }
  const fastOptions: FastProxyOptions = {
    record: recordFast,
    pools,
    upstreamTimeoutMs: config.GATEWAY_UPSTREAM_TIMEOUT_MS,
    proto,
    logger,
    decoration,
    draining: () => draining,
  };

  /**
   * The fast path: a bodiless request to a routed service, the bulk of API
   * traffic, is admitted and proxied without Fastify's request cycle. Anything
   * else (bodies, preflights, the web app, edge-cached media, paths Fastify
   * answers with an error) goes to Fastify's handler, as does every request
   * while the fast path cannot serve the service (an https upstream).
   */
  function fastRoute(method: string, raw: string): FastRoute | null {
    if (draining) return null;
    // A refused target is Fastify's handler's to answer (a 400 problem).
    const target = readTarget(raw);
    if (typeof target === 'string') return null;
    const { path, url } = target;
    const service = routeFor(path);
    if (!service || !pools.fastCapable(service)) return null;
    if (path === NOTIFY_STREAM_PATH && url.includes('token=')) return null;
    if (edge && method === 'GET' && MEDIA_PATH.test(path)) return null;
    return { path, url, service };
  }

  /** Requests the front door read itself (see FrontDoor): bodiless and strictly formed already. */
  const door = new FrontDoor(server.server, {
    handle(req, res) {
      const route = fastRoute(req.method, req.url);
      if (!route) return false;
      fastRequest(req, res, route);
      return true;
    },
  });
  server.addHook('preClose', async () => {
    door.close();
  });

  /** Requests node's server parsed: connections the front door left to it. */
  function front(req: IncomingMessage, res: ServerResponse): boolean {
    // What the door leaves to node because node reads it differently (duplicates, too many fields).
    const bad = headProblem(req.rawHeaders);
    if (bad) {
      const requestId = requestIdOf(req);
      writeProblem(new NodeResponse(res), bad.code, requestId, bad.detail, [
        ...decoration(req.headers.origin).headers,
        'connection',
        'close',
      ]);
      server.recordRequest({
        method: req.method!,
        route: '/*',
        status: res.statusCode,
        ms: 0,
        requestId,
      });
      return true;
    }
    const method = req.method!;
    if (method !== 'GET' && method !== 'HEAD' && method !== 'DELETE') return false;
    const headers = req.headers;
    const length = headers['content-length'];
    if (headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0'))
      return false;
    const route = fastRoute(method, req.url!);
    if (!route) return false;
    const head = { method, url: req.url!, headers, socket: req.socket };
    fastRequest(head, new NodeResponse(res), route);
    return true;
  }
  server.setFront(front);

  function fastRequest(
    { method, headers, socket }: FastHead,
    res: FastResponse,
    { path, url, service }: FastRoute,
  ): void {
    const started = performance.now();
    const address = clientAddress(trust, headers, socket);
    const requestId = requestIdOf({ headers });
    const log = logRequests ? logger.child({ requestId }) : logger;
    const request: FastRequest = {
      method,
      url,
      headers,
      address,
      res,
      path,
      service,
      requestId,
      // Set by the admission.
      identity: {},
      own: [],
      started,
    };
    let admission: Admission | Promise<Admission>;
    try {
      admission = admit(request, path, address.ip, log);
    } catch (err) {
      return fastFailed(request, err);
    }
    if (admission instanceof Promise)
      admission.then(
        (a) => fastAdmitted(request, a),
        (err: unknown) => fastFailed(request, err),
      );
    else fastAdmitted(request, admission);
  }

  function fastAdmitted(request: FastRequest, admission: Admission): void {
    const { res, requestId, headers } = request;
    try {
      if (admission.kind === 'problem') {
        writeProblem(res, admission.code, requestId, admission.detail, [
          ...Object.entries(admission.headers).flat(),
          ...decoration(headers.origin).headers,
        ]);
        recordFast(request, res.statusCode);
        return;
      }
      admission.own.push('x-request-id', requestId);
      request.identity = admission.identity;
      request.own = admission.own;
      fastProxy(request, fastOptions);
    } catch (err) {
      fastFailed(request, err);
    }
  }

  function fastFailed(request: FastRequest, err: unknown): void {
    const { res, requestId, headers } = request;
    logger.error({ err, requestId }, 'unhandled error');
    if (!res.headersSent)
      writeProblem(res, 'INTERNAL', requestId, undefined, decoration(headers.origin).headers);
    else res.destroy();
    recordFast(request, 500);
  }

  await server.register(async (scope) => {
    // Bodies are streamed to the upstream untouched: nothing here parses them.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    scope.route({ method: METHODS, url: '/*', exposeHeadRoute: false, handler: handle });
  });

  const sockets = createUpgradeHandler({
    pools,
    logger,
    internalSecret: platform.internalSecret,
    proto,
    publicOrigin: publicUrl.origin,
    address: (req) => clientAddress(trust, req.headers, req.socket),
    redeemTicket,
  });
  server.server.on('upgrade', sockets.handle);

  // A request that arrives while the gateway stops is told to go elsewhere, as an upgrade is.
  server.addHook('onRequest', async (_request, reply) => {
    if (stopping)
      return sendProblem(reply, 'SERVICE_UNAVAILABLE', 'The gateway is restarting.', {
        headers: { 'retry-after': '1', connection: 'close' },
      });
  });
  async function drain(): Promise<void> {
    draining = true;
    stopping = true;
    await sockets.drain();
  }
  // Relayed sockets would hold close() open forever: whoever closes without draining drains here.
  server.addHook('preClose', drain);

  return {
    name: 'gateway',
    server,
    drain,
    async start() {
      pools.start();
      await liveHolders?.start();
      if (pools.has('identity')) void jwks.refresh();
      // From one token lifetime back: a restarted gateway still refuses what a recent suspension or role change revoked.
      revocationEvents = await platform.bus.subscribe({
        types: [
          'identity.user.suspended.v1',
          'identity.roles.changed.v1',
          'identity.session.revoked.v1',
        ],
        from: new Date(Date.now() - (ACCESS_TOKEN_TTL_SECONDS + LEEWAY_SECONDS) * 1000),
        handler: async (event) => {
          if (event.type === 'identity.user.suspended.v1') {
            revocations.revoke(event.data.userId, Date.parse(event.data.suspendedAt));
            logger.info(
              { userId: event.data.userId },
              'access tokens revoked for a suspended user',
            );
          } else if (event.type === 'identity.session.revoked.v1') {
            revocations.sessionsEnded(event.data.sessionIds, Date.parse(event.data.revokedAt));
            logger.info(
              { userId: event.data.userId, reason: event.data.reason },
              'access tokens of ended sessions revoked',
            );
          } else {
            revocations.rolesChanged(
              event.data.userId,
              event.data.roles,
              Date.parse(event.data.changedAt),
            );
            logger.info(
              { userId: event.data.userId, roles: event.data.roles },
              'access tokens with other roles revoked',
            );
          }
        },
      });
    },
    async close() {
      await revocationEvents?.close();
      jwks.close();
      await liveHolders?.close();
      await pools.close();
      authLimiter.close?.();
      apiLimiter?.close?.();
      tickets.close?.();
    },
  };
}

/** The JWKS from an identity replica (the next one if a replica is down). */
async function fetchJwks(pools: UpstreamPools): Promise<unknown> {
  const path = '/.well-known/jwks.json';
  const context = { service: 'identity' as ServiceName, method: 'GET', path, headers: {} };
  const tried: Replica[] = [];
  for (;;) {
    const replica = pools.choose(context, tried);
    if (!replica) throw new Error('no identity replica reachable');
    tried.push(replica);
    try {
      const res = await replica.pool.request({
        method: 'GET',
        path,
        headersTimeout: 5000,
        bodyTimeout: 5000,
      });
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw new Error(`JWKS answered ${res.statusCode}`);
      }
      return await res.body.json();
    } catch (err) {
      if (!isConnectFailure(err)) throw err;
      pools.markFailed(replica, 'JWKS fetch failed');
    }
  }
}

export const gatewayService: ServiceModule<typeof gatewaySpec> = {
  name: 'gateway',
  spec: gatewaySpec,
  listen: (c) => ({ host: c.GATEWAY_HOST, port: c.GATEWAY_PORT }),
  build: buildApp,
};

export { TokenVerifier, TokenCache, TokenError, type VerifyRules } from './auth/verifier.js';
export { JwksCache } from './auth/jwks.js';
export { Http1Pool, type ExchangeHandler } from './upstream/http1.js';
