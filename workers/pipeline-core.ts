import { transfer } from 'comlink';
import * as ortWebgpu from 'onnxruntime-web/webgpu';
import { DecoderGraphError, readDecoderOnnx, type DecoderWeights } from '../src/gpu/decoder-weights';
import { createOrtDecoder, type OrtDecoder } from '../src/gpu/ort-decoder';
import { AppError, throwIfAborted } from '../src/lib/errors';
import { toGltfFrame } from '../src/lib/mesh-frame';
import { withStoredPin } from '../src/lib/hf-pin';
import { createModelStore, type ModelStore } from '../src/lib/model-store';
import { openRequestedStore, type StoreInit } from '../src/embed/page-store';
import {
  cachedModelBytes,
  checkForUpdate,
  deleteCachedModels,
  fetchManifest,
  loadModel,
  modelDownloadSize,
  updateModel,
} from '../src/lib/model-cache';
import type { ModelManifest } from '../src/shared/manifest';
import type { ResultMesh } from '../src/shared/mesh';
import type { BakeRequest, TexturedMesh } from '../src/texture/types';
import type { Fault, GenerateRequest, GenerateResult, ModelStatus, PipelineInit, PipelineStats, Stage } from '../src/shared/pipeline';
import { FAULTS_ENABLED, type BackendJob, type Emit, type LoadedPipelineModel, type PipelineBackend } from './backend';
import { EncoderSession } from './encoder';

/** How often a running job tells the page it is alive (the page's watchdog counts silence). */
const HEARTBEAT_MS = 5_000;

/** The notice shown when the decoder graph is run by onnxruntime instead of the fast decoder. */
const ORT_DECODER_NOTICE =
  "This model's decoder has a form the fast decoder does not read, so it runs through ONNX Runtime instead; meshing is slower.";

/**
 * The pipeline one worker runs: model download and cache, the encoder session, and the mesher of its
 * backend (the GPU worker's or the CPU worker's; see backend.ts).
 */
export function createPipelineApi(backend: PipelineBackend) {
  const kind = backend.kind;
  let store: ModelStore = createModelStore();
  let init: PipelineInit | null = null;
  let manifest: Promise<ModelManifest> | null = null;
  let model: Promise<LoadedPipelineModel> | null = null;
  /** Settles when the previous model load (and the release of an abandoned one) has finished. */
  let loadChain: Promise<unknown> = Promise.resolve();
  /** The signal of the job loading `model` while it is still loading; a cancelled load is not reused. */
  let loadingSignal: AbortSignal | null = null;
  let job: AbortController | null = null;
  let faultUsed = false;

  const fault = (name: Fault): boolean => {
    if (!FAULTS_ENABLED || init?.fault !== name || faultUsed) return false;
    faultUsed = true;
    return true;
  };

  function ensureManifest(signal?: AbortSignal): Promise<ModelManifest> {
    if (!init) throw new Error('The pipeline is not configured.');
    const pending =
      manifest ??
      fetchManifest(init.manifestUrl, { signal, store }).catch((error: unknown) => {
        manifest = null;
        throw error;
      });
    manifest = pending;
    return pending;
  }

  /** The decoder's weights, or, for a graph the reader refuses, the graph itself in onnxruntime. */
  async function openDecoder(m: ModelManifest, bytes: Uint8Array, externalData: Map<string, Uint8Array>, device: GPUDevice | undefined): Promise<{ weights: DecoderWeights | null; ortDecoder: OrtDecoder | null }> {
    try {
      return { weights: readDecoderOnnx(bytes, { externalData }), ortDecoder: null };
    } catch (cause) {
      if (!(cause instanceof DecoderGraphError)) throw cause;
      try {
        const session = device
          ? { executionProviders: [{ name: 'webgpu', device }] as ortWebgpu.InferenceSession.ExecutionProviderConfig[] }
          : { executionProviders: ['wasm'] };
        return { weights: null, ortDecoder: await createOrtDecoder(ortWebgpu, bytes, session, { externalData }) };
      } catch (ortCause) {
        throw new AppError('model-incompatible', `The decoder of ${m.name} cannot be run: ${cause.message} (${(ortCause as Error).message})`, { cause: ortCause });
      }
    }
  }

  /** Downloads (or reads from the cache) and opens the model once; a failed attempt is forgotten. */
  function ensureModel(emit: Emit, signal: AbortSignal): Promise<LoadedPipelineModel> {
    // A load that a cancelled job started may still be settling (a session being built cannot be
    // interrupted): start afresh once it has settled, rather than inherit its AbortError, and free it.
    if (model && loadingSignal?.aborted) {
      const abandoned = model;
      model = null;
      loadChain = abandoned.then((m) => m.encoder.release(), () => undefined);
    }
    if (!model) loadingSignal = signal;
    model ??= loadChain.then(async () => {
      const m = await ensureManifest(signal);
      const device = await backend.sessionDevice(m);
      // The fixed kernels compile on the driver's threads while the model downloads.
      const warming = [backend.warm?.(null)];
      const files = await loadModel(m, {
        signal,
        store,
        onProgress: (p) => emit({ type: 'download', file: p.file, loaded: p.loaded, total: p.total, fromCache: p.fromCache }),
      });
      const decoder = await openDecoder(m, files.decoder, files.decoderExternalData, device);
      warming.push(backend.warm?.(decoder.weights));
      const encoder = await EncoderSession.create(files, m.contract, kind, device);
      await Promise.all(warming);
      return { manifest: m, encoder, ...decoder, fromCache: files.fromCache };
    });
    const pending = model;
    pending.then(
      () => {
        if (model === pending) loadingSignal = null;
      },
      () => {
        if (model === pending) model = null;
      },
    );
    return pending;
  }

  async function dropModel(): Promise<void> {
    const current = model;
    model = null;
    if (current) await current.then((m) => m.encoder.release()).catch(() => undefined);
  }

  async function run(request: GenerateRequest, emit: Emit, signal: AbortSignal): Promise<GenerateResult> {
    const stats: PipelineStats = {
      backend: kind,
      mesher: kind === 'webgpu' ? 'webgpu' : 'cpu',
      decoder: kind === 'webgpu' ? 'wgsl' : 'cpu',
      adapter: await backend.open(),
      modelId: '',
      modelName: '',
      fromCache: false,
      resolution: request.resolution,
      threshold: request.threshold,
      vertices: 0,
      triangles: 0,
      evaluations: 0,
      meshing: request.meshing,
      triplaneSource: kind === 'webgpu' ? 'gpu-buffer' : 'cpu',
      ms: {},
    };
    const stage = async <T>(name: Stage, work: () => Promise<T>): Promise<T> => {
      emit({ type: 'stage', stage: name, state: 'start' });
      const t = performance.now();
      const value = await work();
      stats.ms[name] = performance.now() - t;
      emit({ type: 'stage', stage: name, state: 'done', ms: stats.ms[name] });
      return value;
    };
    // The image was prepared by the page's prepare worker before this job; report its time first.
    stats.ms.prepare = request.prepareMs;
    emit({ type: 'stage', stage: 'prepare', state: 'start' });
    emit({ type: 'stage', stage: 'prepare', state: 'done', ms: request.prepareMs });
    const loaded = await stage('download', () => ensureModel(emit, signal));
    throwIfAborted(signal);
    stats.modelId = loaded.manifest.id;
    stats.modelName = loaded.manifest.name;
    stats.fromCache = loaded.fromCache;
    if (loaded.ortDecoder) {
      stats.decoder = 'onnxruntime';
      stats.meshing = 'dense';
      emit({ type: 'notice', code: 'decoder-onnxruntime', message: ORT_DECODER_NOTICE });
    }
    const job: BackendJob = { request, loaded, emit, signal, stats, fault, forgetModel: () => (model = null), triplane: null };
    const mesh = await backend.run(job);
    throwIfAborted(signal);
    stats.ms.decode = mesh.stats.ms.decode;
    stats.ms.mesh = mesh.stats.ms.march + mesh.stats.ms.colour + mesh.stats.ms.readback;
    stats.evaluations = mesh.stats.evaluations;
    if (mesh.stats.walk && mesh.stats.walk !== 'dense') stats.walkBound = mesh.stats.walk;
    if ('refinedShare' in mesh.stats && typeof mesh.stats.refinedShare === 'number') stats.walkRefined = mesh.stats.refinedShare;
    if ('peakBytes' in mesh.stats && typeof mesh.stats.peakBytes === 'number') stats.mesherPeakBytes = mesh.stats.peakBytes;
    if (kind === 'wasm' || loaded.ortDecoder) emit({ type: 'stage', stage: 'decode', state: 'done', ms: stats.ms.decode });
    emit({ type: 'stage', stage: 'mesh', state: 'done', ms: stats.ms.mesh });
    const result: ResultMesh = { positions: mesh.positions, normals: mesh.normals, colours: mesh.colours, indices: mesh.indices };
    // The one place the frame changes: viewer, GLB and stats all see glTF's Y-up frame.
    toGltfFrame(result.positions, result.normals);
    stats.vertices = result.positions.length / 3;
    stats.triangles = result.indices.length / 3;
    if (stats.triangles === 0) {
      throw new AppError('no-surface', 'The model found no surface at this threshold. Lower the density threshold and generate again.');
    }
    const buffers = [result.positions.buffer, result.normals.buffer, result.colours.buffer, result.indices.buffer];
    // 2 MB: the history keeps it, so later processing (or a texture bake) needs no encoder run.
    if (job.triplane) return transfer({ mesh: result, stats, triplane: job.triplane }, [...buffers, job.triplane.buffer]);
    return transfer({ mesh: result, stats }, buffers);
  }

  const api = {
    /**
     * Sets the model and the test fault; on WebGPU also opens the device (AppError when there is none).
     * `store` (the embed widget's) picks another model store; without it the store stays as it is.
     */
    async configure(options: PipelineInit & StoreInit) {
      if (options.store) store = await openRequestedStore(options.store, store);
      if (init?.manifestUrl !== options.manifestUrl) {
        await dropModel();
        manifest = null;
      }
      init = options;
      faultUsed = false;
      const adapter = await backend.open();
      return { backend: kind, adapter, crossOriginIsolated: globalThis.crossOriginIsolated === true, storeKind: store.kind };
    },

    /** What the consent prompt and the storage panel need: size still to download, bytes cached. */
    async modelStatus(): Promise<ModelStatus> {
      const m = await ensureManifest();
      const { missing } = await modelDownloadSize(m, store);
      const cached = missing === 0;
      return {
        id: m.id,
        revision: (await withStoredPin(m, store)).revision,
        name: m.name,
        license: m.license,
        cached,
        downloadBytes: missing ?? (cached ? 0 : m.downloadEstimate),
        downloadIsEstimate: missing === undefined,
        cachedBytes: await cachedModelBytes(store),
        storeKind: store.kind,
      };
    },

    /** Runs one photo → mesh job; `onEvent` receives stage and download progress, and a heartbeat. */
    async generate(request: GenerateRequest, onEvent: Emit): Promise<GenerateResult> {
      job?.abort();
      const controller = new AbortController();
      job = controller;
      const { signal } = controller;
      // After a cancel no event may reach the UI, even one already in flight in this worker.
      const emit: Emit = (event) => {
        if (!signal.aborted) onEvent(event);
      };
      const heartbeat = setInterval(() => emit({ type: 'heartbeat' }), HEARTBEAT_MS);
      try {
        return await run(request, emit, signal);
      } finally {
        clearInterval(heartbeat);
        if (job === controller) job = null;
      }
    },

    /**
     * Unwraps `request.mesh` and bakes the triplane's colour into a texture of `request.size`² on this
     * worker's backend (WGSL on its device, or the CPU decoder). Loads the model for its decoder weights
     * (from the cache after a reload). `cancel()` aborts it with an AbortError.
     */
    async bakeTexture(request: BakeRequest, onProgress?: (step: 'unwrap' | 'bake', fraction: number) => void): Promise<TexturedMesh> {
      job?.abort();
      const controller = new AbortController();
      job = controller;
      const { signal } = controller;
      const held: { release(): Promise<void> }[] = [];
      try {
        const loaded = await ensureModel(() => undefined, signal);
        throwIfAborted(signal);
        if (!loaded.weights) {
          throw new AppError('model-incompatible', `The decoder of ${loaded.manifest.name} runs through ONNX Runtime, which cannot bake textures; keep vertex colours.`);
        }
        const search = await backend.texelColourer(request.triplane, loaded.weights);
        held.push(search);
        const { bakeTexture } = await import('../src/texture/bake');
        const progress = (step: 'unwrap' | 'bake', fraction: number): void => {
          if (!signal.aborted) onProgress?.(step, fraction);
        };
        const { mesh } = await bakeTexture(request, search.colourer, { signal, onProgress: progress });
        throwIfAborted(signal);
        return transfer(mesh, [mesh.positions.buffer, mesh.normals.buffer, mesh.colours.buffer, mesh.indices.buffer, mesh.uvs.buffer, mesh.texture.rgba.buffer]);
      } finally {
        await Promise.all(held.map((c) => c.release().catch(() => undefined)));
        if (job === controller) job = null;
      }
    },

    /** Cancels the running job: it throws AbortError, sends no more events, and keeps the session. */
    cancel(): void {
      job?.abort();
    },

    /** Test builds only: live GPU buffers on the worker's device, and those the mesher left behind. */
    gpuBufferCensus(): { live: number; mesher: number } | null {
      return backend.census();
    },

    /** True while the worker can take another job on its current session. */
    isHealthy(): boolean {
      return backend.healthy();
    },

    /** Deletes every cached model file (the session in memory stays usable). */
    async deleteCachedModels(): Promise<number> {
      await deleteCachedModels(store);
      return cachedModelBytes(store);
    },

    /** Asks the model's host whether a newer version than the stored one exists. */
    async checkForUpdate() {
      return checkForUpdate(await ensureManifest(), { store });
    },

    /** Downloads the newer version, and drops the loaded one so the next job uses it. */
    async updateModel(): Promise<void> {
      await updateModel(await ensureManifest(), { store });
      await dropModel();
    },
  };
  return api;
}

/** The API both pipeline workers expose; the UI wraps either with this type. */
export type PipelineApi = ReturnType<typeof createPipelineApi>;
