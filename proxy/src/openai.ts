/**
 * The one upstream call: OpenAI's image generation endpoint, with retries and error mapping.
 * https://platform.openai.com/docs/api-reference/images/create
 */
import type { Clock } from './clock.ts';
import { ProxyError, upstreamErrors } from './errors.ts';
import type { LogEntry } from './log.ts';
import type { ImageQuality, ImageSize, ImageUsage } from './pricing.ts';
import { parseSse } from './sse.ts';

/** What to generate; model, background and format are the proxy's, never the client's. */
export interface ImageJob {
  model: string;
  prompt: string;
  size: ImageSize;
  quality: ImageQuality;
  /** Partial images to stream first; 0 asks for one JSON answer instead of a stream. */
  partialImages: number;
}

/**
 * Retry settings. Only answers that say nothing was generated (rate limits, not quota; 5xx) and
 * connections that never reached OpenAI are retried: a connection that broke after the request
 * went out may have started a generation OpenAI bills, and a second attempt would bill again.
 */
export const RETRY_DEFAULTS = {
  maxAttempts: 3,
  /** The first back-off; each further one doubles. */
  baseDelayMs: 1000,
  /**
   * Share of each back-off taken off at random (full wait × (1 − jitter × random)), so clients
   * that failed together do not retry together.
   */
  jitter: 0.5,
  /** A Retry-After longer than this is handed to the client instead of waited out. */
  maxDelayMs: 20_000,
};

export interface UpstreamDeps {
  baseUrl: string;
  apiKey: string;
  fetch: typeof fetch;
  clock: Clock;
  log: (entry: LogEntry) => void;
  /** A number in [0, 1) for the back-off's jitter; Math.random unless a test pins it. */
  random?: () => number;
}

/**
 * Error codes (Node's, through undici) of a connection that was never made, so the request
 * cannot have reached OpenAI. Workers' fetch does not say; there every network error counts as
 * possibly billed.
 */
const NOT_CONNECTED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** True when a fetch failure happened before any byte of the request could reach the server. */
export function neverConnected(error: unknown): boolean {
  const cause = (error as { cause?: { code?: unknown; errors?: { code?: unknown }[] } } | null)
    ?.cause;
  if (!cause) return false;
  if (NOT_CONNECTED.has(String(cause.code))) return true;
  // Happy eyeballs: every address refused.
  const all = cause.errors;
  return (
    Array.isArray(all) && all.length > 0 && all.every((e) => NOT_CONNECTED.has(String(e.code)))
  );
}

/** OpenAI's error body: `{ error: { message, type, param, code } }`. */
interface OpenAiError {
  message?: unknown;
  type?: unknown;
  code?: unknown;
}

/** The upstream answer: an OK response whose body is still unread. */
export interface UpstreamAnswer {
  response: Response;
  attempts: number;
}

/**
 * Sends the job, retrying what is worth retrying, and resolves with the first OK response.
 * Rejects with a ProxyError, or with `signal.reason` once the signal aborts (deadline or client).
 * Never waits past `deadlineAtMs`.
 */
export async function requestImage(
  job: ImageJob,
  deps: UpstreamDeps,
  signal: AbortSignal,
  deadlineAtMs: number,
): Promise<UpstreamAnswer> {
  const body = JSON.stringify({
    model: job.model,
    prompt: job.prompt,
    n: 1,
    size: job.size,
    quality: job.quality,
    background: 'transparent',
    output_format: 'png',
    ...(job.partialImages > 0 ? { stream: true, partial_images: job.partialImages } : {}),
  });
  for (let attempt = 1; ; attempt++) {
    let failure: { error: ProxyError; retryable: boolean; delayMs?: number };
    try {
      const response = await deps.fetch(`${deps.baseUrl}/images/generations`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${deps.apiKey}`,
          'Content-Type': 'application/json',
          Accept: job.partialImages > 0 ? 'text/event-stream' : 'application/json',
        },
        body,
        signal,
      });
      if (response.ok) return { response, attempts: attempt };
      const text = await response.text();
      const upstream = parseErrorBody(text);
      const delayMs = retryAfterMs(response.headers, deps.clock.now());
      failure = { ...mapUpstreamError(response.status, upstream, delayMs), delayMs };
      deps.log({
        level: 'warn',
        msg: 'upstream error',
        attempt,
        status: response.status,
        upstreamCode: stringOr(upstream.code),
        upstreamType: stringOr(upstream.type),
        upstreamMessage: stringOr(upstream.message),
      });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      const unreached = neverConnected(error);
      deps.log({
        level: 'warn',
        msg: unreached ? 'upstream unreachable' : 'upstream connection lost',
        attempt,
        error: String(error),
      });
      failure = unreached
        ? { error: upstreamErrors.unavailable(), retryable: true }
        : { error: upstreamErrors.lost(), retryable: false };
    }
    if (!failure.retryable || attempt >= RETRY_DEFAULTS.maxAttempts) throw failure.error;
    const backOffMs =
      RETRY_DEFAULTS.baseDelayMs *
      2 ** (attempt - 1) *
      (1 - RETRY_DEFAULTS.jitter * (deps.random ?? Math.random)());
    // A wait the upstream asked for is a minimum: honoured as given.
    const delayMs = failure.delayMs ?? Math.round(backOffMs);
    if (delayMs > RETRY_DEFAULTS.maxDelayMs || deps.clock.now() + delayMs >= deadlineAtMs) {
      throw failure.error;
    }
    try {
      await deps.clock.sleep(delayMs, signal);
    } catch {
      throw signal.reason;
    }
  }
}

/**
 * Maps an upstream failure to the client's code, and says whether another attempt may succeed.
 * `status` is 0 for an error event inside a stream.
 */
export function mapUpstreamError(
  status: number,
  upstream: OpenAiError,
  retryAfter?: number,
): { error: ProxyError; retryable: boolean } {
  const code = stringOr(upstream.code) ?? stringOr(upstream.type) ?? '';
  const message = stringOr(upstream.message) ?? '';
  const retryAfterS = retryAfter === undefined ? undefined : Math.ceil(retryAfter / 1000);
  if (code === 'insufficient_quota' || stringOr(upstream.type) === 'insufficient_quota') {
    return { error: upstreamErrors.quota(), retryable: false };
  }
  if (code === 'moderation_blocked' || code === 'content_policy_violation') {
    return { error: upstreamErrors.moderation(), retryable: false };
  }
  if (status === 401) return { error: upstreamErrors.auth(), retryable: false };
  if (status === 403) {
    const unverified = /verif/i.test(message);
    return {
      error: unverified ? upstreamErrors.orgVerification() : upstreamErrors.auth(),
      retryable: false,
    };
  }
  if (status === 429 || code === 'rate_limit_exceeded') {
    return {
      error: upstreamErrors.rateLimited(retryAfterS),
      retryable: code === 'rate_limit_exceeded',
    };
  }
  if (status >= 500) return { error: upstreamErrors.unavailable(), retryable: true };
  if (status >= 400) return { error: upstreamErrors.badRequest(), retryable: false };
  return { error: upstreamErrors.unavailable(), retryable: false };
}

function parseErrorBody(text: string): OpenAiError {
  try {
    const parsed: unknown = JSON.parse(text);
    const error = (parsed as { error?: unknown } | null)?.error;
    if (error && typeof error === 'object') return error as OpenAiError;
  } catch {
    // A proxy or load balancer in between may answer HTML; the status decides then.
  }
  return {};
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Reads `retry-after-ms` (OpenAI's own) or `Retry-After` (seconds or an HTTP date). */
function retryAfterMs(headers: Headers, nowMs: number): number | undefined {
  const ms = Number(headers.get('retry-after-ms'));
  if (headers.has('retry-after-ms') && Number.isFinite(ms) && ms >= 0) return ms;
  const text = headers.get('retry-after');
  if (!text) return undefined;
  const seconds = Number(text);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** A finished image. */
export interface ImageResult {
  b64: string;
  usage: ImageUsage | undefined;
}

/** Reads the JSON answer of a non-streamed generation. */
export async function readImageResult(
  response: Response,
  signal: AbortSignal,
): Promise<ImageResult> {
  let parsed: { data?: { b64_json?: unknown }[]; usage?: ImageUsage };
  try {
    parsed = (await response.json()) as typeof parsed;
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw upstreamErrors.unavailable();
  }
  const b64 = parsed.data?.[0]?.b64_json;
  if (typeof b64 !== 'string' || b64 === '') throw upstreamErrors.unavailable();
  return { b64, usage: parsed.usage };
}

/** An event of a streamed generation. */
export type ImageStreamEvent =
  | { type: 'partial'; index: number; b64: string }
  | { type: 'completed'; b64: string; usage: ImageUsage | undefined };

/**
 * Yields partial images as OpenAI sends them, then the completed one.
 * Throws a ProxyError for an error event, a malformed event or a stream that ends early.
 * https://platform.openai.com/docs/api-reference/images-streaming
 */
export async function* readImageStream(
  response: Response,
  signal: AbortSignal,
): AsyncGenerator<ImageStreamEvent> {
  if (!response.body) throw upstreamErrors.unavailable();
  try {
    for await (const sse of parseSse(response.body)) {
      let payload: Record<string, unknown>;
      try {
        payload = JSON.parse(sse.data) as Record<string, unknown>;
      } catch {
        throw upstreamErrors.unavailable();
      }
      const type = typeof payload.type === 'string' ? payload.type : sse.event;
      if (type === 'image_generation.partial_image') {
        const b64 = payload.b64_json;
        if (typeof b64 !== 'string') throw upstreamErrors.unavailable();
        const index =
          typeof payload.partial_image_index === 'number' ? payload.partial_image_index : 0;
        yield { type: 'partial', index, b64 };
      } else if (type === 'image_generation.completed') {
        const b64 = payload.b64_json;
        if (typeof b64 !== 'string' || b64 === '') throw upstreamErrors.unavailable();
        yield { type: 'completed', b64, usage: payload.usage as ImageUsage | undefined };
        return;
      } else if (type === 'error' || sse.event === 'error' || payload.error) {
        const error = (
          payload.error && typeof payload.error === 'object' ? payload.error : payload
        ) as OpenAiError;
        throw mapUpstreamError(0, error).error;
      }
    }
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    if (error instanceof ProxyError) throw error;
    throw upstreamErrors.unavailable();
  }
  throw upstreamErrors.unavailable();
}
