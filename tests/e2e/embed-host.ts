import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from '@playwright/test';
import { E2E_PORT } from '../../scripts/chromium.ts';

/**
 * The allowed host page's origin: another site than the widget's 127.0.0.1, on the port after the
 * app's. A real loopback server, not a routed answer: Chromium treats a routed page as public and
 * refuses its frames to reach loopback (Local Network Access).
 */
export const EMBED_HOST_ORIGIN = `http://localhost:${E2E_PORT + 1}`;
/** An allowed host on the widget's own site (127.0.0.1, another port), where storage is not partitioned. */
export const SAME_SITE_HOST_ORIGIN = `http://127.0.0.1:${E2E_PORT + 2}`;
/** What the end-to-end build puts in VITE_EMBED_ORIGINS. */
export const E2E_EMBED_ORIGINS = `${EMBED_HOST_ORIGIN},${SAME_SITE_HOST_ORIGIN}`;

/** A message a page received, as the recorder keeps it. */
export interface Received {
  origin: string;
  data: { source?: string; type?: string; id?: string | null; code?: string; stage?: string; fraction?: number; [k: string]: unknown };
}

/** A loopback server that answers `pages` (path → HTML); `origin` is where it listens. */
export interface HostServer {
  origin: string;
  pages: Map<string, string>;
  close: () => Promise<void>;
}

/** Starts a page server on `host`:`port` (0: any free port); `/embed-host.html` is the example host page. */
export async function startHostServer(port = 0, host = 'localhost'): Promise<HostServer> {
  const pages = new Map([['/embed-host.html', readFileSync('examples/embed-host.html', 'utf8')]]);
  const server: Server = createServer((req, res) => {
    const html = pages.get(new URL(req.url ?? '/', 'http://localhost').pathname);
    res.writeHead(html ? 200 : 404, { 'content-type': 'text/html' });
    res.end(html);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    origin: `http://${host}:${(server.address() as AddressInfo).port}`,
    pages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Records every message each document of `origin` receives in `window.received`, from its first script on. */
export async function recordMessages(page: Page, origin: string): Promise<void> {
  await page.addInitScript((origin) => {
    if (location.origin !== origin) return;
    const received: unknown[] = [];
    (window as unknown as { received: unknown[] }).received = received;
    addEventListener('message', (event) => received.push({ origin: event.origin, data: event.data }));
  }, origin);
}

/** Every message the page's main document has received so far (a GLB is left out). */
export function received(page: Page): Promise<Received[]> {
  return page.evaluate(() => (window as unknown as { received: Received[] }).received.map((r) => ({ origin: r.origin, data: { ...r.data, glb: undefined } })));
}
