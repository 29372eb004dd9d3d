/**
 * The history database's schema and its upgrades.
 *
 * Version 1 kept each entry as one record with its image, thumbnail and mesh inline, so listing the
 * history read every mesh. Version 2 keeps the small part (thumbnail included) in `entries`, moves
 * each large payload to `blobs` keyed by [entryId, part], and indexes entries by date and cache key.
 */
import type { DBSchema, IDBPDatabase, IDBPTransaction, StoreNames } from 'idb';
import type { PayloadPart, HistorySummary } from './types';

/** The database's name in IndexedDB. */
export const HISTORY_DB_NAME = 'cadlift-history';

/** The schema this code writes. */
export const HISTORY_DB_VERSION = 2;

/** One large payload of an entry. */
export interface BlobRecord {
  entryId: string;
  part: PayloadPart;
  data: Blob;
}

/** Version 1's entry record: everything inline (kept here for the upgrade only). */
export interface V1EntryRecord extends Omit<HistorySummary, 'sizes' | 'processed'> {
  image: Blob;
  mesh: Blob;
}

/** Version 2's stores. */
export interface HistorySchema extends DBSchema {
  entries: {
    key: string;
    value: HistorySummary;
    indexes: { createdAt: number; cacheKey: string };
  };
  blobs: {
    key: [string, PayloadPart];
    value: BlobRecord;
    indexes: { entryId: string };
  };
  /** Small flags, e.g. whether persistent storage was asked for already. */
  meta: {
    key: string;
    value: unknown;
  };
}

type UpgradeTransaction = IDBPTransaction<HistorySchema, StoreNames<HistorySchema>[], 'versionchange'>;

/**
 * Creates or upgrades the stores from `oldVersion` to the current one, inside the versionchange
 * transaction: if any step fails, the browser rolls the whole upgrade back and the old data stays.
 */
export async function upgradeHistory(db: IDBPDatabase<HistorySchema>, oldVersion: number, tx: UpgradeTransaction): Promise<void> {
  if (oldVersion < 1) {
    // A fresh database: version 2's stores directly.
    createV2Stores(db);
    return;
  }
  if (oldVersion < 2) await splitV1Entries(db, tx);
}

function createV2Stores(db: IDBPDatabase<HistorySchema>, withEntries = true): void {
  if (withEntries) {
    const entries = db.createObjectStore('entries', { keyPath: 'id' });
    entries.createIndex('createdAt', 'createdAt');
    entries.createIndex('cacheKey', 'cacheKey');
  }
  const blobs = db.createObjectStore('blobs', { keyPath: ['entryId', 'part'] });
  blobs.createIndex('entryId', 'entryId');
  db.createObjectStore('meta');
}

async function splitV1Entries(db: IDBPDatabase<HistorySchema>, tx: UpgradeTransaction): Promise<void> {
  createV2Stores(db, false);
  const entries = tx.objectStore('entries');
  entries.createIndex('createdAt', 'createdAt');
  entries.createIndex('cacheKey', 'cacheKey');
  const blobs = tx.objectStore('blobs');
  // Only IndexedDB requests are awaited here: anything else would let the upgrade transaction close.
  let cursor = await entries.openCursor();
  while (cursor) {
    const old = cursor.value as unknown as V1EntryRecord;
    if (!isBlob(old.image) || !isBlob(old.mesh) || !isBlob(old.thumbnail)) {
      // A damaged record stays as it is: listing skips it with a note instead of failing the upgrade.
      cursor = await cursor.continue();
      continue;
    }
    const { image, mesh, ...small } = old;
    const summary: HistorySummary = { ...small, sizes: { image: image.size, mesh: mesh.size, thumbnail: old.thumbnail.size } };
    await blobs.put({ entryId: old.id, part: 'image', data: image });
    await blobs.put({ entryId: old.id, part: 'mesh', data: mesh });
    await cursor.update(summary);
    cursor = await cursor.continue();
  }
}

function isBlob(value: unknown): value is Blob {
  return typeof Blob !== 'undefined' && value instanceof Blob;
}
