import { expose, transfer } from 'comlink';
import { decodeImage } from '../src/lib/decode-image';
import { hasMeaningfulAlpha, prepareImage, previewRgba, type Framing, type RgbaImage } from '../src/lib/prepare-image';
import { installErrorTransfer } from '../src/shared/comlink-errors';

// Decoding and framing run here so a big photo never blocks the page; the pipeline worker receives
// the exact CHW floats this worker produced, which are also what the preview shows.
installErrorTransfer();
let current: RgbaImage | null = null;

const api = {
  /** Decodes the photo (orientation applied, straight alpha) and keeps it for re-framing. */
  async load(blob: Blob): Promise<{ width: number; height: number; hasAlpha: boolean }> {
    const image = await decodeImage(blob);
    current = image;
    return { width: image.width, height: image.height, hasAlpha: hasMeaningfulAlpha(image) };
  },

  /** Frames the loaded photo at `ratio` and returns the model input plus an RGBA preview of it. */
  prepare(ratio: number): Prepared {
    if (!current) throw new Error('No photo is loaded.');
    return frame(current, ratio);
  },

  /** Decodes and frames a one-off image (a text job's picture) without replacing the loaded photo. */
  async prepareBlob(blob: Blob, ratio: number): Promise<Prepared> {
    return frame(await decodeImage(blob), ratio);
  },
};

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
