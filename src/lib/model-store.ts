/**
 * Where downloaded model pieces live: a flat key → bytes store with byte accounting. The model cache
 * (`model-cache.ts`) decides the keys; a store only keeps bytes. Cache Storage in the browser (it
 * exists in workers, holds gigabytes and is counted by `navigator.storage.estimate()`); IndexedDB on an
 * insecure page (plain http to a LAN name has no `caches`, but has IndexedDB); memory in tests and as
 * the last resort, where nothing is kept across visits.
 */

/** Where a store keeps its bytes; 'memory' means the model downloads again on the next visit. */
export type ModelStoreKind = 'cache-storage' | 'indexeddb' | 'memory';

/** A key → bytes store for model pieces and their metadata entries. */
export interface ModelStore {
  /** Where the bytes live, for the UI's note when they are not kept. */
  readonly kind: ModelStoreKind;
  /** The bytes stored under `key`, or undefined when there are none. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Stores a copy of `data` under `key`, replacing what was there; may throw a 'QuotaExceededError'. */
  put(key: string, data: Uint8Array): Promise<void>;
  /** Removes `key`; removing a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Every stored key that starts with `prefix` (all keys when omitted). */
  keys(prefix?: string): Promise<string[]>;
  /** Bytes stored under the keys that start with `prefix` (all keys when omitted). */
  size(prefix?: string): Promise<number>;
}

/** Options for {@link MemoryModelStore}. */
export interface MemoryModelStoreOptions {
  /** Puts that would take the store past this many bytes throw a 'QuotaExceededError', as a browser does. */
  quotaBytes: number;
}

/** Defaults for {@link MemoryModelStoreOptions}: no quota. */
export const MEMORY_MODEL_STORE_DEFAULTS: MemoryModelStoreOptions = { quotaBytes: Infinity };

/** A store in memory, for tests and for browsers without Cache Storage. */
export class MemoryModelStore implements ModelStore {
  readonly kind = 'memory';
  readonly entries = new Map<string, Uint8Array>();
  private readonly options: MemoryModelStoreOptions;

  constructor(options: Partial<MemoryModelStoreOptions> = {}) {
    this.options = { ...MEMORY_MODEL_STORE_DEFAULTS, ...options };
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.entries.get(key);
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    const used = (await this.size()) - (this.entries.get(key)?.byteLength ?? 0);
    if (used + data.byteLength > this.options.quotaBytes) {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    }
    // A copy, as Cache Storage makes: callers pass views into buffers they go on to hand out.
    this.entries.set(key, data.slice());
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async keys(prefix = ''): Promise<string[]> {
    return [...this.entries.keys()].filter((k) => k.startsWith(prefix));
  }

  async size(prefix = ''): Promise<number> {
    let bytes = 0;
    for (const [k, v] of this.entries) if (k.startsWith(prefix)) bytes += v.byteLength;
    return bytes;
  }
}

/** Options for {@link CacheStorageModelStore}. */
export interface CacheStorageModelStoreOptions {
  /** Cache name; it carries the store's format version so a new format starts from a clean cache. */
  cacheName: string;
  /** Origin the entry URLs are made under (Cache Storage keys must be http(s) URLs); default `self.location.origin`. */
  origin?: string;
  /** The CacheStorage to use; default the global `caches`. */
  caches?: CacheStorage;
}

/** Defaults for {@link CacheStorageModelStoreOptions}. */
export const CACHE_STORAGE_MODEL_STORE_DEFAULTS: CacheStorageModelStoreOptions = {
  cacheName: 'cadlift-models-v1',
};

/** Path under the origin that no real request uses, so entries never answer a page fetch. */
const ENTRY_PATH = '/__cadlift-model-cache__/';

/** Each entry records its own size so byte accounting reads headers, not gigabytes of bodies. */
const SIZE_HEADER = 'x-cadlift-bytes';

/**
 * A store in Cache Storage: entry `key` lives at `<origin>/__cadlift-model-cache__/<key>`.
 * Keys are expected to be URL path text already (the model cache percent-encodes its segments).
 */
export class CacheStorageModelStore implements ModelStore {
  readonly kind = 'cache-storage';
  private readonly options: CacheStorageModelStoreOptions;
  private opened: Promise<Cache> | undefined;

  constructor(options: Partial<CacheStorageModelStoreOptions> = {}) {
    this.options = { ...CACHE_STORAGE_MODEL_STORE_DEFAULTS, ...options };
  }

  private get base(): string {
    const origin = this.options.origin ?? globalThis.location?.origin;
    if (!origin) throw new Error('CacheStorageModelStore needs an origin outside a browser.');
    return new URL(ENTRY_PATH, origin).href;
  }

  private cache(): Promise<Cache> {
    const caches = this.options.caches ?? globalThis.caches;
    // Memoised, but dropped on failure so a later call can try again.
    this.opened ??= caches.open(this.options.cacheName).catch((error: unknown) => {
      this.opened = undefined;
      throw error;
    });
    return this.opened;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const response = await (await this.cache()).match(this.base + key);
    return response ? new Uint8Array(await response.arrayBuffer()) : undefined;
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    // The model cache only hands over ArrayBuffer-backed views; Response copies their bytes.
    const body = new Response(data as Uint8Array<ArrayBuffer>, {
      headers: {
        'content-type': 'application/octet-stream',
        [SIZE_HEADER]: String(data.byteLength),
      },
    });
    await (await this.cache()).put(this.base + key, body);
  }

  async delete(key: string): Promise<void> {
    await (await this.cache()).delete(this.base + key);
  }

  async keys(prefix = ''): Promise<string[]> {
    const start = this.base + prefix;
    const requests = await (await this.cache()).keys();
    return requests
      .filter((r) => r.url.startsWith(start))
      .map((r) => r.url.slice(this.base.length));
  }

  async size(prefix = ''): Promise<number> {
    const cache = await this.cache();
    let bytes = 0;
    for (const key of await this.keys(prefix)) {
      const response = await cache.match(this.base + key);
      if (!response) continue;
      const header = Number(response.headers.get(SIZE_HEADER) ?? NaN);
      bytes += Number.isFinite(header) ? header : (await response.arrayBuffer()).byteLength;
    }
    return bytes;
  }
}

/** Options for {@link IndexedDbModelStore}. */
export interface IndexedDbModelStoreOptions {
  /** Database name; it carries the store's format version, as the Cache Storage name does. */
  databaseName: string;
  /** The IDBFactory to use; default the global `indexedDB`. */
  indexedDB?: IDBFactory;
}

/** Defaults for {@link IndexedDbModelStoreOptions}. */
export const INDEXED_DB_MODEL_STORE_DEFAULTS: IndexedDbModelStoreOptions = {
  databaseName: 'cadlift-models-v1',
};

/** Bytes live in one object store and their sizes in another, so accounting never reads the bytes. */
const DATA = 'data';
const SIZES = 'sizes';

/**
 * A store in IndexedDB, for pages without Cache Storage (an insecure origin). A small hand-written
 * wrapper: the `idb` package is not a dependency yet.
 */
export class IndexedDbModelStore implements ModelStore {
  readonly kind = 'indexeddb';
  private readonly options: IndexedDbModelStoreOptions;
  private opened: Promise<IDBDatabase> | undefined;

  constructor(options: Partial<IndexedDbModelStoreOptions> = {}) {
    this.options = { ...INDEXED_DB_MODEL_STORE_DEFAULTS, ...options };
  }

  private db(): Promise<IDBDatabase> {
    const factory = this.options.indexedDB ?? globalThis.indexedDB;
    // Memoised, but dropped on failure so a later call can try again.
    this.opened ??= new Promise<IDBDatabase>((resolve, reject) => {
      const request = factory.open(this.options.databaseName, 1);
      request.onupgradeneeded = () => {
        request.result.createObjectStore(DATA);
        request.result.createObjectStore(SIZES);
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error ?? new Error('IndexedDB could not be opened.'));
      request.onblocked = () => reject(new Error('IndexedDB is blocked by another tab.'));
    }).catch((error: unknown) => {
      this.opened = undefined;
      throw error;
    });
    return this.opened;
  }

  private async run<T>(
    mode: IDBTransactionMode,
    work: (data: IDBObjectStore, sizes: IDBObjectStore) => IDBRequest<T> | undefined,
  ): Promise<T | undefined> {
    const tx = (await this.db()).transaction([DATA, SIZES], mode);
    const request = work(tx.objectStore(DATA), tx.objectStore(SIZES));
    return new Promise<T | undefined>((resolve, reject) => {
      tx.oncomplete = () => resolve(request?.result);
      // A full disk aborts the transaction with a QuotaExceededError, which the model cache reports.
      tx.onabort = () => reject(tx.error ?? new DOMException('The transaction was aborted.', 'AbortError'));
      tx.onerror = () => reject(tx.error);
    });
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const value = await this.run<unknown>('readonly', (data) => data.get(key));
    if (value instanceof Uint8Array) return value;
    return value instanceof ArrayBuffer ? new Uint8Array(value) : undefined;
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    // A copy: structured clone of a view would keep its whole (possibly 485 MB) buffer.
    const copy = data.slice();
    await this.run('readwrite', (d, sizes) => {
      d.put(copy, key);
      return sizes.put(copy.byteLength, key);
    });
  }

  async delete(key: string): Promise<void> {
    await this.run('readwrite', (data, sizes) => {
      data.delete(key);
      return sizes.delete(key);
    });
  }

  async keys(prefix = ''): Promise<string[]> {
    const keys = await this.run('readonly', (_, sizes) => sizes.getAllKeys(prefixRange(prefix)));
    return (keys ?? []).map(String);
  }

  async size(prefix = ''): Promise<number> {
    const sizes = await this.run('readonly', (_, s) => s.getAll(prefixRange(prefix)));
    return (sizes ?? []).reduce((sum: number, n) => sum + (typeof n === 'number' ? n : 0), 0);
  }
}

/** Every string key that starts with `prefix`. */
function prefixRange(prefix: string): IDBKeyRange | undefined {
  return prefix === '' ? undefined : IDBKeyRange.bound(prefix, `${prefix}\uffff`);
}

/** Options for {@link createModelStore}: the globals to probe, injectable for tests. */
export interface CreateModelStoreOptions {
  caches?: CacheStorage | undefined;
  indexedDB?: IDBFactory | undefined;
}

/**
 * The best store this context has: Cache Storage, else IndexedDB (insecure pages have it), else
 * memory. `store.kind` says which, so the UI can say when the model is not kept.
 * @example
 * const store = createModelStore();
 * if (store.kind === 'memory') showNote('The model is not kept: it downloads again next visit.');
 */
export function createModelStore(
  options: CreateModelStoreOptions = { caches: globalThis.caches, indexedDB: globalThis.indexedDB },
): ModelStore {
  if (options.caches) return new CacheStorageModelStore({ caches: options.caches });
  if (options.indexedDB) return new IndexedDbModelStore({ indexedDB: options.indexedDB });
  return new MemoryModelStore();
}

/**
 * The best store that really opens here: Cache Storage, else IndexedDB, else memory. Unlike
 * {@link createModelStore}, which goes by which globals exist, this opens each one, because a
 * cross-site frame (an embedded widget) has `caches` and `indexedDB` whose every use throws.
 */
export async function probeModelStore(
  options: CreateModelStoreOptions = { caches: globalThis.caches, indexedDB: globalThis.indexedDB },
): Promise<ModelStore> {
  const opens = async (store: ModelStore): Promise<boolean> => {
    try {
      await store.keys();
      return true;
    } catch {
      return false;
    }
  };
  if (options.caches) {
    const store = new CacheStorageModelStore({ caches: options.caches });
    if (await opens(store)) return store;
  }
  if (options.indexedDB) {
    const store = new IndexedDbModelStore({ indexedDB: options.indexedDB });
    if (await opens(store)) return store;
  }
  return new MemoryModelStore();
}

let sharedStore: ModelStore | undefined;

/** One store per realm, made by {@link createModelStore} on first use. */
export function defaultModelStore(): ModelStore {
  return (sharedStore ??= createModelStore());
}
