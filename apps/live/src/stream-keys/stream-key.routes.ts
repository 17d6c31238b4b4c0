import { publicApi, StreamKeyResponse } from '@neon/contracts';
import { requireAppUser, requireStepUp, type FastifyPluginAsyncTypebox } from '@neon/kit';
import type { BroadcastManager } from '../broadcasts/broadcast-manager.js';
import type { StreamKeyService } from './stream-key.service.js';

export interface StreamKeyRoutesOptions {
  keys: StreamKeyService;
  broadcasts: BroadcastManager;
  rtmpUrl: () => string;
}

export const streamKeyRoutes: FastifyPluginAsyncTypebox<StreamKeyRoutesOptions> = async (
  app,
  o,
) => {
  const noStore = { 'cache-control': 'no-store' };
  // Revealing and regenerating the key need a recent second-factor check when
  // the account has a factor (AUTH_STEP_UP_REQUIRED otherwise).

  app.get(
    '/api/v1/me/stream-key',
    { schema: { response: { 200: StreamKeyResponse } } },
    async (request, reply) => {
      const client = requireStepUp(request);
      const streamKey = await o.keys.read(client);
      return reply.headers(noStore).send({ streamKey, rtmpUrl: o.rtmpUrl() });
    },
  );

  app.post(
    '/api/v1/me/stream-key',
    { schema: { response: { 200: StreamKeyResponse } } },
    async (request, reply) => {
      const client = requireStepUp(request);
      const streamKey = await o.keys.regenerate(client);
      await o.broadcasts.endChannel(client.username, 'stream key regenerated');
      return reply.headers(noStore).send({ streamKey, rtmpUrl: o.rtmpUrl() });
    },
  );

  const getStreamKey = publicApi.getStreamKey;
  app.route({
    method: getStreamKey.method,
    url: getStreamKey.path,
    schema: { response: { 200: getStreamKey.response } },
    handler: async (request, reply) => {
      // No step-up here: an application cannot answer a second-factor prompt. The user granted
      // channel:read:stream_key on the consent page, signed in to their own account, and that
      // consent is the authorisation. A key an app has read stays valid until it is regenerated.
      const client = requireAppUser(request, getStreamKey);
      const streamKey = await o.keys.read(client);
      return reply.headers(noStore).send({ data: [{ streamKey, rtmpUrl: o.rtmpUrl() }] });
    },
  });
};
