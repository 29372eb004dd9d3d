import type { CoarseLattice } from './coarse-to-fine';
import { latticeCoord, MAX_DENSITY_LOGIT, type Bounds } from './constants';
import type { DensityActivation } from './decoder-tail';

/**
 * How the walk knows that a block cannot hold the surface: 'declared' (an analytic field's slope),
 * 'certified' (a rigorous bound through the MLP's weights) or 'measured' (gradients measured near the
 * surface, times a safety factor: not a proof).
 */
export type WalkBoundKind = 'declared' | 'certified' | 'measured';

/** How a stored value relates to the raw value the bound speaks about: value = clamp(act(raw), clip). */
export interface RawScale {
  activation: 'identity' | DensityActivation;
  clip?: [number, number];
}

/**
 * What the coarse-to-fine walk needs to skip a block safely. For every block and every point p of
 * its closed box, `slack[block]` ≥ |raw(p) − raw(c)| for some corner c of the block whose raw is at
 * least as far from iso as the corners' extreme (see CoarseLattice.plan for how it is used).
 */
export interface WalkBound {
  readonly scale: RawScale;
  /**
   * Per-block raw slack (block ids x-major) for the lattice over `bounds`, given the coarse samples'
   * stored values and the threshold on the stored scale.
   */
  slack(lattice: CoarseLattice, bounds: Bounds, coarseValues: Float32Array, iso: number): { slack: Float32Array; kind: WalkBoundKind };
}

/**
 * Relative margin on stored values before inverting the activation. It covers float32 rounding of the
 * activation on the GPU (WGSL's exp may be off by 3 + 2|x| ulp: ~1e-5 at x = 80) and of the fill's
 * trilinear weights (a few ulp), so a block called "all outside" has every stored and every
 * interpolated value strictly on one side of the threshold.
 */
const VALUE_MARGIN = 1e-4;
/** Extra raw margin per unit of |raw|, for rounding of log/expm1 here and of the field's own arithmetic. */
const RAW_MARGIN = 1e-5;
/** Below the smallest normal float32 the GPU may flush to zero, and log of a denormal is imprecise. */
const SMALLEST_NORMAL = 1.1754944e-38;

function inverse(activation: RawScale['activation'], v: number): number {
  switch (activation) {
    case 'identity':
    case 'relu':
      return v;
    case 'exp':
      return Math.log(v);
    case 'softplus':
      return v > 30 ? v : Math.log(Math.expm1(v));
  }
}

/**
 * The raw interval [lo, hi] a stored value implies, widened by the rounding margins: every raw value
 * whose stored value could round to `value` lies inside. Clamped values and a relu's or exp's floor
 * give half-open intervals (an infinite end).
 */
export function rawInterval(scale: RawScale, value: number): [number, number] {
  const act = scale.activation;
  const [clipLo, clipHi] = scale.clip ?? [-Infinity, Infinity];
  const pad = (raw: number): number => RAW_MARGIN * (1 + Math.abs(raw));
  const down = (raw: number): number => raw - pad(raw);
  const up = (raw: number): number => raw + pad(raw);
  const slack = VALUE_MARGIN * Math.abs(value) + (act === 'identity' ? 1e-30 : 0);
  let vLo = value - slack;
  let vHi = value + slack;
  // A value at (or beyond) a clamp says only which side of the clamp the activation was.
  let openLo = false;
  let openHi = false;
  if (vLo <= clipLo) {
    openLo = true;
    vLo = clipLo;
  }
  if (vHi >= clipHi) {
    openHi = true;
    vHi = clipHi;
  }
  if (act === 'identity') return [openLo ? -Infinity : vLo, openHi ? Infinity : vHi];
  // Positive activations: near zero the value carries no usable raw information.
  const floor = act === 'relu' ? 0 : SMALLEST_NORMAL;
  const rawHiTop = act === 'exp' ? MAX_DENSITY_LOGIT : Infinity;
  const lo = openLo || vLo <= floor ? -Infinity : down(inverse(act, vLo));
  let hi: number;
  if (openHi) hi = Infinity;
  else if (vHi <= floor) hi = act === 'relu' ? up(0) : up(inverse(act, SMALLEST_NORMAL));
  else hi = up(inverse(act, vHi));
  // exp is clamped at MAX_DENSITY_LOGIT before it is taken: a value at that clamp is open above.
  if (act === 'exp' && vHi >= Math.exp(rawHiTop) * (1 - VALUE_MARGIN)) hi = Infinity;
  return [lo, hi];
}

/** Half of each block's world diagonal: every point of a box lies that close to one of its corners. */
export function halfDiagonals(lattice: CoarseLattice, bounds: Bounds): Float32Array {
  const [bx, by, bz] = lattice.blocks;
  const side = (axis: number, b: number): number => {
    const lo = latticeCoord(bounds[0][axis]!, bounds[1][axis]!, lattice.dims[axis]!, lattice.fineIndex(axis, b));
    const hi = latticeCoord(bounds[0][axis]!, bounds[1][axis]!, lattice.dims[axis]!, lattice.fineIndex(axis, b + 1));
    return hi - lo;
  };
  const out = new Float32Array(bx * by * bz);
  for (let i = 0; i < bx; i++) {
    for (let j = 0; j < by; j++) {
      for (let l = 0; l < bz; l++) out[(i * by + j) * bz + l] = 0.5 * Math.hypot(side(0, i), side(1, j), side(2, l));
    }
  }
  return out;
}

/**
 * The bound of a field whose raw value changes by at most `slope` per world unit (a Lipschitz
 * constant). For p in a block's box, the nearest corner c(p) is within h = half the box diagonal, so
 * raw(p) ≥ raw(c(p)) − slope·h ≥ min_c raw(c) − slope·h, and likewise above: the slack is slope·h.
 *
 * @example
 * const bound = declaredWalkBound(1); // 0.5 − |p|: a signed distance, raw = value
 */
export function declaredWalkBound(slope: number, scale: RawScale = { activation: 'identity' }): WalkBound {
  if (!(slope >= 0) || !Number.isFinite(slope)) throw new RangeError(`A declared slope must be a finite number ≥ 0, got ${slope}.`);
  return {
    scale,
    slack(lattice, bounds) {
      const slack = halfDiagonals(lattice, bounds);
      // Rounded up: float32 storage must not make the slack smaller than slope·h.
      for (let b = 0; b < slack.length; b++) slack[b] = Math.fround(slope * slack[b]! * (1 + 1e-6));
      return { slack, kind: 'declared' };
    },
  };
}
