export * from './errors.js';
export * from './amf0.js';
export * from './chunk.js';
export * from './flv.js';
export * from './session-types.js';
export * from './metadata.js';
export * from './session.js';
