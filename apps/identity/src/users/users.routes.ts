import { Me, PublicProfile, UpdateMeRequest, UsernameParams, publicApi } from '@neon/contracts';
import { AppError, requireApp, requireUser, type FastifyPluginAsyncTypebox } from '@neon/kit';
import type { UsersService } from './users.service.js';

export function usersRoutes(service: UsersService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/users/:username',
      { schema: { params: UsernameParams, response: { 200: PublicProfile } } },
      async (request) => service.profile(request.params.username),
    );

    const { getUsers } = publicApi;
    app.get(
      getUsers.path,
      {
        schema: {
          querystring: getUsers.querystring,
          response: { [getUsers.status]: getUsers.response },
        },
      },
      async (request) => {
        const caller = requireApp(request, getUsers);
        const { id = [], login = [] } = request.query;
        if (id.length === 0 && login.length === 0 && !caller.user)
          throw new AppError(
            'VALIDATION_FAILED',
            'An app token names the users: give id or login.',
            {
              errors: [{ field: 'querystring.id', message: 'or login is required' }],
            },
          );
        return {
          data: await service.forApp(id, login, {
            userId: caller.user?.id ?? null,
            mayReadEmail: caller.scopes.has(getUsers.openScope),
          }),
        };
      },
    );

    app.get('/api/v1/me', { schema: { response: { 200: Me } } }, async (request) =>
      service.me(requireUser(request).id),
    );

    app.patch(
      '/api/v1/me',
      { schema: { body: UpdateMeRequest, response: { 200: Me } } },
      async (request) => {
        const client = requireUser(request);
        if (request.body.displayName !== undefined && request.body.displayName.trim() === '') {
          throw new AppError('VALIDATION_FAILED', 'The display name cannot be blank.', {
            errors: [{ field: 'body.displayName', message: 'must not be blank' }],
          });
        }
        return service.update(client.id, request.body);
      },
    );
  };
}
