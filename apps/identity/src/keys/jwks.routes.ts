import type { FastifyPluginAsyncTypebox } from '@neon/kit';
import type { KeyRing } from './key-ring.js';

/** Short enough that a verifier sees a new key well before it signs, even at a seconds-long rotation. */
const JWKS_MAX_AGE_SECONDS = 60;

export function jwksRoutes(ring: KeyRing): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/.well-known/jwks.json', async (_request, reply) => {
      const maxAge = Math.max(0, Math.min(JWKS_MAX_AGE_SECONDS, Math.floor(ring.tickMs / 1000)));
      void reply.header('cache-control', `public, max-age=${maxAge}`);
      return ring.jwks();
    });
  };
}
