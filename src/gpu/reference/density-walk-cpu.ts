import { COARSE_TO_FINE_DEFAULTS, CoarseLattice, type CoarseToFineOptions } from '../coarse-to-fine';
import { latticeCoord, type Bounds, type Dims } from '../constants';
import { checkDims, fieldLength } from '../mesh';
import type { WalkBound, WalkBoundKind } from '../walk-bound';

/** Evaluates a scalar field at world points given as xyz triples. */
export type CpuEvaluator = (points: Float32Array) => Float32Array;

export type WalkMode = 'dense' | 'coarse-to-fine';

/** A walk's field, its evaluation count, and which criterion ran ('dense' when none was needed). */
export interface WalkResult {
  field: Float32Array;
  evaluations: number;
  kind: WalkBoundKind | 'dense';
}

/** The walk's bound, or a RangeError: coarse-to-fine cannot be exact without one. */
export function requireBound(options: Partial<CoarseToFineOptions>): WalkBound {
  if (!options.bound) {
    throw new RangeError('Coarse-to-fine needs a bound on the field (coarseToFine.bound: declaredWalkBound or triplaneWalkBound); walk densely otherwise.');
  }
  return options.bound;
}

/** World coordinates of the listed lattice points (linear indices (x * ny + y) * nz + z). */
export function latticePoints(dims: Dims, bounds: Bounds, indices: ArrayLike<number>): Float32Array {
  const [, ny, nz] = dims;
  const out = new Float32Array(indices.length * 3);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    const ijk = [Math.floor(i / (ny * nz)), Math.floor(i / nz) % ny, i % nz];
    for (let a = 0; a < 3; a++) out[3 * k + a] = latticeCoord(bounds[0][a]!, bounds[1][a]!, dims[a]!, ijk[a]!);
  }
  return out;
}

/**
 * The density walk on the CPU: the field on the lattice, evaluated densely or coarse-to-fine
 * (see CoarseLattice for the criterion), and how many points were evaluated.
 */
export function densityWalkCpu(
  evaluate: CpuEvaluator,
  dims: Dims,
  bounds: Bounds,
  iso: number,
  mode: WalkMode,
  options: Partial<CoarseToFineOptions> = {},
): WalkResult {
  const walk = densityWalkSteps(dims, bounds, iso, mode, options);
  let step = walk.next();
  while (!step.done) step = walk.next(evaluate(step.value));
  return step.value;
}

/**
 * The walk as steps: it yields each set of world points it needs and is resumed with their values,
 * so a synchronous driver (`densityWalkCpu`) and an asynchronous, cancellable one share one walk.
 */
export function* densityWalkSteps(
  dims: Dims,
  bounds: Bounds,
  iso: number,
  mode: WalkMode,
  options: Partial<CoarseToFineOptions> = {},
): Generator<Float32Array, WalkResult, Float32Array> {
  checkDims(dims);
  const n = fieldLength(dims);
  if (mode === 'dense') {
    const all = new Uint32Array(n).map((_, i) => i);
    return { field: yield latticePoints(dims, bounds, all), evaluations: n, kind: 'dense' };
  }
  const opts = { ...COARSE_TO_FINE_DEFAULTS, ...options };
  const bound = requireBound(opts);
  const lattice = new CoarseLattice(dims, opts.blockSize);
  const coarseIdx = lattice.coarsePointIndices();
  const coarse = yield latticePoints(dims, bounds, coarseIdx);
  const plan = lattice.plan(coarse, iso, bound, bounds);
  const [nx, ny, nz] = dims;
  const [, cy, cz] = lattice.coarse;
  const k = opts.blockSize;
  const field = new Float32Array(n);
  // Every point of a refined block's closed box and of its one-point halo (CoarseLattice's argument).
  const exact = new Uint8Array(n);
  const blockYZ = lattice.blocks[1] * lattice.blocks[2];
  for (const id of plan.refined) {
    const b = [Math.floor(id / blockYZ), Math.floor(id / lattice.blocks[2]) % lattice.blocks[1], id % lattice.blocks[2]];
    const [lo, hi] = [0, 1].map((end) => b.map((bi, a) => (end ? Math.min(lattice.fineIndex(a, bi + 1) + 1, dims[a]! - 1) : Math.max(bi * k - 1, 0))));
    for (let x = lo![0]!; x <= hi![0]!; x++) {
      for (let y = lo![1]!; y <= hi![1]!; y++) exact.fill(1, (x * ny + y) * nz + lo![2]!, (x * ny + y) * nz + hi![2]! + 1);
    }
  }
  const needed: number[] = [];
  // Per axis and fine index: the block and the position t in it, and whether it is a coarse sample.
  // Tabulated once so the loop over every lattice point allocates nothing.
  const axes = dims.map((size, axis) => {
    const block = new Int32Array(size);
    const t = new Float64Array(size);
    const coarseAt = new Uint8Array(size);
    for (let i = 0; i < size; i++) {
      const b = lattice.blockOf(axis, i);
      const lo = lattice.fineIndex(axis, b);
      const hi = lattice.fineIndex(axis, b + 1);
      block[i] = b;
      t[i] = (i - lo) / (hi - lo);
      coarseAt[i] = lattice.isCoarse(axis, i) ? 1 : 0;
    }
    return { block, t, coarseAt };
  });
  const [ax, ay, az] = axes as [(typeof axes)[0], (typeof axes)[0], (typeof axes)[0]];
  for (let x = 0; x < nx; x++) {
    const bx = ax.block[x]!;
    const tx = ax.t[x]!;
    for (let y = 0; y < ny; y++) {
      const b1 = ay.block[y]!;
      const ty = ay.t[y]!;
      for (let z = 0; z < nz; z++) {
        const i = (x * ny + y) * nz + z;
        const b2 = az.block[z]!;
        const onCoarse = ax.coarseAt[x]! === 1 && ay.coarseAt[y]! === 1 && az.coarseAt[z]! === 1;
        if (exact[i] && !onCoarse) {
          needed.push(i);
          continue;
        }
        // Trilinear from the block's corners (exact at coarse samples); weights multiply x, y, z in turn.
        const tz = az.t[z]!;
        let v = 0;
        for (let c = 0; c < 8; c++) {
          const ox = c & 1;
          const oy = (c >> 1) & 1;
          const oz = c >> 2;
          const w = 1 * (ox ? tx : 1 - tx) * (oy ? ty : 1 - ty) * (oz ? tz : 1 - tz);
          if (w) v += w * coarse[((bx + ox) * cy + b1 + oy) * cz + b2 + oz]!;
        }
        field[i] = v;
      }
    }
  }
  const fine = yield latticePoints(dims, bounds, needed);
  needed.forEach((i, j) => (field[i] = fine[j]!));
  return { field, evaluations: coarse.length + needed.length, kind: plan.kind };
}
