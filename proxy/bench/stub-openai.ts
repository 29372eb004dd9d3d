/**
 * A stub of OpenAI's images endpoint for load tests: JSON or SSE answers after a set latency, with
 * set shares of 429s, 5xx, slow streams and connections cut after the request was accepted. It
 * bills as OpenAI would: every generation it starts, at the cost of the usage it reports, whether
 * or not the caller reads the answer to the end.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { costFromUsage, roundUsd } from '../src/pricing.ts';

/** Options of the stub; shares are probabilities per request. */
export interface StubOptions {
  /** Time to the JSON answer, or to the first partial image. */
  latencyMs: number;
  /** Pause between SSE events. */
  partialIntervalMs: number;
  /** Share answered 429 rate_limit_exceeded (retry-after-ms: retryAfterMs). */
  rate429: number;
  /** Share answered 500. */
  rate5xx: number;
  /** Share of streams sent at `slowIntervalMs` per event. */
  rateSlow: number;
  slowIntervalMs: number;
  /** Share accepted (and billed) whose connection is then cut before the answer. */
  rateDrop: number;
  retryAfterMs: number;
  /** The model the proxy asks for, to price usage. */
  model: string;
}

/** A clean upstream: no faults, 40 ms to answer, 20 ms between events. */
export const STUB_DEFAULTS: StubOptions = {
  latencyMs: 40,
  partialIntervalMs: 20,
  rate429: 0,
  rate5xx: 0,
  rateSlow: 0,
  slowIntervalMs: 400,
  rateDrop: 0,
  retryAfterMs: 50,
  model: 'gpt-image-1',
};

/** What the stub saw, by request id (the `[bench:<id>]` tag the bench puts in each prompt). */
export interface StubStats {
  requests: number;
  byOutcome: Record<string, number>;
  billedUsd: number;
  /** Milliseconds each generation that answered 200 spent in the stub, by request id. */
  serviceMs: Map<string, number>;
  /** Upstream attempts per request id (the proxy's retries show as more than one). */
  attempts: Map<string, number>;
}

const USAGE = {
  input_tokens: 120,
  input_tokens_details: { text_tokens: 120, image_tokens: 0 },
  output_tokens: 1056,
  total_tokens: 1176,
};
const PNG_B64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

/** The running stub. */
export interface Stub {
  url: string;
  stats: StubStats;
  close(): Promise<void>;
}

/** Starts the stub on a free loopback port; `random` decides each request's fate. */
export async function startStub(options: Partial<StubOptions> = {}, random = Math.random): Promise<Stub> {
  const o = { ...STUB_DEFAULTS, ...options };
  const stats: StubStats = { requests: 0, byOutcome: {}, billedUsd: 0, serviceMs: new Map(), attempts: new Map() };
  const count = (outcome: string) => (stats.byOutcome[outcome] = (stats.byOutcome[outcome] ?? 0) + 1);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const started = performance.now();
      stats.requests++;
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        prompt: string;
        stream?: boolean;
        partial_images?: number;
      };
      const id = /\[bench:(\d+)\]/.exec(body.prompt)?.[1] ?? '?';
      stats.attempts.set(id, (stats.attempts.get(id) ?? 0) + 1);
      const roll = random();
      let edge = o.rate429;
      if (roll < edge) {
        count('429');
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after-ms': String(o.retryAfterMs) });
        res.end(JSON.stringify({ error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } }));
        return;
      }
      if (roll < (edge += o.rate5xx)) {
        count('500');
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'The server had an error', type: 'server_error' } }));
        return;
      }
      // From here on the generation has started: OpenAI bills it.
      const partials = body.stream ? (body.partial_images ?? 0) : 0;
      const usage = { ...USAGE, output_tokens: USAGE.output_tokens + 100 * partials };
      stats.billedUsd = roundUsd(stats.billedUsd + costFromUsage(o.model, usage));
      let closed = false;
      res.on('close', () => (closed = !res.writableFinished));
      if (roll < (edge += o.rateDrop)) {
        count('dropped');
        await sleep(o.latencyMs);
        res.socket?.destroy();
        return;
      }
      const slow = body.stream && roll < (edge += o.rateSlow);
      const interval = slow ? o.slowIntervalMs : o.partialIntervalMs;
      await sleep(o.latencyMs);
      if (!body.stream) {
        count('json');
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ data: [{ b64_json: PNG_B64 }], usage }));
        stats.serviceMs.set(id, performance.now() - started);
        return;
      }
      count(slow ? 'slow-stream' : 'stream');
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let index = 0; index < partials; index++) {
        if (index > 0) await sleep(interval);
        if (closed) return;
        const type = 'image_generation.partial_image';
        res.write(`event: ${type}\ndata: ${JSON.stringify({ type, b64_json: PNG_B64, partial_image_index: index })}\n\n`);
      }
      await sleep(interval);
      if (closed) return;
      const type = 'image_generation.completed';
      res.end(`event: ${type}\ndata: ${JSON.stringify({ type, b64_json: PNG_B64, usage })}\n\n`);
      stats.serviceMs.set(id, performance.now() - started);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    stats,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
