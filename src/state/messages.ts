import { AppError } from '../lib/errors';

/** What the error banner shows: a stable code (for tests and bug reports) and one clear sentence. */
export interface UserMessage {
  code: string;
  message: string;
}

/** Turns any failure into a banner message; anything that is not an AppError is a bug. */
export function userMessage(error: unknown): UserMessage {
  if (error instanceof AppError) return { code: error.code, message: error.message };
  const detail = error instanceof Error ? error.message : String(error);
  return { code: 'internal', message: `Something went wrong (${detail}). Reload the page and try again; your photo stays on this device.` };
}
