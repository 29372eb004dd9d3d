/** Shared set-up: the app wired to a fake OpenAI, a fake clock, a memory store, a log capture. */
import { expect } from 'vitest';
import { createApp, TEXT_TO_IMAGE_PATH } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { startNodeServer } from '../src/node.ts';
import { MemoryStore } from '../src/store.ts';
import { FakeClock } from './fake-clock.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fake-openai.ts';

import { API_KEY, METRICS_TOKEN, ORIGIN } from './constants.ts';

export { API_KEY, METRICS_TOKEN, ORIGIN };

/** A plain response read to the end. */
export interface ReadResponse {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export interface Harness {
  fake: FakeOpenAI;
  clock: FakeClock;
  store: MemoryStore;
  logs: string[];
  app: ReturnType<typeof createApp>;
  /** Every response body read so far. */
  bodies: string[];
  /** POSTs a body to the route from the allowed origin; `undefined` in `headers` drops one. */
  post(body: unknown, headers?: Record<string, string | undefined>): Promise<ReadResponse>;
  /** Any request, read to the end. */
  request(path: string, init?: RequestInit): Promise<ReadResponse>;
  /** Fails if the API key appears in any response or log line. */
  assertNoKeyLeak(): void;
  close(): Promise<void>;
}

export interface SetupOptions {
  /** Moves the fake clock this far each time an upstream answer arrives: a slow OpenAI. */
  upstreamLatencyMs?: number;
  /** The retry jitter's random numbers; 0 (no jitter: the full back-off) unless a test says. */
  random?: () => number;
}

/** Builds the app over a fresh fake; `env` (or `env(fake)`) overrides the defaults. */
export async function setup(
  env: Record<string, string> | ((fake: FakeOpenAI) => Record<string, string>) = {},
  options: SetupOptions = {},
): Promise<Harness> {
  const fake = await startFakeOpenAI();
  const clock = new FakeClock();
  const store = new MemoryStore();
  const logs: string[] = [];
  const bodies: string[] = [];
  const config = loadConfig({
    OPENAI_API_KEY: API_KEY,
    OPENAI_BASE_URL: fake.url,
    ALLOWED_ORIGINS: `${ORIGIN}, http://localhost:5173`,
    METRICS_TOKEN,
    ...(typeof env === 'function' ? env(fake) : env),
  });
  const app = createApp({
    config,
    store,
    clock,
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      if (options.upstreamLatencyMs) clock.advance(options.upstreamLatencyMs);
      return response;
    },
    log: (line) => logs.push(line),
    random: options.random ?? (() => 0),
    // app.request() has no socket: tests name the peer in a header of their own.
    peerAddress: (c) => c.req.header('X-Test-Peer') ?? '198.51.100.7',
  });
  const read = async (response: Response): Promise<ReadResponse> => {
    const text = await response.text();
    bodies.push(text);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
  };
  const request = async (path: string, init?: RequestInit) => read(await app.request(path, init));
  return {
    fake,
    clock,
    store,
    logs,
    app,
    bodies,
    request,
    post: (body, headers = {}) => {
      const merged: Record<string, string> = {};
      for (const [k, v] of Object.entries({
        Origin: ORIGIN,
        'Content-Type': 'application/json',
        ...headers,
      })) {
        if (v !== undefined) merged[k] = v;
      }
      return request(TEXT_TO_IMAGE_PATH, {
        method: 'POST',
        headers: merged,
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    },
    assertNoKeyLeak: () => {
      const secret = API_KEY.slice('sk-proj-'.length);
      for (const text of [...bodies, ...logs]) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(API_KEY.slice(0, 16));
      }
    },
    close: () => fake.close(),
  };
}

/** The Node server (real sockets) over a fresh fake, with the fake clock and a log capture. */
export interface ServerHarness {
  fake: FakeOpenAI;
  clock: FakeClock;
  logs: string[];
  /** http://127.0.0.1:port */
  url: string;
  /** POSTs JSON to the route from the allowed origin. */
  post(
    body: unknown,
    init?: { headers?: Record<string, string>; signal?: AbortSignal },
  ): Promise<Response>;
  close(): Promise<void>;
}

/** Starts the proxy's Node entry on a free loopback port. */
export async function startServer(env: Record<string, string> = {}): Promise<ServerHarness> {
  const fake = await startFakeOpenAI();
  const clock = new FakeClock();
  const logs: string[] = [];
  const server = await startNodeServer({
    env: {
      OPENAI_API_KEY: API_KEY,
      OPENAI_BASE_URL: fake.url,
      ALLOWED_ORIGINS: ORIGIN,
      METRICS_TOKEN,
      ...env,
    },
    port: 0,
    hostname: '127.0.0.1',
    clock,
    log: (line) => logs.push(line),
  });
  const url = `http://127.0.0.1:${server.port}`;
  return {
    fake,
    clock,
    logs,
    url,
    post: (body, init = {}) =>
      fetch(`${url}${TEXT_TO_IMAGE_PATH}`, {
        method: 'POST',
        headers: { Origin: ORIGIN, 'Content-Type': 'application/json', ...init.headers },
        body: JSON.stringify(body),
        signal: init.signal,
      }),
    close: async () => {
      await server.close();
      await fake.close();
    },
  };
}

/** A promise with its resolve function outside. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
