/**
 * The proxy as a Hono app, independent of the runtime: Node and Workers entries inject the
 * configuration, the store, the clock, fetch, a log sink and how to find the peer address.
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { clientKey } from './client-ip.ts';
import { utcDay, type Clock } from './clock.ts';
import type { ProxyConfig } from './config.ts';
import { ClientGoneError, ProxyError, UpstreamLostError, upstreamErrors } from './errors.ts';
import { createLogger, type LogSink } from './log.ts';
import { renderMetrics } from './metrics.ts';
import {
  readImageResult,
  readImageStream,
  requestImage,
  type ImageJob,
  type ImageStreamEvent,
  type UpstreamDeps,
} from './openai.ts';
import {
  costFromUsage,
  estimateCostUsd,
  QUALITIES,
  SIZES,
  type ImageQuality,
  type ImageSize,
  type ImageUsage,
} from './pricing.ts';
import { MAX_PROMPT_CHARS, rewritePrompt } from './prompt.ts';
import { encodeSse } from './sse.ts';
import type { Store } from './store.ts';
import { TURNSTILE_HEADER, verifyTurnstile } from './turnstile.ts';

/** What an entry point hands to the app. */
export interface AppDeps {
  config: ProxyConfig;
  store: Store;
  clock: Clock;
  fetch: typeof fetch;
  log: LogSink;
  /**
   * The address the connection comes from: the socket peer on Node, `CF-Connecting-IP` on
   * Workers (Cloudflare sets it and clients cannot).
   */
  peerAddress: (c: Context) => string | undefined;
  /** A number in [0, 1) for retry jitter; Math.random when absent. */
  random?: () => number;
}

/** Fixed limits of the text-to-image route. */
export const LIMITS = {
  /** Request bodies above this are refused with 413. */
  bodyBytes: 16 * 1024,
  /** The whole upstream exchange, retries and streaming included. */
  deadlineMs: 120_000,
  /** Partial images asked for when the client streams. */
  partialImages: 2,
} as const;

/** The route. */
export const TEXT_TO_IMAGE_PATH = '/v1/text-to-image';

const DEFAULT_SIZE: ImageSize = '1024x1024';
const DEFAULT_QUALITY: ImageQuality = 'medium';

/** The body the client may send; nothing else is accepted. */
export interface TextToImageInput {
  prompt: string;
  size: ImageSize;
  quality: ImageQuality;
  stream: boolean;
}

/** The success answer (and the `done` event of a stream). */
export interface TextToImageResult {
  image: string;
  prompt: string;
  usage: ImageUsage | null;
  costUsd: number;
}

/** Per-request bookkeeping, written once when the request is over. */
interface Trace {
  startedMs: number;
  code: string | undefined;
  images: number;
  attempts: number;
  costUsd: number | undefined;
  stream: boolean;
  /** A stream records itself when it ends, not when its headers go out. */
  deferred: boolean;
  finished: boolean;
}

type AppEnv = { Variables: { trace: Trace } };

/** Builds the app. */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const { config, store, clock } = deps;
  const log = createLogger(deps.log, [
    config.openaiApiKey,
    config.turnstileSecret ?? '',
    config.metricsToken ?? '',
  ]);
  const upstream: UpstreamDeps = {
    baseUrl: config.openaiBaseUrl,
    apiKey: config.openaiApiKey,
    fetch: deps.fetch,
    clock,
    log,
    random: deps.random,
  };
  const app = new Hono<AppEnv>();

  /** Counts and logs the request; only the first call per request counts. */
  async function finish(c: Context<AppEnv>, status: number): Promise<void> {
    const trace = c.get('trace');
    if (trace.finished) return;
    trace.finished = true;
    const durationS = (clock.now() - trace.startedMs) / 1000;
    await keepAlive(
      c,
      store.recordRequest({ status, code: trace.code, durationS, images: trace.images }),
    );
    log({
      level: status >= 500 ? 'error' : 'info',
      msg: 'request',
      method: c.req.method,
      path: c.req.path,
      status,
      code: trace.code,
      stream: trace.stream,
      attempts: trace.attempts,
      costUsd: trace.costUsd,
      durationMs: Math.round(durationS * 1000),
    });
  }

  const track: MiddlewareHandler<AppEnv> = async (c, next) => {
    const trace: Trace = {
      startedMs: clock.now(),
      code: undefined,
      images: 0,
      attempts: 0,
      costUsd: undefined,
      stream: false,
      deferred: false,
      finished: false,
    };
    c.set('trace', trace);
    await next();
    if (c.req.method === 'OPTIONS' && c.res.status === 204) return;
    if (!trace.deferred) await finish(c, c.res.status);
  };

  const allowOrigin: MiddlewareHandler<AppEnv> = async (c, next) => {
    const origin = c.req.header('Origin');
    if (!origin || !config.allowedOrigins.has(origin)) {
      throw new ProxyError(
        'forbidden_origin',
        'This origin may not use the proxy; the operator lists allowed sites in ALLOWED_ORIGINS.',
      );
    }
    await next();
  };

  const rateLimit: MiddlewareHandler<AppEnv> = async (c, next) => {
    const client = clientKey(
      deps.peerAddress(c),
      c.req.header('X-Forwarded-For'),
      config.trustedProxies,
    );
    const decision = await store.takeRateLimit(client, config.rateLimitPerMinute, clock.now());
    if (!decision.allowed) {
      throw new ProxyError(
        'rate_limited',
        `Too many requests from your address; wait ${decision.retryAfterS} s and try again.`,
        { 'Retry-After': String(decision.retryAfterS) },
      );
    }
    await next();
  };

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.all('/healthz', () => methodNotAllowed('GET, HEAD'));

  app.get('/metrics', async (c) => {
    const token = config.metricsToken;
    if (!token) throw notFound();
    if (!timingSafeEqual(c.req.header('Authorization') ?? '', `Bearer ${token}`)) {
      throw new ProxyError(
        'unauthorized',
        'Send the metrics token as "Authorization: Bearer <METRICS_TOKEN>".',
        {
          'WWW-Authenticate': 'Bearer',
        },
      );
    }
    const snapshot = await store.snapshot(utcDay(clock.now()));
    return c.body(renderMetrics(snapshot, config.dailyBudgetUsd), 200, {
      'Content-Type': 'text/plain; version=0.0.4; charset=utf-8',
      'Cache-Control': 'no-store',
    });
  });
  app.all('/metrics', () => methodNotAllowed('GET, HEAD'));

  app.use(
    TEXT_TO_IMAGE_PATH,
    track,
    allowOrigin,
    cors({
      origin: (origin) => (config.allowedOrigins.has(origin) ? origin : null),
      allowMethods: ['POST', 'OPTIONS'],
      allowHeaders: ['Content-Type', TURNSTILE_HEADER],
      exposeHeaders: ['Retry-After'],
      maxAge: 600,
    }),
  );

  app.post(
    TEXT_TO_IMAGE_PATH,
    rateLimit,
    bodyLimit({
      maxSize: LIMITS.bodyBytes,
      onError: () => {
        throw new ProxyError(
          'payload_too_large',
          `The request body is larger than ${LIMITS.bodyBytes / 1024} KB; send a shorter prompt.`,
        );
      },
    }),
    async (c) => {
      const trace = c.get('trace');
      if (!/^application\/json\b/i.test(c.req.header('Content-Type') ?? '')) {
        throw badRequest('Send the body as JSON with "Content-Type: application/json".');
      }
      const input = parseInput(await c.req.text());
      trace.stream = input.stream;
      const clientSignal = c.req.raw.signal;
      if (config.turnstileSecret) {
        await verifyTurnstile({
          secret: config.turnstileSecret,
          verifyUrl: config.turnstileVerifyUrl,
          fetch: deps.fetch,
          token: c.req.header(TURNSTILE_HEADER),
          remoteIp: deps.peerAddress(c),
          signal: clientSignal,
        });
      }

      const prompt = rewritePrompt(input.prompt);
      const job: ImageJob = {
        model: config.imageModel,
        prompt,
        size: input.size,
        quality: input.quality,
        partialImages: input.stream ? LIMITS.partialImages : 0,
      };
      const estimateUsd = estimateCostUsd(job);
      if (clientSignal.aborted) throw new ClientGoneError();
      const now = clock.now();
      const reservation = await store.reserveBudget(
        utcDay(now),
        estimateUsd,
        config.dailyBudgetUsd,
        now,
      );
      if (!reservation.granted) {
        throw new ProxyError(
          'budget_exhausted',
          "Today's image budget is used up; try again after midnight UTC.",
        );
      }

      // From here on the reservation is settled exactly once, with what the image really cost.
      let settled = false;
      const settle = async (actualUsd: number) => {
        if (settled) return;
        settled = true;
        trace.costUsd = actualUsd;
        await keepAlive(c, store.settleBudget(reservation.id, actualUsd));
      };
      const call = startCall(clock, clientSignal, () => {
        // Workers stops running a request's own code once its client is gone (only this
        // listener still runs, thanks to enable_request_signal), so book it from here.
        trace.code = 'client_closed';
        void keepAlive(
          c,
          settle(estimateUsd).then(() => finish(c, 499)),
        );
      });
      let answered = false;
      try {
        const answer = await requestImage(job, upstream, call.signal, call.deadlineAtMs);
        answered = true;
        trace.attempts = answer.attempts;
        if (!input.stream) {
          const result = await readImageResult(answer.response, call.signal);
          const costUsd = result.usage ? costFromUsage(job.model, result.usage) : estimateUsd;
          await settle(costUsd);
          trace.images = 1;
          const body: TextToImageResult = {
            image: result.b64,
            prompt,
            usage: result.usage ?? null,
            costUsd,
          };
          return c.json(body);
        }
        trace.deferred = true;
        return streamResponse(c, {
          events: readImageStream(answer.response, call.signal),
          call,
          onEnd: async (outcome) => {
            if (outcome.kind === 'done') {
              trace.images = 1;
              await settle(outcome.costUsd);
            } else {
              trace.code = outcome.code;
              // The image may have been billed already; keep the estimate booked.
              await settle(estimateUsd);
            }
            call.dispose();
            await finish(c, outcome.kind === 'gone' ? 499 : 200);
          },
          model: job.model,
          prompt,
          estimateUsd,
        });
      } catch (error) {
        // OpenAI does not bill a request it refused; one that timed out, lost its connection or
        // that the client abandoned may have been generated, so its estimate stays booked.
        const refused =
          !answered &&
          error instanceof ProxyError &&
          error.code !== 'timeout' &&
          !(error instanceof UpstreamLostError);
        await settle(refused ? 0 : estimateUsd);
        throw error;
      } finally {
        if (!trace.deferred) call.dispose();
      }
    },
  );
  app.all(TEXT_TO_IMAGE_PATH, () => methodNotAllowed('POST, OPTIONS'));

  app.notFound((c) => c.json(notFound().toBody(), 404));

  app.onError((error, c) => {
    const trace = c.get('trace') as Trace | undefined;
    if (error instanceof ProxyError) {
      if (trace) trace.code = error.code;
      return c.json(error.toBody(), error.status as ContentfulStatusCode, error.headers);
    }
    if (error instanceof ClientGoneError) {
      if (trace) trace.code = 'client_closed';
      // Nobody reads this; 499 is nginx's convention for "client closed request".
      return new Response(null, { status: 499 });
    }
    log({ level: 'error', msg: 'unexpected error', error: String(error), stack: error.stack });
    if (trace) trace.code = 'internal';
    const internal = new ProxyError(
      'internal',
      'The proxy hit an unexpected error; try again, and report it if it persists.',
    );
    return c.json(internal.toBody(), 500);
  });

  return app;
}

/** The upstream call's lifetime: aborted by the client leaving or by the deadline. */
interface Call {
  signal: AbortSignal;
  deadlineAtMs: number;
  abort(reason: unknown): void;
  dispose(): void;
}

function startCall(clock: Clock, clientSignal: AbortSignal, onClientGone: () => void): Call {
  const controller = new AbortController();
  const onAbort = () => {
    controller.abort(new ClientGoneError());
    onClientGone();
  };
  clientSignal.addEventListener('abort', onAbort, { once: true });
  if (clientSignal.aborted) onAbort();
  const cancelTimer = clock.setTimer(LIMITS.deadlineMs, () =>
    controller.abort(upstreamErrors.timeout(LIMITS.deadlineMs / 1000)),
  );
  return {
    signal: controller.signal,
    deadlineAtMs: clock.now() + LIMITS.deadlineMs,
    abort: (reason) => controller.abort(reason),
    dispose: () => {
      cancelTimer();
      clientSignal.removeEventListener('abort', onAbort);
    },
  };
}

type StreamOutcome =
  | { kind: 'done'; costUsd: number }
  | { kind: 'error'; code: string }
  | { kind: 'gone'; code: 'client_closed' };

interface StreamOptions {
  events: AsyncGenerator<ImageStreamEvent>;
  call: Call;
  onEnd: (outcome: StreamOutcome) => Promise<void>;
  model: string;
  prompt: string;
  estimateUsd: number;
}

/**
 * Forwards upstream events as they arrive: each `pull` waits for exactly one upstream event, so
 * nothing is buffered. Errors after the headers went out become an `error` event.
 */
function streamResponse(c: Context<AppEnv>, options: StreamOptions): Response {
  const { events, call, onEnd } = options;
  let ended = false;
  const end = async (outcome: StreamOutcome) => {
    if (ended) return;
    ended = true;
    await keepAlive(c, onEnd(outcome));
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await events.next();
        if (next.done) throw upstreamErrors.unavailable();
        const event = next.value;
        if (event.type === 'partial') {
          controller.enqueue(encodeSse('partial', { index: event.index, image: event.b64 }));
          return;
        }
        const costUsd = event.usage
          ? costFromUsage(options.model, event.usage)
          : options.estimateUsd;
        const result: TextToImageResult = {
          image: event.b64,
          prompt: options.prompt,
          usage: event.usage ?? null,
          costUsd,
        };
        controller.enqueue(encodeSse('done', result));
        await end({ kind: 'done', costUsd });
        controller.close();
      } catch (error) {
        if (error instanceof ClientGoneError) {
          await end({ kind: 'gone', code: 'client_closed' });
          controller.error(error);
          return;
        }
        const failure =
          error instanceof ProxyError
            ? error
            : new ProxyError('internal', 'The proxy hit an unexpected error; try again.');
        await end({ kind: 'error', code: failure.code });
        try {
          controller.enqueue(encodeSse('error', failure.toBody()));
          controller.close();
        } catch {
          // The client left while the error was being written.
        }
      }
    },
    async cancel() {
      call.abort(new ClientGoneError());
      await events.return(undefined);
      await end({ kind: 'gone', code: 'client_closed' });
    },
  });
  return c.body(body, 200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    // Asks nginx-style proxies in front not to buffer the stream.
    'X-Accel-Buffering': 'no',
  });
}

/**
 * Awaits `work` and, on Workers, registers it with `waitUntil`: when a client disconnects,
 * Workers cancels the work of its request, and the budget and metrics must still be booked.
 */
async function keepAlive<T>(c: Context, work: Promise<T>): Promise<T> {
  let context: { waitUntil(promise: Promise<unknown>): void } | undefined;
  try {
    context = c.executionCtx;
  } catch {
    // Node: no ExecutionContext, and the process outlives the request anyway.
  }
  context?.waitUntil(work.catch(() => {}));
  return work;
}

function parseInput(text: string): TextToImageInput {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw badRequest('The body is not valid JSON; send {"prompt": "..."}.');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw badRequest('The body must be a JSON object such as {"prompt": "a red ceramic teapot"}.');
  }
  const body = raw as Record<string, unknown>;
  const allowed = ['prompt', 'size', 'quality', 'stream'];
  const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw badRequest(
      `Unknown field "${unknown[0]?.slice(0, 40)}"; send only prompt, size, quality and stream.`,
    );
  }
  const prompt = typeof body.prompt === 'string' ? body.prompt.trim() : undefined;
  const length = prompt === undefined ? 0 : [...prompt].length;
  if (prompt === undefined || length < 1 || length > MAX_PROMPT_CHARS) {
    throw badRequest(`prompt must be a text of 1 to ${MAX_PROMPT_CHARS} characters.`);
  }
  const size = body.size ?? DEFAULT_SIZE;
  if (!SIZES.includes(size as ImageSize)) {
    throw badRequest(`size must be one of ${SIZES.join(', ')}.`);
  }
  const quality = body.quality ?? DEFAULT_QUALITY;
  if (!QUALITIES.includes(quality as ImageQuality)) {
    throw badRequest(`quality must be one of ${QUALITIES.join(', ')}.`);
  }
  const stream = body.stream ?? false;
  if (typeof stream !== 'boolean') throw badRequest('stream must be true or false.');
  return { prompt, size: size as ImageSize, quality: quality as ImageQuality, stream };
}

function badRequest(message: string): ProxyError {
  return new ProxyError('bad_request', message);
}

function notFound(): ProxyError {
  return new ProxyError('not_found', `Nothing here; the proxy serves POST ${TEXT_TO_IMAGE_PATH}.`);
}

function methodNotAllowed(allow: string): never {
  throw new ProxyError('method_not_allowed', `This path only accepts ${allow}.`, { Allow: allow });
}

/** Compares secrets in time independent of where they first differ. */
function timingSafeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}
