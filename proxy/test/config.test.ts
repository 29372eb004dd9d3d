import { describe, expect, it } from 'vitest';
import { CONFIG_DEFAULTS, loadConfig } from '../src/config.ts';
import { rewritePrompt } from '../src/prompt.ts';

describe('loadConfig', () => {
  it('fills the defaults', () => {
    const config = loadConfig({ OPENAI_API_KEY: 'sk-x' });
    expect(config).toMatchObject({
      openaiBaseUrl: CONFIG_DEFAULTS.openaiBaseUrl,
      imageModel: 'gpt-image-1',
      rateLimitPerMinute: 10,
      dailyBudgetUsd: 5,
      trustedProxies: [],
      turnstileSecret: undefined,
      metricsToken: undefined,
    });
    expect(config.allowedOrigins.size).toBe(0);
  });

  it('normalises origins and the base URL', () => {
    const config = loadConfig({
      OPENAI_API_KEY: 'sk-x',
      OPENAI_BASE_URL: 'http://127.0.0.1:9/v1/',
      ALLOWED_ORIGINS: 'https://CADLift.example/, http://localhost:5173',
    });
    expect(config.openaiBaseUrl).toBe('http://127.0.0.1:9/v1');
    expect([...config.allowedOrigins]).toEqual([
      'https://cadlift.example',
      'http://localhost:5173',
    ]);
  });

  it.each([
    [{}, /OPENAI_API_KEY is not set/],
    [{ RATE_LIMIT_PER_MINUTE: 'ten' }, /RATE_LIMIT_PER_MINUTE/],
    [{ RATE_LIMIT_PER_MINUTE: '2.5' }, /RATE_LIMIT_PER_MINUTE/],
    [{ DAILY_BUDGET_USD: '-1' }, /DAILY_BUDGET_USD/],
    [{ ALLOWED_ORIGINS: 'cadlift.example' }, /ALLOWED_ORIGINS/],
    [{ TRUST_PROXY: 'my-proxy' }, /TRUST_PROXY/],
    [{ OPENAI_BASE_URL: 'api.openai.com' }, /OPENAI_BASE_URL/],
  ])('refuses %o with a message naming the variable', (env, message) => {
    const base =
      'OPENAI_API_KEY' in env || Object.keys(env).length === 0 ? {} : { OPENAI_API_KEY: 'sk-x' };
    expect(() => loadConfig({ ...base, ...env })).toThrow(message);
  });
});

describe('rewritePrompt', () => {
  it('keeps the subject word for word inside the framing instructions', () => {
    const prompt = rewritePrompt('  a red\n ceramic   teapot ');
    expect(prompt.startsWith('Subject: a red ceramic teapot.')).toBe(true);
    expect(prompt).toMatch(
      /one whole object.*centred.*three-quarter view.*plain.*nothing cropped.*No text/s,
    );
  });
});
