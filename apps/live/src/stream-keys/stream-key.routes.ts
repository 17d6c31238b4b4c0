import { StreamKeyResponse } from '@neon/contracts';
import { requireStepUp, type FastifyPluginAsyncTypebox } from '@neon/kit';
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
};
