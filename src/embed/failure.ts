import { AppError, isAbortError } from '../lib/errors';
import type { EmbedErrorCode } from './protocol';

/** A failure the widget itself reports with one of its own codes (pipeline failures are AppErrors). */
export class EmbedError extends Error {
  override readonly name = 'EmbedError';
  constructor(
    readonly code: EmbedErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The code and message an `error` carries: AppError and EmbedError codes stay, cancellation is 'cancelled', the rest 'internal'. */
export function failure(error: unknown): { code: string; message: string } {
  if (isAbortError(error)) return { code: 'cancelled', message: 'The job was cancelled.' };
  if (error instanceof AppError || error instanceof EmbedError) return { code: error.code, message: error.message };
  console.error(error);
  const detail = error instanceof Error ? error.message : String(error);
  return { code: 'internal', message: `Something went wrong (${detail}). Reload the widget and try again.` };
}
