export * from './config.js';
export * from './platform.js';
export * from './standalone.js';
