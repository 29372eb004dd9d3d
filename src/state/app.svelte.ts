import { AppError, isAbortError, throwIfAborted } from '../lib/errors';
import { installErrorTransfer } from '../shared/comlink-errors';
import type { GenerateResult, MeshingMode, PipelineEvent } from '../shared/pipeline';
import { PipelineClient, type PipelineInfo } from './pipeline-client';
import { TextJobs } from './text-jobs.svelte';
import { PostState } from './post.svelte';
import { HistoryState } from './history.svelte';
import { BatchState } from './batch.svelte';
import { PhotoState, type Prepared } from './photo.svelte';
import { ModelState } from './model.svelte';
import { RunProgress } from './progress.svelte';
import { saveFile } from '../lib/save-file';
import type { EntryKind, GenerationParams, ModelRef } from '../history/types';
import { DEFAULT_MANIFEST_URL, DEFAULT_SEGMENTER_URL, RESOLUTION, THRESHOLD, absoluteUrl, readUrlOptions } from './settings';
import { userMessage } from './messages';

installErrorTransfer();

export type Phase = 'idle' | 'running' | 'done' | 'error';

/**
 * The app: the run (generate, cancel, progress, result, the GPU lane) and the states it composes,
 * each owning one concern: `photo`, `model`, `progress`, `history`, `batch`, `text` and `post`. This
 * class is the only place that wires them together. Components read it and call its methods; they
 * never create workers. Large payloads are `$state.raw` and replaced, never mutated.
 */
export class AppState {
  readonly url = readUrlOptions(globalThis.location?.search ?? '');
  resolution = $state<number>(RESOLUTION.hardware);
  threshold = $state<number>(THRESHOLD.default);
  meshing = $state<MeshingMode>('coarse-to-fine');
  private resolutionTouched = false;

  phase = $state<Phase>('idle');
  /** The photo job's stages and downloads. */
  readonly progress = new RunProgress();
  error = $state<{ code: string; message: string } | null>(null);
  notice = $state<string | null>(null);
  result = $state.raw<GenerateResult | null>(null);
  pipeline = $state.raw<PipelineInfo | null>(null);
  /** GPU jobs (photo and text) run one at a time, in order. */
  private gpuLane: Promise<unknown> = Promise.resolve();
  /** Name for downloads of the current result (photo name or prompt). */
  resultName = $state('cadlift-model');

  /** The photo, its framing and background removal (owns the prepare worker). */
  readonly photo = new PhotoState(absoluteUrl(this.url.segmenterUrl ?? DEFAULT_SEGMENTER_URL), {
    fail: (error) => this.fail(error, false),
    clearError: () => (this.error = null),
  });

  /** "Prepare for printing / CAD": processing, quality report and every export format. */
  readonly post = new PostState();

  /** Every generation kept on this device, and the result cache consulted before each run. */
  readonly history = new HistoryState({
    show: (result, name, processed) => {
      this.error = null;
      this.notice = null;
      this.showResult(result, name);
      if (processed) this.post.restore(processed);
    },
    download: saveFile,
  });

  /** Many photos at once, one at a time on the GPU. */
  readonly batch = new BatchState({
    meshPhoto: (photo, name, onEvent, signal) => this.meshPhoto(photo, name, onEvent, signal),
    exportBytes: (result, name) => this.post.exportBytes(result.mesh, name),
    show: (result, name) => this.showResult(result, name),
    finished: (result, name) => {
      if (!this.result && this.phase !== 'running') this.showResult(result, name);
    },
    download: saveFile,
  });

  /** Queued text → image → 3D jobs; the proxy URL comes from the build (VITE_PROXY_URL). */
  readonly text: TextJobs = new TextJobs({
    proxyUrl: import.meta.env.VITE_PROXY_URL ?? '',
    ensureConsent: () => this.model.ensureConsent(),
    meshImage: (image, onEvent, signal, prompt) => this.meshImage(image, onEvent, signal, prompt),
    showResult: (result, name) => this.showResult(result, name),
  });

  private readonly client: PipelineClient;
  /** The model: manifest, cache and storage, download consent, delete and update. */
  readonly model: ModelState;
  private jobId = 0;
  private photoJob: AbortController | null = null;

  /** Each generated result's history entry (its id once the save settles; null when not kept). */
  private readonly entries = new WeakMap<GenerateResult, Promise<string | null>>();

  constructor() {
    const init = { manifestUrl: absoluteUrl(this.url.manifestUrl ?? DEFAULT_MANIFEST_URL), fault: this.url.fault };
    this.client = new PipelineClient(init, { forceCpu: this.url.forceCpu });
    this.model = new ModelState(this.client, init, {
      fail: (error, setPhase) => this.fail(error, setPhase),
      ondeleted: () => this.photo.segmenterDeleted(),
    });
    this.post.onprocessed = (result) => void this.history.keepProcessed(result);
    this.post.oninspected = (report) => void this.history.keepQuality(report);
    this.post.texture.host = {
      source: () => this.history.shownTriplane(),
      bake: (request, onProgress, signal) => this.useGpu(() => this.client.bakeTexture(request, onProgress, signal)),
      onCpu: () => this.pipeline?.backend === 'wasm',
    };
  }

  /** Starts the pipeline worker and reads the model's status; called once the page is shown. */
  async start(): Promise<void> {
    void this.history.start();
    try {
      this.pipeline = await this.client.start();
      this.applyDefaultResolution();
      await this.model.refresh();
    } catch (error) {
      this.fail(error);
    }
  }

  private applyDefaultResolution(): void {
    if (this.resolutionTouched || !this.pipeline) return;
    const slow = this.pipeline.backend === 'wasm' || this.pipeline.adapter?.isFallbackAdapter;
    this.resolution = slow ? RESOLUTION.fallback : RESOLUTION.hardware;
  }

  /** The visitor moved the resolution slider: from now on it is theirs. */
  setResolution(value: number): void {
    this.resolutionTouched = true;
    this.resolution = value;
  }

  /** Generate: asks for consent before the first download, then runs the pipeline. */
  async generate(): Promise<void> {
    if (!this.photo.prepared || this.phase === 'running') return;
    this.error = null;
    this.notice = null;
    try {
      if (!(await this.model.ensureConsent())) return;
    } catch (error) {
      this.fail(error);
      return;
    }
    await this.run();
  }

  /** Runs `job` when the GPU lane is free: one pipeline job at a time, in the order asked. */
  private useGpu<T>(job: () => Promise<T>): Promise<T> {
    const run = this.gpuLane.then(job, job);
    this.gpuLane = run.catch(() => undefined);
    return run;
  }

  /**
   * Meshes a one-off image (a text job's picture) framed at the current ratio, in the GPU lane, and
   * keeps it in the history under its prompt. Aborting `signal` cancels it wherever it is; the
   * worker keeps its session.
   */
  async meshImage(image: Blob, onEvent: (event: PipelineEvent) => void, signal: AbortSignal, prompt: string): Promise<GenerateResult> {
    const prepared = await this.photo.frame(image, false);
    const name = prompt.slice(0, 80);
    return this.generateKept(prepared, { name, kind: 'text', image, prompt }, onEvent, () => (this.pipeline = this.client.info), signal);
  }

  /**
   * Meshes one batch photo: cut out like the loaded photo would be (background removal on, or auto
   * with the model on this device), framed at the current ratio, and kept in the history.
   */
  async meshPhoto(photo: Blob, name: string, onEvent: (event: PipelineEvent) => void, signal: AbortSignal): Promise<GenerateResult> {
    if (!(await this.model.ensureConsent())) {
      throw new AppError('model-download-declined', 'The model download was declined, so this photo was not turned into a model; press Retry to be asked again.');
    }
    const prepared = await this.photo.frame(photo, true, signal);
    return this.generateKept(prepared, { name, kind: 'photo', image: photo }, onEvent, () => (this.pipeline = this.client.info), signal);
  }

  /** The controls a generation runs with, as the history and the result cache record them. */
  private generationParams(): GenerationParams {
    const { ratio, removal } = this.photo;
    const params: GenerationParams = { resolution: this.resolution, threshold: this.threshold, meshing: this.meshing, foregroundRatio: ratio, removeBackground: removal.mode };
    if (removal.status === 'done') params.maskThreshold = removal.threshold;
    return params;
  }

  /**
   * The model id and revision for the history: the status the model panel already holds, or read
   * again (`fresh`) after a run, which may have pinned the model to a commit.
   */
  private async modelRef(fresh = false): Promise<ModelRef | null> {
    if (fresh || !this.model.status) await this.model.refresh().catch(() => undefined);
    const status = this.model.status;
    return status ? { id: status.id, revision: status.revision } : null;
  }


  /**
   * One generation with the history around it: the same model input, controls and model give the
   * kept result at once (`kept` says which entry); otherwise the pipeline runs in the GPU lane and the
   * result is saved in the background (a full disk is the history panel's business, not the job's).
   */
  private async generateKept(
    prepared: Prepared,
    source: { name: string; kind: EntryKind; image: Blob; prompt?: string },
    onEvent: (event: PipelineEvent) => void,
    onFallback: (reason: string) => void,
    signal: AbortSignal,
  ): Promise<GenerateResult & { kept?: { name: string; createdAt: number } }> {
    const params = this.generationParams();
    const before = await this.modelRef();
    const cached = before ? await this.history.lookup({ modelInput: prepared.image, params, model: before }) : null;
    throwIfAborted(signal);
    if (cached?.hit) {
      const kept = { mesh: cached.hit.mesh, stats: cached.hit.entry.stats, kept: { name: cached.hit.entry.name, createdAt: cached.hit.entry.createdAt } };
      this.entries.set(kept, Promise.resolve(cached.hit.entry.id));
      return kept;
    }
    const result = await this.useGpu(() => {
      // Cancelled while waiting for the lane: never start.
      throwIfAborted(signal);
      return this.client.generate(
        { image: prepared.image, resolution: params.resolution, threshold: params.threshold, meshing: params.meshing, prepareMs: prepared.ms },
        (event) => {
          if (!signal.aborted) onEvent(event);
        },
        onFallback,
        signal,
      );
    });
    throwIfAborted(signal);
    // The history keeps the triplane (a copy); the page does not hold on to it.
    const triplane = result.triplane ? new Blob([result.triplane as Float32Array<ArrayBuffer>], { type: 'application/octet-stream' }) : undefined;
    delete result.triplane;
    // The first run pins the model: the entry records the revision that really made it (and the
    // model panel shows what is now cached).
    const model = await this.modelRef(true);
    if (model) {
      // A mesh retried at a lower resolution (the GPU failed) is kept, but is no answer for these settings.
      const key = result.stats.retry ? null : model.revision === before?.revision ? cached?.key : undefined;
      this.entries.set(result, this.history.save({ ...source, preview: prepared.preview, modelInput: prepared.image, params, model, result, triplane, cacheKey: key }));
    }
    return result;
  }

  /** Shows a finished result in the viewer (text jobs call this). */
  showResult(result: GenerateResult, name: string): void {
    this.history.setShown(this.entries.get(result) ?? Promise.resolve(null));
    this.result = result;
    this.resultName = name;
    this.post.setSource(result.mesh, name);
    if (this.phase !== 'running') this.phase = 'done';
  }

  private async run(): Promise<void> {
    const prepared = this.photo.prepared;
    if (!prepared) return;
    const id = ++this.jobId;
    const job = new AbortController();
    this.photoJob = job;
    this.phase = 'running';
    this.progress.reset();
    const onEvent = (event: PipelineEvent): void => {
      if (id !== this.jobId) return;
      if (event.type === 'notice') this.notice = event.message;
      else this.progress.apply(event);
    };
    try {
      const name = this.photo.current?.name.replace(/\.[^.]+$/, '') || 'cadlift-model';
      const result = await this.generateKept(
        prepared,
        { name, kind: 'photo', image: this.photo.blob ?? new Blob() },
        onEvent,
        (reason) => {
          this.pipeline = this.client.info;
          this.notice = reason;
        },
        job.signal,
      );
      if (id !== this.jobId) return;
      this.pipeline = this.client.info;
      this.showResult(result, name);
      this.phase = 'done';
      if (result.kept) {
        const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(result.kept.createdAt);
        this.notice = `Loaded from your history: the same photo and settings made “${result.kept.name}” on ${when}. Nothing was generated again.`;
        this.progress.reset(true);
      }
    } catch (error) {
      if (id !== this.jobId) return;
      if (isAbortError(error)) {
        this.phase = this.result ? 'done' : 'idle';
        return;
      }
      this.fail(error);
    }
  }

  /** Cancel: the UI is idle at once, no further progress is shown, the model stays loaded. */
  async cancel(): Promise<void> {
    if (this.phase !== 'running') return;
    this.jobId++;
    this.phase = this.result ? 'done' : 'idle';
    this.progress.reset();
    // Only the photo job is cancelled here (wherever it is); a text job has its own Cancel.
    this.photoJob?.abort();
    this.photoJob = null;
  }

  /** Writes the current mesh as GLB and offers it as a download. */
  async downloadGlb(): Promise<void> {
    if (!this.result) return;
    try {
      // glTF-Transform loads on first export, keeping it out of the start-up bundle.
      const { meshToGlb } = await import('../lib/export-glb');
      const bytes = await meshToGlb(this.result.mesh, { name: this.resultName });
      saveFile(new Blob([bytes as BlobPart], { type: 'model/gltf-binary' }), `${this.resultName}.glb`);
    } catch (error) {
      this.fail(error, false);
    }
  }

  /** What the viewer overlay says while a photo job runs ('' when idle). */
  get working(): string {
    return this.phase === 'running' ? this.progress.label : '';
  }

  /** Test builds only: GPU buffers alive in the pipeline worker. */
  gpuBufferCensus(): Promise<{ live: number; mesher: number } | null> {
    return this.client.gpuBufferCensus();
  }

  private fail(error: unknown, setPhase = true): void {
    if (!(error instanceof AppError)) console.error(error);
    this.error = userMessage(error);
    if (setPhase) this.phase = 'error';
  }
}

