import { afterAll, describe, expect, it } from 'vitest';
import { deleteDB } from 'idb';
import { exportHistory, importHistory } from '../../src/history/archive';
import { HistoryStore } from '../../src/history/store';
import { makeThumbnail } from '../../src/history/thumbnail';
import type { NewEntry } from '../../src/history/types';
import type { PipelineStats } from '../../src/shared/pipeline';

// The history against Chromium's own IndexedDB (fake-indexeddb in the unit tests is a model of it)
// and thumbnails through OffscreenCanvas. No GPU is used.

const names: string[] = [];
async function open(): Promise<HistoryStore> {
  const name = `history-test-${names.length}-${Date.now()}`;
  names.push(name);
  return HistoryStore.open({ name });
}
afterAll(async () => {
  for (const name of names) await deleteDB(name);
});

function bytes(seed: number, length: number): Uint8Array<ArrayBuffer> {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed * 17) & 255);
}

function entry(i: number, thumbnail: Blob, extra: Partial<NewEntry> = {}): NewEntry {
  return {
    id: `e${i}`, name: `Entry ${i}`, createdAt: 100 + i, kind: 'photo',
    params: { resolution: 64, threshold: 25, meshing: 'dense', foregroundRatio: 0.85, removeBackground: 'off' },
    model: { id: 'm', revision: 'r' }, stats: { triangles: 10, vertices: 6 } as PipelineStats,
    image: new Blob([bytes(i, 5000)], { type: 'image/png' }), thumbnail, mesh: new Blob([bytes(i + 50, 70_000)], { type: 'model/gltf-binary' }),
    ...extra,
  };
}

async function same(a: Blob | undefined, b: Blob | undefined): Promise<boolean> {
  if (!a || !b) return false;
  const [x, y] = await Promise.all([a.arrayBuffer(), b.arrayBuffer()]);
  return x.byteLength === y.byteLength && new Uint8Array(x).every((v, i) => v === new Uint8Array(y)[i]);
}

describe('history in Chromium', () => {
  it('draws a thumbnail that keeps the aspect ratio and fits the side', async () => {
    const image = new ImageData(400, 200);
    for (let i = 0; i < image.data.length; i += 4) image.data.set([200, 30, 30, 255], i);
    const thumbnail = await makeThumbnail(image, { side: 100 });
    expect(thumbnail.type).toBe('image/webp');
    const bitmap = await createImageBitmap(thumbnail);
    expect([bitmap.width, bitmap.height]).toEqual([100, 50]);
    const canvas = new OffscreenCanvas(100, 50);
    const context = canvas.getContext('2d')!;
    context.drawImage(bitmap, 0, 0);
    const [r, g, b] = context.getImageData(50, 25, 1, 1).data;
    expect(Math.abs(r! - 200) + Math.abs(g! - 30) + Math.abs(b! - 30)).toBeLessThan(20);
  });

  it('stores Blobs, rolls back a failed write and round-trips an export', async () => {
    const thumbnail = await makeThumbnail(new ImageData(64, 64), { side: 32 });
    const store = await open();
    const first = entry(1, thumbnail, { triplane: new Blob([bytes(9, 2 * 1024 * 1024)]) });
    await store.add(first);
    await expect(store.add(entry(2, thumbnail, { triplane: (() => 1) as unknown as Blob }))).rejects.toThrow();
    expect((await store.list()).entries.map((e) => e.id)).toEqual(['e1']);
    const got = await store.get('e1');
    expect(await same(got?.image, first.image)).toBe(true);
    expect(await same(got?.mesh, first.mesh)).toBe(true);
    expect(await same(got?.triplane, first.triplane)).toBe(true);
    expect(await same(got?.thumbnail, thumbnail)).toBe(true);

    const { zip } = await exportHistory(store);
    const target = await open();
    expect(await importHistory(target, zip)).toEqual({ added: ['e1'], existing: [] });
    expect(await same((await target.get('e1'))?.triplane, first.triplane)).toBe(true);
    const report = await target.storageReport();
    expect(report.history).toBe(5000 + 70_000 + 2 * 1024 * 1024 + thumbnail.size);
    expect(report.quota).toBeGreaterThan(0);
  });
});
