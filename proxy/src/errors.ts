/** Every error code the proxy can answer with, and the HTTP status that goes with it. */
export const ERROR_STATUS = {
  // The proxy's own refusals.
  forbidden_origin: 403,
  turnstile_failed: 403,
  bad_request: 400,
  payload_too_large: 413,
  rate_limited: 429,
  budget_exhausted: 402,
  not_found: 404,
  method_not_allowed: 405,
  unauthorized: 401,
  // Upstream (OpenAI) failures, mapped to stable codes.
  auth: 502,
  org_verification: 502,
  upstream_rate_limited: 503,
  quota: 502,
  moderation_blocked: 422,
  upstream_bad_request: 502,
  upstream_unavailable: 502,
  timeout: 504,
  // A bug or a misconfiguration: logged, answered generically.
  internal: 500,
} as const;

/** A stable, client-facing error code. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** The JSON body of every error answer. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

/**
 * An expected failure with a stable code. Its message is written by the proxy, never copied from
 * upstream, so it cannot carry the API key or OpenAI's wording to the client.
 */
export class ProxyError extends Error {
  override readonly name = 'ProxyError';
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra response headers, e.g. Retry-After or Allow. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = ERROR_STATUS[code];
  }

  /** The `{ error: { code, message } }` body. */
  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

/**
 * The upstream connection broke after the request went out: OpenAI may be generating, and
 * billing, the image. Not retried, and its reservation is booked at the estimate.
 */
export class UpstreamLostError extends ProxyError {
  constructor() {
    super('upstream_unavailable', 'The connection to OpenAI broke; try again in a minute.');
  }
}

/** The client went away before the answer was complete; nobody is left to answer. */
export class ClientGoneError extends Error {
  override readonly name = 'ClientGoneError';
  constructor() {
    super('The client closed the connection.');
  }
}

/** Upstream failures, each with the one sentence the client sees. */
export const upstreamErrors = {
  auth: () =>
    new ProxyError(
      'auth',
      "OpenAI rejected the proxy's API key; the operator must set a valid OPENAI_API_KEY.",
    ),
  orgVerification: () =>
    new ProxyError(
      'org_verification',
      'OpenAI requires a verified organisation for this image model; the operator must verify it at platform.openai.com.',
    ),
  rateLimited: (retryAfterS?: number) =>
    new ProxyError(
      'upstream_rate_limited',
      'OpenAI is rate-limiting the proxy; wait a moment and try again.',
      retryAfterS === undefined ? {} : { 'Retry-After': String(retryAfterS) },
    ),
  quota: () =>
    new ProxyError(
      'quota',
      "The proxy's OpenAI account has no credit left; the operator must add billing credit.",
    ),
  moderation: () =>
    new ProxyError('moderation_blocked', 'OpenAI declined this prompt; rephrase it and try again.'),
  badRequest: () =>
    new ProxyError(
      'upstream_bad_request',
      "OpenAI rejected the request; the operator should check OPENAI_IMAGE_MODEL and the proxy's logs.",
    ),
  lost: () => new UpstreamLostError(),
  unavailable: () =>
    new ProxyError(
      'upstream_unavailable',
      'OpenAI is unavailable right now; try again in a minute.',
    ),
  timeout: (seconds: number) =>
    new ProxyError(
      'timeout',
      `OpenAI did not finish within ${seconds} seconds; try again, perhaps with a lower quality.`,
    ),
};
