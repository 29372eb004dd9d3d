import type { AdapterSummary } from '../gpu/device';
import type { DecoderBackend } from '../gpu/ort-decoder';
import type { ModelStoreKind } from '../lib/model-store';
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
  | { type: 'progress'; stage: Stage; fraction: number }
  | { type: 'notice'; code: 'retry-lower-resolution' | 'cpu-resolution-capped'; message: string; resolution: number }
  | { type: 'notice'; code: 'decoder-onnxruntime'; message: string }
  /** Sent every few seconds while a job runs: the page's watchdog treats a long silence as a stall. */
  | { type: 'heartbeat' };

/** Test-only faults (`?fault=`), ignored by production builds. */
export const FAULTS = ['device-lost', 'oom', 'encoder-validation', 'encoder-zero'] as const;
export type Fault = (typeof FAULTS)[number];

/** What a worker needs to start: which model, and an optional test fault. */
export interface PipelineInit {
  manifestUrl: string;
  fault?: Fault;
}

/**
 * How the mesher finds the surface: `coarse-to-fine` evaluates a coarse lattice and refines only the
 * blocks a bound says may hold the surface; `dense` evaluates every lattice point (certain, slower).
 */
export type MeshingMode = 'coarse-to-fine' | 'dense';
export const MESHING_MODES: readonly MeshingMode[] = ['coarse-to-fine', 'dense'];

/** One image-to-3D job: the exact 512² CHW image the model sees, and the meshing controls. */
export interface GenerateRequest {
  image: Float32Array;
  resolution: number;
  threshold: number;
  meshing: MeshingMode;
  /** Time the UI spent preparing `image`, reported as the 'prepare' stage. */
  prepareMs: number;
}

/** Numbers the viewer's stats panel shows. */
export interface PipelineStats {
  backend: Backend;
  mesher: 'webgpu' | 'cpu';
  /** Which decoder ran: the WGSL kernel, the CPU decoder, or decoder.onnx itself in onnxruntime. */
  decoder: DecoderBackend;
  adapter: AdapterSummary | null;
  modelId: string;
  modelName: string;
  fromCache: boolean;
  resolution: number;
  threshold: number;
  vertices: number;
  triangles: number;
  evaluations: number;
  /** The surface search that ran (the onnxruntime decoder always walks densely). */
  meshing: MeshingMode;
  /**
   * What let the adaptive search skip a block: a bound proven from the decoder's weights
   * ('certified'), or its gradient measured near the surface with a safety factor ('measured').
   */
  walkBound?: 'certified' | 'measured' | 'declared';
  /** The share of blocks the adaptive search refined (past half, the GPU decodes every point instead). */
  walkRefined?: number;
  /** The mesher's own peak of live GPU bytes (its buffers only; the model's are ORT's), when on the GPU. */
  mesherPeakBytes?: number;
  triplaneSource: 'gpu-buffer' | 'cpu';
  ms: Partial<Record<Stage, number>>;
  /** Set when a lost device or out-of-memory forced a retry at a lower resolution. */
  retry?: { reason: 'gpu-device-lost' | 'gpu-out-of-memory'; from: number; to: number };
}

/** A finished job. */
export interface GenerateResult {
  mesh: ResultMesh;
  stats: PipelineStats;
  /** The triplane the mesh came from ([1, 3, 40, 64, 64], 2 MB), when the pipeline kept it. */
  triplane?: Float32Array;
}

/** Model status for the consent prompt and the storage panel. */
export interface ModelStatus {
  id: string;
  /** The revision its files come from: the pinned commit once pinned, else the manifest's revision. */
  revision: string;
  name: string;
  license: string;
  cached: boolean;
  /** Bytes still to download (undefined when the server does not say). */
  downloadBytes: number | undefined;
  /** True when `downloadBytes` is the manifest's estimate rather than exact file sizes. */
  downloadIsEstimate: boolean;
  /** Bytes this app keeps in Cache Storage for models. */
  cachedBytes: number;
  /** Where model files are kept: Cache Storage, IndexedDB (insecure pages), or only in memory. */
  storeKind: ModelStoreKind;
}
