import { proxy, wrap, type Remote } from 'comlink';
import type { PrepareApi } from '../../workers/prepare.worker';
import { AppError, abortError, isAbortError, throwIfAborted } from '../lib/errors';
import { installErrorTransfer } from '../shared/comlink-errors';
import { STAGES, type GenerateResult, type MeshingMode, type ModelStatus, type PipelineEvent, type Stage } from '../shared/pipeline';
import { PipelineClient, type PipelineInfo } from './pipeline-client';
import { TextJobs } from './text-jobs.svelte';
import { PostState } from './post.svelte';
import { HistoryState } from './history.svelte';
import { BatchState } from './batch.svelte';
import { saveFile } from '../lib/save-file';
import type { EntryKind, GenerationParams, ModelRef } from '../history/types';
import { DEFAULT_MANIFEST_URL, DEFAULT_SEGMENTER_URL, RATIO, RESOLUTION, THRESHOLD, readUrlOptions } from './settings';
import type { MaskStroke } from '../lib/mask-edits';
import type { UpdateCheck } from '../lib/hf-pin';

/** Longest side of the photo preview canvas. */
const PREVIEW_SIDE = 1024;
import { userMessage } from './messages';

installErrorTransfer();

/** Progress of one stage as the UI shows it. */
export interface StageState {
  state: 'pending' | 'running' | 'done';
  ms?: number;
  /** Fraction done while running, where the stage reports it (the CPU decoder does). */
  fraction?: number;
}

/** Bytes of one model file. */
export interface DownloadState {
  loaded: number;
  total: number | undefined;
  fromCache: boolean;
}

/** The photo the visitor gave, decoded once in the prepare worker. */
export interface Photo {
  name: string;
  url: string;
  width: number;
  height: number;
  hasAlpha: boolean;
}

/** The exact 512² image the model will see, and where the object sits in the framed square. */
export interface Prepared {
  image: Float32Array;
  preview: ImageData;
  ratio: number;
  ms: number;
}

export type Phase = 'idle' | 'running' | 'done' | 'error';

/** Background removal for the current photo, as the photo panel shows it. */
export interface Removal {
  /** auto: cut out photos without transparency once the model is on this device; on/off: forced. */
  mode: 'auto' | 'on' | 'off';
  status: 'idle' | 'needs-consent' | 'working' | 'done' | 'error';
  /** Mask values below this (0–255) are dropped. */
  threshold: number;
  strokes: MaskStroke[];
  backend?: string;
  ms?: number;
  /** Bytes of the model download while it runs. */
  download?: { loaded: number; total: number | undefined };
  model?: { name: string; license: string; cached: boolean; downloadBytes: number | undefined };
}

/** The photo (or its cut-out) as the preview canvas draws it, and where the model's square falls. */
export interface PhotoView {
  image: ImageData;
  scale: number;
  frame: { x: number; y: number; side: number } | null;
}

/** Workers resolve relative URLs against their own script, so the page resolves them first. */
function absoluteUrl(url: string): string {
  return new URL(url, globalThis.location?.href).href;
}

function freshStages(): Record<Stage, StageState> {
  return Object.fromEntries(STAGES.map((s) => [s, { state: 'pending' }])) as Record<Stage, StageState>;
}

/**
 * All of the app's state and actions. Components read it and call its methods; only this class
 * creates workers. Large payloads (mesh, images) are `$state.raw` and replaced, never mutated.
 */
export class AppState {
  readonly url = readUrlOptions(globalThis.location?.search ?? '');
  manifestUrl = $state(absoluteUrl(this.url.manifestUrl ?? DEFAULT_MANIFEST_URL));
  resolution = $state<number>(RESOLUTION.hardware);
  threshold = $state<number>(THRESHOLD.default);
  meshing = $state<MeshingMode>('coarse-to-fine');
  ratio = $state<number>(RATIO.default);
  private resolutionTouched = false;

  photo = $state.raw<Photo | null>(null);
  view = $state.raw<PhotoView | null>(null);
  removal = $state<Removal>({ mode: 'auto', status: 'idle', threshold: 128, strokes: [] });
  readonly segmenterUrl = absoluteUrl(this.url.segmenterUrl ?? DEFAULT_SEGMENTER_URL);
  prepared = $state.raw<Prepared | null>(null);
  preparing = $state(false);

  phase = $state<Phase>('idle');
  stages = $state<Record<Stage, StageState>>(freshStages());
  downloads = $state<Record<string, DownloadState>>({});
  error = $state<{ code: string; message: string } | null>(null);
  notice = $state<string | null>(null);
  result = $state.raw<GenerateResult | null>(null);
  pipeline = $state.raw<PipelineInfo | null>(null);
  model = $state.raw<ModelStatus | null>(null);
  storage = $state.raw<{ usage: number; quota: number; persisted: boolean } | null>(null);
  /** "Check for a newer version" in Model and storage. */
  update = $state<UpdateCheck>({ state: 'idle' });
  /** Set once the visitor accepted the download in the consent prompt. */
  private consented = false;
  /** The open consent prompt's answer, awaited by whichever job needs the model first. */
  consentOpen = $state(false);
  private consentAnswer: Promise<boolean> | null = null;
  private answerConsent: ((accepted: boolean) => void) | null = null;
  /** GPU jobs (photo and text) run one at a time, in order. */
  private gpuLane: Promise<unknown> = Promise.resolve();
  /** Name for downloads of the current result (photo name or prompt). */
  resultName = $state('cadlift-model');

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
    ensureConsent: () => this.ensureConsent(),
    meshImage: (image, onEvent, signal, prompt) => this.meshImage(image, onEvent, signal, prompt),
    showResult: (result, name) => this.showResult(result, name),
  });

  private client: PipelineClient;
  private prepareWorker: Worker | null = null;
  private prepareApi: Remote<PrepareApi> | null = null;
  private jobId = 0;
  private reframing: Promise<void> | null = null;
  private reframeAgain = false;
  private photoJob: AbortController | null = null;
  private photoToken = 0;

  /** The photo as given, kept for the history entry. */
  private photoBlob: Blob | null = null;
  /** Each generated result's history entry (its id once the save settles; null when not kept). */
  private readonly entries = new WeakMap<GenerateResult, Promise<string | null>>();

  constructor() {
    this.client = new PipelineClient({ manifestUrl: this.manifestUrl, fault: this.url.fault }, { forceCpu: this.url.forceCpu });
    this.post.onprocessed = (result) => void this.history.keepProcessed(result);
  }

  /** Starts the pipeline worker and reads the model's status; called once the page is shown. */
  async start(): Promise<void> {
    void this.history.start();
    try {
      this.pipeline = await this.client.start();
      this.applyDefaultResolution();
      await this.refreshModel();
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

  /** Re-reads model size, cache state and storage use. */
  async refreshModel(): Promise<void> {
    this.model = await this.client.modelStatus();
    const estimate = await navigator.storage?.estimate?.();
    const persisted = (await navigator.storage?.persisted?.()) ?? false;
    this.storage = estimate ? { usage: estimate.usage ?? 0, quota: estimate.quota ?? 0, persisted } : null;
  }

  /** Points the app at another model manifest (self-hosted or test models). */
  async setManifestUrl(url: string): Promise<void> {
    this.manifestUrl = absoluteUrl(url.trim() || DEFAULT_MANIFEST_URL);
    this.consented = false;
    this.model = null;
    await this.client.configure({ manifestUrl: this.manifestUrl, fault: this.url.fault });
    await this.refreshModel().catch((error: unknown) => this.fail(error));
  }

  private prepare(): Remote<PrepareApi> {
    if (!this.prepareApi) {
      this.prepareWorker = new Worker(new URL('../../workers/prepare.worker.ts', import.meta.url), { type: 'module', name: 'cadlift-prepare' });
      this.prepareApi = wrap<PrepareApi>(this.prepareWorker);
    }
    return this.prepareApi;
  }

  /** Takes a dropped, picked or pasted file: decodes it off the main thread and frames it. */
  async setPhoto(file: Blob, name = (file as File).name ?? 'pasted image'): Promise<void> {
    const token = ++this.photoToken;
    this.error = null;
    this.preparing = true;
    try {
      const info = await this.prepare().load(file);
      if (token !== this.photoToken) return;
      if (this.photo) URL.revokeObjectURL(this.photo.url);
      this.photo = { name, url: URL.createObjectURL(file), ...info };
      this.photoBlob = file;
      this.prepared = null;
      this.removal = { ...this.removal, status: 'idle', strokes: [], backend: undefined, ms: undefined };
      await this.reframe();
      await this.autoRemove();
    } catch (error) {
      if (token !== this.photoToken) return;
      this.fail(error, false);
      // Name the file, and say that what was loaded before is still the photo in use.
      if (error instanceof AppError) {
        const kept = this.photo ? ` ${this.photo.name} is still the photo in use.` : '';
        this.error = { code: error.code, message: `${name}: ${error.message}${kept}` };
      }
    } finally {
      if (token === this.photoToken) this.preparing = false;
    }
  }

  /**
   * Loads a photo from a web address. Browsers only let a page read another site's image when that
   * site allows it (CORS); a refusal gets its own message, as it is the site's choice, not a bug.
   */
  async setPhotoFromUrl(address: string): Promise<void> {
    this.error = null;
    let url: URL;
    try {
      url = new URL(address.trim());
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError('not http');
    } catch {
      this.fail(new AppError('image-unreadable', 'That is not a web address. Paste a link that starts with https://.'), false);
      return;
    }
    let response: Response;
    try {
      response = await fetch(url, { mode: 'cors', credentials: 'omit' });
    } catch {
      this.fail(
        new AppError('image-url-refused', `${url.host} does not let other sites load its images. Save the image and drop the file here instead.`),
        false,
      );
      return;
    }
    if (!response.ok) {
      this.fail(new AppError('image-url-refused', `${url.host} answered ${response.status} for that image. Check the link, or save the image and drop it here.`), false);
      return;
    }
    const name = decodeURIComponent(url.pathname.split('/').pop() || url.host);
    await this.setPhoto(await response.blob(), name);
  }

  /** Foreground ratio changed: recompute the exact model input for the preview. */
  async setRatio(ratio: number): Promise<void> {
    this.ratio = ratio;
    // A slider sends many values while it moves; frame the latest one, never a queue of them.
    if (this.reframing) {
      this.reframeAgain = true;
      return this.reframing;
    }
    this.reframing = (async () => {
      do {
        this.reframeAgain = false;
        await this.reframe();
      } while (this.reframeAgain);
    })().finally(() => (this.reframing = null));
    return this.reframing;
  }

  private async reframe(): Promise<void> {
    if (!this.photo) return;
    const ratio = this.ratio;
    let out;
    try {
      out = await this.prepare().prepare(ratio);
    } catch (error) {
      // E.g. a mask edited down to nothing: nothing to frame, so nothing to generate from.
      this.prepared = null;
      this.fail(error, false);
      return;
    }
    if (ratio !== this.ratio) return;
    this.prepared = { image: out.image, preview: new ImageData(out.preview as ImageDataArray, out.size, out.size), ratio, ms: out.ms };
    const view = await this.prepare().view(PREVIEW_SIDE);
    this.view = { image: new ImageData(view.data as ImageDataArray, view.width, view.height), scale: view.scale, frame: out.framing.frame };
  }

  /** Photos without transparency are cut out automatically once the model is on this device. */
  private async autoRemove(): Promise<void> {
    if (!this.photo || this.photo.hasAlpha || this.removal.mode === 'off') return;
    try {
      const model = await this.prepare().segmenterStatus(this.segmenterUrl);
      this.removal.model = model;
      if (model.cached || this.removal.mode === 'on') await this.removeBackground();
      else this.removal.status = 'needs-consent';
    } catch (error) {
      // Without the segmenter the photo still works as it is, with the background warning.
      console.warn('Background removal unavailable:', error);
    }
  }

  /** Cuts the photo out of its background on this device (the button is the download consent). */
  async removeBackground(): Promise<void> {
    if (!this.photo) return;
    const photo = this.photo;
    if (this.removal.status === 'working') return;
    this.removal.status = 'working';
    this.removal.download = undefined;
    try {
      const onEvent = (event: PipelineEvent): void => {
        if (event.type === 'download' && !event.fromCache) this.removal.download = { loaded: event.loaded, total: event.total };
      };
      const done = await this.prepare().removeBackground(this.segmenterUrl, this.removal.threshold, proxy(onEvent));
      if (photo !== this.photo || this.removal.mode === 'off') return;
      this.removal = { ...this.removal, status: 'done', backend: done.backend, ms: done.ms, strokes: [], download: undefined };
      if (this.removal.model) this.removal.model = { ...this.removal.model, cached: true };
      await this.reframe();
    } catch (error) {
      if (photo !== this.photo || isAbortError(error)) return;
      this.removal.status = 'error';
      this.removal.download = undefined;
      this.fail(error, false);
    }
  }

  /** Background removal mode changed (auto / on / off). */
  async setRemovalMode(mode: Removal['mode']): Promise<void> {
    this.removal.mode = mode;
    if (mode === 'off') {
      await this.prepare().clearRemoval();
      this.removal = { ...this.removal, status: 'idle', strokes: [] };
      await this.reframe();
    } else if (this.removal.status !== 'done' && this.removal.status !== 'working') {
      if (mode === 'on') await this.removeBackground();
      else await this.autoRemove();
    }
  }

  /** Mask threshold or brush strokes changed: re-cut and re-frame. */
  async editMask(threshold: number, strokes: MaskStroke[]): Promise<void> {
    this.removal.threshold = threshold;
    this.removal.strokes = strokes;
    if (this.removal.status !== 'done') return;
    await this.prepare().editMask(threshold, $state.snapshot(strokes) as MaskStroke[]);
    await this.reframe();
  }

  /** Undoes the last brush stroke. */
  undoStroke(): Promise<void> {
    return this.editMask(this.removal.threshold, this.removal.strokes.slice(0, -1));
  }

  /** Generate: asks for consent before the first download, then runs the pipeline. */
  async generate(): Promise<void> {
    if (!this.prepared || this.phase === 'running') return;
    this.error = null;
    this.notice = null;
    try {
      if (!(await this.ensureConsent())) return;
    } catch (error) {
      this.fail(error);
      return;
    }
    await this.run();
  }

  /**
   * Resolves true when the model is cached or the visitor accepted its download; the first caller
   * opens the prompt and later ones wait for the same answer.
   */
  async ensureConsent(): Promise<boolean> {
    if (this.consented) return true;
    if (!this.model) await this.refreshModel();
    if (this.model?.cached) return true;
    this.consentAnswer ??= new Promise<boolean>((resolve) => {
      this.answerConsent = resolve;
      this.consentOpen = true;
    });
    return this.consentAnswer;
  }

  private closeConsent(accepted: boolean): void {
    this.consentOpen = false;
    this.answerConsent?.(accepted);
    this.answerConsent = null;
    this.consentAnswer = null;
  }

  /** The visitor accepted the download: ask for persistent storage (page only) and go. */
  async acceptDownload(): Promise<void> {
    this.consented = true;
    this.closeConsent(true);
    await navigator.storage?.persist?.().catch(() => false);
  }

  /** The visitor declined the download. */
  declineDownload(): void {
    this.closeConsent(false);
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
    const prepared = await this.prepare().prepareBlob(image, this.ratio);
    const name = prompt.slice(0, 80);
    return this.generateKept(this.framed(prepared), { name, kind: 'text', image, prompt }, onEvent, () => (this.pipeline = this.client.info), signal);
  }

  /**
   * Meshes one batch photo: cut out like the loaded photo would be (background removal on, or auto
   * with the model on this device), framed at the current ratio, and kept in the history.
   */
  async meshPhoto(photo: Blob, name: string, onEvent: (event: PipelineEvent) => void, signal: AbortSignal): Promise<GenerateResult> {
    if (!(await this.ensureConsent())) {
      throw new AppError('model-download-declined', 'The model download was declined, so this photo was not turned into a model; press Retry to be asked again.');
    }
    let removal: { manifestUrl: string; threshold: number } | undefined;
    if (this.removal.mode !== 'off') {
      const status = await this.prepare().segmenterStatus(this.segmenterUrl).catch(() => null);
      if (status && (status.cached || this.removal.mode === 'on')) removal = { manifestUrl: this.segmenterUrl, threshold: this.removal.threshold };
    }
    throwIfAborted(signal);
    const prepared = await this.prepare().prepareBlob(photo, this.ratio, removal);
    return this.generateKept(this.framed(prepared), { name, kind: 'photo', image: photo }, onEvent, () => (this.pipeline = this.client.info), signal);
  }

  private framed(out: { image: Float32Array; preview: Uint8ClampedArray; size: number; ms: number }): Prepared {
    return { image: out.image, preview: new ImageData(out.preview as ImageDataArray, out.size, out.size), ratio: this.ratio, ms: out.ms };
  }

  /** The controls a generation runs with, as the history and the result cache record them. */
  private generationParams(): GenerationParams {
    const params: GenerationParams = { resolution: this.resolution, threshold: this.threshold, meshing: this.meshing, foregroundRatio: this.ratio, removeBackground: this.removal.mode };
    if (this.removal.status === 'done') params.maskThreshold = this.removal.threshold;
    return params;
  }

  private async modelRef(): Promise<ModelRef | null> {
    const status = await this.client.modelStatus().catch(() => null);
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
    // The first run pins the model: the entry records the revision that really made it.
    const model = await this.modelRef();
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
    const prepared = this.prepared;
    if (!prepared) return;
    const id = ++this.jobId;
    const job = new AbortController();
    this.photoJob = job;
    this.phase = 'running';
    this.stages = freshStages();
    this.downloads = {};
    const onEvent = (event: PipelineEvent): void => {
      if (id !== this.jobId) return;
      this.applyEvent(event);
    };
    try {
      const name = this.photo?.name.replace(/\.[^.]+$/, '') || 'cadlift-model';
      const result = await this.generateKept(
        prepared,
        { name, kind: 'photo', image: this.photoBlob ?? new Blob() },
        onEvent,
        (reason) => {
          this.pipeline = this.client.info;
          this.notice = reason;
        },
        job.signal,
      );
      if (id !== this.jobId) return;
      this.pipeline = this.client.info;
      this.history.setShown(this.entries.get(result) ?? Promise.resolve(null));
      this.result = result;
      this.resultName = name;
      this.post.setSource(result.mesh, this.resultName);
      this.phase = 'done';
      if (result.kept) {
        const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(result.kept.createdAt);
        this.notice = `Loaded from your history: the same photo and settings made “${result.kept.name}” on ${when}. Nothing was generated again.`;
        this.stages = freshStages();
      }
      await this.refreshModel().catch(() => undefined);
    } catch (error) {
      if (id !== this.jobId) return;
      if (isAbortError(error)) {
        this.phase = this.result ? 'done' : 'idle';
        return;
      }
      this.fail(error);
    }
  }

  private applyEvent(event: PipelineEvent): void {
    if (event.type === 'stage') {
      this.stages[event.stage] = event.state === 'start' ? { state: 'running' } : { state: 'done', ms: event.ms };
    } else if (event.type === 'download') {
      this.downloads[event.file] = { loaded: event.loaded, total: event.total, fromCache: event.fromCache };
    } else if (event.type === 'progress') {
      if (this.stages[event.stage].state === 'running') this.stages[event.stage] = { state: 'running', fraction: event.fraction };
    } else if (event.type === 'notice') {
      this.notice = event.message;
    }
  }

  /** Cancel: the UI is idle at once, no further progress is shown, the model stays loaded. */
  async cancel(): Promise<void> {
    if (this.phase !== 'running') return;
    this.jobId++;
    this.phase = this.result ? 'done' : 'idle';
    this.stages = freshStages();
    this.downloads = {};
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

  /** Deletes the cached model files and shows the space now used. */
  async deleteModel(): Promise<void> {
    try {
      await this.client.deleteCachedModels();
      this.consented = false;
      // The store holds the background-removal model too; it is gone as well.
      if (this.removal.model) this.removal.model = { ...this.removal.model, cached: false };
      await this.refreshModel();
    } catch (error) {
      this.fail(error, false);
    }
  }

  /** Asks the model's host whether a newer version exists (nothing is downloaded). */
  async checkUpdate(): Promise<void> {
    this.update = { state: 'checking' };
    try {
      const update = await this.client.checkForUpdate();
      this.update = update
        ? { state: 'done', update }
        : { state: 'failed', message: 'This model is not from a Hugging Face repository, so there is no newer version to look for.' };
    } catch (error) {
      this.update = { state: 'failed', message: userMessage(error).message };
    }
  }

  /** Downloads the newer version the check found; the next Generate uses it. */
  async applyUpdate(): Promise<void> {
    this.update = { state: 'updating' };
    try {
      await this.client.updateModel();
      this.consented = false;
      await this.refreshModel();
      this.update = { state: 'idle' };
    } catch (error) {
      this.update = { state: 'failed', message: userMessage(error).message };
    }
  }

  /** What the viewer overlay says while a photo job runs ('' when idle). */
  get working(): string {
    if (this.phase !== 'running') return '';
    const current = STAGES.find((s) => this.stages[s].state === 'running');
    const labels: Record<Stage, string> = {
      prepare: 'Preparing the image',
      download: Object.values(this.downloads).every((d) => d.fromCache) && Object.keys(this.downloads).length ? 'Loading the model from this device' : 'Downloading the model',
      encoder: 'Reading the photo (encoder)',
      decode: 'Decoding the 3D density',
      mesh: 'Building the mesh',
    };
    return current ? `${labels[current]}…` : 'Waiting for the GPU…';
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

