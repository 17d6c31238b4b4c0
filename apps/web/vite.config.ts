/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from 'vite';
import { precompressPlugin } from './build/precompress';

/**
 * Swagger UI, in the API reference's lazy chunk, builds on react-redux's `connect` and on
 * redux's store, which the app does not use. A module both import is bundled once, in the
 * entry chunk, so every page would download them: Swagger UI gets its own copies, in its
 * chunk. (react-redux keeps its context on globalThis, so the two copies share it.)
 */
function ownCopiesForSwaggerUi(packages: string[]): Plugin {
  return {
    name: 'neon:own-copies-for-swagger-ui',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      if (!importer?.includes('/node_modules/swagger-ui-react/') || !packages.includes(source)) {
        return null;
      }
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
      return resolved && { ...resolved, id: `${resolved.id}?swagger-ui` };
    },
  };
}

// No React plugin: esbuild's automatic JSX runtime is all the build needs.
export default defineConfig({
  esbuild: { jsx: 'automatic' },
  // Text assets ship with .br and .gz next to them; the gateway picks one per Accept-Encoding.
  plugins: [ownCopiesForSwaggerUi(['react-redux', 'redux']), precompressPlugin()],
  build: {
    target: 'es2022',
    // The build is served to anyone: no source maps in it.
    sourcemap: false,
    // Production builds never inline assets as data: URIs, so a strict CSP needs no exceptions.
    assetsInlineLimit: 0,
    commonjsOptions: {
      // React has no `__esModule`: its default import is module.exports either way. Said so,
      // the entry chunk needs no interop helper for the lazy chunks that import it by default
      // (Swagger UI), which would otherwise put the helper in the entry for every page.
      defaultIsModuleExports: (id) =>
        /\/node_modules\/react(-dom)?\/index\.js$/.test(id) ? true : 'auto',
    },
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
