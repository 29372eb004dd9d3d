/** The benchmark's cases, generated here (nothing downloaded): see BenchCase. */
import { analyticEvaluator } from '../../src/gpu/field-evaluator';
import { meshField, meshTriplane } from '../../src/gpu/triplane-mesher';
import { blobDecoder, smoothTriplane } from '../../tests/helpers/synthetic-decoder';
import { deepThinFixture, THIN_SLOPE, THIN_THRESHOLD, thinDecoder, thinFieldWgsl, thinTriplane } from '../../tests/helpers/thin-fixtures';
import type { BenchCase } from './mesh-bench';

/** A TripoSR-like sphere of radius 0.4: 25·exp(60·(0.4 − |p|)), raw slope 60. */
const SPHERE = 'fn field(p: vec3<f32>) -> f32 { return 25.0 * exp(60.0 * (0.4 - length(p))); }';
const EXP_SCALE = { activation: 'exp' as const };

/** Every case of the benchmark. */
export function benchCases(): BenchCase[] {
  const blob = smoothTriplane(11);
  const blobWeights = blobDecoder(12, blob);
  const deep = deepThinFixture();
  const shallow = thinDecoder();
  return [
    {
      name: 'blob',
      note: 'seeded triplane, TripoSR-shaped 10-layer SiLU decoder: a bumpy closed blob (measured bound)',
      mesh: (device, mode, resolution) => meshTriplane(device, blob, blobWeights, { resolution, threshold: 25, mode }),
    },
    {
      name: 'deep-thin',
      note: 'the 10-layer decoder with a rod made by triplane ridges between coarse lattice lines (measured bound)',
      mesh: (device, mode, resolution) => meshTriplane(device, deep.triplane, deep.weights, { resolution, threshold: THIN_THRESHOLD, mode }),
    },
    {
      name: 'shallow-thin',
      note: 'a 1-hidden-layer decoder drawing two rods and a plate from 2-texel marks (certified bound)',
      mesh: (device, mode, resolution) => meshTriplane(device, thinTriplane(resolution), shallow, { resolution, threshold: THIN_THRESHOLD, mode }),
    },
    {
      name: 'analytic-thin',
      note: '25·exp(60·sdf): sphere + rods, a skew plate and a shell between coarse lattice lines (declared slope)',
      mesh: (device, mode, resolution) =>
        meshField(device, () => ({ density: analyticEvaluator(device, thinFieldWgsl(resolution), { slope: THIN_SLOPE, scale: EXP_SCALE }) }), { resolution, threshold: THIN_THRESHOLD, mode }),
    },
    {
      name: 'analytic-sphere',
      note: '25·exp(60·(0.4 − |p|)) (declared slope)',
      mesh: (device, mode, resolution) =>
        meshField(device, () => ({ density: analyticEvaluator(device, SPHERE, { slope: 60, scale: EXP_SCALE }) }), { resolution, threshold: 25, mode }),
    },
  ];
}
