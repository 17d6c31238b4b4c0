export * from './config.js';
export * from './logger.js';
export * from './errors.js';
export * from './auth.js';
export * from './server.js';
export * from './metrics.js';
export * from './lifecycle.js';
export * from './ids.js';
export type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
