import type { Plugin } from 'vite';
import type { VitePWAOptions } from 'vite-plugin-pwa';

/** Largest file the service worker precaches: the ONNX Runtime .wasm is about 27 MB (Workbox's default is 2 MiB). */
export const PRECACHE_MAX_BYTES = 32 * 2 ** 20;

/**
 * The installable app: a web app manifest with generated icons (scripts/make-icons.ts) and a service
 * worker that precaches the app shell and the WASM runtime, so that after one generation the app
 * starts and generates with no network. What it deliberately leaves alone:
 * - model files and manifests (the model cache in Cache Storage/OPFS holds them, with their pins);
 * - the text proxy and every cross-origin URL: there is no runtime caching at all, and navigations
 *   to anything but the app shell (embed.html, /models/, /test-models/) go to the network;
 * - embed.html, which must not come from the app's service worker (the widget keeps no state).
 * A new build waits for the visitor's "Update" (registerType 'prompt'), never switching under them.
 */
export const pwaOptions: Partial<VitePWAOptions> = {
  registerType: 'prompt',
  // src/state/app-shell.svelte.ts registers it (the app's page only, never the embed widget).
  injectRegister: false,
  manifest: {
    name: 'CADLift: photo to 3D model',
    short_name: 'CADLift',
    description: 'Turn a photo into a 3D model on your own GPU. Private by default: the photo never leaves your device.',
    start_url: '/',
    scope: '/',
    display: 'standalone',
    background_color: '#ffffff',
    theme_color: '#2f6fed',
    icons: [
      { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
      { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
      { src: '/icons/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
    ],
  },
  workbox: {
    globPatterns: ['**/*.{js,mjs,css,html,wasm,svg,png,ico,webmanifest}'],
    globIgnores: ['embed.html', 'models/**', 'test-models/**'],
    maximumFileSizeToCacheInBytes: PRECACHE_MAX_BYTES,
    navigateFallback: 'index.html',
    navigateFallbackDenylist: [/^\/embed/, /^\/models\//, /^\/test-models\//],
    cleanupOutdatedCaches: true,
    runtimeCaching: [],
  },
};

/**
 * vite-plugin-pwa links the web app manifest from every page; the embed widget is not the
 * installable app (it runs in other sites' frames), so its page drops the link.
 */
export function widgetWithoutManifest(): Plugin {
  return {
    name: 'cadlift:widget-without-manifest',
    enforce: 'post',
    transformIndexHtml: {
      order: 'post',
      handler: (html, context) => (context.path.endsWith('/embed.html') ? html.replace(/\s*<link rel="manifest"[^>]*>/g, '') : html),
    },
  };
}
