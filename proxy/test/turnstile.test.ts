import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TEXT_TO_IMAGE_PATH } from '../src/app.ts';
import { ORIGIN, setup, type Harness } from './harness.ts';

const SECRET = '0x4AAAAAAATESTSECRET';
let h: Harness;
beforeEach(async () => {
  h = await setup((fake) => ({
    TURNSTILE_SECRET: SECRET,
    TURNSTILE_VERIFY_URL: fake.turnstileUrl,
  }));
});
afterEach(async () => {
  h.assertNoKeyLeak();
  for (const text of [...h.logs, ...h.bodies]) expect(text).not.toContain(SECRET);
  await h.close();
});

const turnstileChecks = () => h.fake.requests.filter((r) => r.path === '/turnstile');

describe('Turnstile (TURNSTILE_SECRET set)', () => {
  it('refuses a request without a token, before any upstream call', async () => {
    const res = await h.post({ prompt: 'a chair' });
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe('turnstile_failed');
    expect(h.fake.requests).toHaveLength(0);
  });

  it('refuses a token the verifier rejects', async () => {
    const res = await h.post({ prompt: 'a chair' }, { 'X-Turnstile-Token': 'forged' });
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe('turnstile_failed');
    expect(turnstileChecks()).toHaveLength(1);
    expect(h.fake.imageRequests).toHaveLength(0);
  });

  it('lets a verified request through, sending secret, token and address to the verifier', async () => {
    const res = await h.post({ prompt: 'a chair' }, { 'X-Turnstile-Token': 'good-token' });
    expect(res.status).toBe(200);
    const form = new URLSearchParams(turnstileChecks()[0]!.body as string);
    expect(Object.fromEntries(form)).toEqual({
      secret: SECRET,
      response: 'good-token',
      remoteip: '198.51.100.7',
    });
    expect(h.fake.imageRequests).toHaveLength(1);
  });

  it('refuses a token used before, and says so; two concurrent requests with their own tokens pass', async () => {
    const [a, b] = await Promise.all([
      h.post({ prompt: 'a chair' }, { 'X-Turnstile-Token': 'good-a' }),
      h.post({ prompt: 'a lamp' }, { 'X-Turnstile-Token': 'good-b' }),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const again = await h.post({ prompt: 'a chair' }, { 'X-Turnstile-Token': 'good-a' });
    expect(again.status).toBe(403);
    expect(again.json.error.code).toBe('turnstile_failed');
    expect(again.json.error.message).toMatch(/already used or is older than 5 minutes/);
    expect(h.fake.imageRequests).toHaveLength(2);
  });

  it('tells a client that sent no token that the app must show the widget', async () => {
    const res = await h.post({ prompt: 'a chair' });
    expect(res.json.error.message).toMatch(/no Turnstile token.*VITE_TURNSTILE_SITE_KEY/);
  });

  it('allows the token header in preflight', async () => {
    const res = await h.request(TEXT_TO_IMAGE_PATH, {
      method: 'OPTIONS',
      headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'POST' },
    });
    expect(res.headers.get('access-control-allow-headers')).toBe('Content-Type,X-Turnstile-Token');
  });
});

describe('Turnstile (unset)', () => {
  it('is not asked', async () => {
    await h.close();
    h = await setup();
    expect((await h.post({ prompt: 'a chair' })).status).toBe(200);
    expect(turnstileChecks()).toHaveLength(0);
  });
});
