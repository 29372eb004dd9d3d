import { expect, it } from 'vitest';
import { meshTriplane } from '../../src/gpu/triplane-mesher';
import { meshTriplaneCpu } from '../../src/gpu/reference/triplane-mesher-cpu';
import { isClosed, maxVertexSetDistance, extent } from '../helpers/mesh-metrics';
import { blobDecoder, smoothTriplane } from '../helpers/synthetic-decoder';
import { gpuCheck, trackedDevice } from './gpu-harness';

it('triplane smoke', async () => {
  const t = await trackedDevice();
  const tp = smoothTriplane(1);
  const w = blobDecoder(2, tp);
  const cpu = meshTriplaneCpu(tp, w, { resolution: 32, threshold: 25, mode: 'dense' });
  const cpu2 = meshTriplaneCpu(tp, w, { resolution: 32, threshold: 25, mode: 'coarse-to-fine' });
  const gpu = await gpuCheck(t, () => meshTriplane(t.device, tp, w, { resolution: 32, threshold: 25, mode: 'dense' }));
  const gpu2 = await gpuCheck(t, () => meshTriplane(t.device, tp, w, { resolution: 32, threshold: 25, mode: 'coarse-to-fine' }));
  const gpu3 = await gpuCheck(t, () => meshTriplane(t.device, tp, w, { resolution: 32, threshold: 25, mode: 'coarse-to-fine', maxBindingBytes: 32*32*8*6, maxWorkgroupsPerDimension: 8 }));
  console.log(cpu.positions.length, cpu2.positions.length, gpu.positions.length, gpu2.positions.length, gpu3.positions.length, cpu.stats, cpu2.stats, gpu.stats, gpu2.stats, gpu3.stats);
  console.log(maxVertexSetDistance(cpu.positions, gpu.positions), maxVertexSetDistance(gpu.positions, gpu2.positions), maxVertexSetDistance(gpu.positions, gpu3.positions), isClosed(gpu), JSON.stringify(extent(gpu.positions)));
  let dc = 0; for (let i = 0; i < cpu.colours.length; i++) dc = Math.max(dc, Math.abs(cpu.colours[i]! - gpu.colours[i]!));
  console.log('colour diff', dc);
  expect(gpu.positions.length).toBe(cpu.positions.length);
  t.device.destroy();
});
