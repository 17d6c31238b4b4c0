import { Me, PublicProfile, UpdateMeRequest, UsernameParams } from '@neon/contracts';
import { AppError, requireUser, type FastifyPluginAsyncTypebox } from '@neon/kit';
import type { UsersService } from './users.service.js';

export function usersRoutes(service: UsersService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/users/:username',
      { schema: { params: UsernameParams, response: { 200: PublicProfile } } },
      async (request) => service.profile(request.params.username),
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
