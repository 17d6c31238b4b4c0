import Type from 'typebox';
import { env, type ConfigOf } from '@neon/kit';

export const gatewaySpec = {
  GATEWAY_HOST: env.string('0.0.0.0'),
  GATEWAY_PORT: env.port(8080),
  IDENTITY_URL: env.urlList(),
  CHANNELS_URL: env.urlList(),
  LIVE_URL: env.urlList(),
  CHAT_URL: env.urlList(),
  NOTIFY_URL: env.urlList(),
  PAYMENTS_URL: env.urlList(),
  /** The built web app (`npm run build:web`). */
  WEB_ROOT: env.string('apps/web/dist'),
  /**
   * How a replica is chosen: `round-robin` over healthy replicas, or
   * `attributes` (replicas tagged `#region=eu&device=mobile` in their URL serve
   * the matching requests first).
   */
  GATEWAY_ROUTING_POLICY: Type.Union([Type.Literal('round-robin'), Type.Literal('attributes')], {
    default: 'round-robin',
    description: 'one of round-robin, attributes',
  }),
  /** Active health checks: GET /healthz on every replica this often. */
  GATEWAY_HEALTH_INTERVAL_MS: env.int(2000, 100, 600_000),
  /** Upstream connect + response-headers timeout; bodies (SSE, segments) have none. */
  GATEWAY_UPSTREAM_TIMEOUT_MS: env.int(30_000, 100, 600_000),
  /** Request bodies larger than this answer 413. */
  GATEWAY_BODY_LIMIT_BYTES: env.int(1024 * 1024, 1024, 1024 * 1024 * 1024),
  /** Brute-force limit per IP on register, login and refresh. */
  GATEWAY_AUTH_RATE_LIMIT: env.int(10, 1),
  GATEWAY_AUTH_RATE_WINDOW_SECONDS: env.int(60, 1, 86_400),
  /** Per user (per IP when anonymous) on /api, /public and /admin; 0 turns it off. */
  GATEWAY_API_RATE_LIMIT: env.int(600, 0),
  GATEWAY_API_RATE_WINDOW_SECONDS: env.int(60, 1, 86_400),
  /** How many verified access tokens to remember until they expire. */
  GATEWAY_TOKEN_CACHE_SIZE: env.int(10_000, 0, 10_000_000),
  /** Memory for cached media segments and parts (/hls/, /dash/); 0 turns the edge cache off. */
  GATEWAY_EDGE_CACHE_BYTES: env.int(64 * 1024 * 1024, 0),
  /** Key prefix of the gateway's counters and used tickets in Redis. */
  GATEWAY_REDIS_PREFIX: env.string('neon:gw'),
  /**
   * The proxies in front of the gateway (a load balancer, a CDN): addresses
   * and CIDRs, or loopback, linklocal, uniquelocal, comma-separated. Their
   * X-Forwarded-For names the client; anyone else's is not believed, and the
   * client is the socket's peer. Unset: no proxy is trusted.
   */
  GATEWAY_TRUSTED_PROXIES: env.optionalString(),
  /** Replaced by GATEWAY_TRUSTED_PROXIES; a start with it set (other than 0) fails and says so. */
  GATEWAY_TRUSTED_PROXY_HOPS: env.optionalString(),
  /** Minimum pause between two JWKS fetches caused by an unknown `kid`. */
  GATEWAY_JWKS_COOLDOWN_MS: env.int(5000, 0, 600_000),
};

export type GatewayConfig = ConfigOf<typeof gatewaySpec>;
