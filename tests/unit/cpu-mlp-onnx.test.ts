import { describe, expect, it } from 'vitest';
import { mlpOnnx } from '../../src/cpu/mlp-onnx';
import { readDecoderOnnx } from '../../src/gpu/decoder-weights';
import { testDecoderWeights } from '../../scripts/make-test-models';

describe('mlpOnnx (the CPU path decoder graph)', () => {
  it('reads back through the project ONNX reader as the same layers, with raw outputs', () => {
    const weights = testDecoderWeights();
    const back = readDecoderOnnx(mlpOnnx(weights));
    expect(back.layers.length).toBe(weights.layers.length);
    back.layers.forEach((layer, k) => {
      const ours = weights.layers[k]!;
      expect([layer.inFeatures, layer.outFeatures]).toEqual([ours.inFeatures, ours.outFeatures]);
      expect(layer.weight).toEqual(ours.weight);
      expect(layer.bias).toEqual(ours.bias);
    });
    expect(back.graphApplies).toEqual({ densityExp: false, colourSigmoid: false });
  });
});
