import type * as ort from 'onnxruntime-web/webgpu';
import { requestGpu, type GpuContext } from '../src/gpu/device';
import { meshTriplaneOrt } from '../src/gpu/ort-mesher';
import { warmPipelines } from '../src/gpu/pipelines';
import type { TriplaneMesh } from '../src/gpu/reference/triplane-mesher-cpu';
import { meshTriplane } from '../src/gpu/triplane-mesher';
import { AppError, isAbortError } from '../src/lib/errors';
import type { ModelManifest } from '../src/shared/manifest';
import type { GenerateRequest } from '../src/shared/pipeline';
import { FAULTS_ENABLED, type BackendJob, type PipelineBackend } from './backend';
import { takeCensus, type BufferCensus } from './buffer-census';

/** The lowest resolution a retry after a lost device or out-of-memory goes down to. */
const MIN_RETRY_RESOLUTION = 32;

/** Tells a lost device and an out-of-memory apart from other failures while meshing. */
function gpuFailure(error: unknown, gpu: GpuContext | null, lost: boolean): AppError | null {
  if (error instanceof AppError && (error.code === 'gpu-device-lost' || error.code === 'gpu-out-of-memory')) return error;
  if (lost || (gpu && error instanceof Error && /lost|destroyed/i.test(error.message))) {
    return new AppError('gpu-device-lost', 'The GPU stopped responding (the device was lost).', { cause: error });
  }
  return null;
}

/** An encoder output that cannot be a triplane: all zeros, or any NaN or infinity. */
export function triplaneProblem(triplane: Float32Array): string | null {
  let nonZero = false;
  for (let i = 0; i < triplane.length; i++) {
    const v = triplane[i]!;
    if (!Number.isFinite(v)) return 'it contains NaN or infinite values';
    if (v !== 0) nonZero = true;
  }
  return nonZero ? null : 'it is all zeros';
}

/**
 * The GPU path: this worker owns the GPUDevice that the ORT session and the WGSL mesher share. The
 * encoder runs inside out-of-memory and validation error scopes (ORT can report a GPU failure there
 * while `run()` still resolves) and its triplane is checked; any such failure becomes an `encoder-*`
 * AppError, which the client answers by running the job on the CPU path.
 */
export function createGpuBackend(): PipelineBackend {
  let gpu: GpuContext | null = null;
  let deviceLost = false;
  let census: BufferCensus | null = null;

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

  /** Runs the encoder in error scopes; returns the triplane tensor and its CPU copy, both checked. */
  async function encode(context: GpuContext, job: BackendJob) {
    const { device } = context;
    const { request, loaded, signal, fault } = job;
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    let triplane: ort.Tensor | undefined;
    let failure: unknown;
    try {
      triplane = await loaded.encoder.run(request.image, loaded.manifest.contract, signal);
      // Test hook: a real validation error inside the scope (a buffer that may not be both).
      if (fault('encoder-validation')) device.createBuffer({ size: 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE });
    } catch (error) {
      failure = error;
    }
    const validation = await device.popErrorScope().catch(() => null);
    const oom = await device.popErrorScope().catch(() => null);
    const drop = (): void => {
      if (!deviceLost) triplane?.dispose();
    };
    if (isAbortError(failure) && !deviceLost) throw failure;
    if (deviceLost || (failure instanceof Error && /lost|destroyed/i.test(failure.message))) {
      job.forgetModel();
      throw new AppError('encoder-device-lost', 'The GPU was lost while running the model; CADLift runs it on the CPU instead (slower).', { cause: failure });
    }
    if (oom) {
      drop();
      throw new AppError('encoder-out-of-memory', 'The GPU ran out of memory running the model; CADLift runs it on the CPU instead (slower).', { cause: oom });
    }
    if (validation || failure !== undefined) {
      drop();
      const detail = validation?.message ?? (failure instanceof Error ? failure.message : String(failure));
      throw new AppError('encoder-gpu-error', `The GPU refused the model's work (${detail.split('\n')[0]}); CADLift runs it on the CPU instead (slower).`, {
        cause: validation ?? failure,
      });
    }
    if (triplane!.location !== 'gpu-buffer') throw new Error(`Expected the triplane on the GPU, got "${triplane!.location}".`);
    // 2 MB to the CPU: checked before meshing, and kept so meshing can be retried on a new device.
    const copy = ((await triplane!.getData()) as Float32Array).slice();
    if (fault('encoder-zero')) copy.fill(0);
    const problem = triplaneProblem(copy);
    if (problem) {
      drop();
      throw new AppError('encoder-output-invalid', `The GPU returned an unusable result (${problem}); CADLift runs the model on the CPU instead (slower).`);
    }
    return { triplane: triplane!, copy, drop };
  }

  /** Meshes on the worker's GPU, inside an out-of-memory scope; the meshing fault hooks fire here. */
  /** `planes` is the triplane's CPU copy, which the coarse-to-fine bound reads. */
  async function mesh(context: GpuContext, triplane: GPUBuffer | Float32Array, planes: Float32Array, job: BackendJob, resolution: number): Promise<TriplaneMesh> {
    const { device } = context;
    const { loaded, request, emit, signal, fault } = job;
    device.pushErrorScope('out-of-memory');
    let result: TriplaneMesh | undefined;
    let failure: unknown;
    if (census) census.inMesher = true;
    try {
      if (loaded.ortDecoder) {
        const planes = triplane instanceof Float32Array ? triplane : null;
        if (!planes) throw new Error('The onnxruntime decoder needs the triplane on the CPU.');
        result = await meshTriplaneOrt(device, planes, loaded.ortDecoder, { resolution, threshold: request.threshold, signal });
      } else {
        result = await meshTriplane(device, triplane, loaded.weights!, {
          planes,
          resolution,
          threshold: request.threshold,
          mode: request.meshing,
          signal,
          onProgress: (fraction) => emit({ type: 'progress', stage: 'decode', fraction }),
          onFieldReady: (ms) => {
            emit({ type: 'stage', stage: 'decode', state: 'done', ms });
            emit({ type: 'stage', stage: 'mesh', state: 'start' });
            if (fault('device-lost')) device.destroy();
          },
        });
      }
    } catch (error) {
      failure = error;
    } finally {
      if (census) census.inMesher = false;
    }
    const oom = await device.popErrorScope().catch(() => null);
    if (oom || (result && fault('oom'))) {
      throw new AppError('gpu-out-of-memory', 'The GPU ran out of memory at this resolution.', { cause: oom ?? failure });
    }
    if (failure !== undefined) {
      if (isAbortError(failure) && !deviceLost) throw failure;
      if (failure instanceof AppError && failure.code === 'mesher-gpu-error' && !deviceLost) {
        throw new AppError('mesher-gpu-error', `${failure.message} CADLift meshes on the CPU instead (slower).`, { cause: failure });
      }
      throw gpuFailure(failure, context, deviceLost) ?? failure;
    }
    return result!;
  }

  return {
    kind: 'webgpu',
    open: async () => (await ensureGpu()).adapter,
    healthy: () => !deviceLost,
    census: () => (census ? { live: census.live.size, mesher: census.mesher.size } : null),

    async sessionDevice(manifest: ModelManifest): Promise<GPUDevice> {
      const context = await ensureGpu();
      const need = manifest.requirements;
      if (context.adapter.maxBufferSize < need.maxBufferSize || context.adapter.maxStorageBufferBindingSize < need.maxStorageBufferBindingSize) {
        throw new AppError(
          'adapter-insufficient',
          `This GPU allows ${Math.round(context.adapter.maxStorageBufferBindingSize / 2 ** 20)} MiB per buffer but ${manifest.name} needs ${Math.round(need.maxStorageBufferBindingSize / 2 ** 20)} MiB; CADLift will run it on the CPU instead.`,
        );
      }
      return context.device;
    },

    async texelColourer(triplane, weights) {
      const { device, adapter } = await ensureGpu();
      if (adapter.isFallbackAdapter) {
        // A fallback adapter (SwiftShader, WARP) runs WGSL on the CPU; the TypeScript decoder colours the
        // same texels about twice as fast there (measured in tests/gpu/texture-bake.test.ts' setting).
        const [{ cpuTexelColourer }, { BatchDecoder }] = await Promise.all([import('../src/cpu/bake'), import('../src/cpu/batch-decoder')]);
        return { colourer: cpuTexelColourer(new BatchDecoder(triplane, weights)), release: async () => undefined };
      }
      const { gpuTexelColourer } = await import('../src/gpu/bake');
      return { colourer: gpuTexelColourer(device, triplane, weights), release: async () => undefined };
    },

    async warm(weights) {
      const { device } = await ensureGpu();
      await warmPipelines(device, { weights }).catch((error: unknown) => console.error(error));
    },

    async run(job: BackendJob): Promise<TriplaneMesh> {
      const { request, emit, stats } = job;
      const context = await ensureGpu();
      emit({ type: 'stage', stage: 'encoder', state: 'start' });
      const t = performance.now();
      const { triplane, copy, drop } = await encode(context, job);
      try {
        stats.ms.encoder = performance.now() - t;
        emit({ type: 'stage', stage: 'encoder', state: 'done', ms: stats.ms.encoder });
        emit({ type: 'stage', stage: 'decode', state: 'start' });
        try {
          const source = job.loaded.ortDecoder ? copy : (triplane.gpuBuffer as GPUBuffer);
          const result = await mesh(context, source, copy, job, request.resolution);
          stats.triplaneSource = job.loaded.ortDecoder ? 'cpu' : 'gpu-buffer';
          job.triplane = copy;
          return result;
        } catch (error) {
          return await retryLower(error, copy, job);
        }
      } finally {
        drop();
      }
    },
  };

  /** After a lost device or out-of-memory while meshing: again at half the resolution, from the CPU copy. */
  async function retryLower(error: unknown, copy: Float32Array, job: BackendJob): Promise<TriplaneMesh> {
    const { request, emit, stats } = job;
    const failure = error instanceof AppError && (error.code === 'gpu-device-lost' || error.code === 'gpu-out-of-memory') ? error : null;
    if (!failure || request.resolution <= MIN_RETRY_RESOLUTION) throw error;
    const lower = lowerResolution(request);
    // A lost device needs a new one; after an out-of-memory the scope has freed the mesher's buffers,
    // so the same device retries at half the resolution (an eighth of the field).
    const why = failure.code === 'gpu-device-lost' ? 'The GPU was lost; retrying on a new device' : 'The GPU ran out of memory; retrying on the same device';
    emit({ type: 'notice', code: 'retry-lower-resolution', message: `${why} at resolution ${lower} from the kept triplane.`, resolution: lower });
    stats.retry = { reason: failure.code as 'gpu-device-lost' | 'gpu-out-of-memory', from: request.resolution, to: lower };
    stats.resolution = lower;
    if (failure.code === 'gpu-device-lost' || deviceLost) {
      // The session is bound to the lost device. Releasing it there crashes ORT's WASM ("null
      // function"), so it is left alone: the client replaces this whole worker before the next job.
      job.forgetModel();
      deviceLost = true;
    }
    const fresh = await ensureGpu();
    stats.adapter = fresh.adapter;
    emit({ type: 'stage', stage: 'decode', state: 'start' });
    const result = await mesh(fresh, copy, copy, job, lower);
    stats.triplaneSource = 'cpu';
    job.triplane = copy;
    return result;
  }
}

function lowerResolution(request: GenerateRequest): number {
  return Math.max(MIN_RETRY_RESOLUTION, Math.floor(request.resolution / 2));
}
