import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { HistoryStore } from '../../../src/history/store';
import { blobBytes, bytes, stats } from './fixtures';
import { writeV1, type V1Entry } from './v1-writer';

function v1Entry(i: number): V1Entry {
  return {
    id: `old-${i}`,
    name: `Old ${i}`,
    createdAt: 500 + i,
    kind: i % 2 ? 'text' : 'photo',
    prompt: i % 2 ? `prompt ${i}` : undefined,
    params: { resolution: 128, threshold: 25, meshing: 'dense', foregroundRatio: 0.85, removeBackground: 'off' },
    model: { id: 'triposr', revision: 'rev1' },
    stats: stats(i) as unknown as Record<string, unknown>,
    cacheKey: `k${i}`,
    image: new Blob([bytes(i * 3 + 1, 200 + i) as BlobPart]),
    thumbnail: new Blob([bytes(i * 3 + 2, 30 + i) as BlobPart]),
    mesh: new Blob([bytes(i * 3 + 3, 400 + i) as BlobPart]),
  };
}

function rawRecords(factory: IDBFactory): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const request = factory.open('cadlift-history');
    request.onsuccess = () => {
      const all = request.result.transaction('entries').objectStore('entries').getAll();
      all.onsuccess = () => (request.result.close(), resolve(all.result));
      all.onerror = () => reject(all.error);
    };
    request.onerror = () => reject(request.error);
  });
}

describe('history schema upgrade', () => {
  it('opens a version-1 database with version-2 code and keeps every entry with its bytes', async () => {
    const factory = new IDBFactory();
    const count = 12;
    await writeV1(factory, 'cadlift-history', [
      ...Array.from({ length: count }, (_, i) => v1Entry(i)),
      { ...v1Entry(99), mesh: 'not a blob' },
    ]);
    const store = await HistoryStore.open({ indexedDB: factory });
    const { entries, skipped } = await store.list();
    expect(entries.map((e) => e.id)).toEqual(Array.from({ length: count }, (_, i) => `old-${count - 1 - i}`));
    expect(skipped).toEqual([{ id: 'old-99', reason: 'no sizes' }]);
    for (let i = 0; i < count; i++) {
      const e = await store.get(`old-${i}`);
      expect(e?.name).toBe(`Old ${i}`);
      expect(e?.prompt).toBe(i % 2 ? `prompt ${i}` : undefined);
      expect(e?.params.meshing).toBe('dense');
      expect(e?.stats.vertices).toBe(i);
      expect(e?.sizes).toEqual({ image: 200 + i, mesh: 400 + i, thumbnail: 30 + i });
      expect(await blobBytes(e?.image)).toEqual(bytes(i * 3 + 1, 200 + i));
      expect(await blobBytes(e?.thumbnail)).toEqual(bytes(i * 3 + 2, 30 + i));
      expect(await blobBytes(e?.mesh)).toEqual(bytes(i * 3 + 3, 400 + i));
    }
    // The entry records no longer carry the payloads inline, so listing reads no mesh.
    const raw = await rawRecords(factory);
    expect(raw.filter((r) => 'mesh' in r || 'image' in r).map((r) => r.id)).toEqual(['old-99']);
    // The new indexes work on upgraded data.
    expect((await store.findCached('k7'))?.id).toBe('old-7');
    expect(await store.deleteOldest(1)).toEqual(['old-0']);
    expect(await store.usage()).toBe(Array.from({ length: count - 1 }, (_, j) => 630 + 3 * (j + 1)).reduce((a, b) => a + b, 0));
    store.close();

    // Reopening at version 2 changes nothing.
    const again = await HistoryStore.open({ indexedDB: factory });
    expect((await again.list()).entries).toHaveLength(count - 1);
  });
});
