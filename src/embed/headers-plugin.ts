/**
 * A Vite plugin for the widget's response headers: `embed.html` may be framed by the allowed host
 * origins (CSP `frame-ancestors`) and is readable cross-origin (CORP), while the app's own page may
 * not be framed at all. It sets them on the dev and preview servers and appends them to the built
 * `_headers` (Netlify / Cloudflare Pages), since the origin list is only known at build time.
 */
import { appendFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Connect, Plugin } from 'vite';
import { APP_PAGE_HEADERS, embedPageHeaders, type OriginList } from './origins';

/** Paths that serve the widget's page (hosts with pretty URLs drop the .html). */
const EMBED_PATHS = ['/embed.html', '/embed'];
/** Paths that serve the app's page. */
const APP_PATHS = ['/', '/index.html'];

/** The headers for a request path, or null for anything but the two pages. */
export function pageHeaders(path: string, origins: OriginList): Record<string, string> | null {
  const bare = path.split('?')[0]!;
  if (EMBED_PATHS.includes(bare)) return embedPageHeaders(origins);
  if (APP_PATHS.includes(bare)) return { ...APP_PAGE_HEADERS };
  return null;
}

/** The `_headers` rules for both pages. */
export function headersFileRules(origins: OriginList): string {
  const block = (path: string): string => {
    const headers = pageHeaders(path, origins)!;
    return [path, ...Object.entries(headers).map(([k, v]) => `  ${k}: ${v}`)].join('\n');
  };
  return `\n# Written by the build (src/embed/headers-plugin.ts) from VITE_EMBED_ORIGINS.\n${[...APP_PATHS, ...EMBED_PATHS].map(block).join('\n')}\n`;
}

/** The plugin; `origins` is the parsed VITE_EMBED_ORIGINS of the mode being served or built. */
export function embedHeaders(origins: OriginList): Plugin {
  const middleware: Connect.NextHandleFunction = (req, res, next) => {
    const headers = pageHeaders(req.url ?? '', origins);
    if (headers) for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    next();
  };
  let outDir = 'dist';
  return {
    name: 'cadlift-embed-headers',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    configureServer(server) {
      server.middlewares.use(middleware);
    },
    configurePreviewServer(server) {
      server.middlewares.use(middleware);
    },
    closeBundle() {
      const file = join(outDir, '_headers');
      if (existsSync(file)) appendFileSync(file, headersFileRules(origins));
    },
  };
}
