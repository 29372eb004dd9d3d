import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { BatchDecoder } from '../../src/cpu/batch-decoder';
import { OrtDecoder } from '../../src/cpu/ort-decoder';
import type { DecoderWeights } from '../../src/gpu/decoder-weights';
import { decodePointsCpu, sampleTriplane } from '../../src/gpu/reference/triplane-decoder-cpu';
import { mulberry32 } from '../../scripts/lib/rng';
import { expectedTriplane, syntheticImage, testDecoderWeights } from '../../scripts/make-test-models';
import { goldenTriplane, goldenWeights } from '../helpers/golden-inputs';
import { blobDecoder, smoothTriplane } from '../helpers/synthetic-decoder';

/** Random points in a box slightly larger than the triplane's, so the zero padding is exercised too. */
function randomPoints(n: number, seed: number, half = 0.95): Float32Array {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: 3 * n }, () => (2 * rand() - 1) * half);
}

/** Worst disagreement: density relative (absolute below 0.1), colour absolute. */
function disagreement(a: { density: Float32Array; colour: Float32Array }, b: { density: Float32Array; colour: Float32Array }) {
  let density = 0;
  let colour = 0;
  for (let i = 0; i < b.density.length; i++) {
    const ref = b.density[i]!;
    const err = Math.abs(a.density[i]! - ref);
    density = Math.max(density, Math.abs(ref) < 0.1 ? err / 0.1 : err / Math.abs(ref));
  }
  for (let i = 0; i < b.colour.length; i++) colour = Math.max(colour, Math.abs(a.colour[i]! - b.colour[i]!));
  return { density, colour };
}

describe('BatchDecoder (the CPU path decoder) against the reference decodePointsCpu', () => {
  const cases = [
    ['the test model', expectedTriplane(syntheticImage({ colour: [0.6, 0.4, 0.3], cx: 0.5, cy: 0.5, rx: 0.25, ry: 0.32 }, 1)), testDecoderWeights()],
    // Its density saturates (one value everywhere); the blob's varies across the surface.
    ['the torch golden inputs', goldenTriplane(), goldenWeights()],
    ['a seeded blob', smoothTriplane(3), blobDecoder(4, smoothTriplane(3))],
  ] as const;

  for (const [name, triplane, weights] of cases) {
    it(`matches on 3000 random points of ${name}: density 1e-4 relative, colour 1e-5`, () => {
      const points = randomPoints(3000, 7);
      const err = disagreement(new BatchDecoder(triplane, weights).decode(points), decodePointsCpu(triplane, weights, points));
      expect(err.density).toBeLessThan(1e-4);
      expect(err.colour).toBeLessThan(1e-5);
    });
  }

  it('gives the same values whatever the batch size and for counts that are not a multiple of 4', () => {
    const [, triplane, weights] = cases[0];
    const points = randomPoints(517, 11);
    const ref = decodePointsCpu(triplane, weights, points);
    for (const batchPoints of [4, 7, 64, 1024]) {
      const decoder = new BatchDecoder(triplane, weights, { batchPoints });
      for (const n of [1, 5, 517]) {
        const out = decoder.decode(points.subarray(0, 3 * n));
        expect(disagreement(out, { density: ref.density.subarray(0, n), colour: ref.colour.subarray(0, 3 * n) })).toEqual({ density: 0, colour: 0 });
      }
    }
  });

  it('decodes a sub-range in place and leaves the rest untouched', () => {
    const [, triplane, weights] = cases[0];
    const points = randomPoints(100, 3);
    const density = new Float32Array(100).fill(-1);
    new BatchDecoder(triplane, weights).decodeInto(points, 10, 30, density, null);
    const ref = decodePointsCpu(triplane, weights, points, { density: true }).density;
    expect(density.slice(0, 10).every((v) => v === -1)).toBe(true);
    expect(density.slice(30).every((v) => v === -1)).toBe(true);
    expect(Array.from(density.slice(10, 30))).toEqual(Array.from(ref.slice(10, 30)));
  });

  it("applies ReLU between layers when the weights say hidden: 'relu'", () => {
    const triplane = goldenTriplane();
    const weights = { ...goldenWeights(), hidden: 'relu' } as DecoderWeights;
    const points = randomPoints(200, 5);
    const out = new BatchDecoder(triplane, weights).decode(points);
    // An independent scalar MLP with ReLU.
    for (let p = 0; p < 200; p++) {
      let h: number[] = Array.from(sampleTriplane(triplane, points.subarray(3 * p, 3 * p + 3)));
      weights.layers.forEach((layer, k) => {
        h = Array.from({ length: layer.outFeatures }, (_, o) => {
          let acc = layer.bias[o]!;
          for (let i = 0; i < layer.inFeatures; i++) acc += layer.weight[o * layer.inFeatures + i]! * h[i]!;
          return k < weights.layers.length - 1 ? Math.max(0, acc) : acc;
        });
      });
      const density = Math.exp(Math.min(h[0]! - 1, 80));
      expect(Math.abs(out.density[p]! - density)).toBeLessThanOrEqual(1e-4 * Math.max(density, 0.1));
      for (let k = 0; k < 3; k++) expect(Math.abs(out.colour[3 * p + k]! - 1 / (1 + Math.exp(-h[k + 1]!)))).toBeLessThan(1e-5);
    }
    // And it really differs from SiLU on these weights, so the test can tell the two apart.
    const silu = new BatchDecoder(triplane, goldenWeights()).decode(points);
    expect(disagreement(out, silu).colour).toBeGreaterThan(1e-3);
  });
});

describe('OrtDecoder (the MLP on onnxruntime-web WASM) against the reference decodePointsCpu', () => {
  const cases = [
    ['the test model', expectedTriplane(syntheticImage({ colour: [0.6, 0.4, 0.3], cx: 0.5, cy: 0.5, rx: 0.25, ry: 0.32 }, 1)), testDecoderWeights()],
    ['the torch golden inputs', goldenTriplane(), goldenWeights()],
    ['ReLU hidden layers', goldenTriplane(), { ...goldenWeights(), hidden: 'relu' } as DecoderWeights],
  ] as const;

  for (const [name, triplane, weights] of cases) {
    it(`matches on 3000 random points of ${name}, across several runs: density 1e-4 relative, colour 1e-5`, async () => {
      const points = randomPoints(3000, 13);
      // A batch that does not divide the count, so the last run is a short one.
      const decoder = await OrtDecoder.create(ort, triplane, weights, { batchPoints: 1024 });
      try {
        const expected = 'hidden' in weights ? new BatchDecoder(triplane, weights).decode(points) : decodePointsCpu(triplane, weights, points);
        const err = disagreement(await decoder.decode(points), expected);
        expect(err.density).toBeLessThan(1e-4);
        expect(err.colour).toBeLessThan(1e-5);
      } finally {
        await decoder.release();
      }
    });
  }
});

