import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuTexelColourer } from '../../src/cpu/bake';
import { BatchDecoder } from '../../src/cpu/batch-decoder';
import { gpuTexelColourer } from '../../src/gpu/bake';
import { bakeTexture, type BakeOutcome } from '../../src/texture/bake';
import { MESHER_BUDGET } from '../../src/gpu/gpu-kit';
import { evaluationsPerTexel, PROJECT_DEFAULTS } from '../../src/texture/project';
import { rasterizeUvs } from '../../src/texture/raster';
import { surfaceRecords } from '../../src/texture/surface';
import { colourChangePerTexel, bandDecoder, bandMesh, bandTriplane, BAND_THRESHOLD, randomPoints, seamPoints, textureError } from '../helpers/band-fixture';
import { gpuCheck, trackedDevice, type TrackedDevice } from './gpu-harness';

/**
 * The WGSL bake of the band fixture (1 280 triangles, 128²: SwiftShader runs the MLP on the CPU), with
 * watlas loaded in the page through Vite as the worker loads it. Tolerances as in
 * tests/unit/texture-bake.test.ts: 0.03 at any point against the field, 0.01 on average (measured
 * 0.014 and 0.0015); on seams one texel's colour change (0.064 at 128²; measured 0.044). GPU (float32
 * MLP) against CPU (float64): 2/255 per texel; a texel whose bracket flips between the two (the field
 * within float error of the threshold at a search sample) may differ more, so at most 0.1 % of texels
 * may exceed it.
 */
const TOLERANCE = { max: 0.03, mean: 0.01 };
const GPU_CPU = { texel: 2 / 255, outliers: 0.001 };
const SIZE = 128;

describe('GPU texture bake', () => {
  let t: TrackedDevice;
  const triplane = bandTriplane();
  const weights = bandDecoder();
  const { mesh, toSource } = bandMesh(3);
  let baked: BakeOutcome;
  const fractions: number[] = [];

  beforeAll(async () => {
    t = await trackedDevice();
    baked = await gpuCheck(t, () =>
      bakeTexture({ triplane, mesh, toSource, size: SIZE, threshold: BAND_THRESHOLD }, gpuTexelColourer(t.device, triplane, weights), {
        onProgress: (step, fraction) => step === 'bake' && fractions.push(fraction),
      }),
    );
  });
  afterAll(() => t.device.destroy());

  it('bakes in several submits with rising progress', () => {
    expect(baked.texels).toBeGreaterThan(0.4 * SIZE * SIZE);
    // 5 461 texels per submit at the default budget (6 evaluations each).
    const submits = Math.ceil(baked.texels / Math.floor(MESHER_BUDGET.maxPointsPerSubmit / evaluationsPerTexel(PROJECT_DEFAULTS)));
    expect(submits).toBeGreaterThan(1);
    expect(fractions.length).toBeGreaterThan(submits);
    expect(fractions.every((f, i) => i === 0 || f >= fractions[i - 1]!)).toBe(true);
    expect(fractions.at(-1)).toBe(1);
  });

  it('matches the field at random surface points and along the seams', () => {
    const error = textureError(baked.mesh, toSource, triplane, weights, randomPoints(baked.mesh.indices.length / 3, 300));
    expect(error.max).toBeLessThan(TOLERANCE.max);
    expect(error.mean).toBeLessThan(TOLERANCE.mean);
    const seams = seamPoints(baked.mesh, baked.unwrapped.charts, 100);
    expect(seams.length).toBeGreaterThan(50);
    expect(textureError(baked.mesh, toSource, triplane, weights, seams).max).toBeLessThan(colourChangePerTexel(baked.texels));
  });

  it('agrees with the CPU bake texel by texel', async () => {
    const raster = rasterizeUvs(baked.unwrapped.uvs, baked.unwrapped.indices, SIZE);
    // Every third texel: the float64 CPU decoder in the page is the slow side.
    const records = surfaceRecords(baked.unwrapped, raster, toSource).filter((_, i) => Math.floor(i / 6) % 3 === 0);
    const noop = () => undefined;
    const gpu = await gpuCheck(t, () => gpuTexelColourer(t.device, triplane, weights)(records, BAND_THRESHOLD, PROJECT_DEFAULTS, noop));
    const cpu = await cpuTexelColourer(new BatchDecoder(triplane, weights))(records, BAND_THRESHOLD, PROJECT_DEFAULTS, noop);
    let outliers = 0;
    for (let i = 0; i < gpu.length; i++) if (!(Math.abs(gpu[i]! - cpu[i]!) <= GPU_CPU.texel)) outliers++;
    expect(outliers).toBeLessThanOrEqual(GPU_CPU.outliers * gpu.length);
  });

  it('stops with an AbortError between submits and leaves no buffer behind', async () => {
    const raster = rasterizeUvs(baked.unwrapped.uvs, baked.unwrapped.indices, SIZE);
    const records = surfaceRecords(baked.unwrapped, raster, toSource);
    const controller = new AbortController();
    const seen: number[] = [];
    const run = gpuCheck(t, () =>
      gpuTexelColourer(t.device, triplane, weights)(records, BAND_THRESHOLD, PROJECT_DEFAULTS, (f) => {
        seen.push(f);
        controller.abort();
      }, controller.signal),
    );
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen.length).toBe(1);
  });
});
