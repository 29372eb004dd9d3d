import type { Dims } from './constants';

/** Options of the coarse-to-fine density walk. */
export interface CoarseToFineOptions {
  /** Cells per block edge: the coarse lattice samples every `blockSize`-th fine point. */
  blockSize: number;
  /** Widening of each block's value range, as a fraction of that range, before the straddle test. */
  margin: number;
  /** Rings of neighbouring blocks (26-neighbourhood) refined around every straddling block. */
  dilation: number;
}

export const COARSE_TO_FINE_DEFAULTS: CoarseToFineOptions = { blockSize: 4, margin: 0.25, dilation: 1 };

/**
 * The coarse lattice and block grid over a fine lattice of `dims` points.
 *
 * Criterion (documented in the README): the coarse lattice takes every k-th fine point per axis plus
 * the last one; a block is the k³ cells between 8 coarse samples (shorter at the far end). A block
 * straddles the surface when iso lies in [min − m, max + m] of its 8 corner values, where
 * m = margin · (max − min). Straddling blocks are dilated by `dilation` blocks in all 26 directions.
 * Every fine point in the closed box of a refined block is evaluated; every other fine point takes the
 * trilinear interpolation of its block's corners, which cannot cross iso there. On fields whose features
 * span more than a block, every crossed edge and its central-difference neighbours are evaluated exactly,
 * so the mesh equals the dense one.
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
   * Which blocks to refine, from the coarse samples' values (in coarsePointIndices order).
   * Returns a flag per block (x-major) and the list of refined block ids.
   */
  plan(coarseValues: Float32Array, iso: number, options: CoarseToFineOptions): { flags: Uint8Array; refined: Uint32Array } {
    const [bx, by, bz] = this.blocks;
    const [, cy, cz] = this.coarse;
    const straddle = new Uint8Array(bx * by * bz);
    for (let i = 0; i < bx; i++) {
      for (let j = 0; j < by; j++) {
        for (let l = 0; l < bz; l++) {
          let lo = Infinity;
          let hi = -Infinity;
          for (let c = 0; c < 8; c++) {
            const v = coarseValues[((i + (c & 1)) * cy + j + ((c >> 1) & 1)) * cz + l + (c >> 2)]!;
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
          }
          const m = options.margin * (hi - lo);
          if (lo - m <= iso && iso <= hi + m) straddle[(i * by + j) * bz + l] = 1;
        }
      }
    }
    const flags = new Uint8Array(straddle.length);
    const d = options.dilation;
    for (let i = 0; i < bx; i++) {
      for (let j = 0; j < by; j++) {
        for (let l = 0; l < bz; l++) {
          if (!straddle[(i * by + j) * bz + l]) continue;
          for (let a = Math.max(0, i - d); a <= Math.min(bx - 1, i + d); a++) {
            for (let b = Math.max(0, j - d); b <= Math.min(by - 1, j + d); b++) {
              for (let c = Math.max(0, l - d); c <= Math.min(bz - 1, l + d); c++) flags[(a * by + b) * bz + c] = 1;
            }
          }
        }
      }
    }
    const refined: number[] = [];
    flags.forEach((f, id) => f && refined.push(id));
    return { flags, refined: Uint32Array.from(refined) };
  }

  /** Block index along an axis for interpolation: the block whose half-open cell range holds i. */
  blockOf(axis: number, i: number): number {
    return Math.min(Math.floor(i / this.blockSize), this.blocks[axis]! - 1);
  }

  /** True when fine index i along an axis is a coarse sample position. */
  isCoarse(axis: number, i: number): boolean {
    return i % this.blockSize === 0 || i === this.dims[axis]! - 1;
  }
}
