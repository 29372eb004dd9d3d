import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TEXT_TO_IMAGE_PATH } from '../src/app.ts';
import { API_KEY, METRICS_TOKEN, setup, type Harness } from './harness.ts';
import { PNG_B64, USAGE } from './fake-openai.ts';

let h: Harness;
beforeEach(async () => {
  h = await setup();
});
afterEach(async () => {
  h.assertNoKeyLeak();
  await h.close();
});

describe('POST /v1/text-to-image', () => {
  it('sends the key, the pinned settings and the rewritten prompt upstream', async () => {
    const res = await h.post({
      prompt: '  a red   ceramic teapot ',
      size: '1536x1024',
      quality: 'low',
    });
    expect(res.status).toBe(200);

    expect(h.fake.imageRequests).toHaveLength(1);
    const sent = h.fake.imageRequests[0]!;
    expect(sent.method).toBe('POST');
    expect(sent.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(sent.headers['content-type']).toBe('application/json');
    const body = sent.body as Record<string, unknown>;
    expect(body).toEqual({
      model: 'gpt-image-1',
      prompt: expect.any(String),
      n: 1,
      size: '1536x1024',
      quality: 'low',
      background: 'transparent',
      output_format: 'png',
    });
    const prompt = body.prompt as string;
    expect(prompt).toContain('a red ceramic teapot');
    for (const phrase of [
      'one whole object',
      'centred',
      'three-quarter view',
      'plain',
      'No text',
      'nothing cropped',
    ]) {
      expect(prompt).toContain(phrase);
    }
  });

  it('answers the image, the prompt sent, the usage and the cost', async () => {
    const res = await h.post({ prompt: 'a red ceramic teapot' });
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.json).toEqual({
      image: PNG_B64,
      prompt: (h.fake.imageRequests[0]!.body as { prompt: string }).prompt,
      usage: USAGE,
      // 120 text tokens at $5/M + 1056 image tokens at $40/M.
      costUsd: 0.04284,
    });
  });

  it('defaults to a medium 1024×1024 image and uses OPENAI_IMAGE_MODEL', async () => {
    await h.close();
    h = await setup({ OPENAI_IMAGE_MODEL: 'gpt-image-1-mini' });
    await h.post({ prompt: 'a chair' });
    expect(h.fake.imageRequests[0]!.body).toMatchObject({
      model: 'gpt-image-1-mini',
      size: '1024x1024',
      quality: 'medium',
    });
  });

  it('answers allowed origins with CORS headers', async () => {
    const res = await h.post({ prompt: 'a chair' }, { Origin: 'http://localhost:5173' });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(res.headers.get('vary')).toContain('Origin');
  });

  it('logs one line per request without the prompt', async () => {
    await h.post({ prompt: 'a very private teapot' });
    const lines = h.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toEqual([
      expect.objectContaining({
        msg: 'request',
        status: 200,
        path: TEXT_TO_IMAGE_PATH,
        attempts: 1,
      }),
    ]);
    expect(h.logs.join('\n')).not.toContain('private teapot');
  });
});

describe('other routes', () => {
  it('GET /healthz answers ok', async () => {
    const res = await h.request('/healthz');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'ok' });
  });

  it('unknown paths answer not_found', async () => {
    const res = await h.request('/v2/anything');
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe('not_found');
  });

  it.each([
    [TEXT_TO_IMAGE_PATH, 'GET', 'POST, OPTIONS'],
    [TEXT_TO_IMAGE_PATH, 'PUT', 'POST, OPTIONS'],
    ['/healthz', 'POST', 'GET, HEAD'],
    ['/metrics', 'DELETE', 'GET, HEAD'],
  ])('%s answers %s with method_not_allowed and Allow', async (path, method, allow) => {
    const res = await h.request(path, { method, headers: { Origin: 'https://cadlift.example' } });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe(allow);
    expect(res.json).toEqual({
      error: { code: 'method_not_allowed', message: expect.any(String) },
    });
  });
});

describe('GET /metrics', () => {
  const auth = { Authorization: `Bearer ${METRICS_TOKEN}` };

  it('needs the bearer token', async () => {
    expect((await h.request('/metrics')).status).toBe(401);
    const wrong = await h.request('/metrics', { headers: { Authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer');
    expect(wrong.json.error.code).toBe('unauthorized');
  });

  it('is off without METRICS_TOKEN', async () => {
    await h.close();
    h = await setup({ METRICS_TOKEN: '' });
    expect((await h.request('/metrics', { headers: auth })).status).toBe(404);
  });

  it('counts requests, errors, durations, images and spend', async () => {
    await h.post({ prompt: 'a chair' });
    await h.post({ prompt: '' });
    await h.post({ prompt: 'a chair' }, { Origin: 'https://evil.example' });
    const res = await h.request('/metrics', { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = res.text;
    expect(text).toContain('cadlift_proxy_requests_total{status="200"} 1');
    expect(text).toContain('cadlift_proxy_requests_total{status="400"} 1');
    expect(text).toContain('cadlift_proxy_requests_total{status="403"} 1');
    expect(text).toContain('cadlift_proxy_errors_total{code="bad_request"} 1');
    expect(text).toContain('cadlift_proxy_errors_total{code="forbidden_origin"} 1');
    expect(text).toContain('# TYPE cadlift_proxy_request_duration_seconds histogram');
    expect(text).toContain('cadlift_proxy_request_duration_seconds_bucket{le="+Inf"} 3');
    expect(text).toContain('cadlift_proxy_request_duration_seconds_count 3');
    expect(text).toContain('cadlift_proxy_images_generated_total 1');
    expect(text).toContain('cadlift_proxy_estimated_spend_usd_total 0.04284');
    expect(text).toContain('cadlift_proxy_spend_today_usd 0.04284');
    expect(text).toContain('cadlift_proxy_daily_budget_usd 5');
  });
});
