import { expose, transfer } from 'comlink';
import { decodeImage } from '../src/lib/decode-image';
import { hasMeaningfulAlpha, prepareImage, previewRgba, type Framing, type RgbaImage } from '../src/lib/prepare-image';
import { installErrorTransfer } from '../src/shared/comlink-errors';
import { editedMask, type MaskStroke } from '../src/lib/mask-edits';
import { probeModelStore } from '../src/lib/model-store';
import { fetchSegmenterManifest, loadModelFiles, modelDownloadSize } from '../src/lib/model-cache';
import type { SegmenterBackend, Segmenter } from '../src/lib/segmentation';
import type { PipelineEvent } from '../src/shared/pipeline';

// Decoding, background removal and framing run here so a big photo never blocks the page; the
// pipeline worker receives the exact CHW floats this worker produced, which the preview shows too.
installErrorTransfer();
/** The decoded photo as given. */
let original: RgbaImage | null = null;
/** What the model is framed from: the photo, or its cut-out. */
let current: RgbaImage | null = null;
/** The segmenter's mask of `original` while background removal is on. */
let mask: Uint8ClampedArray | null = null;
let segmenter: { key: string; promise: Promise<Segmenter> } | null = null;
/** Bumped by every load and every change of removal, so a late decode or removal is discarded. */
let generation = 0;
/**
 * The segmenter's files live where they really can: Cache Storage, else IndexedDB (an insecure page
 * has no Cache Storage), else memory (a cross-site frame, where every store throws).
 */
const storeReady = probeModelStore();

/** The background-removal model, downloaded or read from the cache once, then kept. */
async function loadSegmenter(manifestUrl: string, onEvent?: (event: PipelineEvent) => void): Promise<Segmenter> {
  const store = await storeReady;
  const manifest = await fetchSegmenterManifest(manifestUrl, { store });
  const key = `${manifest.id}@${manifest.revision}`;
  if (segmenter?.key !== key) {
    // transformers.js is large: it loads with the first removal, not with the page.
    const pending = (async () => {
      const { createSegmenter } = await import('../src/lib/segmentation');
      const { files } = await loadModelFiles(manifest, {
        store,
        onProgress: (p) => onEvent?.({ type: 'download', file: p.file, loaded: p.loaded, total: p.total, fromCache: p.fromCache }),
      });
      return createSegmenter(files);
    })();
    segmenter = { key, promise: pending };
    pending.catch(() => {
      if (segmenter?.promise === pending) segmenter = null;
    });
  }
  return segmenter.promise;
}

const api = {
  /** Decodes the photo (orientation applied, straight alpha) and keeps it for re-framing. */
  async load(blob: Blob): Promise<{ width: number; height: number; hasAlpha: boolean }> {
    const mine = ++generation;
    const image = await decodeImage(blob);
    if (mine !== generation) throw new DOMException('A newer photo replaced this one.', 'AbortError');
    original = image;
    current = image;
    mask = null;
    return { width: image.width, height: image.height, hasAlpha: hasMeaningfulAlpha(image) };
  },

  /** Whether the background-removal model is cached, and how much is left to download. */
  async segmenterStatus(manifestUrl: string): Promise<{ name: string; license: string; cached: boolean; downloadBytes: number | undefined }> {
    const store = await storeReady;
    const manifest = await fetchSegmenterManifest(manifestUrl, { store });
    const { missing } = await modelDownloadSize(manifest, store);
    return { name: manifest.name, license: manifest.license, cached: missing === 0, downloadBytes: missing ?? manifest.downloadEstimate };
  },

  /** Cuts the loaded photo out of its background on this device; the framing then uses the cut-out. */
  async removeBackground(
    manifestUrl: string,
    threshold: number,
    onEvent?: (event: PipelineEvent) => void,
  ): Promise<{ backend: SegmenterBackend; ms: number }> {
    if (!original) throw new Error('No photo is loaded.');
    const photo = original;
    const mine = ++generation;
    const model = await loadSegmenter(manifestUrl, onEvent);
    const t = performance.now();
    const found = await model.segment(photo);
    if (mine !== generation) throw new DOMException('Removal was switched off or another photo was loaded.', 'AbortError');
    mask = found;
    current = cutout(photo, found, threshold, []);
    return { backend: model.backend, ms: performance.now() - t };
  },

  /** Re-applies the mask threshold (0–255) and the brush strokes; no strokes and no mask undo removal. */
  editMask(threshold: number, strokes: MaskStroke[]): void {
    if (!original || !mask) return;
    current = cutout(original, mask, threshold, strokes);
  },

  /** Goes back to the photo as given (removal off). */
  clearRemoval(): void {
    generation++;
    mask = null;
    current = original;
  },

  /** The current cut-out (or photo) downscaled to at most `maxSide`, for the preview canvas. */
  view(maxSide: number): { width: number; height: number; data: Uint8ClampedArray; scale: number } {
    if (!current) throw new Error('No photo is loaded.');
    const scale = Math.min(1, maxSide / Math.max(current.width, current.height));
    const width = Math.max(1, Math.round(current.width * scale));
    const height = Math.max(1, Math.round(current.height * scale));
    const data = new Uint8ClampedArray(width * height * 4);
    // Nearest sampling is enough for a preview; the model input is resampled exactly elsewhere.
    for (let y = 0; y < height; y++) {
      const sy = Math.min(current.height - 1, Math.floor((y + 0.5) / scale));
      for (let x = 0; x < width; x++) {
        const sx = Math.min(current.width - 1, Math.floor((x + 0.5) / scale));
        const from = (sy * current.width + sx) * 4;
        data.set(current.data.subarray(from, from + 4), (y * width + x) * 4);
      }
    }
    return transfer({ width, height, data, scale }, [data.buffer]);
  },

  /** Frames the loaded photo at `ratio` and returns the model input plus an RGBA preview of it. */
  prepare(ratio: number): Prepared {
    if (!current) throw new Error('No photo is loaded.');
    return frame(current, ratio);
  },

  /**
   * Decodes and frames a one-off image (a text job's picture, a batch photo) without replacing the
   * loaded photo; with `removal`, a photo without transparency is cut out of its background first.
   */
  async prepareBlob(blob: Blob, ratio: number, removal?: { manifestUrl: string; threshold: number }): Promise<Prepared> {
    const image = await decodeImage(blob);
    // A batch photo without transparency is cut out as the loaded photo would be, without replacing it.
    if (!removal || hasMeaningfulAlpha(image)) return frame(image, ratio);
    const model = await loadSegmenter(removal.manifestUrl);
    return frame(cutout(image, await model.segment(image), removal.threshold, []), ratio);
  },
};

/** The photo with the edited mask as its alpha. */
function cutout(photo: RgbaImage, found: Uint8ClampedArray, threshold: number, strokes: MaskStroke[]): RgbaImage {
  const alpha = editedMask(found, photo.width, photo.height, threshold, strokes);
  const data = new Uint8ClampedArray(photo.data);
  for (let p = 0, i = 3; p < alpha.length; p++, i += 4) data[i] = (photo.data[i]! * alpha[p]!) / 255;
  return { width: photo.width, height: photo.height, data };
}

interface Prepared {
  image: Float32Array;
  preview: Uint8ClampedArray;
  size: number;
  framing: Framing;
  ms: number;
}

function frame(source: RgbaImage, ratio: number): Prepared {
  const t = performance.now();
  const prepared = prepareImage(source, { ratio });
  const ms = performance.now() - t;
  const preview = previewRgba(prepared.pixels, prepared.size).data;
  return transfer(
    { image: prepared.pixels, preview, size: prepared.size, framing: prepared.framing, ms },
    [prepared.pixels.buffer, preview.buffer],
  );
}

export type PrepareApi = typeof api;
expose(api);
