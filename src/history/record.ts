/**
 * The two calls the app makes around a generation: `findCachedResult` before it runs (the same
 * model input, parameters and model give the stored mesh at once) and `buildEntry` after it
 * finished (GLB, thumbnail and cache key for `HistoryStore.add`). The GLB code loads on first use,
 * keeping glTF-Transform out of the start-up bundle.
 */
import type { PostResult, QualityReport } from '../post/types';
import type { ResultMesh } from '../shared/mesh';
import type { GenerateResult } from '../shared/pipeline';
import { resultCacheKey } from './cache-key';
import type { HistoryStore } from './store';
import type { EntryKind, GenerationParams, HistoryEntry, ModelRef, NewEntry } from './types';

/** What identifies a result: the exact model input, the controls and the model. */
export interface CacheQuery {
  /** The framed 512² CHW model input after background removal (AppState `prepared.image`). */
  modelInput: Float32Array;
  params: GenerationParams;
  model: ModelRef;
}

/** A cache hit: the stored entry and its mesh, ready for the viewer. */
export interface CacheHit {
  entry: HistoryEntry;
  mesh: ResultMesh;
}

/** The key for `query` (pass it on to `buildEntry`), and the stored result when there is one. */
export async function findCachedResult(store: HistoryStore, query: CacheQuery): Promise<{ key: string; hit: CacheHit | null }> {
  const key = await cacheKeyOf(query);
  const summary = await store.findCached(key);
  if (!summary) return { key, hit: null };
  try {
    const entry = await store.get(summary.id);
    if (!entry) return { key, hit: null };
    const { readGlbMesh } = await import('./glb-mesh');
    return { key, hit: { entry, mesh: await readGlbMesh(new Uint8Array(await entry.mesh.arrayBuffer())) } };
  } catch (error) {
    // A damaged entry is no reason to refuse a generation: run it and store a fresh one.
    console.warn('Cached result unreadable, generating again:', error);
    return { key, hit: null };
  }
}

/** Everything a finished generation leaves for the history. */
export interface GenerationRecord extends CacheQuery {
  name: string;
  kind: EntryKind;
  /** The prompt of a text job. */
  prompt?: string;
  /** The photo as given, or the picture drawn for a text job. */
  image: Blob;
  /** What the thumbnail shows: the model's view (AppState `prepared.preview`) or the photo. */
  preview: ImageData | Blob;
  result: GenerateResult;
  /** The generated mesh's quality report, when one was computed. */
  quality?: QualityReport;
  /** The triplane, once the pipeline returns it. */
  triplane?: Blob;
  /** Issue 11's processing (PostState's result) with its GLB. */
  processed?: { result: PostResult; glb: Uint8Array };
  /**
   * The key `findCachedResult` returned, so the input is not hashed twice; null keeps the entry out of
   * the result cache (a result that does not stand for its settings, e.g. one retried at a lower resolution).
   */
  cacheKey?: string | null;
}

/** Options for `buildEntry`. */
export interface BuildEntryOptions {
  /** Draws the thumbnail; default `makeThumbnail` (OffscreenCanvas). */
  thumbnail: (preview: ImageData | Blob) => Promise<Blob>;
  /** Writes the GLB; default `meshToGlb`. */
  glb: (mesh: ResultMesh, name: string) => Promise<Uint8Array>;
}

const GLB_TYPE = 'model/gltf-binary';

/** Turns a finished generation into the entry `HistoryStore.add` takes. */
export async function buildEntry(record: GenerationRecord, options: Partial<BuildEntryOptions> = {}): Promise<NewEntry> {
  const thumbnail = options.thumbnail ?? (async (preview) => (await import('./thumbnail')).makeThumbnail(preview));
  const glb = options.glb ?? (async (mesh, name) => (await import('../lib/export-glb')).meshToGlb(mesh, { name }));
  const [cacheKey, thumb, mesh] = await Promise.all([
    record.cacheKey === null ? undefined : (record.cacheKey ?? cacheKeyOf(record)),
    thumbnail(record.preview),
    glb(record.result.mesh, record.name),
  ]);
  const entry: NewEntry = {
    name: record.name,
    kind: record.kind,
    params: record.params,
    model: record.model,
    stats: record.result.stats,
    image: record.image,
    thumbnail: thumb,
    mesh: new Blob([mesh as Uint8Array<ArrayBuffer>], { type: GLB_TYPE }),
  };
  if (cacheKey) entry.cacheKey = cacheKey;
  if (record.prompt !== undefined) entry.prompt = record.prompt;
  if (record.quality) entry.quality = record.quality;
  if (record.triplane) entry.triplane = record.triplane;
  if (record.processed) {
    const { settings, report, steps, toSource } = record.processed.result;
    entry.processed = { settings, report, steps, mesh: new Blob([record.processed.glb as Uint8Array<ArrayBuffer>], { type: GLB_TYPE }) };
    if (toSource) entry.processed.toSource = toSource;
  }
  return entry;
}

function cacheKeyOf({ modelInput, params, model }: CacheQuery): Promise<string> {
  return resultCacheKey({ input: modelInput, params: { resolution: params.resolution, threshold: params.threshold, meshing: params.meshing }, model });
}
