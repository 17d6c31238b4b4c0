/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import { precompressPlugin } from './build/precompress';

// No React plugin: esbuild's automatic JSX runtime is all the build needs.
export default defineConfig({
  esbuild: { jsx: 'automatic' },
  // Text assets ship with .br and .gz next to them; the gateway picks one per Accept-Encoding.
  plugins: [precompressPlugin()],
  build: {
    target: 'es2022',
    // The build is served to anyone: no source maps in it.
    sourcemap: false,
    // Production builds never inline assets as data: URIs, so a strict CSP needs no exceptions.
    assetsInlineLimit: 0,
  },
  server: {
    proxy: {
      // Identity takes its sign-in requests from PUBLIC_URL's origin only: the dev server speaks as it.
      '/api': { target: 'http://localhost:8080', headers: { origin: 'http://localhost:8080' } },
      '/admin/v1': {
        target: 'http://localhost:8080',
        headers: { origin: 'http://localhost:8080' },
      },
      '/hls': 'http://localhost:8080',
      '/vod': 'http://localhost:8080',
      '/thumbnails': 'http://localhost:8080',
      // The gateway takes sockets from PUBLIC_URL's origin only (default http://localhost:8080).
      '/socket': {
        target: 'ws://localhost:8080',
        ws: true,
        headers: { origin: 'http://localhost:8080' },
      },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}', 'build/**/*.test.ts'],
    setupFiles: ['src/test-setup.ts'],
    // `npm test` runs these at the lowest priority beside the browser and ffmpeg tests, so a
    // form-filling test can wait seconds for the CPU; a real hang still fails, just later.
    testTimeout: 30_000,
  },
});
