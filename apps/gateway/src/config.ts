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
};

export type GatewayConfig = ConfigOf<typeof gatewaySpec>;
