import { describe, expect, it } from 'vitest';
import { PROXY_MESSAGES, ProxyError, readServerSentEvents, textToImage } from '../../src/lib/text-to-image';

const PNG_BASE64 = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]).toString('base64');

/** A response body that delivers `chunks` one by one, as a network would. */
function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(encoder.encode(chunks[i++]));
      else controller.close();
    },
  });
}

function fakeFetch(response: Response, seen: Request[] = []): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    seen.push(new Request(input, init));
    return response;
  }) as typeof fetch;
}

describe('readServerSentEvents', () => {
  it('reassembles events split across chunks, with CRLF and multi-line data', async () => {
    const events = [];
    for await (const e of readServerSentEvents(streamOf(['event: par', 'tial\r\ndata: {"a":', '1}\r\n\r\nevent: done\ndata: x\ndata: y\n\n', ': comment\n\n']))) {
      events.push(e);
    }
    expect(events).toEqual([
      { event: 'partial', data: '{"a":1}' },
      { event: 'done', data: 'x\ny' },
    ]);
  });
});

describe('textToImage', () => {
  it('posts only the narrow request to <proxy>/v1/text-to-image and returns the final image', async () => {
    const seen: Request[] = [];
    const body = JSON.stringify({ image: PNG_BASE64, prompt: 'a teapot, centred', usage: { total_tokens: 3 }, costUsd: 0.04 });
    const result = await textToImage('https://proxy.example/base', 'a teapot', {
      stream: false,
      quality: 'low',
      fetch: fakeFetch(new Response(body, { headers: { 'content-type': 'application/json' } }), seen),
    });
    expect(seen[0]!.url).toBe('https://proxy.example/base/v1/text-to-image');
    expect(await seen[0]!.json()).toEqual({ prompt: 'a teapot', size: '1024x1024', quality: 'low', stream: false });
    expect(result.prompt).toBe('a teapot, centred');
    expect(result.costUsd).toBe(0.04);
    expect(new Uint8Array(await result.image.arrayBuffer()).slice(0, 4)).toEqual(new Uint8Array([0x89, 0x50, 0x4e, 0x47]));
  });

  it('streams partial images before the final one', async () => {
    const partials: number[] = [];
    const sse = [
      `event: partial\ndata: ${JSON.stringify({ index: 0, image: PNG_BASE64 })}\n\n`,
      `event: partial\ndata: ${JSON.stringify({ index: 1, image: PNG_BASE64 })}\n\n`,
      `event: done\ndata: ${JSON.stringify({ image: PNG_BASE64, prompt: 'p', usage: null, costUsd: 0.01 })}\n\n`,
    ];
    const result = await textToImage('https://proxy.example/', 'p', {
      onPartial: (_, index) => partials.push(index),
      fetch: fakeFetch(new Response(streamOf(sse), { headers: { 'content-type': 'text/event-stream' } })),
    });
    expect(partials).toEqual([0, 1]);
    expect(result.costUsd).toBe(0.01);
  });

  it('maps every proxy error code to its own sentence, in JSON errors and in stream error events', async () => {
    for (const code of Object.keys(PROXY_MESSAGES)) {
      const response = new Response(JSON.stringify({ error: { code, message: 'x' } }), { status: 400 });
      // With a Turnstile token sent, as a build with a site key does (without one, see turnstile.test.ts).
      const error = await textToImage('https://p.example/', 'p', { fetch: fakeFetch(response), turnstileToken: async () => 't' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProxyError);
      expect((error as ProxyError).proxyCode).toBe(code);
      expect((error as ProxyError).message).toBe(PROXY_MESSAGES[code]);
    }
    expect(PROXY_MESSAGES.moderation_blocked).toMatch(/^OpenAI declined this prompt/);
    const midStream = new Response(streamOf([`event: error\ndata: ${JSON.stringify({ error: { code: 'timeout', message: 't' } })}\n\n`]), {
      headers: { 'content-type': 'text/event-stream' },
    });
    const error = await textToImage('https://p.example/', 'p', { fetch: fakeFetch(midStream) }).catch((e: unknown) => e);
    expect((error as ProxyError).proxyCode).toBe('timeout');
  });

  it('keeps Retry-After from a rate-limit refusal and refuses without a configured proxy', async () => {
    const response = new Response(JSON.stringify({ error: { code: 'rate_limited', message: 'x' } }), { status: 429, headers: { 'retry-after': '17' } });
    const error = (await textToImage('https://p.example/', 'p', { fetch: fakeFetch(response) }).catch((e: unknown) => e)) as ProxyError;
    expect(error.retryAfterSeconds).toBe(17);
    await expect(textToImage('', 'p')).rejects.toMatchObject({ code: 'proxy-unconfigured' });
  });
});
