import {
  DECODER_FEATURES,
  MAX_DENSITY_LOGIT,
  TRIPLANE_CHANNELS,
  TRIPLANE_RADIUS,
  TRIPLANE_SIZE,
} from '../constants';
import type { DecoderWeights } from '../decoder-weights';

/** Which world axes give each plane's (column, row): xy, xz, yz. */
export const PLANE_AXES: readonly (readonly [number, number])[] = [
  [0, 1],
  [0, 2],
  [1, 2],
];

/**
 * The 120 triplane features at world point p: per plane, grid_sample(bilinear, align_corners=False,
 * padding zeros) at q = p / radius; features [40·plane + channel].
 */
export function sampleTriplane(triplane: Float32Array, p: ArrayLike<number>, out = new Float32Array(DECODER_FEATURES)): Float32Array {
  const S = TRIPLANE_SIZE;
  for (let plane = 0; plane < 3; plane++) {
    const [ca, ra] = PLANE_AXES[plane]!;
    // Continuous texel coordinates: texel i has its centre at u = (2i + 1) / S − 1.
    const tx = ((p[ca]! / TRIPLANE_RADIUS + 1) * S - 1) / 2;
    const ty = ((p[ra]! / TRIPLANE_RADIUS + 1) * S - 1) / 2;
    const x0 = Math.floor(tx);
    const y0 = Math.floor(ty);
    const fx = tx - x0;
    const fy = ty - y0;
    const taps: [number, number, number][] = [
      [x0, y0, (1 - fx) * (1 - fy)],
      [x0 + 1, y0, fx * (1 - fy)],
      [x0, y0 + 1, (1 - fx) * fy],
      [x0 + 1, y0 + 1, fx * fy],
    ];
    for (let c = 0; c < TRIPLANE_CHANNELS; c++) {
      const base = (plane * TRIPLANE_CHANNELS + c) * S * S;
      let v = 0;
      for (const [x, y, w] of taps) {
        if (x >= 0 && x < S && y >= 0 && y < S) v += w * triplane[base + y * S + x]!;
      }
      out[plane * TRIPLANE_CHANNELS + c] = v;
    }
  }
  return out;
}

/** The MLP's four raw outputs for one feature vector (the hidden activation after every layer but the last). */
export function runMlp(weights: DecoderWeights, features: ArrayLike<number>): Float64Array {
  const relu = weights.hidden === 'relu';
  let h: ArrayLike<number> = features;
  weights.layers.forEach((layer, k) => {
    const out = new Float64Array(layer.outFeatures);
    for (let o = 0; o < layer.outFeatures; o++) {
      let acc = layer.bias[o]!;
      const row = o * layer.inFeatures;
      for (let i = 0; i < layer.inFeatures; i++) acc += layer.weight[row + i]! * h[i]!;
      out[o] = k === weights.layers.length - 1 ? acc : relu ? Math.max(acc, 0) : acc / (1 + Math.exp(-acc));
    }
    h = out;
  });
  return h as Float64Array;
}

/** The density the mesher thresholds: clamp(act(o[0] + densityBias), densityClip), exp kept below float32 overflow. */
export function densityFromRaw(weights: DecoderWeights, o0: number): number {
  const x = o0 + weights.densityBias;
  const act = weights.densityActivation ?? 'exp';
  const d =
    act === 'exp'
      ? Math.exp(Math.min(x, MAX_DENSITY_LOGIT))
      : act === 'relu'
        ? Math.max(x, 0)
        : x > 30
          ? x
          : Math.log1p(Math.exp(x));
  const [lo, hi] = weights.densityClip ?? [-Infinity, Infinity];
  return Math.min(Math.max(d, lo), hi);
}

/** sRGB colour 0..1 from raw outputs o[1..3]: clamp(sigmoid(o), colourClip), written to out[offset..+2]. */
export function colourFromRaw(weights: DecoderWeights, o: ArrayLike<number>, out: Float32Array | number[], offset = 0): void {
  const [lo, hi] = weights.colourClip ?? [-Infinity, Infinity];
  for (let k = 0; k < 3; k++) out[offset + k] = Math.min(Math.max(1 / (1 + Math.exp(-o[k + 1]!)), lo), hi);
}

/** Decodes world points (xyz triples): density per point and sRGB colour (3 per point). */
export function decodePointsCpu(
  triplane: Float32Array,
  weights: DecoderWeights,
  points: Float32Array,
  want: { density?: boolean; colour?: boolean } = { density: true, colour: true },
): { density: Float32Array; colour: Float32Array } {
  const n = points.length / 3;
  const density = new Float32Array(want.density ? n : 0);
  const colour = new Float32Array(want.colour ? 3 * n : 0);
  const features = new Float32Array(DECODER_FEATURES);
  for (let i = 0; i < n; i++) {
    sampleTriplane(triplane, points.subarray(3 * i, 3 * i + 3), features);
    const o = runMlp(weights, features);
    if (want.density) density[i] = densityFromRaw(weights, o[0]!);
    if (want.colour) colourFromRaw(weights, o, colour, 3 * i);
  }
  return { density, colour };
}
