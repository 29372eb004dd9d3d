/** Entries for the history tests: distinct, deterministic bytes per entry and part. */
import type { PipelineStats } from '../../../src/shared/pipeline';
import type { NewEntry } from '../../../src/history/types';

/** `length` bytes that depend on `seed`, so that a swapped or truncated part is noticed. */
export function bytes(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Stats as the pipeline reports them. */
export function stats(vertices: number): PipelineStats {
  return {
    backend: 'webgpu', mesher: 'webgpu', decoder: 'wgsl', adapter: null, modelId: 'triposr-test', modelName: 'TripoSR test',
    fromCache: true, resolution: 64, threshold: 25, vertices, triangles: vertices * 2, evaluations: 1000, meshing: 'coarse-to-fine',
    triplaneSource: 'gpu-buffer', ms: { encoder: 120, decode: 40, mesh: 8 },
  } as PipelineStats;
}

/** Entry `i`: created at `1000 + i` ms, parts of different sizes. */
export function entry(i: number, overrides: Partial<NewEntry> = {}): NewEntry {
  return {
    id: `entry-${i}`,
    name: `Mug ${i}`,
    createdAt: 1000 + i,
    kind: 'photo',
    params: { resolution: 64, threshold: 25, meshing: 'coarse-to-fine', foregroundRatio: 0.85, removeBackground: 'auto' },
    model: { id: 'triposr-test', revision: 'abc123' },
    stats: stats(100 + i),
    cacheKey: `key-${i}`,
    image: new Blob([bytes(i * 10 + 1, 300 + i) as BlobPart], { type: 'image/png' }),
    thumbnail: new Blob([bytes(i * 10 + 2, 40 + i) as BlobPart], { type: 'image/webp' }),
    mesh: new Blob([bytes(i * 10 + 3, 500 + i) as BlobPart], { type: 'model/gltf-binary' }),
    ...overrides,
  };
}

/** The bytes of a Blob. */
export async function blobBytes(blob: Blob | undefined): Promise<Uint8Array> {
  if (!blob) throw new Error('missing blob');
  return new Uint8Array(await blob.arrayBuffer());
}
