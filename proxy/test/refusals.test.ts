import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TEXT_TO_IMAGE_PATH } from '../src/app.ts';
import { ORIGIN, setup, type Harness } from './harness.ts';

let h: Harness;
beforeEach(async () => {
  h = await setup();
});
afterEach(async () => {
  h.assertNoKeyLeak();
  await h.close();
});

function expectError(res: { status: number; json: any }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.json).toEqual({ error: { code, message: expect.any(String) } });
  expect(res.json.error.message.length).toBeGreaterThan(10);
}

describe('origins', () => {
  it('refuses a missing Origin before any upstream call', async () => {
    expectError(
      await h.post({ prompt: 'a chair' }, { Origin: undefined }),
      403,
      'forbidden_origin',
    );
    expect(h.fake.requests).toHaveLength(0);
  });

  it.each([
    'https://evil.example',
    'null',
    'https://cadlift.example.evil.example',
    'http://cadlift.example',
  ])('refuses Origin %s before any upstream call', async (origin) => {
    const res = await h.post({ prompt: 'a chair' }, { Origin: origin });
    expectError(res, 403, 'forbidden_origin');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(h.fake.requests).toHaveLength(0);
  });

  it('answers the preflight of an allowed origin', async () => {
    const res = await h.request(TEXT_TO_IMAGE_PATH, {
      method: 'OPTIONS',
      headers: {
        Origin: ORIGIN,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(res.headers.get('access-control-allow-methods')).toBe('POST,OPTIONS');
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain(
      'content-type',
    );
    expect(res.headers.get('access-control-max-age')).toBe('600');
  });

  it('refuses the preflight of another origin', async () => {
    const res = await h.request(TEXT_TO_IMAGE_PATH, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' },
    });
    expectError(res, 403, 'forbidden_origin');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('request body', () => {
  it.each([
    ['not JSON', '{"prompt": '],
    ['an array', '["a chair"]'],
    ['null', 'null'],
    ['an unknown key', { prompt: 'a chair', model: 'dall-e-3' }],
    ['a background override', { prompt: 'a chair', background: 'opaque' }],
    ['no prompt', { size: '1024x1024' }],
    ['an empty prompt', { prompt: '' }],
    ['a blank prompt', { prompt: ' \n\t ' }],
    ['a prompt of 1001 characters', { prompt: 'x'.repeat(1001) }],
    ['a prompt that is not text', { prompt: 42 }],
    ['an unknown size', { prompt: 'a chair', size: '512x512' }],
    ['an unknown quality', { prompt: 'a chair', quality: 'hd' }],
    ['stream that is not boolean', { prompt: 'a chair', stream: 'yes' }],
  ])('refuses %s with bad_request', async (_, body) => {
    expectError(await h.post(body), 400, 'bad_request');
    expect(h.fake.requests).toHaveLength(0);
  });

  it('refuses a body that is not declared as JSON', async () => {
    expectError(
      await h.post({ prompt: 'a chair' }, { 'Content-Type': 'text/plain' }),
      400,
      'bad_request',
    );
  });

  it('accepts 1000 characters after trimming, counting code points', async () => {
    expect((await h.post({ prompt: `  ${'x'.repeat(1000)}  ` })).status).toBe(200);
    expect((await h.post({ prompt: '🫖'.repeat(1000) })).status).toBe(200);
  });

  it('refuses bodies over 16 KB with payload_too_large', async () => {
    const big = JSON.stringify({ prompt: 'a chair', pad: 'x'.repeat(17 * 1024) });
    expectError(await h.post(big), 413, 'payload_too_large');
    expect(h.fake.requests).toHaveLength(0);
  });

  it('refuses a chunked body over 16 KB (no Content-Length to trust)', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(4096));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 5) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await h.app.request(TEXT_TO_IMAGE_PATH, {
      method: 'POST',
      headers: {
        Origin: ORIGIN,
        'Content-Type': 'application/json',
        'Transfer-Encoding': 'chunked',
      },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).error.code).toBe('payload_too_large');
  });
});

describe('rate limit', () => {
  it('allows RATE_LIMIT_PER_MINUTE requests per client, then answers 429 with Retry-After', async () => {
    await h.close();
    h = await setup({ RATE_LIMIT_PER_MINUTE: '3' });
    for (let i = 0; i < 3; i++) {
      expect((await h.post({ prompt: 'a chair' })).status).toBe(200);
      h.clock.advance(10_000);
    }
    const refused = await h.post({ prompt: 'a chair' });
    expectError(refused, 429, 'rate_limited');
    // The first request leaves the window 60 s after it was made: 30 s from now.
    expect(refused.headers.get('retry-after')).toBe('30');
    expect(refused.headers.get('access-control-expose-headers')).toContain('Retry-After');
    expect(h.fake.imageRequests).toHaveLength(3);

    // Another client is not affected.
    expect((await h.post({ prompt: 'a chair' }, { 'X-Test-Peer': '203.0.113.5' })).status).toBe(
      200,
    );

    h.clock.advance(30_000);
    expect((await h.post({ prompt: 'a chair' })).status).toBe(200);
  });

  it('defaults to 10 per minute', async () => {
    for (let i = 0; i < 10; i++) expect((await h.post({ prompt: '' })).status).toBe(400);
    expect((await h.post({ prompt: '' })).status).toBe(429);
  });

  it('ignores X-Forwarded-For unless TRUST_PROXY names the peer', async () => {
    await h.close();
    h = await setup({ RATE_LIMIT_PER_MINUTE: '1' });
    expect((await h.post({ prompt: 'a chair' }, { 'X-Forwarded-For': '192.0.2.1' })).status).toBe(
      200,
    );
    // A forged header does not make a new client.
    expect((await h.post({ prompt: 'a chair' }, { 'X-Forwarded-For': '192.0.2.2' })).status).toBe(
      429,
    );
  });

  it('keys on the forwarded client when the peer is a trusted proxy', async () => {
    await h.close();
    h = await setup({ RATE_LIMIT_PER_MINUTE: '1', TRUST_PROXY: '10.0.0.0/8' });
    const via = (xff: string) => ({ 'X-Test-Peer': '10.1.2.3', 'X-Forwarded-For': xff });
    expect((await h.post({ prompt: 'a chair' }, via('192.0.2.1'))).status).toBe(200);
    expect((await h.post({ prompt: 'a chair' }, via('192.0.2.2'))).status).toBe(200);
    // A client cannot escape by prepending addresses: the rightmost untrusted hop counts.
    expect((await h.post({ prompt: 'a chair' }, via('198.51.100.1, 192.0.2.1'))).status).toBe(429);
  });
});

describe('daily budget', () => {
  it('refuses with budget_exhausted once the day is spent, and resets at midnight UTC', async () => {
    await h.close();
    // One medium 1024² image is reserved at about $0.045 and settles at $0.04284.
    h = await setup({ DAILY_BUDGET_USD: '0.1', RATE_LIMIT_PER_MINUTE: '100' });
    expect((await h.post({ prompt: 'a chair' })).status).toBe(200);
    expect((await h.post({ prompt: 'a chair' })).status).toBe(200);
    const refused = await h.post({ prompt: 'a chair' });
    expectError(refused, 402, 'budget_exhausted');
    expect(h.fake.imageRequests).toHaveLength(2);

    h.clock.advance(12 * 3600_000); // 12:00 UTC → 00:00 UTC the next day
    expect((await h.post({ prompt: 'a chair' })).status).toBe(200);
  });
});
