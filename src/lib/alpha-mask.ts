/**
 * Pixel work around the background-removal model, without the model: resizing the photo to the
 * model's input, turning its output into an alpha mask at the photo's size, and cutting the photo out
 * with that mask. Resizes use torch's antialiased bilinear filter (`F.interpolate(..., mode='bilinear',
 * antialias=True, align_corners=False)`, as src/lib/prepare-image.ts does): plain bilinear with edge
 * clamping when enlarging, a triangle filter stretched over the source when shrinking (PIL's bilinear
 * resize, which BiRefNet's own preprocessing uses, is the same filter). Rows are streamed, so a 24 MP
 * photo needs a few filter rows of working memory besides its input and output.
 */
import { antialiasWeights, type RgbaImage } from './prepare-image';

/** A straight-alpha mask (0 transparent … 255 opaque), one byte per pixel, row-major. */
export interface AlphaMask {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

/** What the model's output holds. BiRefNet exports logits; some matting models apply the sigmoid. */
export type MaskActivation = 'sigmoid' | 'none';

/**
 * Resizes the photo's RGB to `width`×`height` bytes (3 per pixel) for the model; alpha is ignored
 * (a photo that needs its background removed has none that matters).
 */
export function resizeRgb(image: RgbaImage, width: number, height: number): Uint8ClampedArray {
  checkSize(image.width, image.height, image.data.length, 4);
  const out = new Uint8ClampedArray(width * height * 3);
  const stride = image.width * 4;
  resample(
    image.width,
    image.height,
    3,
    (y, row) => {
      for (let x = 0, p = y * stride; x < image.width; x++, p += 4) {
        row[x * 3] = image.data[p]!;
        row[x * 3 + 1] = image.data[p + 1]!;
        row[x * 3 + 2] = image.data[p + 2]!;
      }
    },
    width,
    height,
    // Uint8ClampedArray rounds half to even and clamps.
    (y, row) => out.set(row, y * width * 3),
  );
  return out;
}

/**
 * Turns the model's output plane (`planeWidth`×`planeHeight` floats) into an alpha mask of
 * `width`×`height`: the activation per value, the resize, then round(255·p).
 */
export function maskFromOutput(
  output: Float32Array,
  planeWidth: number,
  planeHeight: number,
  width: number,
  height: number,
  activation: MaskActivation = 'sigmoid',
): AlphaMask {
  checkSize(planeWidth, planeHeight, output.length, 1);
  const data = new Uint8ClampedArray(width * height);
  resample(
    planeWidth,
    planeHeight,
    1,
    (y, row) => {
      for (let x = 0, p = y * planeWidth; x < planeWidth; x++, p++) {
        const v = output[p]!;
        // Probabilities are resized, as BiRefNet's reference inference does, not logits.
        row[x] = activation === 'sigmoid' ? 1 / (1 + Math.exp(-v)) : Math.min(1, Math.max(0, v));
      }
    },
    width,
    height,
    (y, row) => {
      for (let x = 0, p = y * width; x < width; x++, p++) data[p] = row[x]! * 255;
    },
  );
  return { width, height, data };
}

/**
 * The cut-out: `image` with the mask as its alpha. The threshold slider's semantics: mask values
 * below `threshold` (0–255) become fully transparent and values at or above it are kept as they are,
 * so the soft edge the model found survives and faint halo pixels go; 0 keeps the mask unchanged.
 * An image that already has alpha keeps the product of both (round(a·m/255)).
 */
export function removeBackground(
  image: RgbaImage,
  mask: Uint8ClampedArray | AlphaMask,
  threshold = 0,
): RgbaImage {
  const values = mask instanceof Uint8ClampedArray ? mask : mask.data;
  checkSize(image.width, image.height, image.data.length, 4);
  if (values.length !== image.width * image.height) {
    throw new RangeError(
      `The mask holds ${values.length} values, expected ${image.width * image.height}.`,
    );
  }
  if (!(threshold >= 0 && threshold <= 255)) {
    throw new RangeError(`Mask threshold must be between 0 and 255, got ${threshold}.`);
  }
  const data = new Uint8ClampedArray(image.data);
  for (let p = 0, i = 3; p < values.length; p++, i += 4) {
    const m = values[p]! >= threshold ? values[p]! : 0;
    const a = image.data[i]!;
    data[i] = a === 255 ? m : (a * m) / 255;
  }
  return { width: image.width, height: image.height, data };
}

// ------------------------------------------------------------------------------------------------

function checkSize(width: number, height: number, length: number, channels: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`Image size must be positive integers, got ${width}×${height}.`);
  }
  if (length !== width * height * channels) {
    throw new RangeError(`Expected ${width * height * channels} values, got ${length}.`);
  }
}

/** One axis of the filter: for each output index, its first source index and `taps` weights. */

/**
 * Separable resize of a `channels`-interleaved image, one output row at a time: each source row is
 * read and filtered horizontally once, and kept only while an output row's window still needs it.
 */
function resample(
  srcWidth: number,
  srcHeight: number,
  channels: number,
  readRow: (y: number, row: Float64Array) => void,
  width: number,
  height: number,
  writeRow: (y: number, row: Float64Array) => void,
): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`Output size must be positive integers, got ${width}×${height}.`);
  }
  // torch's antialiased bilinear per axis, the same weights as the model-input resize.
  const columns = antialiasWeights(srcWidth, width);
  const rows = antialiasWeights(srcHeight, height);
  const source = new Float64Array(srcWidth * channels);
  const filtered = new Map<number, Float64Array>();
  const out = new Float64Array(width * channels);
  const horizontal = (y: number): Float64Array => {
    let row = filtered.get(y);
    if (row) return row;
    readRow(y, source);
    row = new Float64Array(width * channels);
    for (let i = 0; i < width; i++) {
      const first = columns.first[i]!;
      const base = i * columns.taps;
      for (let k = 0, end = columns.count[i]!; k < end; k++) {
        const w = columns.weights[base + k]!;
        if (w === 0) continue;
        for (let c = 0, s = (first + k) * channels; c < channels; c++) {
          row[i * channels + c]! += w * source[s + c]!;
        }
      }
    }
    filtered.set(y, row);
    return row;
  };
  for (let o = 0; o < height; o++) {
    const first = rows.first[o]!;
    // Windows only move down as `o` grows: rows above this one's window are done with.
    for (const y of filtered.keys()) if (y < first) filtered.delete(y);
    out.fill(0);
    for (let k = 0, end = rows.count[o]!; k < end; k++) {
      const w = rows.weights[o * rows.taps + k]!;
      if (w === 0) continue;
      const row = horizontal(first + k);
      for (let j = 0; j < out.length; j++) out[j]! += w * row[j]!;
    }
    writeRow(o, out);
  }
}
