import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyticEvaluator, type GpuFieldEvaluator } from '../../src/gpu/field-evaluator';
import { deviceMemory } from '../../src/gpu/gpu-memory';
import { meshField, meshTriplane, type GpuTriplaneMesh } from '../../src/gpu/triplane-mesher';
import { AppError } from '../../src/lib/errors';
import { blobDecoder, smoothTriplane } from '../helpers/synthetic-decoder';
import { gpuCheck, trackedDevice, withTimeout, type TrackedDevice } from './gpu-harness';

// Forced limits small enough that a 32³ job streams through many slabs and many decoder submits.
const SPLIT = { maxBindingBytes: 96 * 1024, maxWorkgroupsPerDimension: 8, slabBytes: 40 * 1024, maxPointsPerSubmit: 2000 };
const SPHERE = 'fn field(p: vec3<f32>) -> f32 { return 25.0 * exp(60.0 * (0.5 - length(p * vec3<f32>(1.0, 1.2, 0.9)))); }';
/** The raw value ln 25 + 60·(0.5 − |p·(1, 1.2, 0.9)|) changes by at most 60 · 1.2 per world unit. */
const SPHERE_SLOPE = { slope: 72, scale: { activation: 'exp' as const } };

function expectSameMesh(a: GpuTriplaneMesh, b: GpuTriplaneMesh): void {
  expect(a.positions).toEqual(b.positions);
  expect(a.indices).toEqual(b.indices);
  expect(a.normals).toEqual(b.normals);
  expect(a.colours).toEqual(b.colours);
}

describe('GPU mesher memory, chunked decoding and error scopes', () => {
  let t: TrackedDevice;
  beforeAll(async () => {
    t = await trackedDevice();
  });
  afterAll(() => t.device.destroy());

  const triplane = smoothTriplane(11);
  const weights = blobDecoder(12, triplane);

  it('streams slabs: the same mesh and exactly the planned evaluations at every slab size, with a lower peak', async () => {
    // Coarse-to-fine both ways: gathering refined blocks (denseShare 1) and decoding every point.
    const walks = [
      { resolution: 32, mode: 'dense' },
      { resolution: 32, mode: 'coarse-to-fine', coarseToFine: { denseShare: 1 } },
      { resolution: 32, mode: 'coarse-to-fine' },
    ] as const;
    for (const walk of walks) {
      const mode = walk.mode;
      const base = { threshold: 25, ...walk };
      const whole = await gpuCheck(t, () => meshTriplane(t.device, triplane, weights, base));
      const split = await gpuCheck(t, () => meshTriplane(t.device, triplane, weights, { ...base, ...SPLIT }));
      expectSameMesh(split, whole);
      // Halo layers are carried from slab to slab, never evaluated twice.
      expect(split.stats.evaluations).toBe(whole.stats.evaluations);
      if (mode === 'dense') expect(split.stats.evaluations).toBe(32 ** 3);
      expect(split.stats.peakBytes).toBeGreaterThan(0);
      expect(split.stats.peakBytes).toBeLessThan(whole.stats.peakBytes);
    }
  });

  it('decodes vertex colours in bounded submits with the same result', async () => {
    const base = { resolution: 32, threshold: 25, mode: 'coarse-to-fine' as const };
    const whole = await gpuCheck(t, () => meshTriplane(t.device, triplane, weights, base));
    const chunked = await gpuCheck(t, () => meshTriplane(t.device, triplane, weights, { ...base, maxPointsPerSubmit: 400 }));
    expect(whole.positions.length / 3).toBeGreaterThan(3 * 400);
    expectSameMesh(chunked, whole);
    expect(chunked.stats.evaluations).toBe(whole.stats.evaluations);
  });

  it('never holds the whole fine field: a 96³ job peaks below one field at a small slab budget', async () => {
    const sphere = analyticEvaluator(t.device, SPHERE, SPHERE_SLOPE);
    const memory = deviceMemory(t.device);
    const mesh = await gpuCheck(t, () =>
      meshField(t.device, () => ({ density: sphere }), { resolution: 96, threshold: 25, mode: 'coarse-to-fine', slabBytes: 512 * 1024 }),
    );
    expect(mesh.indices.length).toBeGreaterThan(0);
    // One 96³ float field is 3.4 MiB; the counts of a slab are at most 0.5 MiB, its field half that.
    expect(mesh.stats.peakBytes).toBeLessThan(96 ** 3 * 4 * 0.6);
    expect(memory.live).toBe(0);
  });

  it('reports monotone progress that reaches 1, dense and coarse-to-fine', async () => {
    for (const mode of ['dense', 'coarse-to-fine'] as const) {
      const progress: number[] = [];
      let readyAt = -1;
      await gpuCheck(t, () =>
        meshTriplane(t.device, triplane, weights, {
          resolution: 32,
          threshold: 25,
          mode,
          ...SPLIT,
          onProgress: (f) => progress.push(f),
          onFieldReady: () => (readyAt = progress.length),
        }),
      );
      expect(progress.length).toBeGreaterThan(5);
      progress.forEach((f, i) => {
        expect(f).toBeGreaterThan(i > 0 ? progress[i - 1]! : 0);
        expect(f).toBeLessThanOrEqual(1);
      });
      expect(progress.at(-1)).toBe(1);
      expect(readyAt).toBe(progress.length);
    }
  });

  it('stops with AbortError when the signal is aborted from inside onProgress, leaving no mesher bytes', async () => {
    for (const mode of ['dense', 'coarse-to-fine'] as const) {
      const controller = new AbortController();
      const before = t.live();
      const seen: number[] = [];
      const job = meshTriplane(t.device, triplane, weights, {
        resolution: 32,
        threshold: 25,
        mode,
        ...SPLIT,
        signal: controller.signal,
        onProgress: (f) => {
          seen.push(f);
          if (f > 0.3) controller.abort();
        },
      });
      await expect(withTimeout(job, 120_000, 'aborted mesh')).rejects.toMatchObject({ name: 'AbortError' });
      expect(seen.at(-1)).toBeLessThan(1);
      expect(deviceMemory(t.device).live).toBe(0);
      expect(t.live()).toBe(before);
    }
  });

  it('turns a validation error inside a stage into AppError mesher-gpu-error, with nothing left alive', async () => {
    const sphere = analyticEvaluator(t.device, SPHERE, SPHERE_SLOPE);
    // Binds the job's uniform buffer as the results storage buffer: a real validation error.
    const broken: GpuFieldEvaluator = {
      bound: sphere.bound,
      encode: (pass, scope, job, maxPerDim) => sphere.encode(pass, scope, { ...job, results: job.params }, maxPerDim),
    };
    for (const mode of ['dense', 'coarse-to-fine'] as const) {
      const before = t.live();
      const error = await gpuCheck(t, () =>
        meshField(t.device, () => ({ density: broken }), { resolution: 24, threshold: 25, mode }).then(
          () => null,
          (e: unknown) => e,
        ),
      );
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('mesher-gpu-error');
      expect((error as AppError).cause).toBeInstanceOf(GPUValidationError);
      expect(deviceMemory(t.device).live).toBe(0);
      expect(t.live()).toBe(before);
    }
  });
});
