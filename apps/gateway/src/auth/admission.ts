import type { IncomingHttpHeaders } from 'node:http';
import { ClientHeaders, STEP_UP_SECONDS, type ErrorCode } from '@neon/contracts';
import { appHeaders, clientHeaders, type Logger } from '@neon/kit';
import type { RateDecision, RateLimiter } from '../limits/rate-limiter.js';
import { limitKey } from '../proxy/target.js';
import type { Revocations } from './revocations.js';
import {
  TokenError,
  type TokenCache,
  type TokenVerifier,
  type VerifiedToken,
  type VerifyRules,
} from './verifier.js';

const AUTH_LIMITED = new Set([
  '/api/v1/auth/register',
  '/api/v1/auth/login',
  '/api/v1/auth/refresh',
  // Every second factor, under the same per-address rule as the password.
  '/api/v1/auth/mfa',
  '/api/v1/auth/step-up',
  // Mailed links: asking for one (identity also limits per address) and using one.
  '/api/v1/auth/password-reset',
  '/api/v1/auth/password-reset/confirm',
  '/api/v1/auth/verify-email',
]);
/** The public API: OAuth access tokens only, limited per application. */
const PUBLIC_SURFACE = '/public/v1/';
/** Public API paths answered without a token. */
const PUBLIC_OPEN = new Set(['/public/v1/openapi.json']);
/** The API surfaces: limited per user, never answered with the web app. */
export const API_SURFACE = /^\/(api|public|admin)\//;

/** The gateway's decision on a routed request. */
export type Admission =
  | { kind: 'problem'; code: ErrorCode; detail: string; headers: Record<string, string> }
  | {
      kind: 'proxy';
      client: VerifiedToken | null;
      identity: Record<string, string>;
      /** Headers the answer gets from the gateway (rate-limit state), flat. */
      own: string[];
    };

export interface AdmissionDeps {
  verifier: TokenVerifier;
  tokenCache: TokenCache;
  revocations: Revocations;
  accessRules: VerifyRules;
  /** OAuth access tokens (audience `neon-public-api`): the only ones `/public/v1` takes. */
  publicRules: VerifyRules;
  authLimiter: RateLimiter;
  /** Null when the API limit is off. */
  apiLimiter: RateLimiter | null;
  internalSecret: string;
  logger: Logger;
}

/** What the admission reads of a request: node's or the front door's. */
export interface AdmittedRequest {
  method?: string;
  headers: IncomingHttpHeaders;
}

/** The decision: synchronous unless a limiter in Redis or a JWKS fetch had to be awaited. */
export type Admit = (
  req: AdmittedRequest,
  path: string,
  ip: string,
  log: Pick<Logger, 'info'>,
) => Admission | Promise<Admission>;

/** `fn(value)`, after `value` when it is a promise: the common case stays off the microtask queue. */
function after<T, R>(value: T | Promise<T>, fn: (v: T) => R | Promise<R>): R | Promise<R> {
  return value instanceof Promise ? value.then(fn) : fn(value);
}

function pushRateHeaders(out: string[], d: RateDecision): void {
  out.push(
    'ratelimit-limit',
    String(d.limit),
    'ratelimit-remaining',
    String(d.remaining),
    'ratelimit-reset',
    String(d.resetSeconds),
  );
}

function rateLimited(d: RateDecision, detail: string): Admission {
  return {
    kind: 'problem',
    code: 'RATE_LIMITED',
    detail,
    headers: {
      'ratelimit-limit': String(d.limit),
      'ratelimit-remaining': String(d.remaining),
      'ratelimit-reset': String(d.resetSeconds),
      'retry-after': String(d.resetSeconds),
    },
  };
}

const invalidToken = (detail: string, code: ErrorCode = 'AUTH_TOKEN_INVALID'): Admission => ({
  kind: 'problem',
  code,
  detail,
  headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
});

/**
 * Everything the gateway decides about a routed request before it goes
 * upstream: brute-force limits, the caller's token (and whether a suspension
 * revoked it), the admin surface, the per-user limit. Both the fast path and
 * Fastify's handler ask this one function.
 */
export function createAdmission(deps: AdmissionDeps): Admit {
  const {
    verifier,
    tokenCache,
    revocations,
    accessRules,
    publicRules,
    authLimiter,
    apiLimiter,
    logger,
  } = deps;
  const anonymous = { [ClientHeaders.internalToken]: deps.internalSecret };

  /** A Redis outage lets traffic through rather than take the site down. */
  function limiterFailed(err: unknown): null {
    logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'rate limiter failed');
    return null;
  }

  /** Counts a hit: null when the limiter failed. */
  function limit(
    limiter: RateLimiter,
    key: string,
  ): RateDecision | null | Promise<RateDecision | null> {
    try {
      const d = limiter.hit(key);
      return d instanceof Promise ? d.catch(limiterFailed) : d;
    } catch (err) {
      return limiterFailed(err);
    }
  }

  /** The X-Client-* headers of a verified token, built once per cached token. */
  const identities = new WeakMap<VerifiedToken, Record<string, string>>();
  function identityOf(client: VerifiedToken): Record<string, string> {
    let headers = identities.get(client);
    if (!headers && client.clientId !== null) {
      // An OAuth token: the application and its scopes, and the user when it acts for one.
      headers = appHeaders(
        {
          clientId: client.clientId,
          scopes: (client.scope ?? '').split(' ').filter(Boolean),
          ...(client.username === ''
            ? {}
            : { user: { id: client.sub, username: client.username, roles: client.roles } }),
        },
        deps.internalSecret,
      );
      identities.set(client, headers);
    }
    if (!headers) {
      headers = clientHeaders(
        {
          id: client.sub,
          username: client.username,
          roles: client.roles,
          ...(client.sid === null ? {} : { sessionId: client.sid }),
          ...(client.sua === null ? {} : { stepUpAt: client.sua }),
        },
        deps.internalSecret,
      );
      identities.set(client, headers);
    }
    return headers;
  }

  /** The bearer token's caller: from the cache when seen before, else verified (and cached). */
  function authenticate(
    header: string | undefined,
    rules: VerifyRules,
  ): VerifiedToken | null | Promise<VerifiedToken> {
    if (!header || !/^bearer /i.test(header)) return null;
    const token = header.slice(7).trim();
    const hit = tokenCache.get(token);
    // A token counts only for the audience it was verified for: no first-party token on
    // /public/v1, no OAuth token on /api/v1, however it got into the cache.
    if (hit) {
      if (hit.aud !== rules.audience) throw new TokenError('AUTH_TOKEN_INVALID', 'wrong audience');
      return hit;
    }
    const known = verifier.verifyKnown(token, rules);
    if (known) {
      tokenCache.set(token, known);
      return known;
    }
    return verifier.verify(token, rules).then((verified) => {
      tokenCache.set(token, verified);
      return verified;
    });
  }

  function tokenProblem(err: unknown, log: Pick<Logger, 'info'>): Admission {
    if (!(err instanceof TokenError)) throw err;
    log.info({ reason: err.reason }, 'access token rejected');
    return invalidToken('The access token is not valid.', err.code);
  }

  /** The caller's token, then what it may do. */
  function identify(
    req: AdmittedRequest,
    path: string,
    ip: string,
    own: string[],
    log: Pick<Logger, 'info'>,
  ): Admission | Promise<Admission> {
    let auth: VerifiedToken | null | Promise<VerifiedToken>;
    try {
      auth = authenticate(
        req.headers.authorization,
        path.startsWith(PUBLIC_SURFACE) ? publicRules : accessRules,
      );
    } catch (err) {
      return tokenProblem(err, log);
    }
    if (auth instanceof Promise)
      return auth.then(
        (client) => authorize(client, req.method, path, ip, own, log),
        (err: unknown) => tokenProblem(err, log),
      );
    return authorize(auth, req.method, path, ip, own, log);
  }

  function authorize(
    client: VerifiedToken | null,
    method: string | undefined,
    path: string,
    ip: string,
    own: string[],
    log: Pick<Logger, 'info'>,
  ): Admission | Promise<Admission> {
    if (client && revocations.revoked(client.sub, client.iat, client.roles, client.sid)) {
      log.info({ reason: 'revoked' }, 'access token rejected');
      return invalidToken('The access token was revoked.');
    }

    if (path.startsWith('/admin/')) {
      if (!client)
        return {
          kind: 'problem',
          code: 'AUTH_REQUIRED',
          detail: 'Sign in to do this.',
          headers: { 'www-authenticate': 'Bearer' },
        };
      if (!client.roles.includes('admin'))
        return {
          kind: 'problem',
          code: 'FORBIDDEN',
          detail: 'Requires the admin role.',
          headers: {},
        };
      // An admin account needs a second factor, and every change it makes a
      // check of it within STEP_UP_SECONDS.
      if (client.sua === null)
        return {
          kind: 'problem',
          code: 'AUTH_MFA_REQUIRED',
          detail: 'Set up a second factor (Settings → Security) to use the admin API.',
          headers: {},
        };
      if (method !== 'GET' && method !== 'HEAD' && Date.now() / 1000 - client.sua > STEP_UP_SECONDS)
        return {
          kind: 'problem',
          code: 'AUTH_STEP_UP_REQUIRED',
          detail: 'Confirm it is you with your second factor, then try again.',
          headers: {},
        };
    }

    if (path.startsWith(PUBLIC_SURFACE) && !client && !PUBLIC_OPEN.has(limitKey(path)))
      return {
        kind: 'problem',
        code: 'AUTH_REQUIRED',
        detail: 'The public API needs an OAuth access token.',
        headers: { 'www-authenticate': 'Bearer' },
      };

    const admitted: Admission = {
      kind: 'proxy',
      client,
      identity: client ? identityOf(client) : anonymous,
      own,
    };
    if (!apiLimiter || !API_SURFACE.test(path)) return admitted;
    // OAuth calls: a bucket per application, and one per user of it (an app cannot spend a user's).
    const key =
      client?.clientId != null
        ? client.username === ''
          ? `app:${client.clientId}`
          : `app:${client.clientId}:u:${client.sub}`
        : client
          ? `u:${client.sub}`
          : `ip:${ip}`;
    return after(limit(apiLimiter, key), (d) => {
      if (d) {
        if (!d.allowed) return rateLimited(d, 'Too many requests; slow down.');
        pushRateHeaders(own, d);
      }
      return admitted;
    });
  }

  return function admit(req, path, ip, log) {
    const own: string[] = [];
    const key = req.method === 'POST' ? limitKey(path) : null;
    if (key !== null && AUTH_LIMITED.has(key))
      // Per endpoint: a login brute force must not also lock the victim out of refreshing.
      return after(limit(authLimiter, `${key}:${ip}`), (d) => {
        if (d) {
          if (!d.allowed) return rateLimited(d, 'Too many attempts; try again later.');
          pushRateHeaders(own, d);
        }
        return identify(req, path, ip, own, log);
      });
    return identify(req, path, ip, own, log);
  };
}
