import type { Bounds, Dims } from './constants';
import { rawInterval, type RawScale, type WalkBound, type WalkBoundKind } from './walk-bound';

/** Options of the coarse-to-fine density walk. */
export interface CoarseToFineOptions {
  /** Cells per block edge: the coarse lattice samples every `blockSize`-th fine point. */
  blockSize: number;
  /**
   * How fast the field can change (walk-bound.ts): required for coarse-to-fine. Analytic fields
   * declare a slope; the triplane decoder's comes from triplaneWalkBound.
   */
  bound?: WalkBound;
  /**
   * GPU walk only: when the bound refines more than this share of the blocks, the walk decodes every
   * point that is not a coarse sample instead of gathering refined blocks, because gathering (k + 3)³
   * slots per block then costs more than it saves. The mesh is the same either way; 1 never switches.
   */
  denseShare: number;
}

export const COARSE_TO_FINE_DEFAULTS: CoarseToFineOptions = { blockSize: 4, denseShare: 0.5 };

/** Which blocks a walk refines: a flag per block (x-major), the refined ids, and the bound's kind. */
export interface RefinementPlan {
  flags: Uint8Array;
  refined: Uint32Array;
  kind: WalkBoundKind;
}

/**
 * The coarse lattice and block grid over a fine lattice of `dims` points.
 *
 * Criterion (documented in the README). The coarse lattice takes every k-th fine point per axis plus
 * the last one; a block is the k³ cells between 8 coarse samples (shorter at the far end). The walk
 * decides on the raw scale (before the density activation): each stored corner value v implies a raw
 * interval [lo(v), hi(v)] (rawInterval), and the bound gives a slack S per block with
 * raw(p) ∈ [min_c raw(c) − S, max_c raw(c) + S] for every point p of the block's closed box. A block is
 * left unrefined only when that whole range is on one side of the threshold's raw interval:
 *   min_c lo(v_c) − S > hi(iso)   or   max_c hi(v_c) + S < lo(iso).
 * Then (1) every true value in its box and every trilinear interpolation of its corners (a convex
 * combination of values beyond iso by more than the rounding margin) lies on the same side, so marching
 * cubes classifies each of its cells as the dense walk does; (2) every cell with a crossed edge lies in
 * some refined block's closed box, whose points are all evaluated, so vertex positions are the dense
 * ones; (3) a refined block also evaluates a one-point halo around its box, which holds the ±1
 * neighbours that central-difference normals read at crossed-edge endpoints, so normals are the dense
 * ones too. Each evaluated point has the value the dense walk gives it (the decoder's value for a point
 * does not depend on its batch), hence the meshes are identical.
 */
export class CoarseLattice {
  readonly blocks: Dims;
  readonly coarse: Dims;

  constructor(
    readonly dims: Dims,
    readonly blockSize: number,
  ) {
    if (!Number.isInteger(blockSize) || blockSize < 2) throw new RangeError('blockSize must be an integer ≥ 2.');
    this.blocks = dims.map((n) => Math.ceil((n - 1) / blockSize)) as Dims;
    this.coarse = this.blocks.map((b) => b + 1) as Dims;
  }

  /** Fine index of coarse sample j along an axis. */
  fineIndex(axis: number, j: number): number {
    return Math.min(j * this.blockSize, this.dims[axis]! - 1);
  }

  /** Linear fine-lattice indices of the coarse samples, in (x, y, z) order. */
  coarsePointIndices(): Uint32Array {
    const [cx, cy, cz] = this.coarse;
    const [, ny, nz] = this.dims;
    const out = new Uint32Array(cx * cy * cz);
    let k = 0;
    for (let i = 0; i < cx; i++) {
      for (let j = 0; j < cy; j++) {
        for (let l = 0; l < cz; l++) {
          out[k++] = (this.fineIndex(0, i) * ny + this.fineIndex(1, j)) * nz + this.fineIndex(2, l);
        }
      }
    }
    return out;
  }

  /**
   * Which blocks to refine, from the coarse samples' values (in coarsePointIndices order), the
   * threshold `iso` on the stored scale, and the bound of the field over the lattice's `bounds`.
   */
  plan(coarseValues: Float32Array, iso: number, bound: WalkBound, bounds: Bounds): RefinementPlan {
    const { slack, kind } = bound.slack(this, bounds, coarseValues, iso);
    const flags = this.refineFlags(coarseValues, iso, bound.scale, slack);
    const refined: number[] = [];
    flags.forEach((f, id) => f && refined.push(id));
    return { flags, refined: Uint32Array.from(refined), kind };
  }

  /** The criterion itself: a flag per block (x-major), 1 where the block may hold the surface. */
  refineFlags(coarseValues: Float32Array, iso: number, scale: RawScale, slack: Float32Array): Uint8Array {
    const [bx, by, bz] = this.blocks;
    const [, cy, cz] = this.coarse;
    const rawLo = new Float64Array(coarseValues.length);
    const rawHi = new Float64Array(coarseValues.length);
    coarseValues.forEach((v, i) => ([rawLo[i], rawHi[i]] = rawInterval(scale, v)));
    const [isoLo, isoHi] = rawInterval(scale, iso);
    const flags = new Uint8Array(bx * by * bz);
    for (let i = 0; i < bx; i++) {
      for (let j = 0; j < by; j++) {
        for (let l = 0; l < bz; l++) {
          const id = (i * by + j) * bz + l;
          let lo = Infinity;
          let hi = -Infinity;
          for (let c = 0; c < 8; c++) {
            const s = ((i + (c & 1)) * cy + j + ((c >> 1) & 1)) * cz + l + (c >> 2);
            lo = Math.min(lo, rawLo[s]!);
            hi = Math.max(hi, rawHi[s]!);
          }
          const s = slack[id]!;
          // NaN (a field that returned NaN) compares false both ways: refined, like a straddle.
          if (!(lo - s > isoHi || hi + s < isoLo)) flags[id] = 1;
        }
      }
    }
    return flags;
  }

  /** Block index along an axis for interpolation: the block whose half-open cell range holds i. */
  blockOf(axis: number, i: number): number {
    return Math.min(Math.floor(i / this.blockSize), this.blocks[axis]! - 1);
  }

  /** Lattice indices of layers [first, end) that are not coarse samples, in lattice order. */
  nonCoarseIndices(first: number, end: number): Uint32Array {
    const [, ny, nz] = this.dims;
    const coarseYZ = this.coarse[1] * this.coarse[2];
    let n = 0;
    for (let x = first; x < end; x++) n += ny * nz - (this.isCoarse(0, x) ? coarseYZ : 0);
    const out = new Uint32Array(n);
    let k = 0;
    for (let x = first; x < end; x++) {
      for (let y = 0; y < ny; y++) {
        const row = (x * ny + y) * nz;
        const onCoarse = this.isCoarse(0, x) && this.isCoarse(1, y);
        for (let z = 0; z < nz; z++) if (!onCoarse || !this.isCoarse(2, z)) out[k++] = row + z;
      }
    }
    return out;
  }

  /** True when fine index i along an axis is a coarse sample position. */
  isCoarse(axis: number, i: number): boolean {
    return i % this.blockSize === 0 || i === this.dims[axis]! - 1;
  }
}
