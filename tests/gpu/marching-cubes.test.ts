import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import goldenMc from '../fixtures/goldens/mc-skimage.json';
import type { Dims } from '../../src/gpu/constants';
import { marchingCubes } from '../../src/gpu/marching-cubes';
import type { IndexedMesh } from '../../src/gpu/mesh';
import { marchingCubesCpu } from '../../src/gpu/reference/marching-cubes-cpu';
import { cutSphereField, ELLIPSOID, ellipsoidField, sphereField, torusField, twoSpheresField } from '../helpers/analytic-fields';
import { mcGoldenField } from '../helpers/golden-inputs';
import {
  areaAndVolume,
  componentCount,
  eulerCharacteristic,
  extent,
  isClosed,
  maxVertexSetDistance,
  normalAgreement,
  unmatchedTriangles,
} from '../helpers/mesh-metrics';
import { gpuCheck, trackedDevice, type TrackedDevice } from './gpu-harness';

/** Meshes equal as sets: vertex positions within 1e-4 grid units, the same triangles. */
function expectSameMesh(a: IndexedMesh, b: IndexedMesh): void {
  expect(a.positions.length).toBe(b.positions.length);
  expect(maxVertexSetDistance(a.positions, b.positions)).toBeLessThan(1e-4);
  expect(a.indices.length).toBe(b.indices.length);
  expect(unmatchedTriangles(a, b)).toBe(0);
}

function expectUnitNormals(m: IndexedMesh): void {
  for (let i = 0; i < m.normals.length; i += 3) {
    expect(Math.abs(Math.hypot(m.normals[i]!, m.normals[i + 1]!, m.normals[i + 2]!) - 1)).toBeLessThan(1e-5);
  }
}

for (const limits of ['adapter', 'default'] as const) {
  describe(`marchingCubes on the GPU (${limits} limits)`, () => {
    let t: TrackedDevice;
    beforeAll(async () => {
      t = await trackedDevice({ defaultLimits: limits === 'default' });
    });
    afterAll(() => t.device.destroy());
    const march = (field: Float32Array | GPUBuffer, dims: Dims, iso: number, opts = {}) =>
      gpuCheck(t, () => marchingCubes(t.device, field, dims, iso, opts));

    it('matches the CPU reference and skimage on a non-cubic field', async () => {
      const dims = goldenMc.dims as Dims;
      const field = mcGoldenField(dims);
      const gpu = await march(field, dims, 0);
      expectSameMesh(gpu, marchingCubesCpu(field, dims, 0));
      expect(maxVertexSetDistance(gpu.positions, Float32Array.from(goldenMc.vertices))).toBeLessThan(1e-4);
      expect(gpu.indices.length).toBe(goldenMc.faces.length);
      expectUnitNormals(gpu);
    });

    it('meshes a 64³ sphere closed, genus 0, outward, within 1 % of area and volume', async () => {
      const r = 24;
      const field = sphereField(64, r);
      const gpu = await march(field, [64, 64, 64], 0);
      expectSameMesh(gpu, marchingCubesCpu(field, [64, 64, 64], 0));
      expect(isClosed(gpu)).toBe(true);
      expect(eulerCharacteristic(gpu)).toBe(2);
      expect(normalAgreement(gpu)).toBe(1);
      const { area, volume } = areaAndVolume(gpu);
      expect(Math.abs(area / (4 * Math.PI * r * r) - 1)).toBeLessThan(0.01);
      expect(Math.abs(volume / ((4 / 3) * Math.PI * r ** 3) - 1)).toBeLessThan(0.01);
      expectUnitNormals(gpu);
    });

    it('gives a torus χ = 0 and two spheres two components', async () => {
      expect(eulerCharacteristic(await march(torusField(48, 14, 6), [48, 48, 48], 0))).toBe(0);
      expect(componentCount(await march(twoSpheresField(48), [48, 48, 48], 0))).toBe(2);
    });

    it('puts an off-centre ellipsoid on 40×48×56 at the right extent, in world bounds too', async () => {
      const gpu = await march(ellipsoidField(), ELLIPSOID.dims, 0);
      const { min, max } = extent(gpu.positions);
      for (let a = 0; a < 3; a++) {
        expect(Math.abs(min[a]! - (ELLIPSOID.centre[a]! - ELLIPSOID.radii[a]!))).toBeLessThan(0.1);
        expect(Math.abs(max[a]! - (ELLIPSOID.centre[a]! + ELLIPSOID.radii[a]!))).toBeLessThan(0.1);
      }
      const bounds: [[number, number, number], [number, number, number]] = [[-1, -2, -3], [1, 2, 3]];
      const world = await march(ellipsoidField(), ELLIPSOID.dims, 0, { bounds });
      expectSameMesh(world, marchingCubesCpu(ellipsoidField(), ELLIPSOID.dims, 0, { bounds }));
      expectUnitNormals(world);
    });

    it('leaves a cut shape open without pad and closes it with pad', async () => {
      const field = cutSphereField(40);
      const open = await march(field, [40, 40, 40], 0);
      const closed = await march(field, [40, 40, 40], 0, { pad: true });
      expect(isClosed(open)).toBe(false);
      expect(isClosed(closed)).toBe(true);
      expectSameMesh(closed, marchingCubesCpu(field, [40, 40, 40], 0, { pad: true }));
      expectUnitNormals(closed);
    });

    it('gives empty meshes for empty and all-inside fields', async () => {
      expect((await march(new Float32Array(8 ** 3).fill(-1), [8, 8, 8], 0)).indices.length).toBe(0);
      const full = await march(new Float32Array(8 ** 3).fill(1), [8, 8, 8], 0);
      expect(full.positions.length + full.indices.length).toBe(0);
    });

    it('gives the same mesh when forced to split bindings and dispatches', async () => {
      const dims = ELLIPSOID.dims;
      const field = ellipsoidField();
      const whole = await march(field, dims, 0, { pad: true });
      const split = await march(field, dims, 0, { pad: true, maxBindingBytes: 64 * 1024, maxWorkgroupsPerDimension: 4 });
      expectSameMesh(split, whole);
      expect(isClosed(split)).toBe(true);
    });

    it('marches a caller-owned GPUBuffer, split or not, and leaves it alive', async () => {
      const dims = ELLIPSOID.dims;
      const field = ellipsoidField();
      const buffer = t.device.createBuffer({ size: field.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
      t.device.queue.writeBuffer(buffer, 0, field);
      const whole = await march(buffer, dims, 0);
      const split = await march(buffer, dims, 0, { maxBindingBytes: 48 * 1024 });
      expectSameMesh(whole, marchingCubesCpu(field, dims, 0));
      expectSameMesh(split, whole);
      expect(t.live()).toBeGreaterThan(0);
      buffer.destroy();
    });
  });
}
