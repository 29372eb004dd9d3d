import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { buildEntry, findCachedResult, type GenerationRecord } from '../../../src/history/record';
import { HistoryStore } from '../../../src/history/store';
import type { ResultMesh } from '../../../src/shared/mesh';
import { stats } from './fixtures';

const mesh: ResultMesh = {
  positions: new Float32Array([0, 0, 0, 1, 0, 0, 0, 1, 0]),
  normals: new Float32Array([0, 0, 1, 0, 0, 1, 0, 0, 1]),
  colours: new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1]),
  indices: new Uint32Array([0, 1, 2]),
};

function record(overrides: Partial<GenerationRecord> = {}): GenerationRecord {
  return {
    name: 'mug',
    kind: 'photo',
    image: new Blob([new Uint8Array([1, 2, 3])], { type: 'image/jpeg' }),
    preview: new Blob([new Uint8Array([9])]),
    modelInput: new Float32Array(3 * 8 * 8).map((_, i) => i / 100),
    params: { resolution: 64, threshold: 25, meshing: 'dense', foregroundRatio: 0.85, removeBackground: 'auto' },
    model: { id: 'triposr', revision: '0123abc' },
    result: { mesh, stats: stats(3) },
    ...overrides,
  };
}

const thumbnail = async (): Promise<Blob> => new Blob([new Uint8Array([7, 7])], { type: 'image/webp' });

describe('result cache through the history', () => {
  it('misses, stores, then returns the stored mesh for the same input and parameters only', async () => {
    const store = await HistoryStore.open({ indexedDB: new IDBFactory() });
    const first = record();
    const miss = await findCachedResult(store, first);
    expect(miss.hit).toBeNull();
    const added = await store.add(await buildEntry({ ...first, cacheKey: miss.key }, { thumbnail }));
    expect(added.cacheKey).toBe(miss.key);
    expect(added.sizes.thumbnail).toBe(2);

    // The same photo framed differently but identical model input (e.g. after a reload) is a hit;
    // the foreground ratio reaches the key only through the input's bytes.
    const hit = await findCachedResult(store, record({ params: { ...first.params, foregroundRatio: 0.9 } }));
    expect(hit.key).toBe(miss.key);
    expect(hit.hit?.entry.id).toBe(added.id);
    expect(hit.hit?.mesh.positions).toEqual(mesh.positions);
    expect(hit.hit?.mesh.indices).toEqual(mesh.indices);
    for (let i = 0; i < 9; i++) expect(hit.hit?.mesh.colours[i]).toBeCloseTo(mesh.colours[i]!, 5);

    expect((await findCachedResult(store, record({ params: { ...first.params, threshold: 30 } }))).hit).toBeNull();
    expect((await findCachedResult(store, record({ model: { id: 'triposr', revision: 'fffffff' } }))).hit).toBeNull();
    expect((await findCachedResult(store, record({ modelInput: first.modelInput.map((v, i) => (i ? v : 1)) }))).hit).toBeNull();
  });

  it('keeps an entry out of the cache when told (a result retried at a lower resolution)', async () => {
    const store = await HistoryStore.open({ indexedDB: new IDBFactory() });
    const added = await store.add(await buildEntry(record({ cacheKey: null }), { thumbnail }));
    expect(added.cacheKey).toBeUndefined();
    expect(await store.get(added.id)).toBeDefined();
    expect((await findCachedResult(store, record())).hit).toBeNull();
  });

  it('keeps a text job’s prompt and a processed result with its settings and frame', async () => {
    const toSource = { scale: 0.001, offset: [0.01, -0.02, 0.03] as [number, number, number] };
    const processed = { result: { mesh, report: { score: 9 } as never, steps: [], settings: { printable: true } as never, toSource }, glb: new Uint8Array([4, 5, 6]) };
    const entry = await buildEntry(record({ kind: 'text', prompt: 'a red mug', processed }), { thumbnail, glb: async () => new Uint8Array([1]) });
    expect(entry).toMatchObject({ kind: 'text', prompt: 'a red mug', processed: { settings: { printable: true }, report: { score: 9 }, steps: [], toSource } });
    expect(entry.processed?.mesh.size).toBe(3);
    expect(entry.mesh.type).toBe('model/gltf-binary');
    expect(entry.cacheKey).toMatch(/^[0-9a-f]{64}$/);
  });
});
