/**
 * The fixed encoder input (a formula both the torch exporter and the tests implement, so no image file
 * is committed) and the ways a triplane is compared with its golden.
 */

/** The input formulas the exporter may choose; the golden's JSON names the one it used. */
export type FormulaName = 'hash' | 'sincos';

/** What a golden's JSON says about its `.bin` (float32 little-endian). */
export interface GoldenMeta {
  shape: number[];
  formulaId: FormulaName;
}

/**
 * The formula image, CHW f32[3·512·512] in 0..1:
 * 'hash': ((x·7 + y·13 + c·101 + ((x·y) >> 6)) mod 256) / 255;
 * 'sincos': (128 + round(100·sin(x/37 + 2c)·cos(y/53 − c))) / 255.
 */
export function formulaImage(formula: FormulaName, size = 512): Float32Array {
  const out = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const v =
          formula === 'hash'
            ? (x * 7 + y * 13 + c * 101 + (Math.floor(x * y) >> 6)) % 256
            : 128 + Math.round(100 * Math.sin(x / 37 + 2 * c) * Math.cos(y / 53 - c));
        out[(c * size + y) * size + x] = v / 255;
      }
    }
  }
  return out;
}

/** How far a triplane is from its golden. */
export interface TriplaneError {
  /** Largest |a − e|. */
  maxAbs: number;
  /** max |a − e| divided by the golden's largest |e|. */
  relMax: number;
  /** RMS(a − e) / RMS(e). */
  relRms: number;
  cosine: number;
}

/** Compares `actual` with `expected` element by element (float64 sums). */
export function triplaneError(actual: ArrayLike<number>, expected: ArrayLike<number>): TriplaneError {
  if (actual.length !== expected.length) throw new Error(`Length ${actual.length} ≠ ${expected.length}.`);
  let maxAbs = 0;
  let peak = 0;
  let diff2 = 0;
  let a2 = 0;
  let e2 = 0;
  let dot = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!Number.isFinite(a)) return { maxAbs: Infinity, relMax: Infinity, relRms: Infinity, cosine: NaN };
    const d = a - e;
    maxAbs = Math.max(maxAbs, Math.abs(d));
    peak = Math.max(peak, Math.abs(e));
    diff2 += d * d;
    a2 += a * a;
    e2 += e * e;
    dot += a * e;
  }
  return { maxAbs, relMax: maxAbs / peak, relRms: Math.sqrt(diff2 / e2), cosine: dot / Math.sqrt(a2 * e2) };
}
