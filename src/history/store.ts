/**
 * The history of generations in IndexedDB (through `idb`): add, read, list, rename, delete, the
 * result cache lookup and the bytes it holds. Every write of one entry is one transaction across
 * the entry and blob stores, so a failure (quota, abort, a closed tab) leaves no half entry and
 * never touches earlier ones.
 */
import { wrap, type IDBPDatabase, type IDBPObjectStore, type IDBPTransaction } from 'idb';
import { AppError } from '../lib/errors';
import { HISTORY_DB_NAME, HISTORY_DB_VERSION, upgradeHistory, type BlobRecord, type HistorySchema } from './schema';
import { PERSISTENCE_DEFAULTS, shouldAskPersistence, storageReport, toStorageError, type PersistenceOptions, type StorageReport } from './storage';
import { validateSummary, validateNewEntry } from './validate';
import type { PayloadPart, HistoryEntry, HistoryListing, HistorySummary, NewEntry, ProcessedInfo } from './types';
import type { QualityReport } from '../post/types';

/** Options for `HistoryStore.open`. */
export interface HistoryStoreOptions {
  name: string;
  /** The IDBFactory; default the page's `indexedDB` (absent in some private windows). */
  indexedDB: IDBFactory | undefined;
  /** For the usage line and persistent storage; default `navigator.storage`. */
  storage: StorageManager | undefined;
  persistence: PersistenceOptions;
}

/** Defaults for `HistoryStore.open`; `indexedDB` and `storage` default to the page's, read when opening. */
export const HISTORY_STORE_DEFAULTS: Omit<HistoryStoreOptions, 'indexedDB' | 'storage'> = {
  name: HISTORY_DB_NAME,
  persistence: PERSISTENCE_DEFAULTS,
};

/** Options for `HistoryStore.list`. */
export interface ListOptions {
  /** Keep entries whose name contains this text (any case). */
  filter?: string;
  /** At most this many entries. */
  limit?: number;
}

const PERSISTENCE_ASKED = 'persistence-asked';

/** The history database. Open it with `HistoryStore.open()`; a failure to open means nothing can be kept. */
export class HistoryStore {
  private constructor(
    private readonly db: IDBPDatabase<HistorySchema>,
    private readonly options: HistoryStoreOptions,
  ) {
    // Another tab with newer code wants to upgrade: let it, rather than block it forever.
    db.addEventListener('versionchange', () => db.close());
  }

  /**
   * Opens (creating or upgrading) the history. Throws AppError 'history-unavailable' where the
   * browser has no IndexedDB or refuses it (some private windows): generating still works then.
   */
  static async open(options: Partial<HistoryStoreOptions> = {}): Promise<HistoryStore> {
    const merged: HistoryStoreOptions = {
      ...HISTORY_STORE_DEFAULTS,
      indexedDB: globalThis.indexedDB,
      storage: globalThis.navigator?.storage,
      ...options,
    };
    const unavailable = (cause?: unknown): AppError =>
      new AppError('history-unavailable', 'This browser window cannot keep a history (private browsing or storage switched off), so results are not saved; download the ones you want to keep.', { cause });
    if (!merged.indexedDB) throw unavailable();
    try {
      return new HistoryStore(await openDatabase(merged.indexedDB, merged.name), merged);
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw unavailable(error);
    }
  }

  /** Closes the connection. */
  close(): void {
    this.db.close();
  }

  /**
   * Saves one entry and returns its summary. Throws AppError 'storage-full' when the quota is
   * reached: then nothing of this entry was written, and the caller may `deleteOldest` and retry.
   */
  async add(entry: NewEntry): Promise<HistorySummary> {
    validateNewEntry(entry);
    const id = entry.id ?? newId();
    const { summary, blobs } = splitEntry({ ...entry, id, createdAt: entry.createdAt ?? Date.now() });
    await this.write([{ summary, blobs }], 'add');
    return summary;
  }

  /**
   * Writes entries in ONE transaction: all of them or none. `mode: 'add'` fails on an id that
   * exists; `'skip-existing'` leaves those alone and returns the ids it wrote. `what` names the
   * data in the 'storage-full' message.
   */
  async write(items: { summary: HistorySummary; blobs: BlobRecord[] }[], mode: 'add' | 'skip-existing', what = 'this model'): Promise<string[]> {
    const tx = this.db.transaction(['entries', 'blobs'], 'readwrite');
    const entries = tx.objectStore('entries');
    const blobStore = tx.objectStore('blobs');
    const ops: Promise<unknown>[] = [];
    const written: string[] = [];
    try {
      // Every lookup first, then every write: a write's rejection must never wait unobserved behind an await.
      const present = mode === 'skip-existing' ? await Promise.all(items.map((item) => entries.getKey(item.summary.id))) : [];
      for (const [i, { summary, blobs }] of items.entries()) {
        if (present[i] !== undefined) continue;
        ops.push(entries.add(summary));
        for (const record of blobs) ops.push(blobStore.put(record));
        written.push(summary.id);
      }
      await Promise.all([...ops, tx.done]);
      return written;
    } catch (error) {
      throw await abandon(tx, ops, error, what);
    }
  }

  /**
   * Stores processing applied after the entry was saved (issue 11's output: settings, report and
   * the processed GLB), replacing any earlier one; `null` removes it. One transaction, as `add`.
   * Returns the updated summary, or undefined when the entry is gone.
   */
  setProcessed(id: string, processed: (ProcessedInfo & { mesh: Blob }) | null): Promise<HistorySummary | undefined> {
    return this.update(id, 'the processed model', (record, blobs) => {
      const { processed: _old, sizes: { processed: _oldSize, ...sizes }, ...rest } = record;
      const summary: HistorySummary = { ...rest, sizes };
      if (processed) {
        const { mesh, ...info } = processed;
        summary.processed = info;
        summary.sizes.processed = mesh.size;
        return { summary, ops: [blobs.put({ entryId: id, part: 'processed', data: mesh })] };
      }
      return { summary, ops: [blobs.delete([id, 'processed'])] };
    });
  }

  /**
   * Stores the generated mesh's quality report (it is computed in the processing worker once the mesh
   * is shown, after the entry was saved). Returns the updated summary, or undefined when the entry is gone.
   */
  setQuality(id: string, quality: QualityReport): Promise<HistorySummary | undefined> {
    return this.update(id, 'the quality report', (record) => ({ summary: { ...record, quality }, ops: [] }));
  }

  /**
   * Rewrites one entry's record (and the blob writes `change` asks for) in one transaction; a failure
   * leaves the entry as it was. Undefined when the entry is gone.
   */
  private async update(
    id: string,
    what: string,
    change: (record: HistorySummary, blobs: BlobStore) => { summary: HistorySummary; ops: Promise<unknown>[] },
  ): Promise<HistorySummary | undefined> {
    const tx = this.db.transaction(['entries', 'blobs'], 'readwrite');
    const ops: Promise<unknown>[] = [];
    try {
      const record = await tx.objectStore('entries').get(id);
      if (!record) {
        await tx.done;
        return undefined;
      }
      const { summary, ops: blobOps } = change(record, tx.objectStore('blobs'));
      // Held before the record's put, which throws at once when a blob write already aborted the transaction.
      ops.push(...blobOps);
      ops.push(tx.objectStore('entries').put(summary));
      await Promise.all([...ops, tx.done]);
      return summary;
    } catch (error) {
      throw await abandon(tx, ops, error, what);
    }
  }

  /** The full entry with every payload, or undefined when there is none. Throws 'history-corrupt' for a damaged one. */
  async get(id: string): Promise<HistoryEntry | undefined> {
    const tx = this.db.transaction(['entries', 'blobs'], 'readonly');
    const [record, blobs] = await Promise.all([tx.objectStore('entries').get(id), tx.objectStore('blobs').index('entryId').getAll(id), tx.done]);
    if (record === undefined) return undefined;
    const problem = validateSummary(record);
    const parts = new Map(blobs.map((b) => [b.part, b.data]));
    const image = parts.get('image');
    const mesh = parts.get('mesh');
    if (problem || !image || !mesh) {
      throw new AppError('history-corrupt', `The history entry “${String(record.name)}” is damaged (${problem ?? 'its files are missing'}) and cannot be opened; delete it.`);
    }
    return { ...record, image, mesh, triplane: parts.get('triplane'), processedMesh: parts.get('processed') };
  }

  /** Entries newest first, filtered by name; damaged records are left out and named in `skipped`. */
  async list(options: ListOptions = {}): Promise<HistoryListing> {
    const filter = options.filter?.trim().toLowerCase() ?? '';
    const limit = options.limit ?? Infinity;
    const listing: HistoryListing = { entries: [], skipped: [] };
    const tx = this.db.transaction('entries', 'readonly');
    // Records without a createdAt are missing from the index; walk the store so they are reported.
    const all = await tx.store.getAll();
    await tx.done;
    const valid: HistorySummary[] = [];
    for (const record of all) {
      const problem = validateSummary(record);
      if (problem) listing.skipped.push({ id: String((record as { id?: unknown }).id), reason: problem });
      else valid.push(record);
    }
    valid.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
    for (const entry of valid) {
      if (listing.entries.length >= limit) break;
      if (!filter || entry.name.toLowerCase().includes(filter)) listing.entries.push(entry);
    }
    return listing;
  }

  /** Number of entries. */
  count(): Promise<number> {
    return this.db.count('entries');
  }

  /** Renames an entry; a blank name keeps the old one. Returns the updated summary. */
  async rename(id: string, name: string): Promise<HistorySummary | undefined> {
    const tx = this.db.transaction('entries', 'readwrite');
    const record = await tx.store.get(id);
    const trimmed = name.trim();
    if (record && trimmed) await tx.store.put({ ...record, name: trimmed });
    await tx.done;
    return record && (trimmed ? { ...record, name: trimmed } : record);
  }

  /** Deletes entries and their payloads, in one transaction. */
  async delete(...ids: string[]): Promise<void> {
    const tx = this.db.transaction(['entries', 'blobs'], 'readwrite');
    const blobs = tx.objectStore('blobs');
    const keys = (await Promise.all(ids.map((id) => blobs.index('entryId').getAllKeys(id)))).flat();
    await Promise.all([...ids.map((id) => tx.objectStore('entries').delete(id)), ...keys.map((key) => blobs.delete(key)), tx.done]);
  }

  /** Deletes the `count` oldest entries (to make room after 'storage-full'); returns their ids. */
  async deleteOldest(count: number): Promise<string[]> {
    const ids: string[] = [];
    let cursor = await this.db.transaction('entries').store.index('createdAt').openKeyCursor();
    while (cursor && ids.length < count) {
      ids.push(cursor.primaryKey);
      cursor = await cursor.continue();
    }
    if (ids.length) await this.delete(...ids);
    return ids;
  }

  /** Bytes the history holds (every part, from the sizes kept with each entry). */
  async usage(): Promise<number> {
    const all = await this.db.getAll('entries');
    return all.reduce((sum, e) => sum + Object.values(e.sizes ?? {}).reduce((a, b) => a + (b ?? 0), 0), 0);
  }

  /** The history's bytes with the browser's estimate for the whole site. */
  async storageReport(): Promise<StorageReport> {
    return storageReport(await this.usage(), this.options.storage);
  }

  /**
   * Asks for persistent storage once, when `shouldAskPersistence` says it is time (after the
   * second entry by default). Returns the browser's answer, or null when it did not ask.
   */
  async requestPersistence(): Promise<boolean | null> {
    const storage = this.options.storage;
    if (!storage?.persist) return null;
    const asked = (await this.db.get('meta', PERSISTENCE_ASKED)) === true;
    const persisted = (await storage.persisted?.().catch(() => false)) ?? false;
    if (!shouldAskPersistence({ entries: await this.count(), asked, persisted }, this.options.persistence)) return null;
    await this.db.put('meta', true, PERSISTENCE_ASKED);
    return storage.persist().catch(() => false);
  }

  /** The newest intact entry stored under this result-cache key. */
  async findCached(key: string): Promise<HistorySummary | undefined> {
    const tx = this.db.transaction(['entries', 'blobs'], 'readonly');
    const records = await tx.objectStore('entries').index('cacheKey').getAll(key);
    records.sort((a, b) => b.createdAt - a.createdAt);
    for (const record of records) {
      if (validateSummary(record)) continue;
      const parts = await tx.objectStore('blobs').index('entryId').getAllKeys(record.id);
      if (parts.some(([, p]) => p === 'mesh')) return record;
    }
    return undefined;
  }

  /** Every intact entry with its payloads, oldest first (for export), and the damaged ones skipped. */
  async readAll(): Promise<{ entries: HistoryEntry[]; skipped: HistoryListing['skipped'] }> {
    const { entries: summaries, skipped } = await this.list();
    const entries: HistoryEntry[] = [];
    for (const summary of summaries.toReversed()) {
      try {
        const entry = await this.get(summary.id);
        if (entry) entries.push(entry);
      } catch (error) {
        skipped.push({ id: summary.id, reason: error instanceof Error ? error.message : String(error) });
      }
    }
    return { entries, skipped };
  }
}

/**
 * Aborts a write that failed (it may still be live: a put that throws synchronously, such as a
 * DataCloneError, does not abort it), waits for it to end, and returns the error to throw.
 */
async function abandon(tx: IDBPTransaction<HistorySchema, ('entries' | 'blobs')[], 'readwrite'>, ops: Promise<unknown>[], error: unknown, what: string): Promise<unknown> {
  try {
    tx.abort();
  } catch {
    // Already finished or aborted.
  }
  await Promise.allSettled([...ops, tx.done]);
  return toStorageError(tx.error ?? error, what);
}

/** The blob store as a read-write transaction over both stores sees it. */
type BlobStore = IDBPObjectStore<HistorySchema, ('entries' | 'blobs')[], 'blobs', 'readwrite'>;

/** Splits an entry into its small record and its blob records. */
export function splitEntry(entry: NewEntry & { id: string; createdAt: number }): { summary: HistorySummary; blobs: BlobRecord[] } {
  const parts: [PayloadPart, Blob | undefined][] = [
    ['image', entry.image],
    ['mesh', entry.mesh],
    ['triplane', entry.triplane],
    ['processed', entry.processed?.mesh],
  ];
  const blobs: BlobRecord[] = parts.filter((p): p is [PayloadPart, Blob] => p[1] !== undefined).map(([part, data]) => ({ entryId: entry.id, part, data }));
  const sizes: HistorySummary['sizes'] = { thumbnail: entry.thumbnail.size };
  for (const { part, data } of blobs) sizes[part] = data.size;
  const { image: _image, mesh: _mesh, triplane: _triplane, processed, ...rest } = entry;
  const summary: HistorySummary = { ...rest, sizes };
  if (processed) {
    const { mesh: _processedMesh, ...info } = processed;
    summary.processed = info;
  }
  return { summary, blobs };
}

/** An id that also works on plain-http pages, where crypto.randomUUID does not exist. */
function newId(): string {
  if (typeof crypto.randomUUID === 'function' && globalThis.isSecureContext !== false) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** `idb`'s openDB over a given factory (openDB itself always uses the global one). */
function openDatabase(factory: IDBFactory, name: string): Promise<IDBPDatabase<HistorySchema>> {
  const request = factory.open(name, HISTORY_DB_VERSION);
  const db = wrap(request) as Promise<IDBPDatabase<HistorySchema>>;
  request.addEventListener('upgradeneeded', (event) => {
    const tx = wrap(request.transaction!) as unknown as Parameters<typeof upgradeHistory>[2];
    // A failed step aborts the versionchange transaction, which fails the open and keeps the old data.
    upgradeHistory(wrap(request.result) as IDBPDatabase<HistorySchema>, event.oldVersion, tx).catch(() => {
      try {
        request.transaction?.abort();
      } catch {
        // Already aborted.
      }
    });
  });
  return db;
}
