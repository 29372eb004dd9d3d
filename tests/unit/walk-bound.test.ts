import { describe, expect, it } from 'vitest';
import { CoarseLattice } from '../../src/gpu/coarse-to-fine';
import { DEFAULT_BOUNDS, latticeCoord, MAX_DENSITY_LOGIT, type Dims } from '../../src/gpu/constants';
import type { DecoderWeights } from '../../src/gpu/decoder-weights';
import { latticePoints } from '../../src/gpu/reference/density-walk-cpu';
import { decodePointsCpu, densityFromRaw, sampleTriplane } from '../../src/gpu/reference/triplane-decoder-cpu';
import { certifiedGradient, rawGradient, triplaneWalkBound } from '../../src/gpu/triplane-walk-bound';
import { declaredWalkBound, rawInterval, type RawScale } from '../../src/gpu/walk-bound';
import { blobDecoder, rng, smoothTriplane } from '../helpers/synthetic-decoder';
import { THIN_SLOPE, thinDecoder, thinDistance, thinParts, thinTriplane } from '../helpers/thin-fixtures';

describe('rawInterval', () => {
  const rand = rng(5);
  const cases: [RawScale, (raw: number) => number][] = [
    [{ activation: 'identity' }, (x) => x],
    [{ activation: 'exp' }, (x) => Math.exp(Math.min(x, MAX_DENSITY_LOGIT))],
    [{ activation: 'softplus' }, (x) => (x > 30 ? x : Math.log1p(Math.exp(x)))],
    [{ activation: 'relu' }, (x) => Math.max(x, 0)],
  ];
  for (const [scale, act] of cases) {
    it(`inverts ${scale.activation} tightly around the float32 value`, () => {
      for (let k = 0; k < 2000; k++) {
        const raw = (rand() - 0.5) * 160;
        const value = Math.fround(act(raw));
        const [lo, hi] = rawInterval(scale, value);
        expect(lo).toBeLessThanOrEqual(raw);
        expect(hi).toBeGreaterThanOrEqual(raw);
        // Tight where the value carries the raw value (not at a floor or clamp).
        if (value > 1e-30 && raw < MAX_DENSITY_LOGIT - 1 && !(scale.activation === 'relu' && raw <= 0)) {
          expect(hi - lo).toBeLessThan(1e-3 * (1 + Math.abs(raw)));
        }
      }
    });
  }

  it('opens the interval at floors and clamps', () => {
    expect(rawInterval({ activation: 'relu' }, 0)).toEqual([-Infinity, expect.closeTo(0, 4)]);
    const [lo0, hi0] = rawInterval({ activation: 'exp' }, 0);
    expect(lo0).toBe(-Infinity);
    expect(hi0).toBeCloseTo(Math.log(1.1754944e-38), 2); // a GPU may flush denormals to zero
    expect(rawInterval({ activation: 'exp' }, Math.fround(Math.exp(MAX_DENSITY_LOGIT)))[1]).toBe(Infinity);
    const clip: RawScale = { activation: 'exp', clip: [1e-3, 100] };
    expect(rawInterval(clip, 100)[1]).toBe(Infinity);
    expect(rawInterval(clip, 100)[0]).toBeCloseTo(Math.log(100), 3);
    expect(rawInterval(clip, 1e-3)[0]).toBe(-Infinity);
    expect(rawInterval({ activation: 'softplus' }, 0)[0]).toBe(-Infinity);
  });
});

/** A shallow SiLU decoder with seeded weights (120 → 16 → 4). */
function shallowSilu(seed: number): DecoderWeights {
  const rand = rng(seed);
  const layer = (inF: number, outF: number, s: number) => ({
    inFeatures: inF,
    outFeatures: outF,
    weight: Float32Array.from({ length: inF * outF }, () => s * (rand() - 0.5)),
    bias: Float32Array.from({ length: outF }, () => s * (rand() - 0.5)),
  });
  return { layers: [layer(120, 16, 2), layer(16, 4, 2)], densityBias: -1, graphApplies: { densityExp: false, colourSigmoid: false }, hidden: 'silu' };
}

describe('decoder gradients', () => {
  const triplane = smoothTriplane(2);
  const decoders: [string, DecoderWeights][] = [
    ['deep SiLU (blobDecoder)', blobDecoder(3, triplane)],
    ['shallow SiLU', shallowSilu(4)],
    ['shallow ReLU (thinDecoder)', thinDecoder()],
  ];
  for (const [name, weights] of decoders) {
    it(`${name}: backprop matches finite differences and the certified gradient bounds it`, () => {
      const rand = rng(9);
      const certified = certifiedGradient(weights);
      const eps = 1e-4;
      for (let k = 0; k < 20; k++) {
        const f = sampleTriplane(triplane, [rand() - 0.5, rand() - 0.5, rand() - 0.5].map((v) => 1.6 * v));
        const features = Float64Array.from(f);
        const { raw, gradient } = rawGradient(weights, features);
        for (let i = 0; i < 120; i += 7) {
          features[i]! += eps;
          const up = rawGradient(weights, features).raw;
          features[i]! -= 2 * eps;
          const down = rawGradient(weights, features).raw;
          features[i]! += eps;
          const fd = (up - down) / (2 * eps);
          expect(Math.abs(fd - gradient[i]!)).toBeLessThan(1e-4 * (1 + Math.abs(fd)) + 1e-6 * (1 + Math.abs(raw)));
          expect(Math.abs(fd)).toBeLessThanOrEqual(certified[i]! * (1 + 1e-6) + 1e-9);
        }
      }
    });
  }
});

/** max over points p of a block of |raw(p) − raw(c)| over the block's 8 corners c, and the check against the slack. */
function checkSlack(
  dims: Dims,
  k: number,
  rawAt: (p: Float32Array) => Float64Array,
  slack: Float32Array,
  nearestCorner: boolean,
): number {
  const lattice = new CoarseLattice(dims, k);
  const [bx, by, bz] = lattice.blocks;
  const steps = 6;
  let worst = 0;
  for (let id = 0; id < bx * by * bz; id++) {
    const b = [Math.floor(id / (by * bz)), Math.floor(id / bz) % by, id % bz];
    const lo = b.map((bi, a) => latticeCoord(DEFAULT_BOUNDS[0][a]!, DEFAULT_BOUNDS[1][a]!, dims[a]!, lattice.fineIndex(a, bi)));
    const hi = b.map((bi, a) => latticeCoord(DEFAULT_BOUNDS[0][a]!, DEFAULT_BOUNDS[1][a]!, dims[a]!, lattice.fineIndex(a, bi + 1)));
    const pts: number[] = [];
    for (let c = 0; c < 8; c++) pts.push(...[0, 1, 2].map((a) => ((c >> a) & 1 ? hi[a]! : lo[a]!)));
    for (let i = 0; i <= steps; i++) {
      for (let j = 0; j <= steps; j++) {
        for (let l = 0; l <= steps; l++) pts.push(...[i, j, l].map((s, a) => lo[a]! + ((hi[a]! - lo[a]!) * s) / steps));
      }
    }
    const raw = rawAt(Float32Array.from(pts));
    for (let p = 8; p < raw.length; p++) {
      const q = pts.slice(3 * p, 3 * p + 3);
      // For a Lipschitz bound the slack holds against the nearest corner; for the triplane's against every corner.
      const corners = nearestCorner ? [[0, 1, 2].reduce((c, a) => c | ((q[a]! - lo[a]! > hi[a]! - q[a]! ? 1 : 0) << a), 0)] : [0, 1, 2, 3, 4, 5, 6, 7];
      for (const c of corners) {
        const d = Math.abs(raw[p]! - raw[c]!);
        worst = Math.max(worst, d / slack[id]!);
      }
    }
  }
  expect(worst).toBeLessThanOrEqual(1);
  return worst;
}

describe('block slack bounds the raw change inside every block', () => {
  it('declared slope: the analytic thin fixture', () => {
    const dims: Dims = [33, 33, 33];
    const parts = thinParts(33);
    const lattice = new CoarseLattice(dims, 4);
    const { slack } = declaredWalkBound(THIN_SLOPE, { activation: 'exp' }).slack(lattice, DEFAULT_BOUNDS, new Float32Array(), 25);
    const rawAt = (p: Float32Array) => Float64Array.from({ length: p.length / 3 }, (_, i) => Math.log(25) + 60 * thinDistance(parts, p.subarray(3 * i, 3 * i + 3)));
    expect(checkSlack(dims, 4, rawAt, slack, true)).toBeGreaterThan(0.3); // not vacuous
  }, 60_000);

  const fixtures: [string, Float32Array, DecoderWeights][] = [
    ['shallow ReLU thin decoder', thinTriplane(17), thinDecoder()],
    ['shallow SiLU decoder', smoothTriplane(6), shallowSilu(7)],
  ];
  for (const [name, triplane, weights] of fixtures) {
    it(`certified triplane bound: ${name}`, () => {
      const dims: Dims = [17, 17, 17];
      const lattice = new CoarseLattice(dims, 4);
      const coarse = decodePointsCpu(triplane, weights, latticePoints(dims, DEFAULT_BOUNDS, lattice.coarsePointIndices()), { density: true }).density;
      const bound = triplaneWalkBound(triplane, weights, { certifiedBudget: 1 });
      const { slack, kind } = bound.slack(lattice, DEFAULT_BOUNDS, coarse, 25);
      expect(kind).toBe('certified');
      const rawAt = (p: Float32Array) =>
        Float64Array.from({ length: p.length / 3 }, (_, i) => rawGradient(weights, sampleTriplane(triplane, p.subarray(3 * i, 3 * i + 3))).raw);
      expect(checkSlack(dims, 4, rawAt, slack, false)).toBeGreaterThan(0.01); // not vacuous
      // rawGradient's raw is the decoder's: density = act(raw).
      const p = Float32Array.of(0.1, -0.2, 0.3);
      expect(Math.fround(densityFromRaw(weights, rawAt(p)[0]! - weights.densityBias))).toBeCloseTo(decodePointsCpu(triplane, weights, p, { density: true }).density[0]!, 3);
    }, 60_000);
  }
});
