/**
 * Which host pages may drive the widget. The list comes from the build (`VITE_EMBED_ORIGINS`,
 * comma-separated origins); `*` allows any origin and is refused outside development, because a
 * `generate` counts as consent to a large download and its result goes back to the sender.
 */

/** Allowed host origins, or 'any' (development only). */
export type OriginList = readonly string[] | 'any';

/** Options for {@link parseOrigins}. */
export interface ParseOriginsOptions {
  /** True in `vite dev` (and in the unit tests that check it): only then may the list be `*`. */
  development: boolean;
}

/** Defaults for {@link ParseOriginsOptions}: production rules. */
export const PARSE_ORIGINS_DEFAULTS: ParseOriginsOptions = { development: false };

/**
 * Reads a comma-separated origin list. Each entry must be an origin (scheme, host, optional port,
 * nothing else); throws an Error naming the bad entry, so a misconfigured build stops at once.
 * @example
 * parseOrigins('https://shop.example, https://blog.example'); // ['https://shop.example', 'https://blog.example']
 */
export function parseOrigins(value: string | undefined, options: Partial<ParseOriginsOptions> = {}): OriginList {
  const { development } = { ...PARSE_ORIGINS_DEFAULTS, ...options };
  const entries = (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (entries.includes('*')) {
    if (!development) throw new Error('VITE_EMBED_ORIGINS=* is for development only; list the host origins that may embed the widget.');
    return 'any';
  }
  return entries.map((entry) => {
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      throw new Error(`VITE_EMBED_ORIGINS: "${entry}" is not an origin such as https://shop.example.`);
    }
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || entry.includes('*') || url.origin !== entry.replace(/\/$/, '')) {
      throw new Error(`VITE_EMBED_ORIGINS: "${entry}" is not an origin such as https://shop.example (no path, query or wildcard).`);
    }
    return url.origin;
  });
}

/** True when messages from `origin` may drive the widget. */
export function isAllowedOrigin(list: OriginList, origin: string): boolean {
  if (!origin || origin === 'null') return false;
  return list === 'any' || list.includes(origin);
}

/** The CSP `frame-ancestors` source list for the widget's page: who may put it in a frame. */
export function frameAncestors(list: OriginList): string {
  if (list === 'any') return '*';
  return list.length ? list.join(' ') : "'none'";
}

/** Response headers of the widget's page (`embed.html`). */
export function embedPageHeaders(list: OriginList): Record<string, string> {
  return {
    'Content-Security-Policy': `frame-ancestors ${frameAncestors(list)}`,
    // Host pages that are cross-origin isolated (COEP) may only frame documents that opt in.
    'Cross-Origin-Resource-Policy': 'cross-origin',
  };
}

/** Response headers of the app's own pages: never framed, so no other site can overlay them. */
export const APP_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "frame-ancestors 'none'",
};
