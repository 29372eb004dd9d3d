import { proxy, wrap, type Remote } from 'comlink';
import type { PrepareApi } from '../../workers/prepare.worker';
import { AppError, isAbortError, throwIfAborted } from '../lib/errors';
import type { PipelineEvent } from '../shared/pipeline';
import type { MaskStroke } from '../lib/mask-edits';
import { RATIO } from './settings';

/** Longest side of the photo preview canvas. */
const PREVIEW_SIDE = 1024;

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

/** What the photo state tells the app: the error banner is the app's. */
export interface PhotoHooks {
  /** Shows a failure in the error banner (the run's phase is left alone). */
  fail(error: unknown): void;
  /** Clears the error banner. */
  clearError(): void;
}

/**
 * The photo and everything that edits it: framing, background removal and mask edits, decoded and
 * cut out in the prepare worker this state owns. Also frames other images (text pictures, batch
 * photos) the way the loaded photo is framed.
 */
export class PhotoState {
  current = $state.raw<Photo | null>(null);
  view = $state.raw<PhotoView | null>(null);
  removal = $state<Removal>({ mode: 'auto', status: 'idle', threshold: 128, strokes: [] });
  prepared = $state.raw<Prepared | null>(null);
  preparing = $state(false);
  ratio = $state<number>(RATIO.default);
  /** The photo as given, kept for the history entry. */
  blob: Blob | null = null;

  private prepareWorker: Worker | null = null;
  private prepareApi: Remote<PrepareApi> | null = null;
  private reframing: Promise<void> | null = null;
  private reframeAgain = false;
  private token = 0;

  constructor(
    private readonly segmenterUrl: string,
    private readonly hooks: PhotoHooks,
  ) {}

  private prepare(): Remote<PrepareApi> {
    if (!this.prepareApi) {
      this.prepareWorker = new Worker(new URL('../../workers/prepare.worker.ts', import.meta.url), { type: 'module', name: 'cadlift-prepare' });
      this.prepareApi = wrap<PrepareApi>(this.prepareWorker);
    }
    return this.prepareApi;
  }

  /** Takes a dropped, picked or pasted file: decodes it off the main thread and frames it. */
  async setPhoto(file: Blob, name = (file as File).name ?? 'pasted image'): Promise<void> {
    const token = ++this.token;
    this.hooks.clearError();
    this.preparing = true;
    try {
      const info = await this.prepare().load(file);
      if (token !== this.token) return;
      if (this.current) URL.revokeObjectURL(this.current.url);
      this.current = { name, url: URL.createObjectURL(file), ...info };
      this.blob = file;
      this.prepared = null;
      this.removal = { ...this.removal, status: 'idle', strokes: [], backend: undefined, ms: undefined };
      await this.reframe();
      await this.autoRemove();
    } catch (error) {
      if (token !== this.token) return;
      // Name the file, and say that what was loaded before is still the photo in use.
      if (error instanceof AppError) {
        const kept = this.current ? ` ${this.current.name} is still the photo in use.` : '';
        this.hooks.fail(new AppError(error.code, `${name}: ${error.message}${kept}`));
      } else {
        this.hooks.fail(error);
      }
    } finally {
      if (token === this.token) this.preparing = false;
    }
  }

  /**
   * Loads a photo from a web address. Browsers only let a page read another site's image when that
   * site allows it (CORS); a refusal gets its own message, as it is the site's choice, not a bug.
   */
  async setPhotoFromUrl(address: string): Promise<void> {
    this.hooks.clearError();
    let url: URL;
    try {
      url = new URL(address.trim());
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError('not http');
    } catch {
      this.hooks.fail(new AppError('image-unreadable', 'That is not a web address. Paste a link that starts with https://.'));
      return;
    }
    let response: Response;
    try {
      response = await fetch(url, { mode: 'cors', credentials: 'omit' });
    } catch {
      this.hooks.fail(new AppError('image-url-refused', `${url.host} does not let other sites load its images. Save the image and drop the file here instead.`));
      return;
    }
    if (!response.ok) {
      this.hooks.fail(new AppError('image-url-refused', `${url.host} answered ${response.status} for that image. Check the link, or save the image and drop it here.`));
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
    if (!this.current) return;
    const ratio = this.ratio;
    let out;
    try {
      out = await this.prepare().prepare(ratio);
    } catch (error) {
      // E.g. a mask edited down to nothing: nothing to frame, so nothing to generate from.
      this.prepared = null;
      this.hooks.fail(error);
      return;
    }
    if (ratio !== this.ratio) return;
    this.prepared = prepared(out, ratio);
    const view = await this.prepare().view(PREVIEW_SIDE);
    this.view = { image: new ImageData(view.data as ImageDataArray, view.width, view.height), scale: view.scale, frame: out.framing.frame };
  }

  /** Photos without transparency are cut out automatically once the model is on this device. */
  private async autoRemove(): Promise<void> {
    if (!this.current || this.current.hasAlpha || this.removal.mode === 'off') return;
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
    if (!this.current) return;
    const photo = this.current;
    if (this.removal.status === 'working') return;
    this.removal.status = 'working';
    this.removal.download = undefined;
    try {
      const onEvent = (event: PipelineEvent): void => {
        if (event.type === 'download' && !event.fromCache) this.removal.download = { loaded: event.loaded, total: event.total };
      };
      const done = await this.prepare().removeBackground(this.segmenterUrl, this.removal.threshold, proxy(onEvent));
      if (photo !== this.current || this.removal.mode === 'off') return;
      this.removal = { ...this.removal, status: 'done', backend: done.backend, ms: done.ms, strokes: [], download: undefined };
      if (this.removal.model) this.removal.model = { ...this.removal.model, cached: true };
      await this.reframe();
    } catch (error) {
      if (photo !== this.current || isAbortError(error)) return;
      this.removal.status = 'error';
      this.removal.download = undefined;
      this.hooks.fail(error);
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

  /** The model files were deleted from this device, the segmenter's with them. */
  segmenterDeleted(): void {
    if (this.removal.model) this.removal.model = { ...this.removal.model, cached: false };
  }

  /**
   * Frames another image at the current ratio, as the loaded photo would be: with `cutOut`, its
   * background is removed when removal is on, or auto with the model already on this device.
   */
  async frame(image: Blob, cutOut: boolean, signal?: AbortSignal): Promise<Prepared> {
    let removal: { manifestUrl: string; threshold: number } | undefined;
    if (cutOut && this.removal.mode !== 'off') {
      const status = await this.prepare().segmenterStatus(this.segmenterUrl).catch(() => null);
      if (status && (status.cached || this.removal.mode === 'on')) removal = { manifestUrl: this.segmenterUrl, threshold: this.removal.threshold };
    }
    if (signal) throwIfAborted(signal);
    return prepared(await this.prepare().prepareBlob(image, this.ratio, removal), this.ratio);
  }
}

/** The prepare worker's framing as the page keeps it: the model input and its preview as ImageData. */
function prepared(out: { image: Float32Array; preview: Uint8ClampedArray; size: number; ms: number }, ratio: number): Prepared {
  return { image: out.image, preview: new ImageData(out.preview as ImageDataArray, out.size, out.size), ratio, ms: out.ms };
}
