// idb's wrap() checks values against the IDB globals (IDBRequest, IDBCursor...), which this installs.
import 'fake-indexeddb/auto';
import { IDBFactory, IDBObjectStore as FDBObjectStore } from 'fake-indexeddb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../../src/lib/errors';
import { HistoryStore } from '../../../src/history/store';
import { blobBytes, bytes, entry } from './fixtures';

let factory: IDBFactory;
async function open(storage?: StorageManager): Promise<HistoryStore> {
  factory = new IDBFactory();
  return HistoryStore.open({ indexedDB: factory, storage });
}

/** Reads every key of a store straight from IndexedDB, past the HistoryStore. */
function rawKeys(store: 'entries' | 'blobs'): Promise<IDBValidKey[]> {
  return new Promise((resolve, reject) => {
    const request = factory.open('cadlift-history');
    request.onsuccess = () => {
      const keys = request.result.transaction(store).objectStore(store).getAllKeys();
      keys.onsuccess = () => {
        request.result.close();
        resolve(keys.result);
      };
      keys.onerror = () => reject(keys.error);
    };
    request.onerror = () => reject(request.error);
  });
}

afterEach(() => vi.restoreAllMocks());

describe('HistoryStore', () => {
  it('keeps every part of an entry byte for byte', async () => {
    const store = await open();
    const added = await store.add(entry(1, { kind: 'text', prompt: 'a red mug', triplane: new Blob([bytes(9, 64) as BlobPart]) }));
    expect(added.sizes).toEqual({ thumbnail: 41, image: 301, mesh: 501, triplane: 64 });
    const got = await store.get('entry-1');
    expect(got?.prompt).toBe('a red mug');
    expect(got?.stats.vertices).toBe(101);
    expect(await blobBytes(got?.image)).toEqual(bytes(11, 301));
    expect(await blobBytes(got?.thumbnail)).toEqual(bytes(12, 41));
    expect(await blobBytes(got?.mesh)).toEqual(bytes(13, 501));
    expect(await blobBytes(got?.triplane)).toEqual(bytes(9, 64));
    expect(got?.processedMesh).toBeUndefined();
    expect(await store.get('nope')).toBeUndefined();
  });

  it('keeps the processed result and its settings', async () => {
    const store = await open();
    const report = { score: 9.5, watertight: true } as never;
    const settings = { printable: true } as never;
    await store.add(entry(1, { processed: { settings, report, mesh: new Blob([bytes(5, 77) as BlobPart]) } }));
    const got = await store.get('entry-1');
    expect(got?.processed).toEqual({ settings, report });
    expect(await blobBytes(got?.processedMesh)).toEqual(bytes(5, 77));
    expect(got?.sizes.processed).toBe(77);
  });

  it('keeps the quality report computed after the entry was saved, and a quota failure keeps the entry as it was', async () => {
    const store = await open();
    await store.add(entry(1));
    const report = { score: 6.5, watertight: false } as never;
    expect((await store.setQuality('entry-1', report))?.quality).toEqual(report);
    expect((await store.list()).entries[0]?.quality).toEqual(report);
    expect(await store.setQuality('gone', report)).toBeUndefined();

    const put = FDBObjectStore.prototype.put;
    vi.spyOn(FDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      const request = put.call(this, value, key);
      (this.transaction as unknown as { _abort(name: string): void })._abort('QuotaExceededError');
      return request;
    });
    await expect(store.setQuality('entry-1', { score: 9 } as never)).rejects.toMatchObject({ code: 'storage-full' });
    vi.restoreAllMocks();
    expect((await store.get('entry-1'))?.quality).toEqual(report);
  });

  it('attaches, replaces and removes processing after the entry was saved', async () => {
    const store = await open();
    await store.add(entry(1));
    const first = { settings: { printable: false } as never, report: { score: 6 } as never, mesh: new Blob([bytes(6, 60) as BlobPart]) };
    const toSource = { scale: 0.001, offset: [0.01, -0.02, 0.03] as [number, number, number] };
    const second = { settings: { printable: true } as never, report: { score: 9 } as never, toSource, mesh: new Blob([bytes(7, 70) as BlobPart]) };
    expect((await store.setProcessed('entry-1', first))?.sizes.processed).toBe(60);
    await store.setProcessed('entry-1', second);
    let got = await store.get('entry-1');
    // The frame comes back: a texture bake after a reload needs it.
    expect(got?.processed).toEqual({ settings: { printable: true }, report: { score: 9 }, toSource });
    expect(await blobBytes(got?.processedMesh)).toEqual(bytes(7, 70));
    expect(await store.usage()).toBe(41 + 301 + 501 + 70);

    // A quota failure keeps the processing stored before.
    const put = FDBObjectStore.prototype.put;
    vi.spyOn(FDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      const request = put.call(this, value, key);
      (this.transaction as unknown as { _abort(name: string): void })._abort('QuotaExceededError');
      return request;
    });
    await expect(store.setProcessed('entry-1', first)).rejects.toMatchObject({ code: 'storage-full' });
    vi.restoreAllMocks();
    got = await store.get('entry-1');
    expect(got?.processed?.report).toEqual({ score: 9 });
    expect(await blobBytes(got?.processedMesh)).toEqual(bytes(7, 70));

    const cleared = await store.setProcessed('entry-1', null);
    expect(cleared?.processed).toBeUndefined();
    expect(cleared?.sizes).toEqual({ thumbnail: 41, image: 301, mesh: 501 });
    expect((await store.get('entry-1'))?.processedMesh).toBeUndefined();
    expect(await store.setProcessed('gone', null)).toBeUndefined();
  });

  it('lists newest first, filters by name, renames and deletes', async () => {
    const store = await open();
    for (const i of [2, 0, 3, 1]) await store.add(entry(i));
    await store.rename('entry-2', '  Teapot ');
    const { entries, skipped } = await store.list();
    expect(entries.map((e) => e.id)).toEqual(['entry-3', 'entry-2', 'entry-1', 'entry-0']);
    expect(skipped).toEqual([]);
    expect((await store.list({ filter: 'TEA' })).entries.map((e) => e.name)).toEqual(['Teapot']);
    expect((await store.list({ filter: 'mug', limit: 2 })).entries.map((e) => e.id)).toEqual(['entry-3', 'entry-1']);
    await store.rename('entry-3', '   ');
    expect((await store.list({ limit: 1 })).entries[0]?.name).toBe('Mug 3');

    await store.delete('entry-1');
    expect(await store.get('entry-1')).toBeUndefined();
    expect((await rawKeys('blobs')).filter((k) => (k as string[])[0] === 'entry-1')).toEqual([]);
    expect(await store.deleteOldest(2)).toEqual(['entry-0', 'entry-2']);
    expect((await store.list()).entries.map((e) => e.id)).toEqual(['entry-3']);
    expect(await rawKeys('blobs')).toEqual([['entry-3', 'image'], ['entry-3', 'mesh']]);
  });

  it('counts the bytes it holds', async () => {
    const store = await open();
    await store.add(entry(0));
    await store.add(entry(1));
    expect(await store.usage()).toBe(40 + 300 + 500 + 41 + 301 + 501);
    await store.delete('entry-0');
    expect(await store.usage()).toBe(41 + 301 + 501);
  });

  it('finds a cached result by key, newest intact first', async () => {
    const store = await open();
    await store.add(entry(0, { cacheKey: 'same' }));
    await store.add(entry(1, { cacheKey: 'same' }));
    await store.add(entry(2, { cacheKey: 'other' }));
    expect((await store.findCached('same'))?.id).toBe('entry-1');
    await store.delete('entry-1');
    expect((await store.findCached('same'))?.id).toBe('entry-0');
    expect(await store.findCached('missing')).toBeUndefined();
  });

  it('rolls back a write that fails half way and keeps earlier entries', async () => {
    const store = await open();
    await store.add(entry(0));
    // A function cannot be cloned: the second blob's put throws after the entry record was queued.
    const broken = entry(1, { triplane: (() => 1) as unknown as Blob });
    await expect(store.add(broken)).rejects.toThrow();
    expect(await rawKeys('entries')).toEqual(['entry-0']);
    expect(await rawKeys('blobs')).toEqual([['entry-0', 'image'], ['entry-0', 'mesh']]);
    const kept = await store.get('entry-0');
    expect(await blobBytes(kept?.mesh)).toEqual(bytes(3, 500));
    // The store is still usable afterwards.
    await store.add(entry(2));
    expect(await store.count()).toBe(2);
  });

  it('turns a quota abort into storage-full; deleting the oldest makes room and nothing else is lost', async () => {
    const store = await open();
    for (const i of [0, 1, 2]) await store.add(entry(i));
    // The browser aborts the transaction with QuotaExceededError once the mesh is written.
    const put = FDBObjectStore.prototype.put;
    let full = true;
    vi.spyOn(FDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      const request = put.call(this, value, key);
      if (full && (value as { part?: string }).part === 'mesh') (this.transaction as unknown as { _abort(name: string): void })._abort('QuotaExceededError');
      return request;
    });
    const error = await store.add(entry(3)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('storage-full');
    expect((error as AppError).message).toMatch(/storage is full.*delete the oldest entries/);
    expect(await rawKeys('entries')).toEqual(['entry-0', 'entry-1', 'entry-2']);
    expect((await rawKeys('blobs')).length).toBe(6);

    expect(await store.deleteOldest(1)).toEqual(['entry-0']);
    full = false;
    await store.add(entry(3));
    expect((await store.list()).entries.map((e) => e.id)).toEqual(['entry-3', 'entry-2', 'entry-1']);
    expect(await blobBytes((await store.get('entry-1'))?.mesh)).toEqual(bytes(13, 501));
  });

  it('skips a damaged record with a note and refuses to open it', async () => {
    const store = await open();
    await store.add(entry(0));
    await store.add(entry(1));
    await new Promise<void>((resolve, reject) => {
      const request = factory.open('cadlift-history');
      request.onsuccess = () => {
        const tx = request.result.transaction('entries', 'readwrite');
        tx.objectStore('entries').put({ id: 'broken', name: 'Broken', createdAt: 5, kind: 'photo' });
        tx.oncomplete = () => (request.result.close(), resolve());
        tx.onerror = () => reject(tx.error);
      };
    });
    const listing = await store.list();
    expect(listing.entries.map((e) => e.id)).toEqual(['entry-1', 'entry-0']);
    expect(listing.skipped).toEqual([{ id: 'broken', reason: 'no parameters' }]);
    await expect(store.get('broken')).rejects.toMatchObject({ code: 'history-corrupt' });
  });

  it('says it cannot keep a history where there is no IndexedDB', async () => {
    await expect(HistoryStore.open({ indexedDB: undefined })).rejects.toMatchObject({ code: 'history-unavailable' });
    const refusing = { open: () => { throw new DOMException('A mutation operation was attempted on a database that did not allow mutations.', 'InvalidStateError'); } } as unknown as IDBFactory;
    await expect(HistoryStore.open({ indexedDB: refusing })).rejects.toMatchObject({ code: 'history-unavailable' });
  });

  it('asks for persistent storage once, after the second entry', async () => {
    let persisted = false;
    const persist = vi.fn(async () => (persisted = true));
    const storage = { persist, persisted: async () => persisted, estimate: async () => ({ usage: 5000, quota: 10_000_000 }) } as unknown as StorageManager;
    const store = await open(storage);
    await store.add(entry(0));
    expect(await store.requestPersistence()).toBeNull();
    await store.add(entry(1));
    expect(await store.requestPersistence()).toBe(true);
    persisted = false; // even if the browser dropped it, the app asked once and does not nag
    await store.add(entry(2));
    expect(await store.requestPersistence()).toBeNull();
    expect(persist).toHaveBeenCalledTimes(1);
    expect(await store.storageReport()).toEqual({ history: await store.usage(), usage: 5000, quota: 10_000_000, persisted: false });
  });
});
