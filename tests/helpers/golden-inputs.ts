import type { DecoderWeights } from '../../src/gpu/decoder-weights';
import { TRIPLANE_FLOATS } from '../../src/gpu/triplane-decoder';

/** The closed-form triplane of scripts/goldens/make_goldens.py (triplane_values). */
export function goldenTriplane(): Float32Array {
  return Float32Array.from({ length: TRIPLANE_FLOATS }, (_, i) => Math.sin(i * 0.7071 + 0.3) * Math.cos(i * 0.0137));
}

/** The closed-form MLP of make_goldens.py (layer_values): 120 → 64 ×9 → 4, weights [out][in]. */
export function goldenWeights(): DecoderWeights {
  const sizes = [[120, 64], ...Array.from({ length: 8 }, () => [64, 64]), [64, 4]] as [number, number][];
  return {
    layers: sizes.map(([inF, outF], index) => ({
      inFeatures: inF,
      outFeatures: outF,
      weight: Float32Array.from({ length: inF * outF }, (_, j) => (Math.sin((j + 1) * 0.9173 + index * 1.37) * 1.5) / Math.sqrt(inF)),
      bias: Float32Array.from({ length: outF }, (_, k) => Math.cos(k * 0.531 + index) * 0.1),
    })),
    densityBias: -1,
    graphApplies: { densityExp: false, colourSigmoid: false },
  };
}

/** The non-cubic field of make_goldens.py (mc_golden). */
export function mcGoldenField(dims: [number, number, number]): Float32Array {
  const [nx, ny, nz] = dims;
  const out = new Float32Array(nx * ny * nz);
  for (let x = 0; x < nx; x++) {
    for (let y = 0; y < ny; y++) {
      for (let z = 0; z < nz; z++) {
        out[(x * ny + y) * nz + z] =
          7.5 - Math.hypot(x - 9.3, (y - 11.1) / 1.2, (z - 13.7) / 1.4) + 0.8 * Math.sin(x * 0.7) * Math.cos(y * 0.5 + z * 0.3);
      }
    }
  }
  return out;
}
