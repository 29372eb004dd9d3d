import { AppError, abortError, throwIfAborted } from './errors';

/** Image sizes and qualities the proxy accepts (it pins model, background and format). */
export type ImageSize = '1024x1024' | '1536x1024' | '1024x1536' | 'auto';
export type ImageQuality = 'low' | 'medium' | 'high' | 'auto';

/** One text-to-image request. */
export interface TextToImageOptions {
  size: ImageSize;
  quality: ImageQuality;
  /** Ask for partial images as they are drawn (server-sent events). */
  stream: boolean;
  signal?: AbortSignal;
  /** Called with each partial image as it arrives. */
  onPartial?: (image: Blob, index: number) => void;
  /**
   * A fresh Cloudflare Turnstile token for this request (each is valid once), sent as
   * `X-Turnstile-Token`; absent when the site has no Turnstile.
   */
  turnstileToken?: (signal?: AbortSignal) => Promise<string>;
  fetch?: typeof fetch;
}

/** Defaults: a square, medium-quality image, streamed. */
export const TEXT_TO_IMAGE_DEFAULTS: Pick<TextToImageOptions, 'size' | 'quality' | 'stream'> = {
  size: '1024x1024',
  quality: 'medium',
  stream: true,
};

/** What the proxy answers: the image, the prompt it really sent, tokens used and estimated cost. */
export interface TextToImageResult {
  image: Blob;
  prompt: string;
  usage: unknown;
  costUsd: number;
}

/** A refusal or upstream failure, with the proxy's stable code. */
export class ProxyError extends AppError {
  constructor(
    readonly proxyCode: string,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super('text-to-image-failed', message);
  }
}

/** One clear sentence per proxy error code (issue 4's list); unknown codes get a generic one. */
export const PROXY_MESSAGES: Record<string, string> = {
  forbidden_origin: 'This site is not allowed to use the image service. Open CADLift from its own address.',
  bad_request: 'The image service did not accept this request. Shorten or rephrase the prompt and try again.',
  payload_too_large: 'The prompt is too long. Keep it under 1,000 characters.',
  rate_limited: 'Too many prompts in a short time. Wait a minute and try again.',
  budget_exhausted: "Today's image budget for this site is used up. Try again tomorrow (UTC), or upload a photo instead.",
  not_found: 'The image service address is wrong. Check VITE_PROXY_URL.',
  method_not_allowed: 'The image service address is wrong. Check VITE_PROXY_URL.',
  auth: 'The image service is misconfigured (its OpenAI key was refused). Tell the site owner.',
  org_verification: 'OpenAI requires the site owner to verify their organisation before it draws images.',
  upstream_rate_limited: 'OpenAI is busy right now. Wait a moment and try again.',
  quota: "The site's OpenAI quota is used up. Tell the site owner, or upload a photo instead.",
  moderation_blocked: 'OpenAI declined this prompt. Rephrase it and try again.',
  upstream_bad_request: 'OpenAI did not accept this prompt. Rephrase it and try again.',
  upstream_unavailable: 'OpenAI is unavailable right now. Try again in a few minutes.',
  timeout: 'OpenAI took too long to draw the image. Try again, perhaps with lower quality.',
  turnstile_failed: "The image service did not accept this request's human check (Cloudflare Turnstile): the token was expired or already used. Press Regenerate to try again with a new check.",
  unauthorized: 'The image service refused this request. Reload the page and try again.',
  internal: 'The image service hit an internal error. Try again in a moment.',
};

/** turnstile_failed when this app sent no token: the proxy wants Turnstile and this build has none. */
export const TURNSTILE_MISSING_MESSAGE =
  "The image service requires a human check (Cloudflare Turnstile) that this build of CADLift does not show. The site owner must set VITE_TURNSTILE_SITE_KEY when building it.";

function proxyError(code: string, retryAfter?: number): ProxyError {
  return new ProxyError(code, PROXY_MESSAGES[code] ?? `The image service failed (${code}). Try again in a moment.`, retryAfter);
}

function base64ToBlob(base64: string): Blob {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new Blob([bytes], { type: 'image/png' });
}

interface DonePayload {
  image: string;
  prompt: string;
  usage: unknown;
  costUsd: number;
}

function toResult(done: DonePayload): TextToImageResult {
  return { image: base64ToBlob(done.image), prompt: done.prompt, usage: done.usage, costUsd: done.costUsd };
}

/** Splits a server-sent-events byte stream into (event, data) pairs as they arrive. */
export async function* readServerSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<{ event: string; data: string }> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, '\n');
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        }
        if (data.length) yield { event, data: data.join('\n') };
      }
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * Asks the project's proxy for an image of `prompt` (the OpenAI key stays on the proxy). Partial
 * images stream through `onPartial`; failures are ProxyErrors with a clear message per code.
 */
export async function textToImage(proxyUrl: string, prompt: string, options: Partial<TextToImageOptions> = {}): Promise<TextToImageResult> {
  const o = { ...TEXT_TO_IMAGE_DEFAULTS, ...options };
  if (!proxyUrl) {
    throw new AppError('proxy-unconfigured', 'Text to 3D needs the image proxy: set VITE_PROXY_URL when building CADLift.');
  }
  const doFetch = o.fetch ?? fetch;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  // A token per request, taken just before sending: the proxy spends it, and it expires in 5 minutes.
  if (o.turnstileToken) headers['x-turnstile-token'] = await o.turnstileToken(o.signal);
  let response: Response;
  try {
    // A relative VITE_PROXY_URL (a proxy mounted on the app's own origin) resolves against the page.
    const base = new URL(proxyUrl.endsWith('/') ? proxyUrl : `${proxyUrl}/`, globalThis.location?.href);
    response = await doFetch(new URL('v1/text-to-image', base), {
      method: 'POST',
      headers,
      body: JSON.stringify({ prompt, size: o.size, quality: o.quality, stream: o.stream }),
      signal: o.signal,
    });
  } catch {
    throwIfAborted(o.signal);
    throw new ProxyError('network', 'Could not reach the image service, or it does not accept requests from this site. Check your connection and try again.');
  }
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: { code?: string } } | null;
    const retryAfter = Number(response.headers.get('retry-after')) || undefined;
    const code = body?.error?.code ?? `http_${response.status}`;
    if (code === 'turnstile_failed' && !o.turnstileToken) throw new ProxyError(code, TURNSTILE_MISSING_MESSAGE);
    throw proxyError(code, retryAfter);
  }
  if (!(response.headers.get('content-type') ?? '').includes('text/event-stream')) {
    return toResult((await response.json()) as DonePayload);
  }
  if (!response.body) throw proxyError('upstream_unavailable');
  for await (const { event, data } of readServerSentEvents(response.body)) {
    if (o.signal?.aborted) throw abortError();
    const payload = JSON.parse(data) as Record<string, unknown>;
    if (event === 'partial') o.onPartial?.(base64ToBlob(String(payload.image)), Number(payload.index));
    else if (event === 'done') return toResult(payload as unknown as DonePayload);
    else if (event === 'error') {
      const error = payload.error as { code?: string } | undefined;
      throw proxyError(error?.code ?? 'upstream_unavailable');
    }
  }
  throwIfAborted(o.signal);
  throw proxyError('upstream_unavailable');
}
