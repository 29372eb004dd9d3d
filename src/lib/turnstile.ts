/**
 * Cloudflare Turnstile in the Text tab: the widget (explicit rendering, script loaded only when the
 * tab first shows) and single-use tokens for the proxy's `X-Turnstile-Token` header.
 * https://developers.cloudflare.com/turnstile/get-started/client-side-rendering/
 */
import { abortError } from './errors';
import { ProxyError } from './text-to-image';

/** Cloudflare's script, in explicit-render mode (nothing renders until we call `render`). */
export const TURNSTILE_SCRIPT_URL = 'https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit';

/** What `render` takes; only the parameters CADLift uses. */
export interface TurnstileRenderParams {
  sitekey: string;
  callback: (token: string) => void;
  'expired-callback': () => void;
  'error-callback': (code: string) => boolean | void;
  /** 'manual': an expired token is replaced by our `reset`, so it is dropped at the same moment. */
  'refresh-expired': 'auto' | 'manual' | 'never';
}

/** The part of `window.turnstile` CADLift calls. */
export interface TurnstileApi {
  render(container: HTMLElement, params: TurnstileRenderParams): string | null | undefined;
  reset(widgetId: string): void;
  remove(widgetId: string): void;
}

/** Where the widget comes from and which site it is for. */
export interface TurnstileSettings {
  siteKey: string;
  scriptUrl: string;
}

/** Options of TurnstileTokens. */
export interface TurnstileTokensOptions {
  /** A request waits this long for a token before failing with a message that says why. */
  tokenTimeoutMs: number;
}

/** Defaults: a managed challenge usually passes in 1–3 s; 30 s covers a visitor who must click. */
export const TURNSTILE_TOKENS_DEFAULTS: TurnstileTokensOptions = { tokenTimeoutMs: 30_000 };

/**
 * The build's Turnstile settings, or null when VITE_TURNSTILE_SITE_KEY is unset (no widget, no
 * header: the app behaves as before). End-to-end builds also read `?turnstile=<site key>` and
 * `?turnstile-script=<url>` from the page address, so a test can point them at a stand-in.
 */
export function turnstileSettings(
  siteKey: string | undefined = import.meta.env.VITE_TURNSTILE_SITE_KEY,
  search: string = globalThis.location?.search ?? '',
  allowOverride: boolean = import.meta.env.MODE === 'e2e',
): TurnstileSettings | null {
  let settings: TurnstileSettings | null = siteKey ? { siteKey, scriptUrl: TURNSTILE_SCRIPT_URL } : null;
  if (allowOverride) {
    const params = new URLSearchParams(search);
    const key = params.get('turnstile');
    if (key) settings = { siteKey: key, scriptUrl: params.get('turnstile-script') ?? TURNSTILE_SCRIPT_URL };
  }
  return settings;
}

const scripts = new Map<string, Promise<TurnstileApi>>();

/** Adds Turnstile's script to the page once and resolves with `window.turnstile`. */
export function loadTurnstile(scriptUrl: string): Promise<TurnstileApi> {
  let loading = scripts.get(scriptUrl);
  if (!loading) {
    loading = new Promise<TurnstileApi>((resolve, reject) => {
      const script = document.createElement('script');
      script.src = scriptUrl;
      script.async = true;
      script.onload = () => {
        const api = (globalThis as { turnstile?: TurnstileApi }).turnstile;
        if (api) resolve(api);
        else reject(unavailable('its script loaded without the Turnstile API'));
      };
      script.onerror = () => reject(unavailable('its script could not be loaded'));
      document.head.append(script);
    });
    // A failed load may succeed on the next visit to the tab.
    loading.catch(() => scripts.delete(scriptUrl));
    scripts.set(scriptUrl, loading);
  }
  return loading;
}

function unavailable(why: string): ProxyError {
  return new ProxyError(
    'turnstile_unavailable',
    `The human check (Cloudflare Turnstile) did not load: ${why}. Allow challenges.cloudflare.com (content blockers often stop it) and reload the page.`,
  );
}

interface Waiter {
  resolve: (token: string) => void;
  reject: (error: unknown) => void;
}

/**
 * Hands out Turnstile tokens, each once: the proxy's verification spends a token, and two jobs
 * draw at the same time, so every request takes its own and the widget is reset for the next.
 */
export class TurnstileTokens {
  private readonly options: TurnstileTokensOptions;
  /** A token the widget produced that no request has taken yet. */
  private ready: string | null = null;
  private readonly waiters: Waiter[] = [];
  private widget: { api: TurnstileApi; id: string } | null = null;
  private mounts = 0;

  constructor(
    private readonly siteKey: string,
    private readonly load: () => Promise<TurnstileApi>,
    options: Partial<TurnstileTokensOptions> = {},
  ) {
    this.options = { ...TURNSTILE_TOKENS_DEFAULTS, ...options };
  }

  /**
   * Renders the widget into `container` (the Text tab); returns the function that removes it.
   * Requests made while it is not shown wait for the next mount.
   */
  mount(container: HTMLElement): () => void {
    const mount = ++this.mounts;
    let removed = false;
    this.load().then(
      (api) => {
        if (removed || mount !== this.mounts) return;
        const id = api.render(container, {
          sitekey: this.siteKey,
          callback: (token) => this.deliver(token),
          'expired-callback': () => {
            this.ready = null;
            this.reset();
          },
          'error-callback': (code) => {
            this.failAll(
              new ProxyError(
                'turnstile_unavailable',
                `The human check (Cloudflare Turnstile) failed on this device (error ${code}). Reload the page and try again.`,
              ),
            );
            // Turnstile retries by itself; a later token still serves the next request.
            return true;
          },
          'refresh-expired': 'manual',
        });
        if (id) this.widget = { api, id };
      },
      (error: unknown) => this.failAll(error),
    );
    return () => {
      removed = true;
      if (this.widget && mount === this.mounts) {
        this.widget.api.remove(this.widget.id);
        this.widget = null;
      }
    };
  }

  /** A fresh token for one request; rejects after `tokenTimeoutMs`, or when `signal` aborts. */
  token(signal?: AbortSignal): Promise<string> {
    if (signal?.aborted) return Promise.reject(abortError());
    if (this.ready) {
      const token = this.ready;
      this.ready = null;
      this.reset();
      return Promise.resolve(token);
    }
    return new Promise<string>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
      };
      const waiter: Waiter = {
        resolve: (token) => {
          done();
          resolve(token);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      };
      const onAbort = () => waiter.reject(abortError());
      const timer = setTimeout(
        () =>
          waiter.reject(
            new ProxyError(
              'turnstile_unavailable',
              this.widget
                ? 'The human check (Cloudflare Turnstile) has not finished. Complete it above the prompt and press Regenerate; if it shows nothing, tell the site owner.'
                : 'The human check (Cloudflare Turnstile) lives on the Text tab and is not showing. Open the Text tab, let it finish, then press Regenerate.',
            ),
          ),
        this.options.tokenTimeoutMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private deliver(token: string): void {
    const waiter = this.waiters[0];
    if (!waiter) {
      this.ready = token;
      return;
    }
    waiter.resolve(token);
    // That token is spent: start on the next one.
    this.reset();
  }

  private reset(): void {
    if (this.widget) this.widget.api.reset(this.widget.id);
  }

  private failAll(error: unknown): void {
    for (const waiter of [...this.waiters]) waiter.reject(error);
  }
}

let shared: TurnstileTokens | null | undefined;

/** The app's one token source (null without a site key); the widget lives in the Text tab. */
export function appTurnstile(): TurnstileTokens | null {
  if (shared === undefined) {
    const settings = turnstileSettings();
    shared = settings ? new TurnstileTokens(settings.siteKey, () => loadTurnstile(settings.scriptUrl)) : null;
  }
  return shared;
}
