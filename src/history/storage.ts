/** Browser storage around the history: quota errors, the usage estimate, and persistent storage. */
import { AppError, formatBytes } from '../lib/errors';

/**
 * True for a storage quota failure. Browsers name it differently: `QuotaExceededError` (the spec,
 * Chrome, Safari), `NS_ERROR_DOM_QUOTA_REACHED` (old Firefox), and legacy code 22 or 1014.
 */
export function isQuotaError(error: unknown): boolean {
  if (!(error instanceof Error || error instanceof DOMException)) return false;
  if (error.name === 'QuotaExceededError' || error.name === 'NS_ERROR_DOM_QUOTA_REACHED') return true;
  const code = (error as { code?: unknown }).code;
  return code === 22 || code === 1014;
}

/** Turns a quota failure into AppError 'storage-full'; anything else is returned unchanged. */
export function toStorageError(error: unknown, what = 'this model'): unknown {
  if (!isQuotaError(error)) return error;
  return new AppError(
    'storage-full',
    `The browser's storage is full, so ${what} was not saved; delete the oldest entries in the history (or free disk space) and try again. Nothing already saved was lost.`,
    { cause: error },
  );
}

/** What the storage line shows: the browser's estimate for this site, and the history's own bytes. */
export interface StorageReport {
  /** Bytes the history's entries hold. */
  history: number;
  /** Bytes this site uses in total, and the quota, when the browser says. */
  usage: number | undefined;
  quota: number | undefined;
  persisted: boolean;
}

/** Reads `navigator.storage.estimate()` and `persisted()`; missing APIs give undefined/false. */
export async function storageReport(historyBytes: number, storage: StorageManager | undefined = globalThis.navigator?.storage): Promise<StorageReport> {
  const estimate = await storage?.estimate?.().catch(() => undefined);
  const persisted = (await storage?.persisted?.().catch(() => false)) ?? false;
  return { history: historyBytes, usage: estimate?.usage, quota: estimate?.quota, persisted };
}

/** One sentence for the panel: "History: 12.3 MB · this site: 140 MB of 2.1 GB · kept until you delete it". */
export function describeStorage(report: StorageReport): string {
  const parts = [`History: ${formatBytes(report.history)}`];
  if (report.usage !== undefined && report.quota !== undefined) parts.push(`this site: ${formatBytes(report.usage)} of ${formatBytes(report.quota)}`);
  parts.push(report.persisted ? 'kept until you delete it' : 'the browser may clear it when space runs low');
  return parts.join(' · ');
}

/** When to ask for persistent storage. */
export interface PersistenceOptions {
  /** Ask once the history holds at least this many entries: by then the visitor cares about it. */
  afterEntries: number;
}

/** Ask after the second saved entry. */
export const PERSISTENCE_DEFAULTS: PersistenceOptions = { afterEntries: 2 };

/** What `shouldAskPersistence` needs to know. */
export interface PersistenceState {
  entries: number;
  /** True once the app has asked (in any earlier visit): browsers remember the answer. */
  asked: boolean;
  persisted: boolean;
}

/** The "when to ask" rule: once, after the visitor has saved enough to care, and never when already persistent. */
export function shouldAskPersistence(state: PersistenceState, options: Partial<PersistenceOptions> = {}): boolean {
  const { afterEntries } = { ...PERSISTENCE_DEFAULTS, ...options };
  return !state.asked && !state.persisted && state.entries >= afterEntries;
}
