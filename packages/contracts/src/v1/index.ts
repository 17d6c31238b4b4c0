export * from './common.js';
export * from './errors/index.js';
export * from './events/index.js';
export * from './identity.js';
export * from './channels.js';
export * from './live.js';
export * from './chat.js';
export * from './payments.js';
