import { describe, expect, it } from 'vitest';
import { readDecoderOnnx } from '../../src/gpu/decoder-weights';
import { decodePointsCpu } from '../../src/gpu/reference/triplane-decoder-cpu';
import { goldenTriplane, goldenWeights } from '../helpers/golden-inputs';
import goldenDecoder from '../fixtures/goldens/decoder-torch.json';
import { writeDecoderOnnx, type DecoderLayout } from '../helpers/onnx-writer';

const weights = goldenWeights();

describe('readDecoderOnnx', () => {
  const layouts: DecoderLayout[] = ['gemm-transB', 'gemm', 'matmul-add'];
  for (const layout of layouts) {
    for (const fold of [false, true]) {
      it(`reads ${layout}${fold ? ' with exp and sigmoid folded in' : ''}`, () => {
        const read = readDecoderOnnx(writeDecoderOnnx(weights, { layout, foldActivations: fold }));
        expect(read.layers.map((l) => [l.inFeatures, l.outFeatures])).toEqual(weights.layers.map((l) => [l.inFeatures, l.outFeatures]));
        read.layers.forEach((l, k) => {
          expect(l.weight).toEqual(weights.layers[k]!.weight);
          expect(l.bias).toEqual(weights.layers[k]!.bias);
        });
        expect(read.graphApplies).toEqual({ densityExp: fold, colourSigmoid: fold });
        // Never applied twice: the decoded density is exp(raw − 1) either way.
        expect(read.densityBias).toBe(-1);
        const points = Float32Array.from(goldenDecoder.points.slice(0, 30));
        const { density } = decodePointsCpu(goldenTriplane(), read, points);
        density.forEach((d, i) => expect(Math.abs(d - goldenDecoder.density[i]!) / goldenDecoder.density[i]!).toBeLessThan(1e-4));
      });
    }
  }

  it('reads a tail cut with Slice', () => {
    const read = readDecoderOnnx(writeDecoderOnnx(weights, { layout: 'gemm-transB', tail: 'slice' }));
    expect(read.layers.length).toBe(10);
    expect(read.graphApplies).toEqual({ densityExp: false, colourSigmoid: false });
  });

  it('reads Relu hidden layers (once refused)', () => {
    expect(readDecoderOnnx(writeDecoderOnnx(weights, { layout: 'gemm', activation: 'relu' })).hidden).toBe('relu');
  });

  it('rejects truncated and non-ONNX bytes with a clear message', () => {
    const bytes = writeDecoderOnnx(weights, { layout: 'gemm' });
    expect(() => readDecoderOnnx(bytes.subarray(0, bytes.length - 1000))).toThrow(/truncated or corrupt|holds/);
    expect(() => readDecoderOnnx(new TextEncoder().encode('not a model'))).toThrow();
  });
});
