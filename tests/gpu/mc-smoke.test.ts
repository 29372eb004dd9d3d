import { expect, it } from 'vitest';
import { marchingCubes } from '../../src/gpu/marching-cubes';
import { marchingCubesCpu } from '../../src/gpu/reference/marching-cubes-cpu';
import { makeField, maxVertexSetDistance, triangleSet, isClosed } from '../helpers/mesh-metrics';
import { gpuCheck, trackedDevice } from './gpu-harness';

it('smoke', async () => {
  const t = await trackedDevice();
  const dims: [number, number, number] = [20, 24, 28];
  const f = makeField(dims, (x, y, z) => 7 - Math.hypot(x - 9.5, y - 11.3, z - 13.1));
  const cpu = marchingCubesCpu(f, dims, 0);
  const gpu = await gpuCheck(t, () => marchingCubes(t.device, f, dims, 0));
  const split = await gpuCheck(t, () => marchingCubes(t.device, f, dims, 0, { maxBindingBytes: 24 * 28 * 8 * 4, maxWorkgroupsPerDimension: 4 }));
  console.log(cpu.positions.length, gpu.positions.length, split.positions.length, maxVertexSetDistance(cpu.positions, gpu.positions), isClosed(gpu), isClosed(split));
  expect(gpu.indices.length).toBe(cpu.indices.length);
  const a = triangleSet(cpu); const b = triangleSet(gpu); const c = triangleSet(split);
  let same = 0; for (const k of a) if (b.has(k) && c.has(k)) same++;
  expect(same).toBe(a.size);
  t.device.destroy();
});
