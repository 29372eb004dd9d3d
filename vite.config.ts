import { defineConfig, loadEnv } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { VitePWA } from 'vite-plugin-pwa';
import { pwaOptions, widgetWithoutManifest } from './scripts/lib/pwa-options.ts';
import { embedHeaders } from './src/embed/headers-plugin';
import { parseOrigins } from './src/embed/origins';

/**
 * Cross-origin isolation lets onnxruntime-web use WASM threads (SharedArrayBuffer). `credentialless`
 * keeps cross-origin model downloads (Hugging Face and its CDN, which send CORS headers) working.
 * Production hosts need the same headers: public/_headers carries them for Netlify/Cloudflare Pages.
 */
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'credentialless',
};

export default defineConfig(({ command, mode }) => {
  // Which host pages may frame and drive the widget (embed.html); `*` only under `vite dev`.
  const env = { ...loadEnv(mode, process.cwd(), 'VITE_'), ...process.env };
  const embedOrigins = parseOrigins(env.VITE_EMBED_ORIGINS, { development: command === 'serve' && mode === 'development' });
  return {
    plugins: [svelte(), VitePWA(pwaOptions), widgetWithoutManifest(), embedHeaders(embedOrigins)],
    // cadlift.test is how the tests reach the app as an insecure (non-loopback http) page, which has
    // no WebGPU, Cache Storage or cross-origin isolation: what a visitor on a LAN address gets.
    server: { headers: isolation, allowedHosts: ['cadlift.test'] },
    preview: { headers: isolation, allowedHosts: ['cadlift.test'] },
    worker: { format: 'es' },
    // Shown in the footer, so a visitor (and the update test) can tell which build is running.
    define: { __APP_VERSION__: JSON.stringify(process.env.npm_package_version ?? '0.0.0') },
    // Pre-bundling would move onnxruntime-web away from the .wasm/.mjs files it loads at run time.
    optimizeDeps: { exclude: ['onnxruntime-web'] },
    build: {
      target: 'es2022',
      chunkSizeWarningLimit: 2048,
      rolldownOptions: { input: { main: 'index.html', embed: 'embed.html' } },
    },
  };
});
