import {
  AdminUser,
  AdminUserList,
  AdminUserQuery,
  AuditList,
  AuditQuery,
  SuspendRequest,
  UserIdParams,
} from '@neon/contracts';
import { requireRole, type FastifyPluginAsyncTypebox } from '@neon/kit';
import type { AdminService } from './admin.service.js';

/** `/admin/v1`: the gateway checks the role too, but this service never relies on that alone. */
export function adminRoutes(service: AdminService): FastifyPluginAsyncTypebox {
  return async (app) => {
    // The role in the token may be up to 15 minutes old: a revoked or suspended admin loses the API at once.
    app.addHook('onRequest', async (request) => {
      await service.assertAdmin(requireRole(request, 'admin'));
    });

    app.get(
      '/admin/v1/users',
      { schema: { querystring: AdminUserQuery, response: { 200: AdminUserList } } },
      async (request) => service.list(request.query),
    );

    app.put(
      '/admin/v1/users/:id/admin',
      { schema: { params: UserIdParams, response: { 200: AdminUser } } },
      async (request) => service.setAdmin(requireRole(request, 'admin'), request.params.id, true),
    );

    app.delete(
      '/admin/v1/users/:id/admin',
      { schema: { params: UserIdParams, response: { 200: AdminUser } } },
      async (request) => service.setAdmin(requireRole(request, 'admin'), request.params.id, false),
    );

    app.put(
      '/admin/v1/users/:id/suspension',
      { schema: { params: UserIdParams, body: SuspendRequest, response: { 200: AdminUser } } },
      async (request) =>
        service.setSuspended(requireRole(request, 'admin'), request.params.id, {
          reason: request.body?.reason?.trim() || null,
        }),
    );

    app.delete(
      '/admin/v1/users/:id/suspension',
      { schema: { params: UserIdParams, response: { 200: AdminUser } } },
      async (request) =>
        service.setSuspended(requireRole(request, 'admin'), request.params.id, null),
    );

    app.get(
      '/admin/v1/audit',
      { schema: { querystring: AuditQuery, response: { 200: AuditList } } },
      async (request) => service.audit(request.query),
    );
  };
}
