/**
 * Where downloaded model pieces live: a flat key → bytes store with byte accounting. The model cache
 * (`model-cache.ts`) decides the keys; a store only keeps bytes. Cache Storage in the browser (it
 * exists in workers, holds gigabytes and is counted by `navigator.storage.estimate()`), memory in tests.
 */

/** A key → bytes store for model pieces and their metadata entries. */
export interface ModelStore {
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
