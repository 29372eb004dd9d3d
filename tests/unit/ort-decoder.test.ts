import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { DecoderGraphError, readDecoderOnnx } from '../../src/gpu/decoder-weights';
import { readDecoderOutputs } from '../../src/gpu/decoder-tail';
import { createOrtDecoder, decodePointsOrt, meshTriplaneOrtCpu } from '../../src/gpu/ort-decoder';
import { decodePointsCpu } from '../../src/gpu/reference/triplane-decoder-cpu';
import { meshTriplaneCpu } from '../../src/gpu/reference/triplane-mesher-cpu';
import { maxVertexSetDistance } from '../helpers/mesh-metrics';
import { writeDecoderVariant } from '../helpers/onnx-writer';
import { blobDecoder, smoothTriplane } from '../helpers/synthetic-decoder';

describe('decoder.onnx through onnxruntime (WASM) when the reader refuses it', () => {
  const triplane = smoothTriplane(11);
  const weights = blobDecoder(12, triplane);
  beforeAll(() => {
    ort.env.wasm.numThreads = 1;
  });

  it('reads the outputs of a refused graph from its tail', () => {
    const refused = writeDecoderVariant(weights, { hidden: 'silu-div', density: 'exp', colour: 'sigmoid' }).model;
    expect(() => readDecoderOnnx(refused)).toThrow(DecoderGraphError);
    const outputs = readDecoderOutputs(refused);
    expect(outputs.names).toEqual({ density: 'density', colour: 'colour' });
    expect(outputs.density.activation).toBe('exp');
    expect(outputs.colour.activation).toBe('sigmoid');
    const raw = readDecoderOutputs(writeDecoderVariant(weights, { hidden: 'silu-div', density: 'offset' }).model);
    expect([raw.density.activation, raw.density.outputShift, raw.colour.activation]).toEqual([undefined, 0, undefined]);
    const bare = readDecoderOutputs(writeDecoderVariant(weights, { hidden: 'silu-div' }).model);
    expect(bare.density.outputShift).toBe(-1);
  });

  for (const tail of [{}, { density: 'exp', colour: 'sigmoid' }, { density: 'offset' }] as const) {
    it(`decodes like the CPU reference of the equivalent accepted graph (${JSON.stringify(tail)})`, async () => {
      const decoder = await createOrtDecoder(ort, writeDecoderVariant(weights, { hidden: 'silu-div', ...tail }).model, undefined, { batch: 50 });
      const points = Float32Array.from({ length: 3 * 120 }, (_, i) => 0.6 * Math.sin(i * 1.618 + 0.2));
      const got = await decodePointsOrt(decoder, triplane, points);
      const want = decodePointsCpu(triplane, readDecoderOnnx(writeDecoderVariant(weights, tail).model), points);
      got.density.forEach((d, i) => expect(Math.abs(d - want.density[i]!)).toBeLessThanOrEqual(1e-4 * (1 + want.density[i]!)));
      got.colour.forEach((c, i) => expect(c).toBeCloseTo(want.colour[i]!, 4));
      await decoder.session.release();
    }, 60_000);
  }

  it('meshes on the CPU like the CPU reference, and says onnxruntime ran', async () => {
    const decoder = await createOrtDecoder(ort, writeDecoderVariant(weights, { hidden: 'silu-div' }).model);
    const options = { resolution: 24, threshold: 25 };
    const mesh = await meshTriplaneOrtCpu(triplane, decoder, options);
    await decoder.session.release();
    const reference = meshTriplaneCpu(triplane, readDecoderOnnx(writeDecoderVariant(weights).model), { ...options, mode: 'dense' });
    expect(mesh.stats.decoder).toBe('onnxruntime');
    expect(reference.positions.length).toBeGreaterThan(300);
    expect(Math.abs(mesh.positions.length - reference.positions.length)).toBeLessThanOrEqual(reference.positions.length * 0.01);
    expect(maxVertexSetDistance(mesh.positions, reference.positions)).toBeLessThan(1.74 / 23);
    expect(mesh.colours.length).toBe(mesh.positions.length);
  }, 120_000);
});
