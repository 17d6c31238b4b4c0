import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import {
  ACCESS_TOKEN_TTL_SECONDS,
  API_AUDIENCE,
  ClientHeaders,
  SOCKET_AUDIENCE,
  SOCKET_TICKET_TTL_SECONDS,
  routeFor,
  type ServiceName,
} from '@neon/contracts';
import {
  clientHeaders,
  createServer,
  redactUrl,
  sendProblem,
  splitUrls,
  type Logger,
} from '@neon/kit';
import type { Platform, Service, ServiceModule } from '@neon/platform';
import { gatewaySpec, type GatewayConfig } from './config.js';
import { JwksCache } from './auth/jwks.js';
import { memoryTicketStore, redisTicketStore } from './auth/ticket-store.js';
import {
  TokenCache,
  TokenError,
  TokenVerifier,
  type VerifiedToken,
  type VerifyRules,
} from './auth/verifier.js';
import {
  memoryRateLimiter,
  redisRateLimiter,
  type RateDecision,
  type RateLimiter,
} from './limits/rate-limiter.js';
import { EdgeCache } from './edge/edge-cache.js';
import { forward, isConnectFailure, type ResponseDecoration } from './proxy/forward.js';
import { corsHeaders, securityHeaders } from './proxy/security.js';
import { createUpgradeHandler } from './socket/upgrade.js';
import { UpstreamPools, type Replica } from './upstream/pool.js';
import { attributePolicy, roundRobinPolicy, type UpstreamPolicy } from './upstream/policy.js';

export { deviceClass, region, roundRobinPolicy, attributePolicy } from './upstream/policy.js';
export type { UpstreamPolicy, RouteContext, ReplicaView, DeviceClass } from './upstream/policy.js';

/** What a deployment may plug in beyond the environment. */
export interface GatewayHooks {
  /** Chooses the replica per request (default from GATEWAY_ROUTING_POLICY). */
  policy?: UpstreamPolicy;
}

const LEEWAY_SECONDS = 60;
const AUTH_LIMITED = new Set([
  '/api/v1/auth/register',
  '/api/v1/auth/login',
  '/api/v1/auth/refresh',
]);
const API_SURFACE = /^\/(api|public|admin)\//;
/** Dot segments, encoded separators and backslashes: a path must mean what it says to the router. */
const AMBIGUOUS_PATH = /(^|\/)\.\.?(\/|$)|%2e|%2f|%5c|\\/i;
/** Playback media the edge may cache: the origin still decides with Cache-Control. */
const MEDIA_PATH = /^\/(hls|dash)\//;
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

function rateHeaders(d: RateDecision): Record<string, string> {
  return {
    'ratelimit-limit': String(d.limit),
    'ratelimit-remaining': String(d.remaining),
    'ratelimit-reset': String(d.resetSeconds),
  };
}

/** Builds the gateway, the one public HTTP entry; never listens. */
export async function buildApp(
  platform: Platform,
  config: GatewayConfig,
  hooks: GatewayHooks = {},
): Promise<Service> {
  const logger = platform.logger.child({ service: 'gateway' });
  const server = createServer({
    name: 'gateway',
    logger,
    internalSecret: platform.internalSecret,
    processMetrics: true,
    bodyLimit: config.GATEWAY_BODY_LIMIT_BYTES,
  });
  const publicUrl = new URL(platform.publicUrl);
  const issuer = platform.publicUrl.replace(/\/+$/, '');
  const proto = publicUrl.protocol.replace(':', '');

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
    },
  );

  const jwks = new JwksCache(() => fetchJwks(pools), {
    cooldownMs: config.GATEWAY_JWKS_COOLDOWN_MS,
    logger,
  });
  const verifier = new TokenVerifier(jwks);
  const tokenCache = new TokenCache(config.GATEWAY_TOKEN_CACHE_SIZE, LEEWAY_SECONDS);
  const accessRules: VerifyRules = {
    issuer,
    audience: API_AUDIENCE,
    maxLifetimeSeconds: ACCESS_TOKEN_TTL_SECONDS,
    leewaySeconds: LEEWAY_SECONDS,
  };
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

  const anonymous = { [ClientHeaders.internalToken]: platform.internalSecret };
  const edge =
    config.GATEWAY_EDGE_CACHE_BYTES > 0 ? new EdgeCache(config.GATEWAY_EDGE_CACHE_BYTES) : null;
  const security = securityHeaders(proto === 'https');
  const cors = corsHeaders(publicUrl.origin);
  const decorations = responseDecorations(security, cors.actual);
  let draining = false;
  server.addHook('preClose', async () => {
    draining = true;
  });
  const forwardOptions = {
    pools,
    upstreamTimeoutMs: config.GATEWAY_UPSTREAM_TIMEOUT_MS,
    bodyLimit: config.GATEWAY_BODY_LIMIT_BYTES,
    proto,
    decoration(request: FastifyRequest): ResponseDecoration {
      const origin = request.headers.origin;
      if (origin === undefined || origin === '') return decorations.plain;
      return origin === publicUrl.origin ? decorations.cors : decorations.otherOrigin;
    },
    draining: () => draining,
  };

  /** Counts a hit; a Redis outage lets traffic through rather than take the site down. */
  async function limit(limiter: RateLimiter, key: string): Promise<RateDecision | null> {
    try {
      return await limiter.hit(key);
    } catch (err) {
      logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'rate limiter failed');
      return null;
    }
  }

  /** The X-Client-* headers of a verified token, built once per cached token. */
  const identities = new WeakMap<VerifiedToken, Record<string, string>>();
  function identityOf(client: VerifiedToken): Record<string, string> {
    let headers = identities.get(client);
    if (!headers) {
      headers = clientHeaders(
        { id: client.sub, username: client.username, roles: client.roles },
        platform.internalSecret,
      );
      identities.set(client, headers);
    }
    return headers;
  }

  async function authenticate(request: FastifyRequest): Promise<VerifiedToken | null> {
    const header = request.headers.authorization;
    if (!header || !/^bearer /i.test(header)) return null;
    const token = header.slice(7).trim();
    const key = TokenCache.keyOf(token);
    const hit = tokenCache.get(key);
    if (hit) return hit;
    const verified = await verifier.verify(token, accessRules);
    tokenCache.set(key, verified);
    return verified;
  }

  // Proxied answers are written past Fastify (see forward): they get the same headers from `decorations`.
  server.addHook('onSend', async (request, reply) => {
    void reply.headers(security);
    const origin = request.headers.origin;
    if (origin === publicUrl.origin) void reply.headers(cors.actual);
    else if (origin) void reply.header('vary', 'Origin');
  });

  const webRoot = resolve(config.WEB_ROOT);
  const hasWeb = existsSync(webRoot);
  if (hasWeb) {
    await server.register(fastifyStatic, { root: webRoot, wildcard: false, index: ['index.html'] });
  } else {
    logger.warn({ webRoot }, 'web build not found; run npm run build:web');
  }

  async function handle(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const url = request.url;
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (AMBIGUOUS_PATH.test(path))
      return sendProblem(
        reply,
        'BAD_REQUEST',
        'Paths may not contain dot segments or encoded separators.',
      );

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

    if (request.method === 'POST' && AUTH_LIMITED.has(path)) {
      // Per endpoint: a login brute force must not also lock the victim out of refreshing.
      const d = await limit(authLimiter, `${path}:${request.ip}`);
      if (d) {
        const headers = rateHeaders(d);
        if (!d.allowed)
          return sendProblem(reply, 'RATE_LIMITED', 'Too many attempts; try again later.', {
            headers: { ...headers, 'retry-after': String(d.resetSeconds) },
          });
        void reply.headers(headers);
      }
    }

    let client: VerifiedToken | null;
    try {
      client = await authenticate(request);
    } catch (err) {
      if (!(err instanceof TokenError)) throw err;
      request.log.info({ reason: err.reason }, 'access token rejected');
      return sendProblem(reply, err.code, 'The access token is not valid.', {
        headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
      });
    }

    if (path.startsWith('/admin/')) {
      if (!client)
        return sendProblem(reply, 'AUTH_REQUIRED', 'Sign in to do this.', {
          headers: { 'www-authenticate': 'Bearer' },
        });
      if (!client.roles.includes('admin'))
        return sendProblem(reply, 'FORBIDDEN', 'Requires the admin role.');
    }

    if (apiLimiter && API_SURFACE.test(path)) {
      const d = await limit(apiLimiter, client ? `u:${client.sub}` : `ip:${request.ip}`);
      if (d) {
        const headers = rateHeaders(d);
        if (!d.allowed)
          return sendProblem(reply, 'RATE_LIMITED', 'Too many requests; slow down.', {
            headers: { ...headers, 'retry-after': String(d.resetSeconds) },
          });
        void reply.headers(headers);
      }
    }

    const identity = client ? identityOf(client) : anonymous;
    if (edge && !client && request.method === 'GET' && MEDIA_PATH.test(path))
      return edge.serve(url, reply, (capture) =>
        forward(request, reply, service, identity, forwardOptions, capture),
      );
    return forward(request, reply, service, identity, forwardOptions);
  }

  await server.register(async (scope) => {
    // Bodies are streamed to the upstream untouched: nothing here parses them.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    scope.route({ method: METHODS, url: '/*', exposeHeadRoute: false, handler: handle });
  });

  server.server.on(
    'upgrade',
    createUpgradeHandler({
      pools,
      logger,
      internalSecret: platform.internalSecret,
      proto,
      async redeemTicket(token) {
        try {
          const ticket = await verifier.verify(token, ticketRules);
          if (!ticket.jti) return null;
          const ttl = Math.ceil(ticket.exp - Date.now() / 1000) + LEEWAY_SECONDS;
          return (await tickets.consume(ticket.jti, ttl)) ? ticket : null;
        } catch (err) {
          if (err instanceof TokenError) return null;
          throw err;
        }
      },
    }),
  );

  return {
    name: 'gateway',
    server,
    async start() {
      pools.start();
      if (pools.has('identity')) void jwks.refresh();
    },
    async close() {
      jwks.close();
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
