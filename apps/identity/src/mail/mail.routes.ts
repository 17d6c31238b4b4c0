import { AdminMailList, AdminMailQuery } from '@neon/contracts';
import { requireRole, type Client, type FastifyPluginAsyncTypebox } from '@neon/kit';
import type { MailService } from './mail.service.js';

/**
 * `GET /admin/v1/mail`: the mail queue, newest first. The gateway checks the
 * role (and the admin's second factor) too; this service checks it again
 * against the database, as the other admin routes do.
 */
export function mailAdminRoutes(
  mail: MailService,
  assertAdmin: (actor: Client) => Promise<void>,
): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.addHook('onRequest', async (request) => {
      await assertAdmin(requireRole(request, 'admin'));
    });

    app.get(
      '/admin/v1/mail',
      { schema: { querystring: AdminMailQuery, response: { 200: AdminMailList } } },
      async (request, reply) => {
        // The bodies hold live links: never kept by a cache.
        void reply.header('cache-control', 'no-store');
        return mail.list(request.query);
      },
    );
  };
}
