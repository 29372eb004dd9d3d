import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kernelLimits, MESHER_BUDGET } from '../../src/gpu/gpu-kit';
import { GpuMemory } from '../../src/gpu/gpu-memory';
import { WalkProgress } from '../../src/gpu/walk-progress';

const MiB = 2 ** 20;

/** kernelLimits reads only `limits`: a stand-in device with an adapter's numbers. */
function fakeDevice(binding: number, buffer: number, perDim = 65535): GPUDevice {
  return { limits: { maxStorageBufferBindingSize: binding, maxBufferSize: buffer, maxComputeWorkgroupsPerDimension: perDim } } as unknown as GPUDevice;
}

describe('the mesher budget', () => {
  it('plans within 128 MiB bindings and 256 MiB buffers whatever a desktop adapter offers', () => {
    const limits = kernelLimits(fakeDevice(4096 * MiB, 4096 * MiB));
    expect(limits.maxBindingBytes).toBe(128 * MiB);
    expect(limits.maxBufferBytes).toBe(256 * MiB);
    expect(limits.slabBytes).toBe(MESHER_BUDGET.slabBytes);
    expect(limits.maxPointsPerSubmit).toBe(MESHER_BUDGET.maxPointsPerSubmit);
  });

  it('fits the default manifest\'s requirements, so a device that passes the adapter check can mesh', () => {
    const manifest = JSON.parse(readFileSync('public/models/manifest.json', 'utf8')) as { requirements: { maxBufferSize: number; maxStorageBufferBindingSize: number } };
    expect(manifest.requirements.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(MESHER_BUDGET.maxBindingBytes);
    expect(manifest.requirements.maxBufferSize).toBeGreaterThanOrEqual(MESHER_BUDGET.maxBufferBytes);
  });

  it('follows a smaller adapter and the overrides tests use', () => {
    const small = kernelLimits(fakeDevice(64 * MiB, 96 * MiB, 256));
    expect(small).toMatchObject({ maxBindingBytes: 64 * MiB, maxBufferBytes: 96 * MiB, maxWorkgroupsPerDimension: 256 });
    const forced = kernelLimits(fakeDevice(4096 * MiB, 4096 * MiB), { maxBindingBytes: 96 * 1024, maxWorkgroupsPerDimension: 8, maxPointsPerSubmit: 0 });
    expect(forced).toMatchObject({ maxBindingBytes: 96 * 1024, maxWorkgroupsPerDimension: 8, maxPointsPerSubmit: 1 });
    // The slab budget never exceeds one binding.
    expect(forced.slabBytes).toBe(96 * 1024);
  });

  it('submits about 1–2 G multiply-adds of the TripoSR MLP at most', () => {
    const macsPerPoint = 120 * 64 + 8 * 64 * 64 + 64 * 4;
    const perSubmit = MESHER_BUDGET.maxPointsPerSubmit * macsPerPoint;
    expect(perSubmit).toBeGreaterThan(1e9);
    expect(perSubmit).toBeLessThan(2e9);
  });
});

describe('GpuMemory', () => {
  it('counts live and peak bytes into its parent, and resets the peak to what is live', () => {
    const device = new GpuMemory();
    const job = new GpuMemory(device);
    job.add(100);
    job.add(300);
    job.remove(100);
    device.add(50);
    expect([job.live, job.peak, job.largestBuffer]).toEqual([300, 400, 300]);
    expect([device.live, device.peak]).toEqual([350, 400]);
    job.resetPeak();
    expect([job.peak, job.largestBuffer]).toEqual([300, 0]);
    job.remove(300);
    expect([job.live, device.live]).toEqual([0, 50]);
  });
});

describe('WalkProgress', () => {
  it('weights layers by their planned work, only rises, and ends at exactly 1', () => {
    const seen: number[] = [];
    const progress = new WalkProgress(Float64Array.from([0, 10, 30, 0]), 10, (f) => seen.push(f));
    progress.start();
    progress.layers(0, 2, 0.5);
    progress.layers(0, 2, 1);
    progress.layers(2, 4, 0.5);
    progress.layers(2, 4, 1);
    expect(seen).toEqual([0.2, 0.3, 0.4, 0.7, 1]);
  });

  it('reports 1 at the start when nothing is planned beyond the head', () => {
    const seen: number[] = [];
    const progress = new WalkProgress(new Float64Array(8), 5, (f) => seen.push(f));
    progress.start();
    progress.layers(0, 8, 1);
    expect(seen).toEqual([1]);
  });
});
