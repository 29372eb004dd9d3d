import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { MLP_ONNX_INPUT, MLP_ONNX_OUTPUT, mlpOnnx } from '../../src/cpu/mlp-onnx';
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

  it('is a well-formed model for an independent protobuf reader (onnx-proto), ReLU variant included', () => {
    const weights = { ...testDecoderWeights(), hidden: 'relu' as const };
    const model = onnxProto.onnx.ModelProto.decode(mlpOnnx(weights));
    expect(Number(model.irVersion)).toBe(8);
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 17]]);
    const graph = model.graph as InstanceType<typeof onnxProto.onnx.GraphProto>;
    const ops = graph.node.map((n) => n.opType);
    expect(ops).toEqual([...Array.from({ length: 9 }, () => ['Gemm', 'Relu']).flat(), 'Gemm']);
    expect(graph.node.filter((n) => n.opType === 'Gemm').every((n) => n.attribute!.some((a) => a.name === 'transB' && Number(a.i) === 1))).toBe(true);
    const dims = (v: onnxProto.onnx.IValueInfoProto) => v.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue));
    expect(graph.input.map((v) => [v.name, dims(v)])).toEqual([[MLP_ONNX_INPUT, ['N', 120]]]);
    expect(graph.output.map((v) => [v.name, dims(v)])).toEqual([[MLP_ONNX_OUTPUT, ['N', 4]]]);
    const w0 = graph.initializer.find((t) => t.name === 'w0')!;
    expect(w0.dims!.map(Number)).toEqual([64, 120]);
    const raw = w0.rawData!;
    expect(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength))).toEqual(weights.layers[0]!.weight);
  });
});
