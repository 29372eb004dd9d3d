import { DECODER_FEATURES, TRIPLANE_CHANNELS, TRIPLANE_PLANES, TRIPLANE_RADIUS, TRIPLANE_SIZE } from '../gpu/constants';
import { PLANE_AXES } from '../gpu/reference/triplane-decoder-cpu';

/**
 * The reference's `sampleTriplane` for many points without allocation. The triplane is re-laid
 * channel-last ([plane][y][x][channel]) once, so the four bilinear taps of a texel read 40
 * contiguous values; sums run in the reference's order and are rounded to float32 as its feature
 * buffer is, so features are bit-identical.
 */
export class TriplaneSampler {
  private readonly texels: Float32Array;

  constructor(triplane: Float32Array) {
    const S = TRIPLANE_SIZE;
    const C = TRIPLANE_CHANNELS;
    if (triplane.length !== TRIPLANE_PLANES * C * S * S) {
      throw new Error(`A triplane has ${TRIPLANE_PLANES * C * S * S} values; this one has ${triplane.length}.`);
    }
    this.texels = new Float32Array(triplane.length);
    for (let p = 0; p < TRIPLANE_PLANES; p++) {
      for (let c = 0; c < C; c++) {
        const src = (p * C + c) * S * S;
        for (let t = 0; t < S * S; t++) this.texels[(p * S * S + t) * C + c] = triplane[src + t]!;
      }
    }
  }

  /** Features of points [start, start + count) into rows 0..count of `features` ([row][120]). */
  sampleInto(points: Float32Array, start: number, count: number, features: Float32Array | Float64Array): void {
    const S = TRIPLANE_SIZE;
    const C = TRIPLANE_CHANNELS;
    const texels = this.texels;
    for (let j = 0; j < count; j++) {
      const p = 3 * (start + j);
      const row = j * DECODER_FEATURES;
      for (let plane = 0; plane < 3; plane++) {
        const axes = PLANE_AXES[plane]!;
        const tx = ((points[p + axes[0]]! / TRIPLANE_RADIUS + 1) * S - 1) / 2;
        const ty = ((points[p + axes[1]]! / TRIPLANE_RADIUS + 1) * S - 1) / 2;
        const x0 = Math.floor(tx);
        const y0 = Math.floor(ty);
        const fx = tx - x0;
        const fy = ty - y0;
        // Out-of-range taps contribute nothing (padding zeros).
        const inX0 = x0 >= 0 && x0 < S;
        const inX1 = x0 + 1 >= 0 && x0 + 1 < S;
        const inY0 = y0 >= 0 && y0 < S;
        const inY1 = y0 + 1 >= 0 && y0 + 1 < S;
        const base = plane * S * S;
        const t00 = inX0 && inY0 ? (base + y0 * S + x0) * C : -1;
        const t10 = inX1 && inY0 ? (base + y0 * S + x0 + 1) * C : -1;
        const t01 = inX0 && inY1 ? (base + (y0 + 1) * S + x0) * C : -1;
        const t11 = inX1 && inY1 ? (base + (y0 + 1) * S + x0 + 1) * C : -1;
        const w00 = (1 - fx) * (1 - fy);
        const w10 = fx * (1 - fy);
        const w01 = (1 - fx) * fy;
        const w11 = fx * fy;
        const o = row + plane * C;
        for (let c = 0; c < C; c++) {
          let v = 0;
          if (t00 >= 0) v += w00 * texels[t00 + c]!;
          if (t10 >= 0) v += w10 * texels[t10 + c]!;
          if (t01 >= 0) v += w01 * texels[t01 + c]!;
          if (t11 >= 0) v += w11 * texels[t11 + c]!;
          features[o + c] = Math.fround(v);
        }
      }
    }
  }
}
