/**
 * A stand-in for OpenAI's Images API (and Turnstile's siteverify) on loopback. It records what it
 * receives and answers from a script of replies: an image, an error, a stream, silence or a cut
 * connection.
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/** A 1×1 transparent PNG, base64. */
export const PNG_B64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

/** The usage OpenAI reports for a medium 1024×1024 image with a short prompt. */
export const USAGE = {
  input_tokens: 120,
  input_tokens_details: { text_tokens: 120, image_tokens: 0 },
  output_tokens: 1056,
  total_tokens: 1176,
};

export type Reply =
  | {
      kind: 'image';
      b64?: string;
      usage?: object;
      /** The answer waits for this. */ hold?: Promise<void>;
    }
  | { kind: 'error'; status: number; body?: unknown; headers?: Record<string, string> }
  /** Accepts the request and never answers. */
  | { kind: 'hang' }
  /** Destroys the connection without an answer: a network error. */
  | { kind: 'drop' }
  | {
      kind: 'stream';
      partials: string[];
      /** Pause between partials, as a real generation takes seconds per partial. */
      partialIntervalMs?: number;
      /** The completed event waits for this. */
      holdFinal?: Promise<void>;
      /** After the partials: an error event instead of the completed one. */
      errorEvent?: object;
      /** After the partials: cut the connection. */
      dropAfterPartials?: boolean;
      usage?: object;
    };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, or the raw text when not JSON. */
  body: unknown;
  /** True once the client (the proxy) closed the connection before the answer was complete. */
  abandoned: boolean;
  /** Resolves when the client abandons the request. */
  whenAbandoned: Promise<void>;
}

/** Common error bodies, shaped as OpenAI sends them. */
export const OPENAI_ERRORS = {
  badKey: (key: string) => ({
    error: {
      message: `Incorrect API key provided: ${key}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      type: 'invalid_request_error',
      param: null,
      code: 'invalid_api_key',
    },
  }),
  unverified: {
    error: {
      message:
        'Your organization must be verified to use the model `gpt-image-1`. Please go to: https://platform.openai.com/settings/organization/general and click on Verify Organization.',
      type: 'invalid_request_error',
      param: null,
      code: null,
    },
  },
  region: {
    error: {
      message: 'Country, region, or territory not supported',
      type: 'request_forbidden',
      param: null,
      code: 'unsupported_country_region_territory',
    },
  },
  rateLimit: {
    error: {
      message: 'Rate limit reached for gpt-image-1 on images per minute (IPM): Limit 5.',
      type: 'requests',
      param: null,
      code: 'rate_limit_exceeded',
    },
  },
  quota: {
    error: {
      message: 'You exceeded your current quota, please check your plan and billing details.',
      type: 'insufficient_quota',
      param: null,
      code: 'insufficient_quota',
    },
  },
  moderation: {
    error: {
      message: 'Your request was rejected as a result of our safety system.',
      type: 'image_generation_user_error',
      param: null,
      code: 'moderation_blocked',
    },
  },
  badRequest: {
    error: {
      message: "Invalid value: 'transparent'. Supported values are: 'opaque' and 'auto'.",
      type: 'invalid_request_error',
      param: 'background',
      code: 'invalid_value',
    },
  },
  server: {
    error: {
      message: 'The server had an error while processing your request.',
      type: 'server_error',
      param: null,
      code: null,
    },
  },
};

/** The fake server. */
export class FakeOpenAI {
  readonly requests: RecordedRequest[] = [];
  readonly #replies: Reply[] = [];
  readonly #server: Server;
  readonly #waiters: { count: number; resolve: () => void }[] = [];
  readonly #spentTokens = new Set<string>();
  #port = 0;

  constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // Turnstile's siteverify takes a form.
        }
        let markAbandoned = () => {};
        const recorded: RecordedRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body,
          abandoned: false,
          whenAbandoned: new Promise<void>((resolve) => (markAbandoned = resolve)),
        };
        res.on('close', () => {
          if (!res.writableFinished) {
            recorded.abandoned = true;
            markAbandoned();
          }
        });
        this.requests.push(recorded);
        for (const waiter of [...this.#waiters]) {
          if (this.requests.length >= waiter.count) {
            this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
            waiter.resolve();
          }
        }
        if (recorded.path.startsWith('/turnstile')) return this.#turnstile(text, res);
        void this.#answer(this.#replies.shift() ?? { kind: 'image' }, res);
      });
    });
  }

  /** Starts listening on 127.0.0.1. */
  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.#port = (this.#server.address() as AddressInfo).port;
    return this;
  }

  /** The base URL to use as OPENAI_BASE_URL. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}/v1`;
  }

  /** The URL to use as TURNSTILE_VERIFY_URL; a token starting with `good` passes, once. */
  get turnstileUrl(): string {
    return `http://127.0.0.1:${this.#port}/turnstile`;
  }

  /** Queues replies for the next requests; without one, a request gets an image. */
  reply(...replies: Reply[]): this {
    this.#replies.push(...replies);
    return this;
  }

  /** Image-generation requests only (not Turnstile checks). */
  get imageRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.path === '/v1/images/generations');
  }

  /** Resolves once `count` requests in all have arrived. */
  waitForRequests(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #answer(reply: Reply, res: ServerResponse): Promise<void> {
    switch (reply.kind) {
      case 'image':
        await reply.hold;
        if (res.destroyed) return;
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify({
            created: 1_760_000_000,
            background: 'transparent',
            output_format: 'png',
            data: [{ b64_json: reply.b64 ?? PNG_B64 }],
            usage: reply.usage ?? USAGE,
          }),
        );
        return;
      case 'error':
        res.writeHead(reply.status, { 'Content-Type': 'application/json', ...reply.headers });
        res.end(JSON.stringify(reply.body ?? {}));
        return;
      case 'hang':
        return;
      case 'drop':
        res.socket?.destroy();
        return;
      case 'stream': {
        res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
        for (const [index, b64] of reply.partials.entries()) {
          if (index > 0 && reply.partialIntervalMs) {
            await new Promise((r) => setTimeout(r, reply.partialIntervalMs));
            if (res.destroyed) return;
          }
          const type = 'image_generation.partial_image';
          res.write(
            `event: ${type}\ndata: ${JSON.stringify({ type, b64_json: b64, partial_image_index: index, created_at: 1_760_000_000 })}\n\n`,
          );
        }
        if (reply.dropAfterPartials) {
          // Give the partials time to leave before the cut.
          setTimeout(() => res.socket?.destroy(), 50);
          return;
        }
        await reply.holdFinal;
        if (res.destroyed) return;
        if (reply.errorEvent) {
          res.end(
            `event: error\ndata: ${JSON.stringify({ type: 'error', error: reply.errorEvent })}\n\n`,
          );
          return;
        }
        const type = 'image_generation.completed';
        res.end(
          `event: ${type}\ndata: ${JSON.stringify({ type, b64_json: PNG_B64, usage: reply.usage ?? USAGE })}\n\n`,
        );
        return;
      }
    }
  }

  /** Turnstile's siteverify: a token that starts with `good` passes once, as a real one does. */
  #turnstile(form: string, res: ServerResponse): void {
    const token = new URLSearchParams(form).get('response') ?? '';
    const reused = this.#spentTokens.has(token);
    const success = token.startsWith('good') && !reused;
    if (success) this.#spentTokens.add(token);
    const errorCode = reused ? 'timeout-or-duplicate' : 'invalid-input-response';
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(success ? { success } : { success, 'error-codes': [errorCode] }));
  }
}

/** Starts a fake on a free loopback port. */
export function startFakeOpenAI(): Promise<FakeOpenAI> {
  return new FakeOpenAI().start();
}
