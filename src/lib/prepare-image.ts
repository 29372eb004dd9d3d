/**
 * The exact image the TripoSR encoder sees (docs/triposr-spec.md §1): crop to the alpha box, pad to
 * a centred square, pad again to `side / ratio`, composite on grey 0.5, resize to 512² like torch's
 * `F.interpolate(x, (512, 512), mode='bilinear', antialias=True, align_corners=False)`.
 *
 * The padded square is never materialised: padding is a known grey, so the resize reads only the
 * box's rows, one at a time, and adds each to the output rows whose filter window covers it.
 * Peak memory besides the source, for size 512: the float64 accumulator (6.3 MB), the float32
 * result (3.1 MB), one composited box row (24 bytes per box column: 480 kB at 20,000 wide) and two
 * weight tables (size × taps × 8 bytes: 385 kB each for a 20,000×15,000 source), about 11 MB in
 * all, whatever the source size: 10.7 MB measured for an opaque 20,000×15,000, in 2.5 s on Node 20.
 * Pass an {@link RgbaRowSource} to avoid holding the source itself.
 */
import { AppError } from './errors';

/** Straight-alpha RGBA8 pixels, row-major; an `ImageData` satisfies it. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

/** An RGBA8 source read one row at a time (a huge or generated image that is never held whole). */
export interface RgbaRowSource {
  width: number;
  height: number;
  /** The 4·width straight-alpha bytes of row `y`; the view may be reused by the next call. */
  row(y: number): ArrayLike<number>;
}

/** An axis-aligned pixel rectangle in source coordinates. */
export interface PixelBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Where the model's square sits on the source, for drawing the framing box. */
export interface Framing {
  /** The pixels with alpha > 0 (inclusive box), or the whole image when it is opaque. */
  box: PixelBox;
  /** max(box.width, box.height). */
  squareSide: number;
  /** The box's top-left inside the square; an odd leftover pixel goes right/bottom. */
  squareOffset: { x: number; y: number };
  /** round(squareSide / ratio), half up. */
  paddedSide: number;
  /** The square's top-left inside the padded square, on both axes. */
  paddedOffset: number;
  /** The padded square in source coordinates; it may reach past the image edges. */
  frame: { x: number; y: number; side: number };
}

/** The encoder input and how it was framed. */
export interface PreparedImage {
  /** 3·size·size floats in [0, 1], planar RGB (CHW), the encoder's [1, 3, size, size]. */
  pixels: Float32Array;
  size: number;
  framing: Framing;
}

/** Framing and resize controls. */
export interface PrepareOptions {
  /** Foreground ratio: how much of the square the object spans, 0.5–1.0. */
  ratio: number;
  /** Output side in pixels. */
  size: number;
}

/** TripoSR's defaults: foreground ratio 0.85, 512² input. */
export const PREPARE_DEFAULTS: PrepareOptions = { ratio: 0.85, size: 512 };

/** The grey behind the object (white would give a phantom sheet behind it, spec §1). */
const GREY = 0.5;
/** Byte → [0, 1]. */
const UNIT = Float64Array.from({ length: 256 }, (_, i) => i / 255);

/** Reads an in-memory image row by row, without copying. */
export function imageRows(image: RgbaImage): RgbaRowSource {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`Image size must be positive integers, got ${width}×${height}.`);
  }
  if (data.length !== width * height * 4) {
    throw new RangeError(`Image data holds ${data.length} bytes, expected ${width * height * 4}.`);
  }
  const stride = width * 4;
  return { width, height, row: (y) => data.subarray(y * stride, (y + 1) * stride) };
}

/** The inclusive box of pixels with alpha > 0, or null when every pixel is fully transparent. */
export function findAlphaBox(source: RgbaRowSource): PixelBox | null {
  const { width, height } = source;
  let minX = width;
  let maxX = -1;
  let minY = -1;
  let maxY = -1;
  for (let y = 0; y < height; y++) {
    const row = source.row(y);
    // Scanning in from both ends costs O(1) on opaque rows; only transparent ones are read whole.
    let left = 0;
    while (left < width && row[left * 4 + 3] === 0) left++;
    if (left === width) continue;
    let right = width - 1;
    while (row[right * 4 + 3] === 0) right--;
    if (minY < 0) minY = y;
    maxY = y;
    if (left < minX) minX = left;
    if (right > maxX) maxX = right;
  }
  if (minY < 0) return null;
  return { x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1 };
}

/** The centred square around `box`, padded to round(side / ratio); odd pixels go right/bottom. */
export function frameBox(box: PixelBox, ratio: number = PREPARE_DEFAULTS.ratio): Framing {
  checkRatio(ratio);
  const squareSide = Math.max(box.width, box.height);
  const squareOffset = {
    x: Math.floor((squareSide - box.width) / 2),
    y: Math.floor((squareSide - box.height) / 2),
  };
  const paddedSide = Math.round(squareSide / ratio);
  const paddedOffset = Math.floor((paddedSide - squareSide) / 2);
  return {
    box: { ...box },
    squareSide,
    squareOffset,
    paddedSide,
    paddedOffset,
    frame: {
      x: box.x - squareOffset.x - paddedOffset,
      y: box.y - squareOffset.y - paddedOffset,
      side: paddedSide,
    },
  };
}

/** Frames and resizes an in-memory image into the encoder's CHW input. */
export function prepareImage(
  image: RgbaImage,
  options: Partial<PrepareOptions> = {},
): PreparedImage {
  return prepareImageRows(imageRows(image), options);
}

/**
 * Frames and resizes a row source into the encoder's CHW input, reading each row of the alpha box
 * once after one pass that finds the box.
 */
export function prepareImageRows(
  source: RgbaRowSource,
  options: Partial<PrepareOptions> = {},
): PreparedImage {
  const { ratio, size } = { ...PREPARE_DEFAULTS, ...options };
  checkRatio(ratio);
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`Output size must be a positive integer, got ${size}.`);
  }
  const box = findAlphaBox(source);
  if (!box) {
    throw new AppError(
      'image-unreadable',
      'This image is fully transparent, so there is nothing to model: ' +
        'choose a picture with a visible object.',
    );
  }
  const framing = frameBox(box, ratio);
  const n = framing.paddedSide;
  // Where the box starts inside the padded square, per axis.
  const lowX = framing.paddedOffset + framing.squareOffset.x;
  const lowY = framing.paddedOffset + framing.squareOffset.y;
  const columns = planAxis(n, size, lowX, box.width);
  const rows = planAxis(n, size, lowY, box.height);

  const plane = size * size;
  const acc = new Float64Array(3 * plane);
  // Rows of the padded square outside the box are grey after the horizontal pass, whatever the
  // column: their whole contribution to an output row is GREY × (its weight on them).
  for (let o = 0; o < size; o++) {
    const value = GREY * rows.grey[o]!;
    for (let c = 0; c < 3; c++) acc.fill(value, c * plane + o * size, c * plane + (o + 1) * size);
  }

  const composite = new Float64Array(3 * box.width);
  const horizontal = new Float64Array(3 * size);
  let firstOut = 0;
  for (let yb = 0; yb < box.height; yb++) {
    compositeRow(source.row(box.y + yb), box.x, box.width, composite);
    resampleRow(composite, columns, horizontal);
    // Output rows whose window holds this row form a run: windows only move down as `o` grows.
    while (firstOut < size && rows.end[firstOut]! <= yb) firstOut++;
    for (let o = firstOut; o < size && rows.start[o]! <= yb; o++) {
      const w = rows.weights[o * rows.taps + yb + lowY - rows.first[o]!]!;
      if (w === 0) continue;
      for (let i = 0, r = o * size, g = plane + r, b = 2 * plane + r; i < size; i++) {
        acc[r + i] = acc[r + i]! + w * horizontal[i * 3]!;
        acc[g + i] = acc[g + i]! + w * horizontal[i * 3 + 1]!;
        acc[b + i] = acc[b + i]! + w * horizontal[i * 3 + 2]!;
      }
    }
  }
  return { pixels: Float32Array.from(acc), size, framing };
}

/** Turns CHW floats in [0, 1] into opaque RGBA8 for a preview canvas. */
export function previewRgba(pixels: Float32Array, size: number): RgbaImage {
  const plane = size * size;
  if (pixels.length !== 3 * plane) {
    throw new RangeError(`Expected ${3 * plane} floats for size ${size}, got ${pixels.length}.`);
  }
  const data = new Uint8ClampedArray(4 * plane);
  for (let p = 0; p < plane; p++) {
    // Uint8ClampedArray rounds half to even and clamps, so no Math.round is needed.
    data[p * 4] = pixels[p]! * 255;
    data[p * 4 + 1] = pixels[plane + p]! * 255;
    data[p * 4 + 2] = pixels[2 * plane + p]! * 255;
    data[p * 4 + 3] = 255;
  }
  return { width: size, height: size, data };
}

/** Share of the pixels that must be mostly transparent before the alpha counts as a cut-out. */
export const MEANINGFUL_ALPHA_SHARE = 0.001;

/**
 * True when the image already is a cut-out: at least 0.1 % of its pixels (and at least one) are
 * more transparent than opaque (alpha < 128). Antialiased edges or a faint overall alpha do not
 * count; without a cut-out the background is framed with the object and becomes geometry.
 */
export function hasMeaningfulAlpha(image: RgbaImage): boolean {
  const { data } = image;
  const pixels = data.length >> 2;
  const needed = Math.max(1, Math.ceil(pixels * MEANINGFUL_ALPHA_SHARE));
  let count = 0;
  for (let i = 3; i < data.length; i += 4) {
    if (data[i]! < 128 && ++count >= needed) return true;
  }
  return false;
}

function checkRatio(ratio: number): void {
  if (!(ratio >= 0.5 && ratio <= 1)) {
    throw new RangeError(`Foreground ratio must be between 0.5 and 1, got ${ratio}.`);
  }
}

/** Straight-alpha bytes of `width` pixels from column `x0` → rgb·a + 0.5·(1 − a), interleaved. */
function compositeRow(row: ArrayLike<number>, x0: number, width: number, out: Float64Array): void {
  for (let x = 0; x < width; x++) {
    const p = (x0 + x) * 4;
    const a = UNIT[row[p + 3]!]!;
    const grey = GREY * (1 - a);
    out[x * 3] = UNIT[row[p]!]! * a + grey;
    out[x * 3 + 1] = UNIT[row[p + 1]!]! * a + grey;
    out[x * 3 + 2] = UNIT[row[p + 2]!]! * a + grey;
  }
}

/** One row of the horizontal pass: padding contributes grey, the box its composited pixels. */
function resampleRow(composite: Float64Array, plan: AxisPlan, out: Float64Array): void {
  const size = out.length / 3;
  for (let i = 0; i < size; i++) {
    const grey = GREY * plan.grey[i]!;
    let r = grey;
    let g = grey;
    let b = grey;
    // weights[base + xb] is the weight of box column xb.
    const base = i * plan.taps + plan.low - plan.first[i]!;
    for (let xb = plan.start[i]!, end = plan.end[i]!; xb < end; xb++) {
      const w = plan.weights[base + xb]!;
      r += w * composite[xb * 3]!;
      g += w * composite[xb * 3 + 1]!;
      b += w * composite[xb * 3 + 2]!;
    }
    out[i * 3] = r;
    out[i * 3 + 1] = g;
    out[i * 3 + 2] = b;
  }
}

/** Filter windows of one axis, split into the box part and the grey padding around it. */
interface AxisPlan {
  /** Weights per output slot. */
  taps: number;
  /** Where the box starts on the padded axis. */
  low: number;
  /** First padded-axis index of each output's window. */
  first: Int32Array;
  /** Normalised weights, `taps` per output, of padded-axis indices first, first + 1, ... */
  weights: Float64Array;
  /** The window's part inside the box, [start, end) in box coordinates (empty when end ≤ start). */
  start: Int32Array;
  end: Int32Array;
  /** Total normalised weight on the padding. */
  grey: Float64Array;
}

/** One axis of torch's antialiased bilinear resize: for each output, its source window and weights. */
export interface AntialiasWeights {
  taps: number;
  /** Source indices used by each output: [first, first + count). */
  first: Int32Array;
  count: Int32Array;
  /** Normalised weights, `taps` per output. */
  weights: Float64Array;
}

/**
 * torch's antialiased bilinear weights (aten/src/ATen/native/cpu/UpSampleKernel.cpp,
 * `_compute_indices_weights_aa`, torch ≥ 1.11) for `n` → `size` with align_corners=False: a
 * triangle filter stretched by the downscale factor, windows clamped at the edges and weights
 * normalised per output. Upscaling gets plain bilinear with edge clamping from the same formula;
 * equal sizes give the identity exactly.
 */
export function antialiasWeights(n: number, size: number): AntialiasWeights {
  const scale = n / size;
  const support = scale >= 1 ? scale : 1;
  const invScale = scale >= 1 ? 1 / scale : 1;
  const taps = Math.ceil(2 * support) + 2;
  const out: AntialiasWeights = {
    taps,
    first: new Int32Array(size),
    count: new Int32Array(size),
    weights: new Float64Array(size * taps),
  };
  for (let i = 0; i < size; i++) {
    const centre = scale * (i + 0.5);
    const xmin = Math.max(Math.floor(centre - support + 0.5), 0);
    const xmax = Math.min(Math.floor(centre + support + 0.5), n);
    let total = 0;
    for (let x = xmin; x < xmax; x++) {
      const w = Math.max(0, 1 - Math.abs((x - centre + 0.5) * invScale));
      out.weights[i * taps + x - xmin] = w;
      total += w;
    }
    // torch leaves an all-zero window unnormalised; it cannot happen for these supports.
    const norm = total === 0 ? 1 : 1 / total;
    for (let k = 0; k < xmax - xmin; k++) out.weights[i * taps + k]! *= norm;
    out.first[i] = xmin;
    out.count[i] = xmax - xmin;
  }
  return out;
}

/** The weights of one axis of the padded square, with how much of each window falls on the padding. */
function planAxis(n: number, size: number, low: number, length: number): AxisPlan {
  const { taps, first, count, weights } = antialiasWeights(n, size);
  const plan: AxisPlan = {
    taps,
    low,
    first,
    weights,
    start: new Int32Array(size),
    end: new Int32Array(size),
    grey: new Float64Array(size),
  };
  for (let i = 0; i < size; i++) {
    const xmin = first[i]!;
    const xmax = xmin + count[i]!;
    let grey = 0;
    for (let x = xmin; x < xmax; x++) {
      if (x < low || x >= low + length) grey += weights[i * taps + x - xmin]!;
    }
    plan.start[i] = Math.max(xmin, low) - low;
    plan.end[i] = Math.min(xmax, low + length) - low;
    plan.grey[i] = grey;
  }
  return plan;
}
