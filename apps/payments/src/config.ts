import { env, type ConfigOf } from '@neon/kit';

export const paymentsSpec = {
  PAYMENTS_HOST: env.string('127.0.0.1'),
  PAYMENTS_PORT: env.port(8106),
};

export type PaymentsConfig = ConfigOf<typeof paymentsSpec>;
