import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDecoderOnnx } from '../../src/gpu/decoder-weights';
import { decodePointsCpu } from '../../src/gpu/reference/triplane-decoder-cpu';
import { decodePoints } from '../../src/gpu/triplane-decoder';
import { writeDecoderVariant, type DecoderVariantOptions } from '../helpers/onnx-writer';
import { blobDecoder, smoothTriplane } from '../helpers/synthetic-decoder';
import { gpuCheck, trackedDevice, type TrackedDevice } from './gpu-harness';

// The WGSL kernel computes the graph's activations (override constants) like the CPU reference.
const FORMS: DecoderVariantOptions[] = [
  { hidden: 'relu', density: 'softplus' },
  { density: 'relu', colour: 'sigmoid-clip' },
  { density: 'exp-clip', colour: 'clip-sigmoid' },
  { density: 'clip-raw', colour: 'clip-raw', heads: 'two' },
];

describe('GPU decoder with the activations a graph declares', () => {
  let t: TrackedDevice;
  beforeAll(async () => {
    t = await trackedDevice();
  });
  afterAll(() => t.device.destroy());

  const triplane = smoothTriplane(7);
  const weights = blobDecoder(7, triplane, 0.5, 3, 1);
  const points = Float32Array.from({ length: 3 * 96 }, (_, i) => 0.5 * Math.sin(i * 1.618 + 0.2));

  for (const form of FORMS) {
    it(JSON.stringify(form), async () => {
      const read = readDecoderOnnx(writeDecoderVariant(weights, form).model);
      const gpu = await gpuCheck(t, () => decodePoints(t.device, triplane, read, points));
      const cpu = decodePointsCpu(triplane, read, points);
      const distinct = new Set<string>();
      gpu.density.forEach((d, i) => {
        expect(Math.abs(d - cpu.density[i]!), `density ${i}`).toBeLessThanOrEqual(1e-3 * (1 + cpu.density[i]!));
        distinct.add(cpu.density[i]!.toFixed(3));
      });
      gpu.colour.forEach((c, i) => expect(Math.abs(c - cpu.colour[i]!), `colour ${i}`).toBeLessThan(1e-4));
      expect(distinct.size).toBeGreaterThan(10);
    });
  }
});
