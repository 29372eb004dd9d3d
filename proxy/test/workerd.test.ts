/**
 * The proxy in the real Workers runtime (workerd, through Miniflare), configured from
 * wrangler.jsonc, talking to the fake OpenAI on loopback.
 */
import { Miniflare, type WorkerOptions } from 'miniflare';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseSse } from '../src/sse.ts';
import { API_KEY, deferred, METRICS_TOKEN, ORIGIN } from './harness.ts';
import {
  bundleWorker,
  workerFromWranglerConfig as fromWrangler,
  workerPost,
} from './workerd-harness.ts';
import { PNG_B64, startFakeOpenAI, USAGE, type FakeOpenAI } from './fake-openai.ts';

let script: string;
let fake: FakeOpenAI;
let mf: Miniflare | undefined;
/** What the Workers wrote to their logs. */
let logs: string[] = [];

function start(workers: WorkerOptions[]): Miniflare {
  logs = [];
  mf = new Miniflare({
    workers,
    handleStructuredLogs: ({ message }: { message: string }) => {
      logs.push(message);
    },
  });
  return mf;
}

beforeAll(async () => {
  script = await bundleWorker();
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});
afterEach(async () => {
  await expect.poll(() => logs.length).toBeGreaterThan(0);
  for (const line of logs) expect(line).not.toContain(API_KEY);
  await mf?.dispose();
  mf = undefined;
});

function workerFromWranglerConfig(name: string, vars: Record<string, string>): WorkerOptions {
  return fromWrangler(name, script, fake.url, vars);
}

const post = (body: unknown) => workerPost(body);

describe('in workerd', () => {
  it('serves a full request through the Workers runtime to the upstream on loopback', async () => {
    const runtime = start([workerFromWranglerConfig('proxy', {})]);
    const before = fake.imageRequests.length;
    const res = await runtime.dispatchFetch(
      'http://proxy.example/v1/text-to-image',
      post({ prompt: 'a red ceramic teapot' }),
    );
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(JSON.parse(text)).toEqual({
      image: PNG_B64,
      prompt: expect.stringContaining('a red ceramic teapot'),
      usage: USAGE,
      costUsd: 0.04284,
    });
    expect(text).not.toContain(API_KEY);

    const sent = fake.imageRequests[before]!;
    expect(sent.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(sent.body).toMatchObject({
      model: 'gpt-image-1',
      background: 'transparent',
      output_format: 'png',
    });

    const refused = await runtime.dispatchFetch('http://proxy.example/v1/text-to-image', {
      ...post({ prompt: 'a chair' }),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as any).error.code).toBe('forbidden_origin');
  });

  it('streams partial images as they arrive', async () => {
    const runtime = start([workerFromWranglerConfig('proxy', {})]);
    const firstPartialSeen = deferred();
    fake.reply({ kind: 'stream', partials: ['cGFydGlhbDA='], holdFinal: firstPartialSeen.promise });
    const res = await runtime.dispatchFetch(
      'http://proxy.example/v1/text-to-image',
      post({ prompt: 'a chair', stream: true }),
    );
    expect(res.status).toBe(200);
    // Only once the client holds the first partial does the fake send the final event; should
    // anything buffer, the fake gives up waiting after 5 s and the order below shows it.
    let gaveUp = false;
    const timer = setTimeout(() => {
      gaveUp = true;
      firstPartialSeen.resolve();
    }, 5000);
    const events: string[] = [];
    for await (const event of parseSse(res.body as ReadableStream<Uint8Array>)) {
      events.push(event.event === 'partial' && gaveUp ? 'partial (late)' : event.event);
      if (event.event === 'partial') firstPartialSeen.resolve();
    }
    clearTimeout(timer);
    expect(events).toEqual(['partial', 'done']);
  });

  it('aborts the upstream stream when the client disconnects', async () => {
    // workerd notices a closed connection when it next writes to it, so the fake keeps sending
    // partials. Straight to the Worker's own socket: a browser closing its connection.
    const runtime = start([
      {
        ...workerFromWranglerConfig('proxy', {}),
        unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }],
      },
    ]);
    const never = deferred();
    fake.reply({
      kind: 'stream',
      partials: Array<string>(100).fill('cGFydGlhbDA='),
      partialIntervalMs: 50,
      holdFinal: never.promise,
    });
    const before = fake.imageRequests.length;
    const url = await runtime.unsafeGetDirectURL('proxy');
    const client = new AbortController();
    const res = await fetch(new URL('/v1/text-to-image', url), {
      ...post({ prompt: 'a chair', stream: true }),
      signal: client.signal,
    });
    const reader = parseSse(res.body as ReadableStream<Uint8Array>);
    expect((await reader.next()).value?.event).toBe('partial');
    client.abort();
    await fake.imageRequests[before]!.whenAbandoned;
    expect(fake.imageRequests[before]!.abandoned).toBe(true);
    never.resolve();
  });

  it('shares one rate limit between two isolates through the Durable Object', async () => {
    const shared = { className: 'ProxyStoreObject', scriptName: 'store', useSQLite: true };
    // Two Workers services with the same code run in two isolates, each with its own module
    // state; both bind PROXY_STORE to the class that the third one hosts.
    const isolate = (name: string) => ({
      ...workerFromWranglerConfig(name, { RATE_LIMIT_PER_MINUTE: '3' }),
      routes: [`${name}.example/*`],
      durableObjects: { PROXY_STORE: shared },
    });
    const runtime = start([
      isolate('isolate-a'),
      isolate('isolate-b'),
      workerFromWranglerConfig('store', {}),
    ]);
    const statuses: number[] = [];
    for (const name of ['isolate-a', 'isolate-b', 'isolate-a', 'isolate-b', 'isolate-a']) {
      const res = await runtime.dispatchFetch(
        `http://${name}.example/v1/text-to-image`,
        post({ prompt: 'a chair' }),
      );
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);

    // The metrics are shared too: either isolate reports all five requests.
    const metrics = await runtime.dispatchFetch('http://isolate-b.example/metrics', {
      headers: { Authorization: `Bearer ${METRICS_TOKEN}` },
    });
    const text = await metrics.text();
    expect(text).toContain('cadlift_proxy_requests_total{status="200"} 3');
    expect(text).toContain('cadlift_proxy_errors_total{code="rate_limited"} 2');
    expect(text).toContain('cadlift_proxy_images_generated_total 3');
  });
});
