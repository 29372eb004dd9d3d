import { describe, expect, it } from 'vitest';
import { PROXY_MESSAGES, TURNSTILE_MISSING_MESSAGE, textToImage } from '../../src/lib/text-to-image';
import { TURNSTILE_SCRIPT_URL, TurnstileTokens, turnstileSettings, type TurnstileApi, type TurnstileRenderParams } from '../../src/lib/turnstile';

/**
 * A widget as Cloudflare's behaves for a visitor who passes: a token shortly after render and after
 * each reset, never the same one twice.
 */
class FakeWidget implements TurnstileApi {
  params: TurnstileRenderParams | null = null;
  issued = 0;
  resets = 0;
  removed = 0;
  auto = true;

  render(_container: HTMLElement, params: TurnstileRenderParams): string {
    this.params = params;
    if (this.auto) this.issueSoon();
    return 'widget-1';
  }
  reset(id: string): void {
    expect(id).toBe('widget-1');
    this.resets++;
    if (this.auto) this.issueSoon();
  }
  remove(): void {
    this.removed++;
  }
  issueSoon(): void {
    setTimeout(() => this.params?.callback(`token-${++this.issued}`), 5);
  }
}

const container = {} as HTMLElement;

async function mounted(widget: FakeWidget, options = {}): Promise<TurnstileTokens> {
  const tokens = new TurnstileTokens('site-key', async () => widget, options);
  tokens.mount(container);
  await expect.poll(() => widget.params).not.toBeNull();
  return tokens;
}

describe('TurnstileTokens', () => {
  it('gives each of two concurrent requests its own token, resetting the widget after each', async () => {
    const widget = new FakeWidget();
    const tokens = await mounted(widget);
    const [a, b] = await Promise.all([tokens.token(), tokens.token()]);
    expect(a).not.toBe(b);
    expect([a, b].sort()).toEqual(['token-1', 'token-2']);
    expect(widget.params?.sitekey).toBe('site-key');
    // One reset per token spent: the third token is already on its way.
    expect(widget.resets).toBe(2);
    expect(await tokens.token()).toBe('token-3');
  });

  it('drops a token that expired before any request took it', async () => {
    const widget = new FakeWidget();
    widget.auto = false;
    const tokens = await mounted(widget);
    widget.params!.callback('stale');
    widget.params!['expired-callback']();
    expect(widget.resets).toBe(1);
    const next = tokens.token();
    widget.params!.callback('fresh');
    expect(await next).toBe('fresh');
  });

  it('fails a waiting request with a message when no token comes, and on a widget error', async () => {
    const widget = new FakeWidget();
    widget.auto = false;
    const tokens = await mounted(widget, { tokenTimeoutMs: 20 });
    await expect(tokens.token()).rejects.toMatchObject({ proxyCode: 'turnstile_unavailable', message: expect.stringMatching(/has not finished/) });
    const waiting = tokens.token();
    expect(widget.params!['error-callback']('300030')).toBe(true);
    await expect(waiting).rejects.toMatchObject({ proxyCode: 'turnstile_unavailable', message: expect.stringContaining('300030') });
  });

  it('stops waiting when the job is cancelled', async () => {
    const widget = new FakeWidget();
    widget.auto = false;
    const tokens = await mounted(widget);
    const controller = new AbortController();
    const waiting = tokens.token(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    // The next token goes to the next request, not to the cancelled one.
    const next = tokens.token();
    widget.params!.callback('kept');
    expect(await next).toBe('kept');
  });

  it('removes the widget when the tab goes, and a script that fails to load fails the waiting request', async () => {
    const widget = new FakeWidget();
    const tokens = new TurnstileTokens('site-key', async () => widget);
    const unmount = tokens.mount(container);
    await expect.poll(() => widget.params).not.toBeNull();
    unmount();
    expect(widget.removed).toBe(1);
    const hidden = new TurnstileTokens('site-key', async () => widget, { tokenTimeoutMs: 20 });
    await expect(hidden.token()).rejects.toMatchObject({ proxyCode: 'turnstile_unavailable', message: expect.stringMatching(/Open the Text tab/) });

    const broken = new TurnstileTokens('site-key', () => Promise.reject(new Error('blocked')), { tokenTimeoutMs: 5000 });
    const waiting = broken.token();
    broken.mount(container);
    await expect(waiting).rejects.toThrow('blocked');
  });
});

describe('turnstileSettings', () => {
  it('is off without a site key, on with Cloudflare’s script with one', () => {
    expect(turnstileSettings(undefined, '', false)).toBeNull();
    expect(turnstileSettings('', '?turnstile=x', false)).toBeNull();
    expect(turnstileSettings('0x4AAA', '', false)).toEqual({ siteKey: '0x4AAA', scriptUrl: TURNSTILE_SCRIPT_URL });
    expect(TURNSTILE_SCRIPT_URL).toMatch(/render=explicit/);
  });

  it('takes a stand-in from the page address only where the build allows it (end-to-end builds)', () => {
    const search = '?turnstile=stand-in&turnstile-script=http%3A%2F%2F127.0.0.1%3A9%2Fapi.js';
    expect(turnstileSettings(undefined, search, true)).toEqual({ siteKey: 'stand-in', scriptUrl: 'http://127.0.0.1:9/api.js' });
    expect(turnstileSettings(undefined, search, false)).toBeNull();
  });
});

describe('textToImage with Turnstile', () => {
  const ok = () => new Response(JSON.stringify({ image: 'iVBO', prompt: 'p', usage: null, costUsd: 0.01 }), { headers: { 'content-type': 'application/json' } });
  const refused = () => new Response(JSON.stringify({ error: { code: 'turnstile_failed', message: 'x' } }), { status: 403, headers: { 'content-type': 'application/json' } });

  it('sends a fresh token with every request', async () => {
    const seen: (string | null)[] = [];
    let n = 0;
    const fetch = (async (_: RequestInfo | URL, init?: RequestInit) => {
      seen.push(new Headers(init?.headers).get('x-turnstile-token'));
      return ok();
    }) as typeof globalThis.fetch;
    const turnstileToken = async () => `t${++n}`;
    await Promise.all([1, 2].map(() => textToImage('https://proxy.example/', 'a chair', { stream: false, fetch, turnstileToken })));
    expect(seen.sort()).toEqual(['t1', 't2']);
    await textToImage('https://proxy.example/', 'a chair', { stream: false, fetch });
    expect(seen[2]).toBeNull();
  });

  it('says what happened when the proxy refuses the check: a spent token, or a build without Turnstile', async () => {
    const fetch = (async () => refused()) as unknown as typeof globalThis.fetch;
    await expect(textToImage('https://proxy.example/', 'a', { fetch, turnstileToken: async () => 't' })).rejects.toMatchObject({
      proxyCode: 'turnstile_failed',
      message: PROXY_MESSAGES.turnstile_failed,
    });
    expect(PROXY_MESSAGES.turnstile_failed).toMatch(/expired or already used/);
    await expect(textToImage('https://proxy.example/', 'a', { fetch })).rejects.toMatchObject({
      proxyCode: 'turnstile_failed',
      message: TURNSTILE_MISSING_MESSAGE,
    });
    expect(TURNSTILE_MISSING_MESSAGE).toMatch(/VITE_TURNSTILE_SITE_KEY/);
  });
});
