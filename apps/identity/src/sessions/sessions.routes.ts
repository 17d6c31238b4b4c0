import { RevokedSessions, SessionIdParams, SessionList } from '@neon/contracts';
import { requireStepUp, requireUser, type FastifyPluginAsyncTypebox } from '@neon/kit';
import type { SessionsService } from './sessions.service.js';

/** The caller's sessions; ending them needs a recent second-factor check when the account has one. */
export function sessionsRoutes(sessions: SessionsService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/me/sessions',
      { schema: { response: { 200: SessionList } } },
      async (request, reply) => {
        const client = requireUser(request);
        void reply.header('cache-control', 'no-store');
        return sessions.list(client);
      },
    );

    app.delete(
      '/api/v1/me/sessions/:id',
      { schema: { params: SessionIdParams } },
      async (request, reply) => {
        await sessions.revoke(requireStepUp(request), request.params.id);
        return reply.status(204).send();
      },
    );

    app.post(
      '/api/v1/me/sessions/revoke-others',
      { schema: { response: { 200: RevokedSessions } } },
      async (request) => ({ revoked: await sessions.revokeOthers(requireStepUp(request)) }),
    );
  };
}
