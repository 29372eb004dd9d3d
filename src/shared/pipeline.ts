import type { AdapterSummary } from '../gpu/device';
import type { ResultMesh } from './mesh';

/** Stages a generation goes through, in order; each reports its time. */
export const STAGES = ['prepare', 'download', 'encoder', 'decode', 'mesh'] as const;
export type Stage = (typeof STAGES)[number];

/** Which runtime ran a stage: the GPU path or the WASM/CPU fallback. */
export type Backend = 'webgpu' | 'wasm';

/** Progress events a worker sends to the UI through a proxied callback. */
export type PipelineEvent =
  | { type: 'stage'; stage: Stage; state: 'start' }
  | { type: 'stage'; stage: Stage; state: 'done'; ms: number }
  | { type: 'download'; file: string; loaded: number; total: number | undefined; fromCache: boolean }
  | { type: 'notice'; code: 'retry-lower-resolution'; message: string; resolution: number };

/** Test-only faults (`?fault=`), ignored by production builds. */
export type Fault = 'device-lost' | 'oom';

/** What a worker needs to start: which model, and an optional test fault. */
export interface PipelineInit {
  manifestUrl: string;
  fault?: Fault;
}

/** One image-to-3D job: the exact 512² CHW image the model sees, and the meshing controls. */
export interface GenerateRequest {
  image: Float32Array;
  resolution: number;
  threshold: number;
  /** Time the UI spent preparing `image`, reported as the 'prepare' stage. */
  prepareMs: number;
}

/** Numbers the viewer's stats panel shows. */
export interface PipelineStats {
  backend: Backend;
  mesher: 'webgpu' | 'cpu';
  adapter: AdapterSummary | null;
  modelId: string;
  modelName: string;
  fromCache: boolean;
  resolution: number;
  threshold: number;
  vertices: number;
  triangles: number;
  evaluations: number;
  triplaneSource: 'gpu-buffer' | 'cpu';
  ms: Partial<Record<Stage, number>>;
  /** Set when a lost device or out-of-memory forced a retry at a lower resolution. */
  retry?: { reason: 'gpu-device-lost' | 'gpu-out-of-memory'; from: number; to: number };
}

/** A finished job. */
export interface GenerateResult {
  mesh: ResultMesh;
  stats: PipelineStats;
}

/** Model status for the consent prompt and the storage panel. */
export interface ModelStatus {
  id: string;
  name: string;
  license: string;
  cached: boolean;
  /** Bytes still to download (undefined when the server does not say). */
  downloadBytes: number | undefined;
  /** True when `downloadBytes` is the manifest's estimate rather than exact file sizes. */
  downloadIsEstimate: boolean;
  /** Bytes this app keeps in Cache Storage for models. */
  cachedBytes: number;
}
