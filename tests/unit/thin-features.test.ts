import { describe, expect, it } from 'vitest';
import { DEFAULT_BOUNDS, type Dims } from '../../src/gpu/constants';
import type { DecoderWeights } from '../../src/gpu/decoder-weights';
import { densityWalkCpu, type CpuEvaluator } from '../../src/gpu/reference/density-walk-cpu';
import { marchingCubesCpu } from '../../src/gpu/reference/marching-cubes-cpu';
import { meshTriplaneCpu } from '../../src/gpu/reference/triplane-mesher-cpu';
import { declaredWalkBound } from '../../src/gpu/walk-bound';
import { expectIdenticalMeshes } from '../helpers/mesh-identity';
import { deepThinFixture, THIN_SLOPE, THIN_THRESHOLD, thinDecoder, thinEvaluator, thinTriplane } from '../helpers/thin-fixtures';

/** Dense and coarse-to-fine walks of a CPU field at r³, marched at iso. */
function walkBoth(evaluate: CpuEvaluator, r: number, iso: number, slope: number) {
  const dims: Dims = [r, r, r];
  const bound = declaredWalkBound(slope, { activation: 'exp' });
  const dense = densityWalkCpu(evaluate, dims, DEFAULT_BOUNDS, iso, 'dense');
  const c2f = densityWalkCpu(evaluate, dims, DEFAULT_BOUNDS, iso, 'coarse-to-fine', { bound });
  return {
    dense: marchingCubesCpu(dense.field, dims, iso),
    c2f: marchingCubesCpu(c2f.field, dims, iso),
    fraction: c2f.evaluations / r ** 3,
    kind: c2f.kind,
  };
}

describe('coarse-to-fine keeps thin parts (CPU reference)', () => {
  // Rods of radius 0.012, a skew plate and a shell of half-thickness 0.01, between coarse lattice lines.
  for (const r of [128, 256]) {
    it(`analytic rods, plate and shell at ${r}³: identical to dense`, () => {
      const { dense, c2f, fraction, kind } = walkBoth(thinEvaluator(r), r, THIN_THRESHOLD, THIN_SLOPE);
      expect(kind).toBe('declared');
      expect(dense.indices.length).toBeGreaterThan(10_000);
      expectIdenticalMeshes(c2f, dense);
      expect(fraction).toBeLessThan(0.5);
    }, 120_000);
  }

  /** Meshes a triplane fixture densely and coarse-to-fine: the same mesh, walked with the expected bound. */
  function bothWalks(triplane: Float32Array, weights: DecoderWeights, r: number, bound: 'certified' | 'measured') {
    const dense = meshTriplaneCpu(triplane, weights, { resolution: r, threshold: THIN_THRESHOLD, mode: 'dense' });
    const c2f = meshTriplaneCpu(triplane, weights, { resolution: r, threshold: THIN_THRESHOLD, mode: 'coarse-to-fine' });
    expect(c2f.stats.walk).toBe(bound);
    expect(dense.indices.length).toBeGreaterThan(3000);
    expectIdenticalMeshes(c2f, dense);
    return { dense, c2f };
  }

  it('a shallow triplane decoder with two rods and a skew plate at 48³: identical, certified', () => {
    const { dense, c2f } = bothWalks(thinTriplane(48), thinDecoder(), 48, 'certified');
    expect(c2f.stats.evaluations).toBeLessThan(dense.stats.evaluations);
  }, 120_000);

  it('a deep (10-layer) triplane decoder with a thin part at 32³: identical, measured', () => {
    const { triplane, weights } = deepThinFixture();
    const { dense, c2f } = bothWalks(triplane, weights, 32, 'measured');
    // At 32³ (8 blocks per axis) and safety 2 this smooth a field refines nearly every block.
    expect(c2f.stats.evaluations).toBeLessThanOrEqual(dense.stats.evaluations);
  }, 120_000);
});
