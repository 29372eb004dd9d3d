import { proxy, wrap, type Remote } from 'comlink';
import type { PrepareApi } from '../../workers/prepare.worker';
import { isAbortError } from '../lib/errors';
import { installErrorTransfer } from '../shared/comlink-errors';
import { DEFAULT_MANIFEST_URL, DEFAULT_SEGMENTER_URL, RATIO, RESOLUTION, THRESHOLD } from '../state/settings';
import type { GenerateResult, PipelineEvent, PipelineInit } from '../shared/pipeline';
import type { PipelineClient, PipelineInfo } from '../state/pipeline-client';
import type { DisplayOptions } from './display-options';
import { imageBlob } from './image-input';
import { CacheStorageModelStore, type ModelStore } from '../lib/model-store';
import type { ModelStoreRequest, StoreInit } from './page-store';
import { EmbedError, failure } from './failure';
import type { GenerateOptions, ImageInput, ProgressStage, ReadyModel } from './protocol';
import { JobQueue } from './job-queue';
import { canRequestStorage, pageStorageWorks, requestModelStorage, storageAccessGranted } from './storage';

installErrorTransfer();

/** A finished job as the widget shows it and sends it. */
export interface EmbedResult {
  glb: ArrayBuffer;
  result: GenerateResult;
  stats: { vertices: number; triangles: number; ms: number };
}

/** Progress as the widget shows it; `progress` messages carry the same stage and fraction. */
export interface EmbedProgress {
  id: string;
  stage: ProgressStage;
  fraction: number;
  /** Model bytes while the download stage runs. */
  download?: { loaded: number; total: number | undefined; fromCache: boolean };
}

/** Workers resolve relative URLs against their own script, so the page resolves them first. */
function absoluteUrl(url: string): string {
  return new URL(url, location.href).href;
}

/**
 * The widget's state and its jobs. The pipeline client, the prepare worker, glTF-Transform and
 * three.js all load on the first job, so the first screen is the small widget alone.
 */
export class EmbedWidget {
  readonly manifestUrl: string;
  readonly segmenterUrl = absoluteUrl(DEFAULT_SEGMENTER_URL);
  readonly queue = new JobQueue();
  phase = $state<'idle' | 'running' | 'done' | 'error'>('idle');
  progress = $state<EmbedProgress | null>(null);
  error = $state<{ code: string; message: string } | null>(null);
  notice = $state<string | null>(null);
  result = $state.raw<EmbedResult | null>(null);
  model = $state.raw<ReadyModel | null>(null);
  /** True when the model is kept across visits; false: memory only, downloaded again next time. */
  storage = $state(false);
  canAskStorage = $state(false);
  webgpu = $state(false);
  pipeline = $state.raw<PipelineInfo | null>(null);
  private client: PipelineClient | null = null;
  private clientLoading: Promise<PipelineClient> | null = null;
  private init: PipelineInit & StoreInit;
  private prepareApi: Remote<PrepareApi> | null = null;
  /** The store the page can read: its own Cache Storage, or the Storage Access handle's. */
  private pageStore: ModelStore | null = null;
  /** The frame's own Cache Storage works (not only a Storage Access handle's). */
  private ownStorage = false;

  constructor(private readonly options: DisplayOptions) {
    this.manifestUrl = absoluteUrl(options.manifestUrl ?? DEFAULT_MANIFEST_URL);
    this.init = { manifestUrl: this.manifestUrl };
  }

  /** Checks WebGPU and storage and reads the model's size from its manifest (small; no pipeline yet). */
  async start(): Promise<{ webgpu: boolean; storage: boolean; model: ReadyModel | null }> {
    const [webgpu, storage] = await Promise.all([hasWebGpu(), pageStorageWorks()]);
    this.webgpu = webgpu;
    this.storage = storage;
    this.ownStorage = storage;
    if (storage) this.pageStore = new CacheStorageModelStore();
    this.canAskStorage = !storage && canRequestStorage();
    // Without storage the page decides for the worker too: its own probe could disagree (a test
    // that blocks the page's APIs does not reach the worker's).
    this.init = { ...this.init, store: storage ? { kind: 'probe' } : { kind: 'memory' } };
    // A visitor who allowed caching before is not asked again: the grant lets the page ask without a click.
    if (this.canAskStorage && (await storageAccessGranted())) await this.allowCaching({ quiet: true });
    try {
      const { downloadManifest } = await import('../lib/model-manifest');
      const manifest = await downloadManifest(this.manifestUrl, 'image-to-3d');
      const listed = manifest.files.every((f) => f.bytes !== undefined) ? manifest.files.reduce((sum, f) => sum + (f.bytes ?? 0), 0) : undefined;
      // External-data files need not be listed, so the manifest's estimate is the better total.
      let downloadBytes = manifest.downloadEstimate ?? listed;
      let cached = false;
      if (this.pageStore) {
        const { modelDownloadSize } = await import('../lib/model-cache');
        const { missing } = await modelDownloadSize(manifest, this.pageStore);
        cached = missing === 0;
        if (missing !== undefined) downloadBytes = missing;
      }
      this.model = { name: manifest.name, license: manifest.license, downloadBytes, cached };
    } catch (error) {
      this.error = failure(error);
    }
    return { webgpu, storage: this.storage, model: this.model };
  }

  /** "Allow caching": asks for storage (after a click) and moves the model store there. */
  async allowCaching({ quiet = false }: { quiet?: boolean } = {}): Promise<boolean> {
    const store = await requestModelStorage();
    if (!store) {
      if (quiet) return false;
      this.notice = 'This browser did not allow storage here; the model stays in memory for this visit. Open CADLift to keep it.';
      this.canAskStorage = false;
      return false;
    }
    const { servePageStore } = await import('./page-store');
    const channel = `cadlift-store-${crypto.randomUUID()}`;
    servePageStore(store, channel);
    this.pageStore = store;
    const request: ModelStoreRequest = { kind: 'page', channel, storeKind: store.kind };
    this.init = { ...this.init, store: request };
    await this.client?.configure(this.init as PipelineInit);
    this.storage = true;
    this.canAskStorage = false;
    if (!quiet) this.notice = 'Caching allowed: the model is kept in this browser for next time.';
    return true;
  }

  private async pipelineClient(): Promise<PipelineClient> {
    if (this.client) return this.client;
    this.clientLoading ??= import('../state/pipeline-client').then(({ PipelineClient }) => {
      // The store request rides along with PipelineInit; the worker reads it (pipeline-core.ts).
      this.client = new PipelineClient(this.init as PipelineInit, { forceCpu: this.options.forceCpu });
      return this.client;
    });
    return this.clientLoading;
  }

  private prepare(): Remote<PrepareApi> {
    this.prepareApi ??= wrap<PrepareApi>(new Worker(new URL('../../workers/prepare.worker.ts', import.meta.url), { type: 'module', name: 'cadlift-prepare' }));
    return this.prepareApi;
  }

  /** Queues one job; progress goes to `onProgress`, and the result or failure settles the promise. */
  generate(id: string, image: ImageInput, options: Partial<GenerateOptions>, onProgress: (p: EmbedProgress) => void): Promise<EmbedResult> {
    return this.queue.add(id, async (signal) => {
      const report = (p: EmbedProgress): void => {
        if (signal.aborted) return;
        this.progress = p;
        onProgress(p);
      };
      this.phase = 'running';
      this.error = null;
      try {
        const done = await this.run(id, image, options, signal, report);
        this.result = done;
        this.phase = 'done';
        return done;
      } catch (error) {
        if (this.queue.queued === 0) this.phase = this.result ? 'done' : isAbortError(error) ? 'idle' : 'error';
        if (!isAbortError(error)) this.error = failure(error);
        throw error;
      } finally {
        this.progress = null;
      }
    });
  }

  private async run(id: string, image: ImageInput, options: Partial<GenerateOptions>, signal: AbortSignal, report: (p: EmbedProgress) => void): Promise<EmbedResult> {
    const started = performance.now();
    report({ id, stage: 'prepare', fraction: 0 });
    const blob = await imageBlob(image, signal);
    const prepared = await this.framed(blob, options, signal);
    report({ id, stage: 'prepare', fraction: 1 });
    const client = await this.pipelineClient();
    this.pipeline = await client.start();
    const slow = this.pipeline.backend === 'wasm' || this.pipeline.adapter?.isFallbackAdapter;
    const downloads = new Map<string, { loaded: number; total: number | undefined; fromCache: boolean }>();
    const onEvent = (event: PipelineEvent): void => {
      // The prepare stage was reported above; the pipeline repeats it with the prepare time.
      if (event.type === 'stage' && event.stage !== 'prepare') report({ id, stage: event.stage, fraction: event.state === 'start' ? 0 : 1 });
      else if (event.type === 'progress') report({ id, stage: event.stage, fraction: event.fraction });
      else if (event.type === 'notice') this.notice = event.message;
      else if (event.type === 'download') {
        downloads.set(event.file, { loaded: event.loaded, total: event.total, fromCache: event.fromCache });
        const all = [...downloads.values()];
        const loaded = all.reduce((s, d) => s + d.loaded, 0);
        const total = all.every((d) => d.total !== undefined) ? all.reduce((s, d) => s + (d.total ?? 0), 0) : undefined;
        const expected = Math.max(total ?? 0, this.model?.downloadBytes ?? 0);
        report({ id, stage: 'download', fraction: expected ? Math.min(1, loaded / expected) : 0, download: { loaded, total: expected || total, fromCache: all.every((d) => d.fromCache) } });
      }
    };
    const result = await client.generate(
      {
        image: prepared.image,
        resolution: options.resolution ?? (slow ? RESOLUTION.fallback : RESOLUTION.hardware),
        threshold: options.threshold ?? THRESHOLD.default,
        meshing: 'coarse-to-fine',
        prepareMs: prepared.ms,
      },
      onEvent,
      (reason) => {
        this.pipeline = client.info;
        this.notice = reason;
      },
      signal,
    );
    const { meshToGlb } = await import('../lib/export-glb');
    const bytes = await meshToGlb(result.mesh, { name: 'CADLift model' });
    const glb = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    if (this.model) this.model = { ...this.model, cached: this.storage };
    return { glb, result, stats: { vertices: result.stats.vertices, triangles: result.stats.triangles, ms: Math.round(performance.now() - started) } };
  }

  /** Decodes and frames the photo, cutting out its background when asked (or, on 'auto', when that model is already here). */
  private async framed(blob: Blob, options: Partial<GenerateOptions>, signal: AbortSignal): Promise<{ image: Float32Array; ms: number }> {
    const ratio = options.foregroundRatio ?? RATIO.default;
    const mode = options.removeBackground ?? 'auto';
    const prepare = this.prepare();
    if (mode === 'off') return prepare.prepareBlob(blob, ratio);
    const info = await prepare.load(blob);
    if (signal.aborted || info.hasAlpha) return prepare.prepare(ratio);
    // The prepare worker keeps the background-removal model in its own Cache Storage only, which a
    // Storage Access grant does not open (only the page's handle reaches that storage).
    if (mode === 'on' && !this.ownStorage) {
      throw new EmbedError('background-removal-unavailable', "Background removal needs storage, which this site's frame does not have; send a photo with a transparent background, or removeBackground: 'off'.");
    }
    let remove = mode === 'on';
    if (!remove) remove = await prepare.segmenterStatus(this.segmenterUrl).then((s) => s.cached, () => false);
    if (remove) await prepare.removeBackground(this.segmenterUrl, 128, proxy(() => undefined));
    return prepare.prepare(ratio);
  }

  /** Cancels a job by id (running or queued). */
  cancel(id: string): boolean {
    return this.queue.cancel(id);
  }
}

/** True when the browser offers a WebGPU adapter (read when asked, never at module load). */
async function hasWebGpu(): Promise<boolean> {
  try {
    return (await navigator.gpu?.requestAdapter()) != null;
  } catch {
    return false;
  }
}
