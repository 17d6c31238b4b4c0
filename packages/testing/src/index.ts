export * from './engines.js';
export * from './wait.js';
export * from './ffmpeg.js';
export * from './socket.js';
export * from './cpu-limit.js';
export * from './stack.js';
export * from './mfa.js';
export * from './pglite.js';
