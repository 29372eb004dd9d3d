import { proxy, wrap, type Remote } from 'comlink';
import type { PipelineApi } from '../../workers/pipeline-core';
import { AppError, abortError, throwIfAborted } from '../lib/errors';
import { installErrorTransfer } from '../shared/comlink-errors';
import type { AdapterSummary } from '../gpu/device';
import type { ModelStoreKind } from '../lib/model-store';
import type { BakeRequest, TexturedMesh } from '../texture/types';
import type { Backend, GenerateRequest, GenerateResult, ModelStatus, PipelineEvent, PipelineInit, Stage } from '../shared/pipeline';

installErrorTransfer();

/** A worker that sends nothing (no progress, no heartbeat) for this long is treated as stalled. */
export const STALL_MS = 60_000;
/**
 * The CPU encoder is one synchronous ORT WASM run that blocks its worker (ORT cannot report progress
 * or be interrupted), so silence is expected there: the real model can take minutes on a slow CPU.
 */
export const CPU_ENCODER_STALL_MS = 15 * 60_000;
/** Codes after which a job moves to the CPU path instead of failing. */
const CPU_FALLBACK_CODES = new Set([
  'gpu-session-failed',
  'adapter-insufficient',
  'webgpu-unavailable',
  'encoder-out-of-memory',
  'encoder-gpu-error',
  'encoder-device-lost',
  'encoder-output-invalid',
  'mesher-gpu-error',
  'pipeline-crashed',
  'pipeline-stalled',
]);

interface WorkerHandle {
  backend: Backend;
  worker: Worker;
  api: Remote<PipelineApi>;
  /** Rejects with an AppError when the worker dies (a load error, an uncaught error) or is terminated. */
  failed: Promise<never>;
  terminate: () => void;
}

function spawn(backend: Backend): WorkerHandle {
  const worker =
    backend === 'webgpu'
      ? new Worker(new URL('../../workers/pipeline.worker.ts', import.meta.url), { type: 'module', name: 'cadlift-pipeline' })
      : new Worker(new URL('../../workers/fallback.worker.ts', import.meta.url), { type: 'module', name: 'cadlift-fallback' });
  let fail: (error: AppError) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined);
  const died = (what: string): void => {
    worker.terminate();
    const where = backend === 'webgpu' ? 'GPU' : 'CPU';
    fail(new AppError('pipeline-crashed', `The ${where} engine stopped (${what}). Generate again; your photo and settings are kept.`));
  };
  // A module that throws while loading (e.g. a missing browser interface) only shows up here: without
  // these listeners every call to the worker would wait forever.
  worker.addEventListener('error', (event) => died(event.message || 'it could not start in this browser'));
  worker.addEventListener('messageerror', () => died('a message could not be read'));
  return {
    backend,
    worker,
    api: wrap<PipelineApi>(worker),
    failed,
    terminate: () => {
      worker.terminate();
      fail(new AppError('pipeline-crashed', 'The engine was stopped.'));
    },
  };
}

/** Settles with `call`, or rejects when the worker dies or stays silent for `ms` (see `Watchdog`). */
function guarded<T>(handle: WorkerHandle, call: Promise<T>, watchdog: Watchdog): Promise<T> {
  return Promise.race([call, handle.failed, watchdog.expired]).finally(() => watchdog.stop());
}

/** Rejects `expired` after a silence longer than the current limit; `touch` restarts the count. */
class Watchdog {
  readonly expired: Promise<never>;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private reject: (error: AppError) => void = () => undefined;

  constructor(private limit: number, private readonly what: string) {
    this.expired = new Promise<never>((_, reject) => (this.reject = reject));
    this.expired.catch(() => undefined);
    this.touch();
  }

  /** Something arrived from the worker; `limit` changes the allowed silence from now on. */
  touch(limit = this.limit): void {
    this.limit = limit;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.reject(new AppError('pipeline-stalled', `The engine stopped responding ${this.what} (nothing for ${Math.round(this.limit / 1000)} s).`));
    }, this.limit);
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

/** What the UI learns when the pipeline starts. */
export interface PipelineInfo {
  backend: Backend;
  adapter: AdapterSummary | null;
  crossOriginIsolated: boolean;
  storeKind: ModelStoreKind;
  /** Why the GPU path is not used, when it is not. */
  fallbackReason: string | null;
}

/**
 * Owns the pipeline worker: WebGPU first, then a fresh WASM worker when WebGPU is missing, its worker
 * cannot load, its session fails or the GPU fails while running the model. Every call has a deadline
 * (a silence limit), and a worker that dies rejects what is pending on it, so nothing hangs. Cancel
 * asks the worker to stop between batches and keeps it (and its loaded model).
 */
export class PipelineClient {
  private handle: WorkerHandle | null = null;
  private init: PipelineInit;
  private forceCpu: boolean;
  private running: { reject: (error: unknown) => void } | null = null;
  private starting: Promise<PipelineInfo> | null = null;
  /** The worker's current job: settled, or its worker gone. The next job waits for it. */
  private inflight: Promise<unknown> = Promise.resolve();
  info: PipelineInfo | null = null;

  constructor(init: PipelineInit, options: { forceCpu?: boolean } = {}) {
    this.init = init;
    this.forceCpu = options.forceCpu ?? false;
  }

  /** Starts (or restarts) the worker and reports which backend it runs on; concurrent calls share one start. */
  start(): Promise<PipelineInfo> {
    if (this.handle && this.info) return Promise.resolve(this.info);
    this.starting ??= this.spawnPreferred().finally(() => (this.starting = null));
    return this.starting;
  }

  private async spawnPreferred(): Promise<PipelineInfo> {
    if (!this.forceCpu && !this.info?.fallbackReason) {
      const gpu = spawn('webgpu');
      try {
        const configured = await guarded(gpu, gpu.api.configure(this.init), new Watchdog(STALL_MS, 'while opening the GPU'));
        this.handle = gpu;
        this.info = { ...configured, fallbackReason: null };
        return this.info;
      } catch (error) {
        gpu.terminate();
        if (!(error instanceof AppError)) console.error('WebGPU pipeline failed to start:', error);
        return this.startFallback(error instanceof AppError ? error.message : 'WebGPU failed to start.');
      }
    }
    return this.startFallback(this.info?.fallbackReason ?? 'CPU mode was chosen in Settings.');
  }

  private async startFallback(reason: string): Promise<PipelineInfo> {
    const cpu = spawn('wasm');
    try {
      const configured = await guarded(cpu, cpu.api.configure(this.init), new Watchdog(STALL_MS, 'while starting'));
      this.handle = cpu;
      this.info = { ...configured, fallbackReason: reason };
      return this.info;
    } catch (error) {
      cpu.terminate();
      throw error;
    }
  }

  /** Calls the worker with a deadline; a dead or silent worker becomes an AppError. */
  private async call<T>(what: (api: Remote<PipelineApi>) => Promise<T>): Promise<T> {
    await this.start();
    const handle = this.handle!;
    try {
      return await guarded(handle, what(handle.api), new Watchdog(STALL_MS, 'while answering'));
    } catch (error) {
      if (error instanceof AppError && (error.code === 'pipeline-crashed' || error.code === 'pipeline-stalled')) this.drop(handle);
      throw error;
    }
  }

  /** Switches model manifest or test fault; the worker keeps its device. */
  async configure(init: PipelineInit): Promise<void> {
    this.init = init;
    if (this.handle) await this.call((api) => api.configure(init));
  }

  /** Model size, cache state and licence for the consent prompt. */
  modelStatus(): Promise<ModelStatus> {
    return this.call((api) => api.modelStatus());
  }

  /** Deletes the cached model files; returns the bytes still cached. */
  deleteCachedModels(): Promise<number> {
    return this.call((api) => api.deleteCachedModels());
  }

  /** Whether the model's host has a newer version than the one stored here. */
  checkForUpdate(): ReturnType<PipelineApi['checkForUpdate']> {
    return this.call((api) => api.checkForUpdate()) as ReturnType<PipelineApi['checkForUpdate']>;
  }

  /** Downloads the newer version of the model; the next job uses it. */
  updateModel(): Promise<void> {
    return this.call((api) => api.updateModel());
  }

  /**
   * Runs one job. On the GPU path, a session that fails to build, a GPU failure while the model runs,
   * or a worker that dies or stalls moves the pipeline to the CPU worker, which runs the same job;
   * `onFallback` tells the UI why.
   */
  async generate(
    request: GenerateRequest,
    onEvent: (event: PipelineEvent) => void,
    onFallback?: (reason: string) => void,
    signal?: AbortSignal,
  ): Promise<GenerateResult> {
    const onAbort = (): void => void this.cancel();
    signal?.addEventListener('abort', onAbort);
    try {
      // A cancelled job may still be winding down in the worker: never run two at once.
      await this.inflight;
      throwIfAborted(signal);
      await this.start();
      throwIfAborted(signal);
      try {
        return await this.run(request, onEvent, signal);
      } catch (error) {
        const code = error instanceof AppError ? error.code : null;
        if (this.handle?.backend !== 'wasm' && code && CPU_FALLBACK_CODES.has(code)) {
          this.dispose();
          const info = await this.startFallback((error as AppError).message);
          onFallback?.(info.fallbackReason ?? '');
          throwIfAborted(signal);
          return await this.run(request, onEvent, signal);
        }
        throw error;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private async run(request: GenerateRequest, onEvent: (event: PipelineEvent) => void, signal?: AbortSignal): Promise<GenerateResult> {
    const handle = this.handle!;
    const healthy = await Promise.race([handle.api.isHealthy(), handle.failed]).catch(() => false);
    throwIfAborted(signal);
    if (!healthy) {
      // A lost device took the ORT session with it: a fresh worker rebuilds both from the cache.
      this.drop(handle);
      await this.start();
      return this.run(request, onEvent, signal);
    }
    const watchdog = new Watchdog(STALL_MS, 'while generating');
    let stage: Stage | null = null;
    const callback = proxy((event: PipelineEvent) => {
      if (event.type === 'stage') stage = event.state === 'start' ? event.stage : stage;
      const blocking = handle.backend === 'wasm' && stage === 'encoder';
      watchdog.touch(blocking ? CPU_ENCODER_STALL_MS : STALL_MS);
      if (event.type !== 'heartbeat') onEvent(event);
    });
    try {
      return await new Promise<GenerateResult>((resolve, reject) => {
        this.running = { reject };
        // The image is copied, not transferred: the UI keeps showing it and may generate again.
        const call = handle.api.generate(request, callback);
        this.inflight = Promise.race([call, handle.failed]).catch(() => undefined);
        guarded(handle, call, watchdog).then(resolve, (error: unknown) => {
          if (error instanceof AppError && (error.code === 'pipeline-crashed' || error.code === 'pipeline-stalled')) this.drop(handle);
          reject(error);
        });
      });
    } finally {
      watchdog.stop();
      this.running = null;
    }
  }

  /**
   * Unwraps `request.mesh` and bakes its colours from the triplane into a texture, in the worker that
   * holds the device (after any job still running there). Aborting `signal` stops it (AbortError).
   */
  async bakeTexture(
    request: BakeRequest,
    onProgress?: (step: 'unwrap' | 'bake', fraction: number) => void,
    signal?: AbortSignal,
  ): Promise<TexturedMesh> {
    await this.inflight;
    throwIfAborted(signal);
    await this.start();
    throwIfAborted(signal);
    const handle = this.handle!;
    // Progress is the heartbeat: a bake that reports nothing for STALL_MS has stalled.
    const watchdog = new Watchdog(STALL_MS, 'while baking the texture');
    const callback = proxy((step: 'unwrap' | 'bake', fraction: number) => {
      watchdog.touch();
      onProgress?.(step, fraction);
    });
    const running: { reject: (error: unknown) => void } = { reject: () => undefined };
    const onAbort = (): void => {
      if (this.running === running) void this.cancel();
    };
    signal?.addEventListener('abort', onAbort);
    try {
      return await new Promise<TexturedMesh>((resolve, reject) => {
        running.reject = reject;
        this.running = running;
        const call = handle.api.bakeTexture(request, callback);
        this.inflight = Promise.race([call, handle.failed]).catch(() => undefined);
        guarded(handle, call, watchdog).then(resolve, (error: unknown) => {
          if (error instanceof AppError && (error.code === 'pipeline-crashed' || error.code === 'pipeline-stalled')) this.drop(handle);
          reject(error);
        });
      });
    } finally {
      signal?.removeEventListener('abort', onAbort);
      watchdog.stop();
      if (this.running === running) this.running = null;
    }
  }

  /**
   * Cancels the running job at once for the caller; the worker stops at its next batch and keeps its
   * model. A worker blocked in the CPU encoder finishes that run and discards it; the next job waits.
   */
  async cancel(): Promise<void> {
    const running = this.running;
    const handle = this.handle;
    if (!running || !handle) return;
    running.reject(abortError());
    await Promise.race([handle.api.cancel(), handle.failed]).catch(() => undefined);
  }

  /** Test builds only: the worker's live GPU buffers (null on the CPU path or in production). */
  async gpuBufferCensus(): Promise<{ live: number; mesher: number } | null> {
    return this.handle ? this.handle.api.gpuBufferCensus() : null;
  }

  private drop(handle: WorkerHandle): void {
    if (this.handle === handle) this.dispose();
    else handle.terminate();
  }

  /** Terminates the worker (its device, session and buffers go with it). */
  dispose(): void {
    this.handle?.terminate();
    this.handle = null;
    // Once on the CPU path, a restart stays there; a GPU worker is started afresh.
    if (!this.info?.fallbackReason) this.info = null;
  }
}
