import { transferHandlers, type TransferHandler } from 'comlink';
import { deserializeError, serializeError, type SerializedError } from '../lib/errors';

type Thrown = { isError: true; value: SerializedError } | { isError: false; value: unknown };

/**
 * Comlink's default 'throw' handler keeps only name and message, so an AppError would lose its
 * `code` and a cancellation could look like a failure. Both realms install this one.
 */
export function installErrorTransfer(): void {
  const original = transferHandlers.get('throw');
  if (!original) return;
  const handler: TransferHandler<{ value: unknown }, Thrown> = {
    // Comlink marks thrown values with a private symbol; its own check recognises them.
    canHandle: (value): value is { value: unknown } => original.canHandle(value),
    serialize: ({ value }) => {
      const thrown: Thrown =
        value instanceof Error || value instanceof DOMException
          ? { isError: true, value: serializeError(value) }
          : { isError: false, value };
      return [thrown, []];
    },
    deserialize: (thrown) => {
      throw thrown.isError ? deserializeError(thrown.value) : thrown.value;
    },
  };
  transferHandlers.set('throw', handler as TransferHandler<unknown, unknown>);
}
