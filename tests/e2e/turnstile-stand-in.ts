/**
 * A stand-in for Cloudflare Turnstile on a loopback origin of its own, as challenges.cloudflare.com
 * is to a deployed app: the explicit-render script (`render`, `reset`, `remove`, `getResponse`), a
 * widget iframe that mints a token each time it loads (a reset reloads it), and siteverify, which
 * accepts each token once and for as long as it has not expired.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One siteverify call as the stand-in answered it. */
export interface Verification {
  token: string;
  secret: string;
  remoteip: string | null;
  success: boolean;
  errorCodes: string[];
}

/** The running stand-in. */
export interface TurnstileStandIn {
  origin: string;
  /** Pass as `?turnstile-script=`. */
  scriptUrl: string;
  /** Pass to the proxy as TURNSTILE_VERIFY_URL. */
  verifyUrl: string;
  /** Times the script was fetched. */
  scriptLoads: number;
  /** Tokens the widget minted, in order. */
  issued: string[];
  verifications: Verification[];
  /** Response headers of the widget document (none by default, like a page that never heard of COEP). */
  widgetHeaders: Record<string, string>;
  /** Marks every token not yet spent as expired, as 300 s would. */
  expireIssued(): void;
  close(): Promise<void>;
}

/** The script the page loads; `turnstile.__expire()` fires what Cloudflare's widget fires at 300 s. */
const SCRIPT = `(() => {
  const origin = new URL(document.currentScript.src).origin;
  const widgets = new Map();
  let count = 0;
  const load = (w) => { w.iframe.src = origin + '/widget?id=' + w.id + '&n=' + (++w.loads); };
  addEventListener('message', (event) => {
    if (event.origin !== origin) return;
    const w = widgets.get(event.data && event.data.widget);
    if (!w) return;
    w.token = event.data.token;
    w.params.callback(w.token);
  });
  window.turnstile = {
    render(container, params) {
      const id = 'stand-in-' + (++count);
      const iframe = document.createElement('iframe');
      iframe.title = 'Turnstile stand-in';
      iframe.style.cssText = 'width:300px;height:65px;border:0';
      const w = { id, iframe, params, loads: 0, token: undefined };
      widgets.set(id, w);
      container.append(iframe);
      load(w);
      return id;
    },
    reset(id) { const w = widgets.get(id); if (w) { w.token = undefined; load(w); } },
    remove(id) { const w = widgets.get(id); if (w) { w.iframe.remove(); widgets.delete(id); } },
    getResponse(id) { return widgets.get(id)?.token; },
    __expire() { for (const w of widgets.values()) { w.token = undefined; w.params['expired-callback'](); } },
  };
})();`;

/** Starts the stand-in on a free port of `localhost` (another origin than the app's 127.0.0.1). */
export async function startTurnstileStandIn(): Promise<TurnstileStandIn> {
  const spent = new Set<string>();
  const expired = new Set<string>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/turnstile/v0/api.js') {
      standIn.scriptLoads++;
      res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' });
      res.end(SCRIPT);
      return;
    }
    if (url.pathname === '/widget') {
      const token = `stand-in.${randomUUID()}`;
      standIn.issued.push(token);
      const message = JSON.stringify({ widget: url.searchParams.get('id'), token });
      res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store', ...standIn.widgetHeaders });
      res.end(`<!doctype html><p>Stand-in check passed</p><script>parent.postMessage(${message}, '*')</script>`);
      return;
    }
    if (url.pathname === '/siteverify' && req.method === 'POST') {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        const token = form.get('response') ?? '';
        const errorCodes: string[] = [];
        if (!standIn.issued.includes(token)) errorCodes.push('invalid-input-response');
        else if (spent.has(token) || expired.has(token)) errorCodes.push('timeout-or-duplicate');
        const success = errorCodes.length === 0;
        if (success) spent.add(token);
        standIn.verifications.push({ token, secret: form.get('secret') ?? '', remoteip: form.get('remoteip'), success, errorCodes });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ success, 'error-codes': errorCodes }));
      });
      return;
    }
    res.writeHead(404);
    res.end();
  });
  // Every interface, as the harness's CDN: Chromium may try localhost's ::1 first.
  await new Promise<void>((resolve) => server.listen(0, resolve));
  const origin = `http://localhost:${(server.address() as AddressInfo).port}`;
  const standIn: TurnstileStandIn = {
    origin,
    scriptUrl: `${origin}/turnstile/v0/api.js?render=explicit`,
    verifyUrl: `${origin}/siteverify`,
    scriptLoads: 0,
    issued: [],
    verifications: [],
    widgetHeaders: {},
    expireIssued: () => {
      for (const token of standIn.issued) if (!spent.has(token)) expired.add(token);
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return standIn;
}
