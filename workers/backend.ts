import type { AdapterSummary } from '../src/gpu/device';
import type { DecoderWeights } from '../src/gpu/decoder-weights';
import type { OrtDecoder } from '../src/gpu/ort-decoder';
import type { TriplaneMesh } from '../src/gpu/reference/triplane-mesher-cpu';
import type { ModelManifest } from '../src/shared/manifest';
import type { Backend, Fault, GenerateRequest, PipelineEvent, PipelineStats } from '../src/shared/pipeline';
import type { TexelColourer } from '../src/texture/project';
import type { EncoderSession } from './encoder';

/** Fault hooks exist for tests only; a production build compiles them away. */
export const FAULTS_ENABLED = import.meta.env.DEV || import.meta.env.MODE === 'e2e';

export type Emit = (event: PipelineEvent) => void;

/** The model as one worker holds it: the encoder session and the decoder's weights. */
export interface LoadedPipelineModel {
  manifest: ModelManifest;
  encoder: EncoderSession;
  /** The MLP as read from decoder.onnx; null when the reader refused the graph. */
  weights: DecoderWeights | null;
  /** decoder.onnx itself in onnxruntime, for a graph the reader refused. */
  ortDecoder: OrtDecoder | null;
  fromCache: boolean;
}

/** One job as a backend runs it: encoder, then meshing, reporting through `emit`. */
export interface BackendJob {
  request: GenerateRequest;
  loaded: LoadedPipelineModel;
  emit: Emit;
  signal: AbortSignal;
  stats: PipelineStats;
  /** True once when the test fault `name` is set (test builds only). */
  fault: (name: Fault) => boolean;
  /** Forgets the loaded model without releasing it (its device is gone). */
  forgetModel: () => void;
  /** The triplane the mesh came from (a CPU copy the backend gives up), kept with the result. */
  triplane: Float32Array | null;
}

/**
 * What differs between the GPU worker and the CPU worker. Each worker entry imports only its own
 * backend, so the CPU worker never loads the WGSL mesher (nor any module that needs WebGPU).
 */
export interface PipelineBackend {
  readonly kind: Backend;
  /** Opens what the backend needs (the GPU device); the adapter's summary, or null on the CPU. */
  open(): Promise<AdapterSummary | null>;
  /** The device an ORT session should share, once the manifest's requirements are checked. */
  sessionDevice(manifest: ModelManifest): Promise<GPUDevice | undefined>;
  /**
   * Builds the mesher's GPU kernels in the background (with `weights`, the decoder's too), so the first
   * mesh compiles nothing; the CPU backend has none. Never rejects: a refused kernel is reported by the
   * mesher's own error scopes when it is used.
   */
  warm?(weights: DecoderWeights | null): Promise<void>;
  /** Runs the encoder and the mesher for one job. */
  run(job: BackendJob): Promise<TriplaneMesh>;
  /** The texture bake's colour search for `triplane` on this backend (WGSL, or the CPU decoder); release it after. */
  texelColourer(triplane: Float32Array, weights: DecoderWeights): Promise<{ colourer: TexelColourer; release(): Promise<void> }>;
  /** False once the device is lost: the worker cannot take another job on its session. */
  healthy(): boolean;
  /** Test builds only: live GPU buffers, and those the mesher left behind. */
  census(): { live: number; mesher: number } | null;
}
