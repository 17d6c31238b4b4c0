export * from './engines.js';
export * from './wait.js';
export * from './ffmpeg.js';
export * from './socket.js';
export * from './stack.js';
