import type { DecoderWeights } from '../gpu/decoder-weights';
import { densityFromRaw } from '../gpu/reference/triplane-decoder-cpu';

/**
 * sRGB colour from one colour logit. Kept in this one place so it can be swapped for the reference's
 * exported function when it gains one; today the reference inlines sigmoid(o[1..3]).
 */
export function colourFromRaw(logit: number): number {
  return 1 / (1 + Math.exp(-logit));
}

/**
 * Density and colour of `count` points from the last layer's raw outputs ([count][4], row `j` for
 * point `first + j`), through the reference's functions so every CPU decoder agrees with it.
 */
export function writeOutputs(
  weights: DecoderWeights,
  raw: Float32Array | Float64Array,
  count: number,
  first: number,
  density: Float32Array | null,
  colour: Float32Array | null,
): void {
  for (let j = 0; j < count; j++) {
    if (density) density[first + j] = densityFromRaw(weights, raw[4 * j]!);
    if (colour) for (let k = 0; k < 3; k++) colour[3 * (first + j) + k] = colourFromRaw(raw[4 * j + k + 1]!);
  }
}
