import { parseTrustedProxies, type IpRange } from './client-ip.ts';

/** The proxy's settings, read from environment variables (see README: "Environment variables"). */
export interface ProxyConfig {
  openaiApiKey: string;
  /** Without a trailing slash. */
  openaiBaseUrl: string;
  imageModel: string;
  allowedOrigins: ReadonlySet<string>;
  rateLimitPerMinute: number;
  dailyBudgetUsd: number;
  trustedProxies: readonly IpRange[];
  /** Turnstile is checked only when this is set. */
  turnstileSecret: string | undefined;
  turnstileVerifyUrl: string;
  /** /metrics answers only when this is set. */
  metricsToken: string | undefined;
}

/** Defaults for every optional variable. */
export const CONFIG_DEFAULTS = {
  openaiBaseUrl: 'https://api.openai.com/v1',
  imageModel: 'gpt-image-1',
  rateLimitPerMinute: 10,
  dailyBudgetUsd: 5,
  turnstileVerifyUrl: 'https://challenges.cloudflare.com/turnstile/v0/siteverify',
} as const;

/** A missing or malformed environment variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Environment as both runtimes hand it over; Workers mixes bindings in, which are ignored. */
export type Env = Readonly<Record<string, unknown>>;

function read(env: Env, name: string): string | undefined {
  const value = env[name];
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function positiveNumber(env: Env, name: string, fallback: number): number {
  const text = read(env, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new ConfigError(`${name} must be a positive number, got "${text}".`);
  }
  return value;
}

/** Normalises an origin the way browsers send it: scheme://host[:port], lower case, no slash. */
function normaliseOrigin(text: string): string {
  try {
    return new URL(text).origin;
  } catch {
    throw new ConfigError(
      `ALLOWED_ORIGINS entry "${text}" is not an origin; use e.g. https://cadlift.example.`,
    );
  }
}

/** Reads and checks the configuration; throws a `ConfigError` that says which variable to fix. */
export function loadConfig(env: Env): ProxyConfig {
  const openaiApiKey = read(env, 'OPENAI_API_KEY');
  if (!openaiApiKey) {
    throw new ConfigError('OPENAI_API_KEY is not set; set it to an OpenAI API key.');
  }
  const baseUrl = read(env, 'OPENAI_BASE_URL') ?? CONFIG_DEFAULTS.openaiBaseUrl;
  if (!/^https?:\/\//.test(baseUrl)) {
    throw new ConfigError(`OPENAI_BASE_URL must be an http(s) URL, got "${baseUrl}".`);
  }
  const rateLimitPerMinute = positiveNumber(
    env,
    'RATE_LIMIT_PER_MINUTE',
    CONFIG_DEFAULTS.rateLimitPerMinute,
  );
  if (!Number.isInteger(rateLimitPerMinute)) {
    throw new ConfigError('RATE_LIMIT_PER_MINUTE must be a whole number.');
  }
  let trustedProxies: IpRange[];
  try {
    trustedProxies = parseTrustedProxies(read(env, 'TRUST_PROXY') ?? '');
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  return {
    openaiApiKey,
    openaiBaseUrl: baseUrl.replace(/\/+$/, ''),
    imageModel: read(env, 'OPENAI_IMAGE_MODEL') ?? CONFIG_DEFAULTS.imageModel,
    allowedOrigins: new Set(
      (read(env, 'ALLOWED_ORIGINS') ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map(normaliseOrigin),
    ),
    rateLimitPerMinute,
    dailyBudgetUsd: positiveNumber(env, 'DAILY_BUDGET_USD', CONFIG_DEFAULTS.dailyBudgetUsd),
    trustedProxies,
    turnstileSecret: read(env, 'TURNSTILE_SECRET'),
    turnstileVerifyUrl: read(env, 'TURNSTILE_VERIFY_URL') ?? CONFIG_DEFAULTS.turnstileVerifyUrl,
    metricsToken: read(env, 'METRICS_TOKEN'),
  };
}
