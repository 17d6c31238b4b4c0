export * from './config.js';
export * from './platform.js';
export * from './standalone.js';
export * from './connection-quota.js';
