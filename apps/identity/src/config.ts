import { env, type ConfigOf } from '@neon/kit';

export const identitySpec = {
  IDENTITY_HOST: env.string('127.0.0.1'),
  IDENTITY_PORT: env.port(8101),
};

export type IdentityConfig = ConfigOf<typeof identitySpec>;
