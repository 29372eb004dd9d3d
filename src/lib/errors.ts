/**
 * Expected, user-facing failures. Each has a stable `code` the UI maps to a message and a next step;
 * anything that is not an AppError is a bug and is shown generically. Cancellation is never an
 * AppError: it is a DOMException named 'AbortError'.
 */
export type AppErrorCode =
  | 'webgpu-unavailable'
  | 'adapter-insufficient'
  | 'gpu-device-lost'
  | 'gpu-out-of-memory'
  | 'mesher-gpu-error'
  | 'gpu-session-failed'
  | 'encoder-out-of-memory'
  | 'encoder-gpu-error'
  | 'encoder-device-lost'
  | 'encoder-output-invalid'
  | 'pipeline-crashed'
  | 'pipeline-stalled'
  | 'model-download-failed'
  | 'model-download-declined'
  | 'model-truncated'
  | 'model-corrupt'
  | 'model-incompatible'
  | 'manifest-invalid'
  | 'storage-full'
  | 'history-unavailable'
  | 'history-corrupt'
  | 'history-import-invalid'
  | 'image-unreadable'
  | 'image-unsupported'
  | 'image-too-large'
  | 'image-url-refused'
  | 'camera-unavailable'
  | 'no-surface'
  | 'export-invalid-mesh'
  | 'export-too-large'
  | 'text-to-image-failed'
  | 'proxy-unconfigured';

/** A failure the user can understand and act on; `message` is one sentence that says what to do. */
export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly code: AppErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True for a cancellation, from our code, fetch or onnxruntime. */
export function isAbortError(error: unknown): boolean {
  return (error instanceof DOMException || error instanceof Error) && error.name === 'AbortError';
}

/** The error every cancelled operation throws. */
export function abortError(): DOMException {
  return new DOMException('The operation was cancelled.', 'AbortError');
}

/** Throws the cancellation error when `signal` has been aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError();
}

/** Plain data for an error crossing a worker boundary (structured clone drops class and `code`). */
export interface SerializedError {
  name: string;
  message: string;
  code?: AppErrorCode;
}

/** Turns any thrown value into data that survives postMessage. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof AppError) return { name: error.name, message: error.message, code: error.code };
  if (error instanceof Error || error instanceof DOMException) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}

/** Rebuilds the error a worker threw: an AppError keeps its code, a cancellation stays an AbortError. */
export function deserializeError(data: SerializedError): Error {
  if (data.code) return new AppError(data.code, data.message);
  if (data.name === 'AbortError') return new DOMException(data.message, 'AbortError');
  const error = new Error(data.message);
  error.name = data.name;
  return error;
}

/** Formats a byte count for messages: "485 MB", "12.3 kB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 || value >= 100 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}
