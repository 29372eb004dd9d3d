import { proxy, wrap, type Remote } from 'comlink';
import type { PipelineApi } from '../../workers/pipeline-core';
import { AppError, abortError, throwIfAborted } from '../lib/errors';
import { installErrorTransfer } from '../shared/comlink-errors';
import type { AdapterSummary } from '../gpu/device';
import type { Backend, GenerateRequest, GenerateResult, ModelStatus, PipelineEvent, PipelineInit } from '../shared/pipeline';

installErrorTransfer();

/** How long a cancelled worker may take to answer before it is replaced (a CPU mesher cannot yield). */
const CANCEL_GRACE_MS = 1500;

interface WorkerHandle {
  backend: Backend;
  worker: Worker;
  api: Remote<PipelineApi>;
  /** Resolves when the worker is terminated: a call pending on it will never settle. */
  gone: Promise<void>;
  terminate: () => void;
}

function spawn(backend: Backend): WorkerHandle {
  const worker =
    backend === 'webgpu'
      ? new Worker(new URL('../../workers/pipeline.worker.ts', import.meta.url), { type: 'module', name: 'cadlift-pipeline' })
      : new Worker(new URL('../../workers/fallback.worker.ts', import.meta.url), { type: 'module', name: 'cadlift-fallback' });
  let terminate = (): void => undefined;
  const gone = new Promise<void>((resolve) => {
    terminate = () => {
      worker.terminate();
      resolve();
    };
  });
  return { backend, worker, api: wrap<PipelineApi>(worker), gone, terminate };
}

/** What the UI learns when the pipeline starts. */
export interface PipelineInfo {
  backend: Backend;
  adapter: AdapterSummary | null;
  crossOriginIsolated: boolean;
  /** Why the GPU path is not used, when it is not. */
  fallbackReason: string | null;
}

/**
 * Owns the pipeline worker: WebGPU first, then a fresh WASM worker when WebGPU is missing or its
 * session fails. Cancel asks the worker to stop between stages and replaces it only if it is stuck.
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
    if (!this.forceCpu) {
      const gpu = spawn('webgpu');
      try {
        const configured = await gpu.api.configure(this.init);
        this.handle = gpu;
        this.info = { ...configured, fallbackReason: null };
        return this.info;
      } catch (error) {
        gpu.terminate();
        if (!(error instanceof AppError)) console.error('WebGPU pipeline failed to start:', error);
        return this.startFallback(error instanceof AppError ? error.message : 'WebGPU failed to start.');
      }
    }
    return this.startFallback('CPU mode was chosen in Settings.');
  }

  private async startFallback(reason: string): Promise<PipelineInfo> {
    const cpu = spawn('wasm');
    const configured = await cpu.api.configure(this.init);
    this.handle = cpu;
    this.info = { ...configured, fallbackReason: reason };
    return this.info;
  }

  /** Switches model manifest or test fault; the worker keeps its device. */
  async configure(init: PipelineInit): Promise<void> {
    this.init = init;
    if (this.handle) await this.handle.api.configure(init);
  }

  /** Model size, cache state and licence for the consent prompt. */
  async modelStatus(): Promise<ModelStatus> {
    await this.start();
    return this.handle!.api.modelStatus();
  }

  /** Deletes the cached model files; returns the bytes still cached. */
  async deleteCachedModels(): Promise<number> {
    await this.start();
    return this.handle!.api.deleteCachedModels();
  }

  /**
   * Runs one job. On the GPU path, a session that fails to build (or a model the GPU cannot hold)
   * moves the pipeline to the CPU worker once, with `onFallback` telling the UI why.
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
        if (this.handle?.backend === 'webgpu' && (code === 'gpu-session-failed' || code === 'adapter-insufficient' || code === 'webgpu-unavailable')) {
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
    const healthy = await Promise.race([handle.api.isHealthy(), handle.gone.then(() => false)]);
    throwIfAborted(signal);
    if (!healthy) {
      // A lost device took the ORT session with it: a fresh worker rebuilds both from the cache.
      this.dispose();
      await this.start();
      return this.run(request, onEvent, signal);
    }
    const callback = proxy(onEvent);
    try {
      return await new Promise<GenerateResult>((resolve, reject) => {
        this.running = { reject };
        // The image is copied, not transferred: the UI keeps showing it and may generate again.
        const call = handle.api.generate(request, callback);
        this.inflight = Promise.race([call.catch(() => undefined), handle.gone]);
        call.then(resolve, reject);
      });
    } finally {
      this.running = null;
    }
  }

  /** Cancels the running job at once for the caller; the worker stops at its next check. */
  async cancel(): Promise<void> {
    const running = this.running;
    const handle = this.handle;
    if (!running || !handle) return;
    running.reject(abortError());
    const answered = await Promise.race([
      handle.api.cancel().then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), CANCEL_GRACE_MS)),
    ]);
    if (!answered && this.handle === handle) {
      // The worker is busy in synchronous code (the CPU mesher): replace it; the model reloads from the cache.
      this.dispose();
    }
  }

  /** Test builds only: the worker's live GPU buffers (null on the CPU path or in production). */
  async gpuBufferCensus(): Promise<{ live: number; mesher: number } | null> {
    return this.handle ? this.handle.api.gpuBufferCensus() : null;
  }

  /** Terminates the worker (its device, session and buffers go with it). */
  dispose(): void {
    this.handle?.terminate();
    this.handle = null;
    this.info = null;
  }
}

