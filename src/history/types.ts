/**
 * What the history keeps for each generation. The entry record holds only small data (names,
 * numbers, the thumbnail) so that listing the history never reads a mesh; every large payload is a
 * separate record in the blob store, keyed by entry id and part.
 */
import type { MeshingMode, PipelineStats } from '../shared/pipeline';
import type { PostSettings, QualityReport, StepLog } from '../post/types';
import type { MeshToSource } from '../texture/types';

/** How the entry was made: from a photo, or from a prompt whose drawn picture was meshed. */
export type EntryKind = 'photo' | 'text';

/** The large payloads of an entry, each stored as its own record. */
export const PAYLOAD_PARTS = ['image', 'mesh', 'triplane', 'processed'] as const;
export type PayloadPart = (typeof PAYLOAD_PARTS)[number];

/**
 * The generation controls an entry ran with. `resolution`, `threshold` and `meshing` are
 * `GenerateRequest`'s; `foregroundRatio` and the removal settings shape the model input (AppState's
 * `ratio` and `removal`), so they change the cache key only through the input's bytes.
 */
export interface GenerationParams {
  resolution: number;
  threshold: number;
  meshing: MeshingMode;
  foregroundRatio: number;
  removeBackground: 'auto' | 'on' | 'off';
  /** Mask threshold (0–255) when the background was removed. */
  maskThreshold?: number;
}

/** Which model made the mesh: the manifest's id and the pinned revision (commit) of its files. */
export interface ModelRef {
  id: string;
  revision: string;
}

/** Issue 11's output kept with an entry: the processing settings and the processed mesh's report. */
export interface ProcessedInfo {
  settings: PostSettings;
  report: QualityReport;
  steps?: StepLog[];
  /** Maps the processed mesh back to the generated one's frame: a texture bake after a reload needs it. */
  toSource?: MeshToSource;
}

/** What describes an entry, as given and as listed. */
export interface EntryInfo {
  name: string;
  kind: EntryKind;
  /** The prompt of a text job (the drawn picture is `image`). */
  prompt?: string;
  params: GenerationParams;
  model: ModelRef;
  /** Stats of the run: counts, timings, backend (PipelineStats from src/shared/pipeline.ts). */
  stats: PipelineStats;
  /** Quality report of the generated mesh, when one was computed. */
  quality?: QualityReport;
  /** Result-cache key (see `resultCacheKey`); entries without one are never returned from the cache. */
  cacheKey?: string;
  thumbnail: Blob;
}

/** What a caller hands to `HistoryStore.add`. */
export interface NewEntry extends EntryInfo {
  /** Defaults to a random UUID. */
  id?: string;
  /** Milliseconds since the epoch; defaults to now. */
  createdAt?: number;
  /** The photo, or the picture drawn for a text job, as given. */
  image: Blob;
  /** The generated mesh as GLB. */
  mesh: Blob;
  /** The triplane (so later processing needs no encoder run), when the pipeline returns it. */
  triplane?: Blob;
  /** Processing applied afterwards, with its GLB. */
  processed?: ProcessedInfo & { mesh: Blob };
}

/** The small record every listing reads. */
export interface HistorySummary extends EntryInfo {
  id: string;
  createdAt: number;
  processed?: ProcessedInfo;
  /** Bytes of each stored part (thumbnail included), so usage is known without reading blobs. */
  sizes: Partial<Record<PayloadPart | 'thumbnail', number>>;
}

/** A full entry, every payload included. */
export interface HistoryEntry extends HistorySummary {
  image: Blob;
  mesh: Blob;
  triplane?: Blob;
  processedMesh?: Blob;
}

/** What `list` returns: entries newest first, and a note for each record it could not read. */
export interface HistoryListing {
  entries: HistorySummary[];
  skipped: { id: string; reason: string }[];
}
