import { defineConfig } from 'vite';

/**
 * Builds the benchmark page as ONE self-contained HTML file (script, WGSL and all inlined) in
 * bench-results/page/, to carry to a machine with a GPU and a browser but no Node or registry.
 */
export default defineConfig({
  root: 'scripts/bench',
  base: './',
  logLevel: 'warn',
  build: {
    outDir: '../../bench-results/page',
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: Number.MAX_SAFE_INTEGER,
    modulePreload: false,
    rolldownOptions: { input: 'scripts/bench/page.html', output: { codeSplitting: false } },
  },
  plugins: [
    {
      name: 'inline-script',
      enforce: 'post',
      generateBundle(_, bundle) {
        const html = Object.values(bundle).find((f) => f.fileName.endsWith('.html'));
        if (!html || html.type !== 'asset') return;
        let text = String(html.source);
        for (const [name, chunk] of Object.entries(bundle)) {
          if (chunk.type !== 'chunk') continue;
          text = text.replace(new RegExp(`<script type="module"[^>]*src="\\./${name.replace(/[.]/g, '\\.')}"[^>]*></script>`), () => `<script type="module">${chunk.code.replace(/<\/script/g, '<\\/script')}</script>`);
          delete bundle[name];
        }
        html.source = text;
      },
    },
  ],
});
