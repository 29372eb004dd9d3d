/**
 * Cloudflare Turnstile: proof that a person, not a script, is behind the request.
 * https://developers.cloudflare.com/turnstile/get-started/server-side-validation/
 */
import { ProxyError } from './errors.ts';

/** The request header that carries the widget's token. */
export const TURNSTILE_HEADER = 'X-Turnstile-Token';

export interface TurnstileCheck {
  secret: string;
  verifyUrl: string;
  fetch: typeof fetch;
  /** The token from the request, if any. */
  token: string | undefined;
  /** The visitor's address, which Cloudflare compares with the one that solved the challenge. */
  remoteIp: string | undefined;
  signal: AbortSignal;
}

/** Resolves when the token is valid; rejects with `turnstile_failed` when it is not. */
export async function verifyTurnstile(check: TurnstileCheck): Promise<void> {
  if (!check.token) {
    throw new ProxyError(
      'turnstile_failed',
      'This request has no Turnstile token; the proxy requires one (TURNSTILE_SECRET is set), so the app must show the Turnstile widget (VITE_TURNSTILE_SITE_KEY) and send its token in X-Turnstile-Token.',
    );
  }
  // Tokens are at most 2048 characters long.
  if (check.token.length > 2048) throw turnstileFailed([]);
  const form = new URLSearchParams({ secret: check.secret, response: check.token });
  if (check.remoteIp) form.set('remoteip', check.remoteIp);
  let outcome: { success?: unknown; 'error-codes'?: unknown };
  try {
    const response = await check.fetch(check.verifyUrl, {
      method: 'POST',
      body: form,
      signal: check.signal,
    });
    if (!response.ok) throw new Error(`Turnstile answered ${response.status}`);
    outcome = (await response.json()) as typeof outcome;
  } catch (error) {
    if (check.signal.aborted) throw check.signal.reason;
    throw new ProxyError(
      'upstream_unavailable',
      'The human-check service (Turnstile) is unreachable; try again in a minute.',
    );
  }
  if (outcome.success !== true) {
    const codes = Array.isArray(outcome['error-codes']) ? outcome['error-codes'].map(String) : [];
    throw turnstileFailed(codes);
  }
}

/** Says which of Turnstile's refusals it was; a token is valid once and for 300 s. */
function turnstileFailed(codes: string[]): ProxyError {
  const message = codes.includes('timeout-or-duplicate')
    ? 'The Turnstile token was already used or is older than 5 minutes; get a new token from the widget for each request.'
    : 'Turnstile did not accept the token; complete the challenge again and retry with its new token.';
  return new ProxyError('turnstile_failed', message);
}
