import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computePipeline, computePipelineAsync } from '../../src/gpu/gpu-kit';
import { mesherKernels, warmPipelines } from '../../src/gpu/pipelines';
import { meshTriplane, type TriplaneMesherOptions } from '../../src/gpu/triplane-mesher';
import { blobDecoder, smoothTriplane } from '../helpers/synthetic-decoder';
import { gpuCheck, trackedDevice, withTimeout, type TrackedDevice } from './gpu-harness';

/** Counts synchronous pipeline creations on `device` from now on. */
function countSyncPipelines(device: GPUDevice): { count: () => number } {
  let count = 0;
  const create = device.createComputePipeline.bind(device);
  device.createComputePipeline = (desc: GPUComputePipelineDescriptor): GPUComputePipeline => {
    count++;
    return create(desc);
  };
  return { count: () => count };
}

describe('pipelines built asynchronously before the first mesh', () => {
  let warm: TrackedDevice;
  let cold: TrackedDevice;
  beforeAll(async () => {
    warm = await trackedDevice();
    cold = await trackedDevice();
  });
  afterAll(() => {
    warm.device.destroy();
    cold.device.destroy();
  });

  const triplane = smoothTriplane(21);
  const weights = blobDecoder(22, triplane);
  const runs: TriplaneMesherOptions[] = [
    { resolution: 24, threshold: 25, mode: 'coarse-to-fine' },
    { resolution: 20, threshold: 25, mode: 'dense' },
  ];

  it('compiles every mesher kernel, so a mesh then builds no pipeline synchronously and is unchanged', async () => {
    // Inside the validation scope: each kernel's module compiles and its pipeline is valid.
    await gpuCheck(warm, () => warmPipelines(warm.device, { weights }));
    const warmSpy = countSyncPipelines(warm.device);
    const coldSpy = countSyncPipelines(cold.device);
    for (const options of runs) {
      const after = await gpuCheck(warm, () => meshTriplane(warm.device, triplane, weights, options));
      const before = await gpuCheck(cold, () => meshTriplane(cold.device, triplane, weights, options));
      expect(after.indices.length).toBeGreaterThan(0);
      expect(after.positions).toEqual(before.positions);
      expect(after.indices).toEqual(before.indices);
      expect(after.normals).toEqual(before.normals);
      expect(after.colours).toEqual(before.colours);
    }
    expect(warmSpy.count()).toBe(0);
    // The spy sees the builds a device without warm-up does (classify, vertices, triangles, scans,
    // c2f fill and gather, decode density and colour).
    expect(coldSpy.count()).toBe(9);
    expect(mesherKernels(weights)).toHaveLength(10);
  });

  it('serves a warmed key only for the same code, and names a kernel the driver refuses', async () => {
    const spy = countSyncPipelines(warm.device);
    const code = '@compute @workgroup_size(1) fn main() { _ = dispatchBase; }';
    await computePipelineAsync(warm.device, 'probe', code);
    computePipeline(warm.device, 'probe', code);
    expect(spy.count()).toBe(0);
    computePipeline(warm.device, 'probe', code + '\n');
    expect(spy.count()).toBe(1);

    warm.device.pushErrorScope('validation');
    const refused = computePipelineAsync(warm.device, 'no-entry-point', 'fn helper() {}');
    await expect(withTimeout(refused, 60_000, 'refused pipeline')).rejects.toThrow(/compute kernel "no-entry-point"/);
    await warm.device.popErrorScope();
  });
});
