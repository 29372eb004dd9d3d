import type { CoarseLattice } from './coarse-to-fine';
import { DECODER_FEATURES, latticeCoord, TRIPLANE_CHANNELS, TRIPLANE_RADIUS, TRIPLANE_SIZE, type Bounds } from './constants';
import type { DecoderWeights } from './decoder-weights';
import { latticePoints } from './reference/density-walk-cpu';
import { PLANE_AXES, sampleTriplane } from './reference/triplane-decoder-cpu';
import { rawInterval, type RawScale, type WalkBound } from './walk-bound';

/** Options of the triplane decoder's walk bound. */
export interface TriplaneBoundOptions {
  /**
   * Factor on the largest gradient measured at the probes. 2 covers the measured/true ratio seen on
   * the deep fixtures (scripts/bench-criterion.ts prints it); where the certified gradient is smaller,
   * that one is used and the bound is a proof.
   */
  safety: number;
  /** Probes: coarse samples nearest the threshold on the raw scale (plus as many spread evenly). */
  probes: number;
  /**
   * The certified bound is used whenever it refines at most this fraction of the blocks; beyond, the
   * measured one. (Taking min(certified, safety·measured) per channel would let a channel that no
   * probe sees, which is what a thin part between coarse samples is, get a zero bound.)
   */
  certifiedBudget: number;
}

export const TRIPLANE_BOUND_DEFAULTS: TriplaneBoundOptions = { safety: 2, probes: 1024, certifiedBudget: 0.25 };

/**
 * Raw units added to every block's slack: the GPU decodes in float32, so the values the walk compares
 * (coarse corners) and those the dense walk would store differ from the exact raw the bound speaks
 * about; measured GPU-vs-float64 differences are ~1e-5, the decoder test allows 1e-3.
 */
const DECODER_RAW_ERROR = 1e-2;

/** max |SiLU'(z)| = max |σ(z)(1 + z(1 − σ(z)))|, reached at z ≈ 2.3994 (≈ 1.09984), rounded up. */
const SILU_SLOPE = 1.0999;

/** The raw scale of a decoder's density: raw = o[0] + densityBias, value = clamp(act(raw), clip). */
export function decoderRawScale(weights: DecoderWeights): RawScale {
  return { activation: weights.densityActivation ?? 'exp', clip: weights.densityClip };
}

/**
 * A bound on |∂raw/∂f_i| valid for every feature vector: |w_density| · D · |W_L| · … · D · |W_1|
 * (absolute values entrywise, D = max |σ'|), since every path's product of weights and activation
 * slopes is bounded by the product of their absolute values.
 */
export function certifiedGradient(weights: DecoderWeights): Float64Array {
  const d = weights.hidden === 'relu' ? 1 : SILU_SLOPE;
  const last = weights.layers.at(-1)!;
  let row: Float64Array = Float64Array.from(last.weight.subarray(0, last.inFeatures), Math.abs);
  for (let k = weights.layers.length - 2; k >= 0; k--) {
    const layer = weights.layers[k]!;
    const next = new Float64Array(layer.inFeatures);
    for (let o = 0; o < layer.outFeatures; o++) {
      const r = row[o]! * d;
      if (!r) continue;
      for (let i = 0; i < layer.inFeatures; i++) next[i] = next[i]! + r * Math.abs(layer.weight[o * layer.inFeatures + i]!);
    }
    row = next;
  }
  return row;
}

/** raw = o[0] + densityBias and its exact gradient ∂raw/∂f at one feature vector (backpropagation). */
export function rawGradient(weights: DecoderWeights, features: ArrayLike<number>): { raw: number; gradient: Float64Array } {
  const relu = weights.hidden === 'relu';
  const n = weights.layers.length;
  const slopes: Float64Array[] = [];
  let h: ArrayLike<number> = features;
  let raw = 0;
  weights.layers.forEach((layer, k) => {
    const out = new Float64Array(layer.outFeatures);
    const slope = new Float64Array(layer.outFeatures);
    for (let o = 0; o < layer.outFeatures; o++) {
      let z = layer.bias[o]!;
      const row = o * layer.inFeatures;
      for (let i = 0; i < layer.inFeatures; i++) z += layer.weight[row + i]! * h[i]!;
      if (k === n - 1) {
        out[o] = z;
      } else if (relu) {
        out[o] = Math.max(z, 0);
        slope[o] = z > 0 ? 1 : 0;
      } else {
        const s = 1 / (1 + Math.exp(-z));
        out[o] = z * s;
        slope[o] = s * (1 + z * (1 - s));
      }
    }
    slopes.push(slope);
    h = out;
    if (k === n - 1) raw = out[0]! + weights.densityBias;
  });
  const last = weights.layers[n - 1]!;
  let grad: Float64Array = Float64Array.from(last.weight.subarray(0, last.inFeatures));
  for (let k = n - 2; k >= 0; k--) {
    const layer = weights.layers[k]!;
    const next = new Float64Array(layer.inFeatures);
    for (let o = 0; o < layer.outFeatures; o++) {
      const g = grad[o]! * slopes[k]![o]!;
      if (!g) continue;
      for (let i = 0; i < layer.inFeatures; i++) next[i] = next[i]! + g * layer.weight[o * layer.inFeatures + i]!;
    }
    grad = next;
  }
  return { raw, gradient: grad };
}

/**
 * The largest |∂raw/∂f_i| over probe points: the coarse samples nearest the threshold on the raw
 * scale (where the surface is, so where gradients matter), plus as many strided over the whole lattice.
 */
export function measuredGradient(
  triplane: Float32Array,
  weights: DecoderWeights,
  points: Float32Array,
  rawOf: (i: number) => number,
  isoRaw: number,
  probes: number,
): Float64Array {
  const n = points.length / 3;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => Math.abs(rawOf(a) - isoRaw) - Math.abs(rawOf(b) - isoRaw));
  const chosen = new Set(order.slice(0, probes));
  const stride = Math.max(1, Math.floor(n / probes));
  for (let i = 0; i < n; i += stride) chosen.add(i);
  const out = new Float64Array(DECODER_FEATURES);
  const features = new Float32Array(DECODER_FEATURES);
  for (const i of chosen) {
    sampleTriplane(triplane, points.subarray(3 * i, 3 * i + 3), features);
    const { gradient } = rawGradient(weights, features);
    gradient.forEach((g, f) => (out[f] = Math.max(out[f]!, Math.abs(g))));
  }
  return out;
}

/**
 * Per plane, the texel columns (or rows) bilinear sampling can touch for any point of each block
 * along one world axis: [first, last] with out-of-range taps allowed (they read zero). Widened by a
 * thousandth of a texel so float32 rounding of the GPU's texel coordinate cannot reach past it.
 */
function texelRanges(lattice: CoarseLattice, bounds: Bounds, axis: number): Int32Array {
  const S = TRIPLANE_SIZE;
  const t = (w: number): number => ((w / TRIPLANE_RADIUS + 1) * S - 1) / 2;
  const blocks = lattice.blocks[axis]!;
  const out = new Int32Array(2 * blocks);
  for (let b = 0; b < blocks; b++) {
    const lo = latticeCoord(bounds[0][axis]!, bounds[1][axis]!, lattice.dims[axis]!, lattice.fineIndex(axis, b));
    const hi = latticeCoord(bounds[0][axis]!, bounds[1][axis]!, lattice.dims[axis]!, lattice.fineIndex(axis, b + 1));
    out[2 * b] = Math.floor(t(Math.min(lo, hi)) - 1e-3);
    out[2 * b + 1] = Math.floor(t(Math.max(lo, hi)) + 1e-3) + 1;
  }
  return out;
}

/**
 * For one plane: Σ_c g_c · (max − min of channel c over the texels a block's rectangle touches, zero
 * for taps outside the plane), on the 2-D grid of block rectangles (column-axis blocks × row-axis blocks).
 */
function planeTerms(triplane: Float32Array, gradient: Float64Array, plane: number, cols: Int32Array, rows: Int32Array): Float64Array {
  const S = TRIPLANE_SIZE;
  const nc = cols.length / 2;
  const nr = rows.length / 2;
  const out = new Float64Array(nc * nr);
  for (let c = 0; c < TRIPLANE_CHANNELS; c++) {
    const g = gradient[plane * TRIPLANE_CHANNELS + c]!;
    if (!g) continue;
    const base = (plane * TRIPLANE_CHANNELS + c) * S * S;
    for (let a = 0; a < nc; a++) {
      for (let b = 0; b < nr; b++) {
        let lo = Infinity;
        let hi = -Infinity;
        for (let y = rows[2 * b]!; y <= rows[2 * b + 1]!; y++) {
          for (let x = cols[2 * a]!; x <= cols[2 * a + 1]!; x++) {
            const v = x >= 0 && x < S && y >= 0 && y < S ? triplane[base + y * S + x]! : 0;
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
          }
        }
        out[a * nr + b] = out[a * nr + b]! + g * (hi - lo);
      }
    }
  }
  return out;
}

/** Per block: the sum of its three plane terms, rounded up, plus the decoder's float32 error at both ends. */
function blockSlack(triplane: Float32Array, gradient: Float64Array, lattice: CoarseLattice, ranges: Int32Array[]): Float32Array {
  const terms = PLANE_AXES.map(([ca, ra], plane) => planeTerms(triplane, gradient, plane, ranges[ca]!, ranges[ra]!));
  const [bx, by, bz] = lattice.blocks;
  const slack = new Float32Array(bx * by * bz);
  for (let i = 0; i < bx; i++) {
    for (let j = 0; j < by; j++) {
      // Plane 0 is (x, y), 1 is (x, z), 2 is (y, z).
      for (let l = 0; l < bz; l++) slack[(i * by + j) * bz + l] = (terms[0]![i * by + j]! + terms[1]![i * bz + l]! + terms[2]![j * bz + l]!) * (1 + 1e-6) + 2 * DECODER_RAW_ERROR;
    }
  }
  return slack;
}

/**
 * The walk bound of the triplane decoder. Sampling is bilinear, so over a block's box each feature f_i
 * stays within [min, max] of the texels the box touches on its plane (Δf_i wide); by the mean value
 * theorem in feature space, |raw(p) − raw(q)| ≤ Σ_i g_i·Δf_i for any two points of the box, where g_i
 * bounds |∂raw/∂f_i|. The certified gradient holds everywhere and is tight for shallow MLPs: it is
 * used whenever its plan refines at most `certifiedBudget` of the blocks (kind 'certified', a proof).
 * Otherwise (deep MLPs such as TripoSR's) g_i = min(certified_i, safety · measured_i), measured at
 * probes near the surface: an estimate, reported as 'measured', which can miss a part whose channels no
 * probe exercises. Per plane the sum over its channels
 * depends only on the block's rectangle there, so it is tabulated on the 2-D block grid and a block's
 * slack is the sum of its three plane terms.
 *
 * @example
 * const mesh = meshTriplaneCpu(triplane, weights, { resolution: 128, threshold: 25, mode: 'coarse-to-fine' });
 * // builds coarseToFine.bound = triplaneWalkBound(triplane, weights) itself
 */
export function triplaneWalkBound(triplane: Float32Array, weights: DecoderWeights, options: Partial<TriplaneBoundOptions> = {}): WalkBound {
  const opts = { ...TRIPLANE_BOUND_DEFAULTS, ...options };
  const scale = decoderRawScale(weights);
  const certified = certifiedGradient(weights);
  return {
    scale,
    slack(lattice, bounds, coarseValues, iso) {
      const ranges = [0, 1, 2].map((axis) => texelRanges(lattice, bounds, axis));
      const certifiedSlack = blockSlack(triplane, certified, lattice, ranges);
      const flags = lattice.refineFlags(coarseValues, iso, scale, certifiedSlack);
      if (flags.reduce((n, f) => n + f, 0) <= opts.certifiedBudget * flags.length) return { slack: certifiedSlack, kind: 'certified' };
      // Probes sit at the coarse samples; their raw from the stored values (midpoint of the interval,
      // the finite end when it is half-open) only ranks them by closeness to the surface.
      const points = latticePoints(lattice.dims, bounds, lattice.coarsePointIndices());
      const [isoLo, isoHi] = rawInterval(scale, iso);
      const rawOf = (i: number): number => {
        const [lo, hi] = rawInterval(scale, coarseValues[i]!);
        return Number.isFinite(lo) && Number.isFinite(hi) ? (lo + hi) / 2 : Number.isFinite(lo) ? lo : hi;
      };
      const measured = measuredGradient(triplane, weights, points, rawOf, (isoLo + isoHi) / 2, opts.probes);
      const gradient = measured.map((m, f) => Math.min(certified[f]!, opts.safety * m));
      const slack = blockSlack(triplane, gradient, lattice, ranges);
      const certifiedEverywhere = gradient.every((g, f) => g === certified[f]);
      return { slack, kind: certifiedEverywhere ? 'certified' : 'measured' };
    },
  };
}
