import { DEFAULT_BOUNDS, TRIPLANE_CHANNELS, TRIPLANE_RADIUS, TRIPLANE_SIZE } from '../../src/gpu/constants';
import type { DecoderWeights, DenseLayer } from '../../src/gpu/decoder-weights';
import type { CpuEvaluator } from '../../src/gpu/reference/density-walk-cpu';
import { runMlp, sampleTriplane } from '../../src/gpu/reference/triplane-decoder-cpu';
import { TRIPLANE_FLOATS } from '../../src/gpu/triplane-decoder';
import { blobDecoder, smoothTriplane } from './synthetic-decoder';

/**
 * Thin-feature fixtures for the coarse-to-fine walk: parts thinner than a block lying between the
 * coarse lattice's lines, where a criterion that only looks at coarse samples loses them.
 */

/** TripoSR-like field value = 25·exp(60·s), s = signed distance, positive inside: raw = ln 25 + 60·s. */
export const THIN_THRESHOLD = 25;
export const THIN_SHARPNESS = 60;
/** The declared slope of the raw value: 60·|∇s| with |∇s| ≤ 1 (a max of signed distances). */
export const THIN_SLOPE = THIN_SHARPNESS;
export const ROD_RADIUS = 0.012;
export const PLATE_HALF_THICKNESS = 0.01;
export const SHELL_HALF_THICKNESS = 0.01;

/** A coordinate midway between two coarse lattice lines near v, for resolution r and block size k. */
export function betweenCoarseLines(v: number, r: number, k = 4): number {
  const lo = DEFAULT_BOUNDS[0][0];
  const block = ((DEFAULT_BOUNDS[1][0] - lo) / (r - 1)) * k;
  return lo + (Math.round((v - lo) / block - 0.5) + 0.5) * block;
}

/** The geometry of the analytic thin fixture at resolution r: every number the CPU and WGSL twins use. */
export function thinParts(r: number, k = 4) {
  const m = (v: number): number => betweenCoarseLines(v, r, k);
  return {
    body: { centre: [0, 0, 0], radius: 0.25 },
    /** Capsules [a, b, radius]: along x; along the xy diagonal; along (1, −1, 1). */
    rods: [
      { a: [-0.7, m(0.5), m(0.5)], b: [0.7, m(0.5), m(0.5)] },
      { a: [-0.6, -0.6, m(-0.5)], b: [0.6, 0.6, m(-0.5)] },
      { a: [0.2, 0.6, -0.25], b: [0.6, 0.2, 0.15] },
    ],
    /** A disc of radius 0.22 with a skew normal. */
    plate: { centre: [0.45, -0.45, 0.3], normal: normalize([0.3, 0.5, 0.81]), radius: 0.22 },
    /** A thin spherical shell. */
    shell: { centre: [-0.45, -0.45, 0.45], radius: 0.2 },
  };
}

function normalize(v: number[]): number[] {
  const l = Math.hypot(...v);
  return v.map((x) => x / l);
}

/** Signed distance (positive inside) of the thin fixture at p, in float64. */
export function thinDistance(parts: ReturnType<typeof thinParts>, p: ArrayLike<number>): number {
  const d3 = (a: ArrayLike<number>, b: ArrayLike<number>): number => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);
  let s = parts.body.radius - d3(p, parts.body.centre);
  for (const { a, b } of parts.rods) {
    const ab = [b[0]! - a[0]!, b[1]! - a[1]!, b[2]! - a[2]!];
    const ap = [p[0]! - a[0]!, p[1]! - a[1]!, p[2]! - a[2]!];
    const t = Math.min(1, Math.max(0, (ap[0]! * ab[0]! + ap[1]! * ab[1]! + ap[2]! * ab[2]!) / (ab[0]! ** 2 + ab[1]! ** 2 + ab[2]! ** 2)));
    s = Math.max(s, ROD_RADIUS - d3(p, [a[0]! + t * ab[0]!, a[1]! + t * ab[1]!, a[2]! + t * ab[2]!]));
  }
  const { centre: c, normal: n, radius } = parts.plate;
  const q = [p[0]! - c[0]!, p[1]! - c[1]!, p[2]! - c[2]!];
  const h = q[0]! * n[0]! + q[1]! * n[1]! + q[2]! * n[2]!;
  const inPlane = Math.sqrt(Math.max(0, q[0]! ** 2 + q[1]! ** 2 + q[2]! ** 2 - h * h));
  s = Math.max(s, Math.min(PLATE_HALF_THICKNESS - Math.abs(h), radius - inPlane));
  s = Math.max(s, SHELL_HALF_THICKNESS - Math.abs(d3(p, parts.shell.centre) - parts.shell.radius));
  return s;
}

/** The analytic thin fixture as a CPU evaluator: 25·exp(60·s(p)). */
export function thinEvaluator(r: number, k = 4): CpuEvaluator {
  const parts = thinParts(r, k);
  return (points) => {
    const out = new Float32Array(points.length / 3);
    for (let i = 0; i < out.length; i++) out[i] = THIN_THRESHOLD * Math.exp(THIN_SHARPNESS * thinDistance(parts, points.subarray(3 * i, 3 * i + 3)));
    return out;
  };
}

/** The analytic thin fixture's WGSL twin: `fn field(p)` for analyticEvaluator (float32). */
export function thinFieldWgsl(r: number, k = 4): string {
  const parts = thinParts(r, k);
  const v = (a: ArrayLike<number>): string => `vec3<f32>(${Array.from(a, (x) => x.toFixed(9)).join(', ')})`;
  const rods = parts.rods
    .map(({ a, b }) => `  s = max(s, ${ROD_RADIUS} - capsule(p, ${v(a)}, ${v(b)}));`)
    .join('\n');
  return `
fn capsule(p: vec3<f32>, a: vec3<f32>, b: vec3<f32>) -> f32 {
  let ab = b - a;
  let t = clamp(dot(p - a, ab) / dot(ab, ab), 0.0, 1.0);
  return length(p - (a + t * ab));
}
fn field(p: vec3<f32>) -> f32 {
  var s = ${parts.body.radius} - length(p - ${v(parts.body.centre)});
${rods}
  let q = p - ${v(parts.plate.centre)};
  let h = dot(q, ${v(parts.plate.normal)});
  s = max(s, min(${PLATE_HALF_THICKNESS} - abs(h), ${parts.plate.radius} - sqrt(max(0.0, dot(q, q) - h * h))));
  s = max(s, ${SHELL_HALF_THICKNESS} - abs(length(p - ${v(parts.shell.centre)}) - ${parts.shell.radius}));
  return ${THIN_THRESHOLD}.0 * exp(${THIN_SHARPNESS}.0 * s);
}`;
}

/** The texel i such that the midpoint between texels i and i + 1 is nearest world coordinate w. */
function ridgeTexel(w: number): number {
  return Math.round(((w / TRIPLANE_RADIUS + 1) * TRIPLANE_SIZE - 1) / 2 - 0.5);
}

/**
 * A triplane for the shallow thin decoder at resolution r: channels 0 and 1 of each plane hold 1 − u²
 * and 1 − v² (as smoothTriplane); thin marks two texels wide, centred between coarse lattice lines:
 * channel 2 of plane xy a 2×2 dot at (x, y) ≈ (0.5, −0.5) (a rod along z), channel 2 of plane yz a
 * dot at (y, z) ≈ (0.5, 0.5) (a rod along x), channel 3 of plane xz the diagonal x = z (a plate at 45°
 * that holds the y axis).
 */
export function thinTriplane(r: number): Float32Array {
  const S = TRIPLANE_SIZE;
  const out = new Float32Array(TRIPLANE_FLOATS);
  const set = (plane: number, c: number, row: number, col: number, v: number): void => {
    if (row >= 0 && row < S && col >= 0 && col < S) out[((plane * TRIPLANE_CHANNELS + c) * S + row) * S + col] = v;
  };
  for (let plane = 0; plane < 3; plane++) {
    for (let row = 0; row < S; row++) {
      for (let col = 0; col < S; col++) {
        const u = (2 * col + 1) / S - 1;
        const v = (2 * row + 1) / S - 1;
        set(plane, 0, row, col, 1 - u * u);
        set(plane, 1, row, col, 1 - v * v);
      }
    }
  }
  const t = (w: number): number => ridgeTexel(betweenCoarseLines(w, r));
  for (const d of [0, 1]) {
    for (const e of [0, 1]) {
      set(0, 2, t(-0.5) + d, t(0.5) + e, 1); // plane xy: column x, row y
      set(2, 2, t(0.5) + d, t(0.5) + e, 1); // plane yz: column y, row z
    }
  }
  for (let i = 0; i < S; i++) {
    set(1, 3, i, i, 1);
    set(1, 3, i, i + 1, 1);
  }
  return out;
}

function dense(inF: number, outF: number): DenseLayer {
  return { inFeatures: inF, outFeatures: outF, weight: new Float32Array(inF * outF), bias: new Float32Array(outF) };
}

/**
 * A shallow decoder 120 → 64 (ReLU) → 4 on thinTriplane, density exp(raw), threshold 25: raw is a
 * body term linear in (1 − x²) + (1 − y²) + (1 − z²) (a sphere of radius 0.3, falling off outside)
 * plus 30 × each thin mark (two rods and a plate, tapering where the body term falls). Every hidden
 * unit stays active (slope 1) and all weights are positive, so the certified gradient is exact.
 */
export function thinDecoder(): DecoderWeights {
  const first = dense(120, 64);
  const last = dense(64, 4);
  const f = (plane: number, c: number): number => plane * TRIPLANE_CHANNELS + c;
  const iso = Math.log(THIN_THRESHOLD);
  // Body: S = (1 − x²) + (1 − y²) + (1 − z²) in texel-centre units, S(r) = 3 − (r/0.87)², kept ≥ 0 by +1.
  const S = (radius: number): number => 3 - (radius / TRIPLANE_RADIUS) ** 2;
  for (const i of [f(0, 0), f(0, 1), f(2, 1)]) first.weight[i] = 1;
  first.bias[0] = 1;
  last.weight[0] = 30;
  last.bias[0] = iso - 30 * (S(0.3) + 1) - 0.9; // the three marks' 30 × 0.01
  // Marks: one unit each.
  [f(0, 2), f(2, 2), f(1, 3)].forEach((i, u) => {
    first.weight[(u + 1) * 120 + i] = 1;
    first.bias[u + 1] = 0.01; // active (slope 1) even where the mark is zero
    last.weight[u + 1] = 30;
  });
  // Colour: something smooth.
  for (let o = 1; o < 4; o++) last.weight[o * 64] = 0.3 * o;
  return { layers: [first, last], densityBias: 0, graphApplies: { densityExp: false, colourSigmoid: false }, hidden: 'relu', densityActivation: 'exp' };
}

/**
 * A deep decoder (120 → 64 ×9 → 4, SiLU, blobDecoder) on smoothTriplane with a thin part added to its
 * insideness unit: ridges in channel 3 of planes xy and xz (y ≈ 0.55, z ≈ 0.55: where both meet, a rod
 * along x) feed unit 0 like the body channels, so the measured bound sees the ridges' channels through
 * the same path at the body's surface. The certified gradient is ~1.1⁹ times the measured one: 'measured'.
 */
export function deepThinFixture(seed = 7): { triplane: Float32Array; weights: DecoderWeights } {
  const triplane = smoothTriplane(seed, 0.05);
  const S = TRIPLANE_SIZE;
  const [ry, rz] = [ridgeTexel(0.55), ridgeTexel(0.55)];
  for (const [plane, row] of [[0, ry], [1, rz]] as const) {
    for (let c = 0; c < S * S; c++) triplane[(plane * TRIPLANE_CHANNELS + 3) * S * S + c] = 0;
    for (let i = 0; i < S; i++) for (const d of [0, 1]) triplane[((plane * TRIPLANE_CHANNELS + 3) * S + row + d) * S + i] = 1;
  }
  const weights = blobDecoder(seed + 1, triplane, 0.45, THIN_THRESHOLD, 0.2);
  // The rod's two ridges add to the insideness unit; together they outweigh the body's fall-off.
  const first = weights.layers[0]!;
  first.weight[3] = 1;
  first.weight[TRIPLANE_CHANNELS + 3] = 1;
  first.weight.fill(0, 4, TRIPLANE_CHANNELS);
  // Keep the insideness unit in SiLU's near-linear range everywhere, so raw keeps falling away from
  // the body (as TripoSR's does) instead of flattening where the unit would saturate at zero.
  first.bias[0] = first.bias[0]! + 6;
  // Recalibrate: the surface through (0.45, 0, 0) again.
  const o = runMlp(weights, sampleTriplane(triplane, [0.45, 0, 0]));
  const last = weights.layers.at(-1)!;
  last.bias[0] = last.bias[0]! + Math.log(THIN_THRESHOLD) - (o[0]! + weights.densityBias);
  return { triplane, weights };
}
