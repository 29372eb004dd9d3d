import { mulberry32 } from '../../scripts/lib/rng';
import { TRIPLANE_CHANNELS, TRIPLANE_SIZE } from '../../src/gpu/constants';
import type { DecoderWeights, DenseLayer } from '../../src/gpu/decoder-weights';
import { runMlp, sampleTriplane } from '../../src/gpu/reference/triplane-decoder-cpu';
import { TRIPLANE_FLOATS } from '../../src/gpu/triplane-decoder';

/** Seeded PRNG (mulberry32): deterministic test data. */
export const rng = mulberry32;

/** Standard normal from a uniform source (Box–Muller). */
export function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/**
 * A smooth seeded triplane: channel 0 and 1 of each plane hold 1 − u² and 1 − v² (an "insideness"
 * that fades to zero at the box), the other channels low-frequency seeded waves.
 */
export function smoothTriplane(seed: number, noise = 0.3): Float32Array {
  const rand = rng(seed);
  const out = new Float32Array(TRIPLANE_FLOATS);
  const S = TRIPLANE_SIZE;
  for (let plane = 0; plane < 3; plane++) {
    for (let c = 0; c < TRIPLANE_CHANNELS; c++) {
      const [fu, fv, pu, pv, amp] = [1 + 2 * rand(), 1 + 2 * rand(), 6.28 * rand(), 6.28 * rand(), noise * rand()];
      for (let row = 0; row < S; row++) {
        for (let col = 0; col < S; col++) {
          const u = (2 * col + 1) / S - 1;
          const v = (2 * row + 1) / S - 1;
          const value =
            c === 0 ? 1 - u * u : c === 1 ? 1 - v * v : amp * Math.sin(fu * u * Math.PI + pu) * Math.cos(fv * v * Math.PI + pv);
          out[((plane * TRIPLANE_CHANNELS + c) * S + row) * S + col] = value;
        }
      }
    }
  }
  return out;
}

function layer(inF: number, outF: number, rand: () => number, scale: number): DenseLayer {
  return {
    inFeatures: inF,
    outFeatures: outF,
    weight: Float32Array.from({ length: inF * outF }, () => scale * gaussian(rand)),
    bias: Float32Array.from({ length: outF }, () => scale * gaussian(rand)),
  };
}

/**
 * Seeded decoder weights with the real shape (120 → 64 ×9 → 4) whose density surface, on
 * smoothTriplane, is a closed bumpy blob through about (radius, 0, 0): unit 0 carries the insideness
 * through every layer, the rest is seeded noise.
 */
export function blobDecoder(seed: number, triplane: Float32Array, radius = 0.5, threshold = 25, bumps = 1): DecoderWeights {
  const rand = rng(seed);
  const layers = [layer(120, 64, rand, 0.05)];
  for (let i = 0; i < 8; i++) layers.push(layer(64, 64, rand, 0.05));
  layers.push(layer(64, 4, rand, 0.3));
  // Insideness: plane 0 ch 0 (1 − x²), plane 0 ch 1 (1 − y²), plane 2 ch 1 (1 − z²); the other
  // channels' seeded waves, scaled by `bumps`, make the surface bumpy.
  const first = layers[0]!;
  for (let f = 0; f < 120; f++) first.weight[f] = first.weight[f]! * (f % TRIPLANE_CHANNELS < 2 ? 0 : bumps * 10);
  for (const f of [0, 1, 2 * TRIPLANE_CHANNELS + 1]) first.weight[f] = 4;
  first.bias[0] = 2;
  for (const l of layers.slice(1, -1)) {
    l.weight.fill(0, 0, 64);
    for (let o = 1; o < 64; o++) l.weight[o * 64] = 0;
    l.weight[0] = 1;
    l.bias[0] = 0;
  }
  const last = layers.at(-1)!;
  last.weight.fill(0, 0, 64);
  last.weight[0] = 3;
  const weights: DecoderWeights = { layers, densityBias: -1, graphApplies: { densityExp: false, colourSigmoid: false } };
  const o = runMlp(weights, sampleTriplane(triplane, [radius, 0, 0]));
  last.bias[0] = last.bias[0]! + 1 + Math.log(threshold) - o[0]!;
  return weights;
}
