import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { meshTriplaneCpuAsync, type PointDecoder } from '../../src/cpu/async-mesher';
import { BatchDecoder } from '../../src/cpu/batch-decoder';
import { OrtDecoder } from '../../src/cpu/ort-decoder';
import { CPU_MAX_RESOLUTION, cpuResolution } from '../../src/cpu/resolution-cap';
import { decodePointsCpu } from '../../src/gpu/reference/triplane-decoder-cpu';
import { meshTriplaneCpu } from '../../src/gpu/reference/triplane-mesher-cpu';
import { DENSITY_THRESHOLD, expectedTriplane, syntheticImage, testDecoderWeights } from '../../scripts/make-test-models';

const triplane = expectedTriplane(syntheticImage({ colour: [0.6, 0.45, 0.3], cx: 0.5, cy: 0.5, rx: 0.25, ry: 0.32 }, 1));
const weights = testDecoderWeights();

/** The reference decoder behind the async mesher's decoder interface. */
const referenceDecoder: PointDecoder = {
  decodeInto(points, start, end, density, colour) {
    const out = decodePointsCpu(triplane, weights, points.subarray(3 * start, 3 * end), { density: !!density, colour: !!colour });
    density?.set(out.density, start);
    colour?.set(out.colour, 3 * start);
  },
};

describe('meshTriplaneCpuAsync (the CPU path mesher)', () => {
  // The reference decoder runs a few thousand points per second: dense at 24³, coarse-to-fine at 32³.
  for (const [mode, resolution] of [['dense', 24], ['coarse-to-fine', 32]] as const) {
    it(`gives the reference mesher's mesh bit for bit with the reference decoder (${mode}, ${resolution}³)`, async () => {
      const options = { resolution, threshold: DENSITY_THRESHOLD, mode };
      const ref = meshTriplaneCpu(triplane, weights, options);
      const mesh = await meshTriplaneCpuAsync(triplane, weights, { ...options, decoder: referenceDecoder, chunkPoints: 1000 });
      expect(ref.indices.length).toBeGreaterThan(0);
      expect(mesh.positions).toEqual(ref.positions);
      expect(mesh.normals).toEqual(ref.normals);
      expect(mesh.indices).toEqual(ref.indices);
      expect(mesh.colours).toEqual(ref.colours);
      expect(mesh.stats.evaluations).toBe(ref.stats.evaluations);
    }, 60_000);
  }

  it('gives the same mesh with its own fast decoder: vertex count and positions within 1e-4 at 32³', async () => {
    const options = { resolution: 32, threshold: DENSITY_THRESHOLD, mode: 'coarse-to-fine' } as const;
    const ref = meshTriplaneCpu(triplane, weights, options);
    const mesh = await meshTriplaneCpuAsync(triplane, weights, options);
    // Same crossing edges give the same vertex order, so positions compare one by one.
    expect(mesh.positions.length).toBe(ref.positions.length);
    expect(mesh.indices).toEqual(ref.indices);
    expect(maxDifference(mesh.positions, ref.positions)).toBeLessThan(1e-4);
    let colour = 0;
    for (let i = 0; i < ref.colours.length; i++) colour = Math.max(colour, Math.abs(mesh.colours[i]! - ref.colours[i]!));
    expect(colour).toBeLessThan(1e-5);
  }, 60_000);

  it('gives the same mesh with the onnxruntime-web decoder: vertex count, positions within 1e-4', async () => {
    const options = { resolution: 32, threshold: DENSITY_THRESHOLD, mode: 'coarse-to-fine' } as const;
    const decoder = await OrtDecoder.create(ort, triplane, weights);
    try {
      const ref = meshTriplaneCpu(triplane, weights, options);
      const mesh = await meshTriplaneCpuAsync(triplane, weights, { ...options, decoder });
      // Same crossing edges give the same vertex order, so positions compare one by one.
      expect(mesh.positions.length).toBe(ref.positions.length);
      expect(mesh.indices).toEqual(ref.indices);
      expect(maxDifference(mesh.positions, ref.positions)).toBeLessThan(1e-4);
    } finally {
      await decoder.release();
    }
  }, 60_000);

  it('reports non-decreasing progress that ends at 1, and yields to the event loop between slices', async () => {
    const progress: number[] = [];
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    try {
      await meshTriplaneCpuAsync(triplane, weights, {
        resolution: 32,
        threshold: DENSITY_THRESHOLD,
        mode: 'dense',
        chunkPoints: 1024,
        sliceMs: 0,
        onProgress: (f) => progress.push(f),
      });
    } finally {
      clearInterval(timer);
    }
    expect(progress.length).toBeGreaterThanOrEqual(32);
    expect(progress.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f >= progress[i - 1]!))).toBe(true);
    expect(progress.at(-1)).toBe(1);
    expect(ticks).toBeGreaterThanOrEqual(8);
  }, 60_000);

  it('throws AbortError within one batch of an abort mid-walk, and gives no result', async () => {
    const controller = new AbortController();
    const fast = new BatchDecoder(triplane, weights);
    let chunksAfterAbort = 0;
    const counting: PointDecoder = {
      decodeInto(...args) {
        if (controller.signal.aborted) chunksAfterAbort++;
        fast.decodeInto(...args);
      },
    };
    let progressAtAbort = 0;
    let progressAfterAbort = false;
    const job = meshTriplaneCpuAsync(triplane, weights, {
      resolution: 32,
      threshold: DENSITY_THRESHOLD,
      mode: 'dense',
      decoder: counting,
      signal: controller.signal,
      chunkPoints: 512,
      sliceMs: 0,
      onProgress: (f) => {
        if (controller.signal.aborted) progressAfterAbort = true;
        if (f > 0.2 && !controller.signal.aborted) {
          progressAtAbort = f;
          // Abort from outside the job, as a cancel message would, between two batches.
          setTimeout(() => controller.abort(), 0);
        }
      },
    });
    await expect(job).rejects.toMatchObject({ name: 'AbortError' });
    expect(progressAtAbort).toBeGreaterThan(0.2);
    expect(progressAtAbort).toBeLessThan(0.5);
    expect(chunksAfterAbort).toBe(0);
    expect(progressAfterAbort).toBe(false);
  }, 60_000);

  it('rejects at once when the signal is already aborted', async () => {
    let calls = 0;
    const decoder: PointDecoder = { decodeInto: () => void calls++ };
    const signal = AbortSignal.abort();
    await expect(meshTriplaneCpuAsync(triplane, weights, { resolution: 32, threshold: 25, mode: 'dense', decoder, signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(calls).toBe(0);
  });
});

/** Largest element-wise difference of two arrays of the same length. */
function maxDifference(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

describe('cpuResolution (the CPU path resolution cap)', () => {
  it('keeps resolutions up to 128 and lowers larger ones to 128 with a notice naming both', () => {
    expect(cpuResolution(64)).toEqual({ resolution: 64, notice: null });
    expect(cpuResolution(CPU_MAX_RESOLUTION)).toEqual({ resolution: 128, notice: null });
    const capped = cpuResolution(256);
    expect(capped.resolution).toBe(128);
    expect(capped.notice).toMatch(/128³.*256³/);
  });
});
