import { COARSE_TO_FINE_DEFAULTS, CoarseLattice, type CoarseToFineOptions } from '../coarse-to-fine';
import { latticeCoord, type Bounds, type Dims } from '../constants';
import { checkDims, fieldLength } from '../mesh';

/** Evaluates a scalar field at world points given as xyz triples. */
export type CpuEvaluator = (points: Float32Array) => Float32Array;

export type WalkMode = 'dense' | 'coarse-to-fine';

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
): { field: Float32Array; evaluations: number } {
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
): Generator<Float32Array, { field: Float32Array; evaluations: number }, Float32Array> {
  checkDims(dims);
  const n = fieldLength(dims);
  if (mode === 'dense') {
    const all = new Uint32Array(n).map((_, i) => i);
    return { field: yield latticePoints(dims, bounds, all), evaluations: n };
  }
  const opts = { ...COARSE_TO_FINE_DEFAULTS, ...options };
  const lattice = new CoarseLattice(dims, opts.blockSize);
  const coarseIdx = lattice.coarsePointIndices();
  const coarse = yield latticePoints(dims, bounds, coarseIdx);
  const { flags } = lattice.plan(coarse, iso, opts);
  const [nx, ny, nz] = dims;
  const [, by, bz] = lattice.blocks;
  const [, cy, cz] = lattice.coarse;
  const k = opts.blockSize;
  const field = new Float32Array(n);
  const needed: number[] = [];
  // Blocks whose closed box holds fine index i along one axis: floor(i/k), and i/k − 1 on a boundary.
  const around = (axis: number, i: number): number[] => {
    const b = lattice.blockOf(axis, i);
    return i % k === 0 && i > 0 && i / k - 1 !== b ? [i / k - 1, b] : [b];
  };
  for (let x = 0; x < nx; x++) {
    const bxs = around(0, x);
    for (let y = 0; y < ny; y++) {
      const bys = around(1, y);
      for (let z = 0; z < nz; z++) {
        const i = (x * ny + y) * nz + z;
        const bzs = around(2, z);
        let refined = false;
        for (const a of bxs) for (const b of bys) for (const c of bzs) refined ||= flags[(a * by + b) * bz + c] === 1;
        const onCoarse = lattice.isCoarse(0, x) && lattice.isCoarse(1, y) && lattice.isCoarse(2, z);
        if (refined && !onCoarse) {
          needed.push(i);
          continue;
        }
        // Trilinear from the block's corners (exact at coarse samples).
        const b = [lattice.blockOf(0, x), lattice.blockOf(1, y), lattice.blockOf(2, z)];
        const t = [x, y, z].map((v, a) => {
          const lo = lattice.fineIndex(a, b[a]!);
          const hi = lattice.fineIndex(a, b[a]! + 1);
          return (v - lo) / (hi - lo);
        });
        let v = 0;
        for (let c = 0; c < 8; c++) {
          const o = [c & 1, (c >> 1) & 1, c >> 2];
          const w = o.reduce((acc, oa, a) => acc * (oa ? t[a]! : 1 - t[a]!), 1);
          if (w) v += w * coarse[((b[0]! + o[0]!) * cy + b[1]! + o[1]!) * cz + b[2]! + o[2]!]!;
        }
        field[i] = v;
      }
    }
  }
  const fine = yield latticePoints(dims, bounds, needed);
  needed.forEach((i, j) => (field[i] = fine[j]!));
  return { field, evaluations: coarse.length + needed.length };
}
