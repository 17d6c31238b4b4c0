/**
 * Test helpers (`@neon/rtmp/testing`): an RTMP client byte builder, a decoder
 * of what the server sent, and the fuzzer. Not for production code paths.
 */
export * from './client.js';
export { fuzzRtmp, type FuzzOptions, type FuzzReport } from './fuzz.js';
