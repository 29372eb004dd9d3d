import { transfer } from 'comlink';
import type * as ort from 'onnxruntime-web/webgpu';
import { requestGpu, type GpuContext } from '../src/gpu/device';
import { DecoderGraphError, readDecoderOnnx, type DecoderWeights } from '../src/gpu/decoder-weights';
import { meshTriplane } from '../src/gpu/triplane-mesher';
import { meshTriplaneCpu, type TriplaneMesh } from '../src/gpu/reference/triplane-mesher-cpu';
import { AppError, isAbortError, throwIfAborted } from '../src/lib/errors';
import { toGltfFrame } from '../src/lib/mesh-frame';
import { CacheStorageModelStore } from '../src/lib/model-store';
import {
  cachedModelBytes,
  deleteCachedModels,
  fetchManifest,
  loadModel,
  modelDownloadSize,
} from '../src/lib/model-cache';
import type { ModelManifest } from '../src/shared/manifest';
import type { ResultMesh } from '../src/shared/mesh';
import type {
  Backend,
  Fault,
  GenerateRequest,
  GenerateResult,
  ModelStatus,
  PipelineEvent,
  PipelineInit,
  PipelineStats,
  Stage,
} from '../src/shared/pipeline';
import { EncoderSession } from './encoder';

/** Fault hooks exist for tests only; a production build compiles them away. */
const FAULTS_ENABLED = import.meta.env.DEV || import.meta.env.MODE === 'e2e';
/** The lowest resolution a retry after a lost device or out-of-memory goes down to. */
const MIN_RETRY_RESOLUTION = 32;

interface LoadedPipelineModel {
  manifest: ModelManifest;
  encoder: EncoderSession;
  weights: DecoderWeights;
  fromCache: boolean;
}

type Emit = (event: PipelineEvent) => void;

/** Live GPU buffers of one device, counted in test builds to prove that jobs leak nothing. */
interface BufferCensus {
  live: Set<GPUBuffer>;
  /** Buffers created while the mesher ran; none may outlive the job. */
  mesher: Set<GPUBuffer>;
  inMesher: boolean;
}

function takeCensus(device: GPUDevice): BufferCensus {
  const census: BufferCensus = { live: new Set(), mesher: new Set(), inMesher: false };
  const create = device.createBuffer.bind(device);
  device.createBuffer = (descriptor: GPUBufferDescriptor): GPUBuffer => {
    const buffer = create(descriptor);
    census.live.add(buffer);
    if (census.inMesher) census.mesher.add(buffer);
    const destroy = buffer.destroy.bind(buffer);
    buffer.destroy = () => {
      census.live.delete(buffer);
      census.mesher.delete(buffer);
      destroy();
    };
    return buffer;
  };
  return census;
}

/** Tells a lost device and an out-of-memory apart from other failures while meshing. */
function gpuFailure(error: unknown, gpu: GpuContext | null, lost: boolean): AppError | null {
  if (error instanceof AppError && (error.code === 'gpu-device-lost' || error.code === 'gpu-out-of-memory')) return error;
  if (lost || (gpu && error instanceof Error && /lost|destroyed/i.test(error.message))) {
    return new AppError('gpu-device-lost', 'The GPU stopped responding (the device was lost).', { cause: error });
  }
  return null;
}

/**
 * The pipeline one worker runs: model download and cache, the encoder session, and the mesher, on
 * WebGPU (`'webgpu'`: the worker owns the GPUDevice that ORT and the WGSL kernels share) or on the
 * CPU (`'wasm'`: ORT's WASM EP and the TypeScript reference mesher).
 */
export function createPipelineApi(kind: Backend) {
  const store = new CacheStorageModelStore();
  let init: PipelineInit | null = null;
  let manifest: Promise<ModelManifest> | null = null;
  let gpu: GpuContext | null = null;
  let deviceLost = false;
  let model: Promise<LoadedPipelineModel> | null = null;
  /** Settles when the previous model load (and the release of an abandoned one) has finished. */
  let loadChain: Promise<unknown> = Promise.resolve();
  /** The signal of the job loading `model` while it is still loading; a cancelled load is not reused. */
  let loadingSignal: AbortSignal | null = null;
  let job: AbortController | null = null;
  let faultUsed = false;
  let census: BufferCensus | null = null;

  const fault = (name: Fault): boolean => {
    if (!FAULTS_ENABLED || init?.fault !== name || faultUsed) return false;
    faultUsed = true;
    return true;
  };

  async function ensureGpu(): Promise<GpuContext> {
    if (gpu && !deviceLost) return gpu;
    gpu = await requestGpu();
    deviceLost = false;
    census = FAULTS_ENABLED ? takeCensus(gpu.device) : null;
    const current = gpu;
    void current.lost.then(() => {
      if (gpu === current) deviceLost = true;
    });
    return gpu;
  }

  function ensureManifest(signal?: AbortSignal): Promise<ModelManifest> {
    if (!init) throw new Error('The pipeline is not configured.');
    const pending =
      manifest ??
      fetchManifest(init.manifestUrl, { signal }).catch((error: unknown) => {
        manifest = null;
        throw error;
      });
    manifest = pending;
    return pending;
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
      let device: GPUDevice | undefined;
      if (kind === 'webgpu') {
        const context = await ensureGpu();
        const need = m.requirements;
        if (context.adapter.maxBufferSize < need.maxBufferSize || context.adapter.maxStorageBufferBindingSize < need.maxStorageBufferBindingSize) {
          throw new AppError(
            'adapter-insufficient',
            `This GPU allows ${Math.round(context.adapter.maxStorageBufferBindingSize / 2 ** 20)} MiB per buffer but ${m.name} needs ${Math.round(need.maxStorageBufferBindingSize / 2 ** 20)} MiB; CADLift will run it on the CPU instead.`,
          );
        }
        device = context.device;
      }
      const files = await loadModel(m, {
        signal,
        store,
        onProgress: (p) => emit({ type: 'download', file: p.file, loaded: p.loaded, total: p.total, fromCache: p.fromCache }),
      });
      let weights: DecoderWeights;
      try {
        weights = readDecoderOnnx(files.decoder);
      } catch (cause) {
        if (!(cause instanceof DecoderGraphError)) throw cause;
        throw new AppError('model-incompatible', `The decoder of ${m.name} is not a TripoSR decoder: ${cause.message}`, { cause });
      }
      const encoder = await EncoderSession.create(files, m.contract, kind, device);
      return { manifest: m, encoder, weights, fromCache: files.fromCache };
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

  /** Meshes on the worker's GPU, inside an out-of-memory scope; fault hooks fire here. */
  async function meshOnGpu(
    context: GpuContext,
    triplane: GPUBuffer | Float32Array,
    weights: DecoderWeights,
    request: GenerateRequest,
    resolution: number,
    emit: Emit,
    signal: AbortSignal,
  ): Promise<TriplaneMesh> {
    const { device } = context;
    device.pushErrorScope('out-of-memory');
    let mesh: TriplaneMesh | undefined;
    let failure: unknown;
    if (census) census.inMesher = true;
    try {
      mesh = await meshTriplane(device, triplane, weights, {
        resolution,
        threshold: request.threshold,
        mode: 'coarse-to-fine',
        signal,
        onFieldReady: (ms) => {
          emit({ type: 'stage', stage: 'decode', state: 'done', ms });
          emit({ type: 'stage', stage: 'mesh', state: 'start' });
          if (fault('device-lost')) device.destroy();
        },
      });
    } catch (error) {
      failure = error;
    } finally {
      if (census) census.inMesher = false;
    }
    const oom = await device.popErrorScope().catch(() => null);
    if (oom || (mesh && fault('oom'))) {
      throw new AppError('gpu-out-of-memory', 'The GPU ran out of memory at this resolution.', { cause: oom ?? failure });
    }
    if (failure !== undefined) {
      if (isAbortError(failure) && !deviceLost) throw failure;
      throw gpuFailure(failure, context, deviceLost) ?? failure;
    }
    return mesh!;
  }

  async function generateOnGpu(request: GenerateRequest, loaded: LoadedPipelineModel, emit: Emit, signal: AbortSignal, stats: PipelineStats) {
    const context = await ensureGpu();
    emit({ type: 'stage', stage: 'encoder', state: 'start' });
    const t = performance.now();
    const triplane = await loaded.encoder.run(request.image, loaded.manifest.contract, signal).catch((error: unknown) => {
      // No retry here (the encoder needs the lost session): say what happened, and the next job
      // gets a fresh worker.
      throw (isAbortError(error) && !deviceLost) ? error : (gpuFailure(error, context, deviceLost) ?? error);
    });
    let copy: Promise<Float32Array> | null = null;
    try {
      stats.ms.encoder = performance.now() - t;
      emit({ type: 'stage', stage: 'encoder', state: 'done', ms: stats.ms.encoder });
      if (triplane.location !== 'gpu-buffer') throw new Error(`Expected the triplane on the GPU, got "${triplane.location}".`);
      // 2 MB to the CPU, off the critical path: lets meshing be retried on a new device.
      copy = (triplane.getData() as Promise<Float32Array>).then((data) => data.slice());
      copy.catch(() => undefined);
      emit({ type: 'stage', stage: 'decode', state: 'start' });
      try {
        const mesh = await meshOnGpu(context, triplane.gpuBuffer as GPUBuffer, loaded.weights, request, request.resolution, emit, signal);
        stats.triplaneSource = 'gpu-buffer';
        return mesh;
      } catch (error) {
        const failure = error instanceof AppError && (error.code === 'gpu-device-lost' || error.code === 'gpu-out-of-memory') ? error : null;
        const cpuTriplane = failure ? await copy.catch(() => null) : null;
        if (!failure || !cpuTriplane || request.resolution <= MIN_RETRY_RESOLUTION) throw error;
        const lower = Math.max(MIN_RETRY_RESOLUTION, Math.floor(request.resolution / 2));
        // A lost device needs a new one; after an out-of-memory the scope has freed the mesher's
        // buffers, so the same device retries at half the resolution (an eighth of the field).
        const why = failure.code === 'gpu-device-lost' ? 'The GPU was lost; retrying on a new device' : 'The GPU ran out of memory; retrying';
        emit({ type: 'notice', code: 'retry-lower-resolution', message: `${why} at resolution ${lower} from the kept triplane.`, resolution: lower });
        stats.retry = { reason: failure.code as 'gpu-device-lost' | 'gpu-out-of-memory', from: request.resolution, to: lower };
        stats.resolution = lower;
        if (failure.code === 'gpu-device-lost' || deviceLost) {
          // The session is bound to the lost device. Releasing it there crashes ORT's WASM ("null
          // function"), so it is left alone: the client replaces this whole worker before the next job.
          model = null;
          deviceLost = true;
        }
        const fresh = await ensureGpu();
        stats.adapter = fresh.adapter;
        emit({ type: 'stage', stage: 'decode', state: 'start' });
        const mesh = await meshOnGpu(fresh, cpuTriplane, loaded.weights, request, lower, emit, signal);
        stats.triplaneSource = 'cpu';
        return mesh;
      }
    } finally {
      if (!deviceLost) triplane.dispose();
    }
  }

  async function generateOnCpu(request: GenerateRequest, loaded: LoadedPipelineModel, emit: Emit, signal: AbortSignal, stats: PipelineStats) {
    emit({ type: 'stage', stage: 'encoder', state: 'start' });
    const t = performance.now();
    const tensor: ort.Tensor = await loaded.encoder.run(request.image, loaded.manifest.contract, signal);
    const triplane = (tensor.data as Float32Array).slice();
    tensor.dispose();
    stats.ms.encoder = performance.now() - t;
    emit({ type: 'stage', stage: 'encoder', state: 'done', ms: stats.ms.encoder });
    emit({ type: 'stage', stage: 'decode', state: 'start' });
    // Let the event above reach the UI before the synchronous CPU mesher holds this thread.
    await new Promise((resolve) => setTimeout(resolve, 0));
    throwIfAborted(signal);
    stats.triplaneSource = 'cpu';
    return meshTriplaneCpu(triplane, loaded.weights, { resolution: request.resolution, threshold: request.threshold, mode: 'coarse-to-fine' });
  }

  const api = {
    /** Sets the model and the test fault; on WebGPU also opens the device (AppError when there is none). */
    async configure(options: PipelineInit) {
      if (init?.manifestUrl !== options.manifestUrl) {
        await dropModel();
        manifest = null;
      }
      init = options;
      faultUsed = false;
      const adapter = kind === 'webgpu' ? (await ensureGpu()).adapter : null;
      return { backend: kind, adapter, crossOriginIsolated: globalThis.crossOriginIsolated === true };
    },

    /** What the consent prompt and the storage panel need: size still to download, bytes cached. */
    async modelStatus(): Promise<ModelStatus> {
      const m = await ensureManifest();
      const { missing } = await modelDownloadSize(m, store);
      const cached = missing === 0;
      return {
        id: m.id,
        name: m.name,
        license: m.license,
        cached,
        downloadBytes: missing ?? (cached ? 0 : m.downloadEstimate),
        downloadIsEstimate: missing === undefined,
        cachedBytes: await cachedModelBytes(store),
      };
    },

    /** Runs one photo → mesh job; `onEvent` receives stage and download progress. */
    async generate(request: GenerateRequest, onEvent: Emit): Promise<GenerateResult> {
      job?.abort();
      const controller = new AbortController();
      job = controller;
      const { signal } = controller;
      // After a cancel no event may reach the UI, even one already in flight in this worker.
      const emit: Emit = (event) => {
        if (!signal.aborted) onEvent(event);
      };
      try {
        const stats: PipelineStats = {
          backend: kind,
          mesher: kind === 'webgpu' ? 'webgpu' : 'cpu',
          adapter: kind === 'webgpu' ? (await ensureGpu()).adapter : null,
          modelId: '',
          modelName: '',
          fromCache: false,
          resolution: request.resolution,
          threshold: request.threshold,
          vertices: 0,
          triangles: 0,
          evaluations: 0,
          triplaneSource: kind === 'webgpu' ? 'gpu-buffer' : 'cpu',
          ms: {},
        };
        const stage = async <T>(name: Stage, run: () => Promise<T>): Promise<T> => {
          emit({ type: 'stage', stage: name, state: 'start' });
          const t = performance.now();
          const value = await run();
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
        const mesh = kind === 'webgpu' ? await generateOnGpu(request, loaded, emit, signal, stats) : await generateOnCpu(request, loaded, emit, signal, stats);
        throwIfAborted(signal);
        stats.ms.decode = mesh.stats.ms.decode;
        stats.ms.mesh = mesh.stats.ms.march + mesh.stats.ms.colour + mesh.stats.ms.readback;
        stats.evaluations = mesh.stats.evaluations;
        if (kind === 'wasm') emit({ type: 'stage', stage: 'decode', state: 'done', ms: stats.ms.decode });
        emit({ type: 'stage', stage: 'mesh', state: 'done', ms: stats.ms.mesh });
        const result: ResultMesh = { positions: mesh.positions, normals: mesh.normals, colours: mesh.colours, indices: mesh.indices };
        // The one place the frame changes: viewer, GLB and stats all see glTF's Y-up frame.
        toGltfFrame(result.positions, result.normals);
        stats.vertices = result.positions.length / 3;
        stats.triangles = result.indices.length / 3;
        if (stats.triangles === 0) {
          throw new AppError('no-surface', 'The model found no surface at this threshold. Lower the density threshold and generate again.');
        }
        return transfer({ mesh: result, stats }, [result.positions.buffer, result.normals.buffer, result.colours.buffer, result.indices.buffer]);
      } finally {
        if (job === controller) job = null;
      }
    },

    /** Cancels the running job: it throws AbortError, sends no more events, and keeps the session. */
    cancel(): void {
      job?.abort();
    },

    /** Test builds only: live GPU buffers on the worker's device, and those the mesher left behind. */
    gpuBufferCensus(): { live: number; mesher: number } | null {
      return census ? { live: census.live.size, mesher: census.mesher.size } : null;
    },

    /** True while the worker can take another job on its current session. */
    isHealthy(): boolean {
      return !deviceLost;
    },

    /** Deletes every cached model file (the session in memory stays usable). */
    async deleteCachedModels(): Promise<number> {
      await deleteCachedModels(store);
      return cachedModelBytes(store);
    },
  };
  return api;
}

/** The API both pipeline workers expose; the UI wraps either with this type. */
export type PipelineApi = ReturnType<typeof createPipelineApi>;
