import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BOUNDS, type Dims } from '../../src/gpu/constants';
import { densityWalk } from '../../src/gpu/density-walk';
import { analyticEvaluator } from '../../src/gpu/field-evaluator';
import { marchingCubes } from '../../src/gpu/marching-cubes';
import { meshTriplane } from '../../src/gpu/triplane-mesher';
import { triplaneWalkBound } from '../../src/gpu/triplane-walk-bound';
import { expectIdenticalMeshes } from '../helpers/mesh-identity';
import { deepThinFixture, THIN_SLOPE, THIN_THRESHOLD, thinDecoder, thinFieldWgsl, thinTriplane } from '../helpers/thin-fixtures';
import { gpuCheck, trackedDevice, type TrackedDevice } from './gpu-harness';

// denseShare 1: these fixtures test the criterion and the gathered halo, so the walk must not switch
// to decoding every point when the bound refines most blocks (that path is tested in triplane-mesher).
const GATHER = { denseShare: 1 };

describe('GPU coarse-to-fine keeps thin parts', () => {
  let t: TrackedDevice;
  beforeAll(async () => {
    t = await trackedDevice();
  });
  afterAll(() => t.device.destroy());

  it('analytic rods, plate and shell at 64³: identical to dense', async () => {
    const r = 64;
    const dims: Dims = [r, r, r];
    const field = analyticEvaluator(t.device, thinFieldWgsl(r), { slope: THIN_SLOPE, scale: { activation: 'exp' } });
    const run = (mode: 'dense' | 'coarse-to-fine') =>
      gpuCheck(t, async () => {
        const walked = await densityWalk(t.device, field, dims, DEFAULT_BOUNDS, THIN_THRESHOLD, { mode, coarseToFine: GATHER });
        try {
          return { mesh: await marchingCubes(t.device, walked.field, dims, THIN_THRESHOLD, { bounds: DEFAULT_BOUNDS }), evaluations: walked.evaluations };
        } finally {
          walked.field.destroy();
        }
      });
    const dense = await run('dense');
    const c2f = await run('coarse-to-fine');
    expect(dense.mesh.indices.length).toBeGreaterThan(3000);
    expectIdenticalMeshes(c2f.mesh, dense.mesh);
    expect(c2f.evaluations).toBeLessThan(dense.evaluations);
  });

  it('a shallow triplane decoder with rods and a skew plate at 48³: identical, also in slabs', async () => {
    const r = 48;
    const triplane = thinTriplane(r);
    const weights = thinDecoder();
    const base = { resolution: r, threshold: THIN_THRESHOLD, coarseToFine: { bound: triplaneWalkBound(triplane, weights), ...GATHER } };
    const dense = await gpuCheck(t, () => meshTriplane(t.device, triplane, weights, { ...base, mode: 'dense' }));
    const c2f = await gpuCheck(t, () => meshTriplane(t.device, triplane, weights, { ...base, mode: 'coarse-to-fine' }));
    expect(dense.indices.length).toBeGreaterThan(3000);
    expectIdenticalMeshes(c2f, dense);
    expect(c2f.stats.evaluations).toBeLessThan(dense.stats.evaluations);
    // Slabs of a few layers: a refined block's halo reaches into the neighbouring slab.
    const split = await gpuCheck(t, () =>
      meshTriplane(t.device, triplane, weights, { ...base, mode: 'coarse-to-fine', maxBindingBytes: 128 * 1024, maxWorkgroupsPerDimension: 64 }),
    );
    expectIdenticalMeshes(split, dense);
  });

  it('a deep (10-layer) triplane decoder with a thin part at 32³: identical', async () => {
    const { triplane, weights } = deepThinFixture();
    const base = { resolution: 32, threshold: THIN_THRESHOLD, coarseToFine: { bound: triplaneWalkBound(triplane, weights), ...GATHER } };
    const dense = await gpuCheck(t, () => meshTriplane(t.device, triplane, weights, { ...base, mode: 'dense' }));
    const c2f = await gpuCheck(t, () => meshTriplane(t.device, triplane, weights, { ...base, mode: 'coarse-to-fine' }));
    expect(dense.indices.length).toBeGreaterThan(3000);
    expectIdenticalMeshes(c2f, dense);
    expect(c2f.stats.evaluations).toBeLessThanOrEqual(dense.stats.evaluations);
  });
});
