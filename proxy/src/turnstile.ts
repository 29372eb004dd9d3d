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
  // Tokens are at most 2048 characters long.
  if (!check.token || check.token.length > 2048) throw turnstileFailed();
  const form = new URLSearchParams({ secret: check.secret, response: check.token });
  if (check.remoteIp) form.set('remoteip', check.remoteIp);
  let outcome: { success?: unknown };
  try {
    const response = await check.fetch(check.verifyUrl, {
      method: 'POST',
      body: form,
      signal: check.signal,
    });
    if (!response.ok) throw new Error(`Turnstile answered ${response.status}`);
    outcome = (await response.json()) as { success?: unknown };
  } catch (error) {
    if (check.signal.aborted) throw check.signal.reason;
    throw new ProxyError(
      'upstream_unavailable',
      'The human-check service (Turnstile) is unreachable; try again in a minute.',
    );
  }
  if (outcome.success !== true) throw turnstileFailed();
}

function turnstileFailed(): ProxyError {
  return new ProxyError(
    'turnstile_failed',
    'The human check failed or expired; complete the Turnstile challenge again and retry.',
  );
}
