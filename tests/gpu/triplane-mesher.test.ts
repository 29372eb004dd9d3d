import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import goldenDecoder from '../fixtures/goldens/decoder-torch.json';
import { COARSE_TO_FINE_DEFAULTS } from '../../src/gpu/coarse-to-fine';
import { DEFAULT_BOUNDS } from '../../src/gpu/constants';
import { densityWalk } from '../../src/gpu/density-walk';
import { analyticEvaluator } from '../../src/gpu/field-evaluator';
import { marchingCubes } from '../../src/gpu/marching-cubes';
import { decodePointsCpu } from '../../src/gpu/reference/triplane-decoder-cpu';
import { meshTriplaneCpu } from '../../src/gpu/reference/triplane-mesher-cpu';
import { decodePoints } from '../../src/gpu/triplane-decoder';
import { meshTriplane } from '../../src/gpu/triplane-mesher';
import { triplaneWalkBound } from '../../src/gpu/triplane-walk-bound';
import { goldenTriplane, goldenWeights } from '../helpers/golden-inputs';
import { isClosed, maxVertexSetDistance, unmatchedTriangles } from '../helpers/mesh-metrics';
import { blobDecoder, smoothTriplane } from '../helpers/synthetic-decoder';
import { gpuCheck, trackedDevice, type TrackedDevice } from './gpu-harness';

// Decoder tolerance: float32 MLP on the GPU vs float64 on the CPU and torch's float32:
// features within 1e-5 absolute, density within 1e-3 relative, colour within 1e-4 absolute.
const DENSITY_REL = 1e-3;
const COLOUR_ABS = 1e-4;

for (const limits of ['adapter', 'default'] as const) {
  describe(`GPU triplane decoder and mesher (${limits} limits)`, () => {
    let t: TrackedDevice;
    beforeAll(async () => {
      t = await trackedDevice({ defaultLimits: limits === 'default' });
    });
    afterAll(() => t.device.destroy());

    it('decodes like torch and the CPU reference, at texel centres and by the box boundary', async () => {
      const triplane = goldenTriplane();
      const weights = goldenWeights();
      const points = Float32Array.from(goldenDecoder.points);
      const gpu = await gpuCheck(t, () => decodePoints(t.device, triplane, weights, points));
      const cpu = decodePointsCpu(triplane, weights, points);
      gpu.density.forEach((d, i) => {
        expect(Math.abs(d - goldenDecoder.density[i]!) / goldenDecoder.density[i]!).toBeLessThan(DENSITY_REL);
        expect(Math.abs(d - cpu.density[i]!) / cpu.density[i]!).toBeLessThan(DENSITY_REL);
      });
      gpu.colour.forEach((c, i) => {
        expect(Math.abs(c - goldenDecoder.colour[i]!)).toBeLessThan(COLOUR_ABS);
        expect(Math.abs(c - cpu.colour[i]!)).toBeLessThan(COLOUR_ABS);
      });
    });

    const triplane = smoothTriplane(11);
    const weights = blobDecoder(12, triplane);

    it('meshes a seeded triplane like the CPU reference, closed, with vertex colours', async () => {
      const options = { resolution: 32, threshold: 25, mode: 'dense' as const };
      const gpu = await gpuCheck(t, () => meshTriplane(t.device, triplane, weights, options));
      const cpu = meshTriplaneCpu(triplane, weights, options);
      expect(gpu.positions.length).toBe(cpu.positions.length);
      expect(maxVertexSetDistance(gpu.positions, cpu.positions)).toBeLessThan(1e-4);
      expect(gpu.indices.length).toBe(cpu.indices.length);
      expect(unmatchedTriangles(gpu, cpu)).toBe(0);
      expect(isClosed(gpu)).toBe(true);
      expect(gpu.stats.evaluations).toBe(32 ** 3);
      expect(gpu.colours.length).toBe(gpu.positions.length);
      // Vertex order is the same on both paths ((x, y, z, axis) order), so colours compare per vertex.
      gpu.colours.forEach((c, i) => expect(Math.abs(c - cpu.colours[i]!)).toBeLessThan(COLOUR_ABS));
    });

    // Both ways of decoding refined points: gathering refined blocks (denseShare 1 never switches) and,
    // past denseShare of the blocks refined, every point that is not a coarse sample. Each path runs
    // under one limit setting (both also run split into small submits below): gathering every block
    // of this fixture is the slowest walk on SwiftShader (thin-features.test.ts gathers under the
    // adapter's limits too).
    for (const denseShare of limits === 'default' ? [1] : [COARSE_TO_FINE_DEFAULTS.denseShare]) {
      it(`coarse-to-fine gives the identical mesh, and splitting changes nothing (denseShare ${denseShare})`, async () => {
        const bound = triplaneWalkBound(triplane, weights);
        const base = { resolution: 32, threshold: 25, coarseToFine: { bound, denseShare } };
        const dense = await gpuCheck(t, () => meshTriplane(t.device, triplane, weights, { ...base, mode: 'dense' }));
        const c2f = await gpuCheck(t, () => meshTriplane(t.device, triplane, weights, { ...base, mode: 'coarse-to-fine' }));
        expect(c2f.positions).toEqual(dense.positions);
        expect(c2f.indices).toEqual(dense.indices);
        expect(c2f.colours).toEqual(dense.colours);
        // A conservative bound refines most blocks of this fixture at 32³ (its raw stays within a few
        // units of iso outside the blob); thin-features.test.ts asserts the savings on fixtures whose raw
        // falls away from the surface, as TripoSR's does.
        expect(c2f.stats.refinedShare).toBeGreaterThan(COARSE_TO_FINE_DEFAULTS.denseShare);
        expect(c2f.stats.evaluations).toBeLessThanOrEqual(dense.stats.evaluations);
        // Decoding every point counts each lattice point once: the coarse samples are not decoded twice.
        if (denseShare < 1) expect(c2f.stats.evaluations).toBe(dense.stats.evaluations);
        const split = await gpuCheck(t, () =>
          meshTriplane(t.device, triplane, weights, { ...base, mode: 'coarse-to-fine', maxBindingBytes: 96 * 1024, maxWorkgroupsPerDimension: 8, maxPointsPerSubmit: 3000 }),
        );
        expect(split.positions).toEqual(dense.positions);
        expect(split.indices).toEqual(dense.indices);
        expect(split.colours).toEqual(dense.colours);
        expect(split.stats.evaluations).toBe(c2f.stats.evaluations);
      });
    }

    it('walks an analytic field: coarse-to-fine equals dense with fewer evaluations', async () => {
      const sphere = analyticEvaluator(t.device, 'fn field(p: vec3<f32>) -> f32 { return 0.5 - length(p * vec3<f32>(1.0, 1.3, 0.8)); }', { slope: 1.3 });
      const dims: [number, number, number] = [48, 40, 56];
      const run = (mode: 'dense' | 'coarse-to-fine') =>
        gpuCheck(t, async () => {
          const { field, evaluations } = await densityWalk(t.device, sphere, dims, DEFAULT_BOUNDS, 0, { mode });
          try {
            return { mesh: await marchingCubes(t.device, field, dims, 0, { bounds: DEFAULT_BOUNDS }), evaluations };
          } finally {
            field.destroy();
          }
        });
      const dense = await run('dense');
      const c2f = await run('coarse-to-fine');
      expect(dense.evaluations).toBe(48 * 40 * 56);
      expect(c2f.evaluations).toBeLessThan(dense.evaluations * 0.7);
      expect(c2f.mesh.positions).toEqual(dense.mesh.positions);
      expect(c2f.mesh.indices).toEqual(dense.mesh.indices);
      expect(isClosed(dense.mesh)).toBe(true);
    });
  });
}
