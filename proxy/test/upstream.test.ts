import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { API_KEY, setup, type Harness } from './harness.ts';
import { OPENAI_ERRORS, type Reply } from './fake-openai.ts';

let h: Harness;
beforeEach(async () => {
  h = await setup();
});
afterEach(async () => {
  h.assertNoKeyLeak();
  await h.close();
});

const error = (status: number, body: unknown, headers?: Record<string, string>): Reply => ({
  kind: 'error',
  status,
  body,
  headers,
});

describe('upstream errors map to stable codes', () => {
  it.each([
    ['401 bad key', error(401, OPENAI_ERRORS.badKey(API_KEY)), 502, 'auth'],
    ['403 unverified organisation', error(403, OPENAI_ERRORS.unverified), 502, 'org_verification'],
    ['403 unsupported region', error(403, OPENAI_ERRORS.region), 502, 'auth'],
    ['429 insufficient_quota', error(429, OPENAI_ERRORS.quota), 502, 'quota'],
    ['400 moderation_blocked', error(400, OPENAI_ERRORS.moderation), 422, 'moderation_blocked'],
    ['400 invalid value', error(400, OPENAI_ERRORS.badRequest), 502, 'upstream_bad_request'],
    [
      '404 unknown model',
      error(404, { error: { message: 'The model does not exist', code: 'model_not_found' } }),
      502,
      'upstream_bad_request',
    ],
    ['429 without a code', error(429, {}), 503, 'upstream_rate_limited'],
  ])('%s → %s %s, not retried', async (_, reply, status, code) => {
    h.fake.reply(reply);
    const res = await h.post({ prompt: 'a chair' });
    expect(res.status).toBe(status);
    expect(res.json).toEqual({ error: { code, message: expect.any(String) } });
    expect(h.fake.imageRequests).toHaveLength(1);
    expect(h.clock.sleeps).toEqual([]);
  });

  it('never passes OpenAI’s wording (or the key it echoes) to the client or the log', async () => {
    h.fake.reply(error(401, OPENAI_ERRORS.badKey(API_KEY)));
    const res = await h.post({ prompt: 'a chair' });
    expect(res.text).not.toContain('Incorrect API key');
    const upstreamLine = h.logs.find((line) => line.includes('upstream error'));
    expect(upstreamLine).toContain('[redacted]');
    // assertNoKeyLeak (afterEach) checks every body and log line.
  });

  it('refunds the reservation of a refused request', async () => {
    h.fake.reply(error(400, OPENAI_ERRORS.moderation));
    await h.post({ prompt: 'a chair' });
    const snapshot = await h.store.snapshot('2026-01-15');
    expect(snapshot.spentTodayUsd).toBe(0);
    expect(snapshot.reservedTodayUsd).toBe(0);
  });
});

describe('retries', () => {
  it('retries 429 rate_limit_exceeded with exponential back-off', async () => {
    h.fake.reply(error(429, OPENAI_ERRORS.rateLimit), error(429, OPENAI_ERRORS.rateLimit));
    const res = await h.post({ prompt: 'a chair' });
    expect(res.status).toBe(200);
    expect(h.fake.imageRequests).toHaveLength(3);
    expect(h.clock.sleeps).toEqual([1000, 2000]);
  });

  it('honours Retry-After and retry-after-ms', async () => {
    h.fake.reply(
      error(429, OPENAI_ERRORS.rateLimit, { 'Retry-After': '7' }),
      error(503, OPENAI_ERRORS.server, { 'retry-after-ms': '1500' }),
    );
    expect((await h.post({ prompt: 'a chair' })).status).toBe(200);
    expect(h.clock.sleeps).toEqual([7000, 1500]);
  });

  it.each([500, 502, 503])('retries %s', async (status) => {
    h.fake.reply(error(status, OPENAI_ERRORS.server));
    expect((await h.post({ prompt: 'a chair' })).status).toBe(200);
    expect(h.fake.imageRequests).toHaveLength(2);
  });

  it('does not retry a connection that broke after the request went out, and books its estimate', async () => {
    // OpenAI may have accepted the request before the connection broke: a second attempt could
    // generate, and bill, a second image against one reservation.
    h.fake.reply({ kind: 'drop' });
    const res = await h.post({ prompt: 'a chair' });
    expect(res.status).toBe(502);
    expect(res.json.error.code).toBe('upstream_unavailable');
    expect(h.fake.imageRequests).toHaveLength(1);
    expect(h.clock.sleeps).toEqual([]);
    const snapshot = await h.store.snapshot('2026-01-15');
    expect(snapshot.spentTodayUsd).toBeCloseTo(0.0443, 3);
    expect(snapshot.reservedTodayUsd).toBe(0);
  });

  it('retries a connection that was refused (nothing reached OpenAI), booking nothing', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    await h.close();
    h = await setup({ OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1` });
    const res = await h.post({ prompt: 'a chair' });
    expect(res.status).toBe(502);
    expect(res.json.error.code).toBe('upstream_unavailable');
    expect(h.clock.sleeps).toEqual([1000, 2000]);
    expect(h.logs.filter((line) => line.includes('upstream unreachable'))).toHaveLength(3);
    const snapshot = await h.store.snapshot('2026-01-15');
    expect(snapshot.spentTodayUsd).toBe(0);
    expect(snapshot.reservedTodayUsd).toBe(0);
  });

  it('books a request retried after a 5xx once, at what the image cost', async () => {
    h.fake.reply(error(500, OPENAI_ERRORS.server), error(503, OPENAI_ERRORS.server));
    expect((await h.post({ prompt: 'a chair' })).status).toBe(200);
    expect(h.fake.imageRequests).toHaveLength(3);
    const snapshot = await h.store.snapshot('2026-01-15');
    expect(snapshot.spentTodayUsd).toBe(0.04284);
    expect(snapshot.reservedTodayUsd).toBe(0);
  });

  it('takes up to half of each back-off off at random (jitter)', async () => {
    await h.close();
    const draws = [0.5, 0.999];
    h = await setup({}, { random: () => draws.shift() ?? 0 });
    h.fake.reply(error(429, OPENAI_ERRORS.rateLimit), error(500, OPENAI_ERRORS.server));
    expect((await h.post({ prompt: 'a chair' })).status).toBe(200);
    // 1000 × (1 − 0.5 × 0.5) and 2000 × (1 − 0.5 × 0.999).
    expect(h.clock.sleeps).toEqual([750, 1001]);
  });

  it('stops after 3 attempts', async () => {
    h.fake.reply(...Array<Reply>(5).fill(error(500, OPENAI_ERRORS.server)));
    const res = await h.post({ prompt: 'a chair' });
    expect(res.status).toBe(502);
    expect(res.json.error.code).toBe('upstream_unavailable');
    expect(h.fake.imageRequests).toHaveLength(3);
  });

  it('gives a rate limit back to the client after 3 attempts, with Retry-After', async () => {
    h.fake.reply(
      ...Array<Reply>(3).fill(error(429, OPENAI_ERRORS.rateLimit, { 'Retry-After': '2' })),
    );
    const res = await h.post({ prompt: 'a chair' });
    expect(res.status).toBe(503);
    expect(res.json.error.code).toBe('upstream_rate_limited');
    expect(res.headers.get('retry-after')).toBe('2');
    expect(h.fake.imageRequests).toHaveLength(3);
  });

  it('does not wait out a Retry-After longer than 20 s', async () => {
    h.fake.reply(error(429, OPENAI_ERRORS.rateLimit, { 'Retry-After': '60' }));
    const res = await h.post({ prompt: 'a chair' });
    expect(res.json.error.code).toBe('upstream_rate_limited');
    expect(res.headers.get('retry-after')).toBe('60');
    expect(h.fake.imageRequests).toHaveLength(1);
  });

  it('never retries insufficient_quota', async () => {
    h.fake.reply(error(429, OPENAI_ERRORS.quota));
    expect((await h.post({ prompt: 'a chair' })).json.error.code).toBe('quota');
    expect(h.fake.imageRequests).toHaveLength(1);
  });
});

describe('deadline', () => {
  it('answers timeout after 120 s of silence and aborts the upstream call', async () => {
    h.fake.reply({ kind: 'hang' });
    const pending = h.post({ prompt: 'a chair' });
    await h.fake.waitForRequests(1);
    h.clock.advance(119_000);
    await new Promise((r) => setTimeout(r, 20));
    expect(h.fake.imageRequests[0]!.abandoned).toBe(false);
    h.clock.advance(1_000);
    const res = await pending;
    expect(res.status).toBe(504);
    expect(res.json.error.code).toBe('timeout');
    await h.fake.imageRequests[0]!.whenAbandoned;
    // A timed-out image may still be billed: its estimate stays booked.
    expect((await h.store.snapshot('2026-01-15')).spentTodayUsd).toBeGreaterThan(0.04);
  });

  it('counts attempts and waits against the same 120 s', async () => {
    await h.close();
    // Each answer takes 60 s: the second one arrives at 121 s, past the deadline.
    h = await setup({}, { upstreamLatencyMs: 60_000 });
    h.fake.reply(error(500, OPENAI_ERRORS.server), error(500, OPENAI_ERRORS.server));
    const res = await h.post({ prompt: 'a chair' });
    expect(res.status).toBe(504);
    expect(res.json.error.code).toBe('timeout');
    expect(h.fake.imageRequests).toHaveLength(2);
    expect(h.clock.sleeps).toEqual([1000]);
  });

  it('does not start a wait that would end past the deadline', async () => {
    await h.close();
    h = await setup({}, { upstreamLatencyMs: 50_000 });
    // 0–50 s, wait 1 s, 51–101 s, then a 19 s wait would end at the 120 s deadline.
    h.fake.reply(
      error(500, OPENAI_ERRORS.server),
      error(429, OPENAI_ERRORS.rateLimit, { 'Retry-After': '19' }),
    );
    const res = await h.post({ prompt: 'a chair' });
    expect(res.json.error.code).toBe('upstream_rate_limited');
    expect(res.headers.get('retry-after')).toBe('19');
    expect(h.fake.imageRequests).toHaveLength(2);
    expect(h.clock.sleeps).toEqual([1000]);
  });

  it('releases the deadline timer when done', async () => {
    await h.post({ prompt: 'a chair' });
    h.fake.reply(error(400, OPENAI_ERRORS.moderation));
    await h.post({ prompt: 'a chair' });
    expect(h.clock.pendingTimers).toBe(0);
  });
});
