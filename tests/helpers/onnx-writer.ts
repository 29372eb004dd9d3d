import onnxProto from 'onnx-proto';
import type { DecoderWeights } from '../../src/gpu/decoder-weights';

const { onnx } = onnxProto;

/** A float tensor initializer with raw little-endian data. */
function tensor(name: string, dims: number[], values: Float32Array): InstanceType<typeof onnx.TensorProto> {
  return onnx.TensorProto.create({
    name,
    dims,
    dataType: onnx.TensorProto.DataType.FLOAT,
    rawData: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)),
  });
}

function node(opType: string, inputs: string[], outputs: string[], attrs: Record<string, number | number[]> = {}, name = outputs[0]!) {
  return onnx.NodeProto.create({
    opType,
    input: inputs,
    output: outputs,
    name,
    attribute: Object.entries(attrs).map(([key, v]) =>
      Array.isArray(v)
        ? onnx.AttributeProto.create({ name: key, ints: v, type: onnx.AttributeProto.AttributeType.INTS })
        : onnx.AttributeProto.create({ name: key, i: v, type: onnx.AttributeProto.AttributeType.INT }),
    ),
  });
}

function valueInfo(name: string, dims: (number | string)[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

/** Layouts of published decoder exports. */
export type DecoderLayout = 'gemm-transB' | 'gemm' | 'matmul-add';

/**
 * Writes a decoder ONNX graph (features [N,120] → density [N,1], colour [N,3]) with the given layer
 * layout, SiLU as Sigmoid + Mul, and the output activations optionally folded into the graph.
 * Initializers are shuffled so their order is not layer order. Written by onnx-proto (protobufjs),
 * independently of the project's reader.
 */
export function writeDecoderOnnx(
  weights: DecoderWeights,
  opts: { layout: DecoderLayout; foldActivations?: boolean; tail?: 'split' | 'slice'; activation?: 'silu' | 'relu' },
): Uint8Array {
  const nodes = [];
  const inits = [];
  let current = 'features_in';
  weights.layers.forEach((l, k) => {
    const out = `h${k}`;
    if (opts.layout === 'matmul-add') {
      const wt = new Float32Array(l.inFeatures * l.outFeatures);
      for (let o = 0; o < l.outFeatures; o++) for (let i = 0; i < l.inFeatures; i++) wt[i * l.outFeatures + o] = l.weight[o * l.inFeatures + i]!;
      inits.push(tensor(`mlp.${k}.w`, [l.inFeatures, l.outFeatures], wt), tensor(`mlp.${k}.b`, [l.outFeatures], l.bias));
      nodes.push(node('MatMul', [current, `mlp.${k}.w`], [`${out}_mm`]), node('Add', [`${out}_mm`, `mlp.${k}.b`], [out]));
    } else {
      const transB = opts.layout === 'gemm-transB';
      let w = l.weight;
      if (!transB) {
        w = new Float32Array(l.weight.length);
        for (let o = 0; o < l.outFeatures; o++) for (let i = 0; i < l.inFeatures; i++) w[i * l.outFeatures + o] = l.weight[o * l.inFeatures + i]!;
      }
      inits.push(
        tensor(`mlp.${k}.weight`, transB ? [l.outFeatures, l.inFeatures] : [l.inFeatures, l.outFeatures], w),
        tensor(`mlp.${k}.bias`, [l.outFeatures], l.bias),
      );
      nodes.push(node('Gemm', [current, `mlp.${k}.weight`, `mlp.${k}.bias`], [out], transB ? { transB: 1 } : {}));
    }
    current = out;
    if (k < weights.layers.length - 1) {
      if (opts.activation === 'relu') {
        nodes.push(node('Relu', [out], [`${out}_act`], {}, `/act_${k}/Relu`));
      } else {
        nodes.push(node('Sigmoid', [out], [`${out}_sig`]), node('Mul', [out, `${out}_sig`], [`${out}_act`]));
      }
      current = `${out}_act`;
    }
  });
  const outputs = opts.foldActivations ? ['density_raw', 'colour_raw'] : ['density', 'colour'];
  if (opts.tail === 'slice') {
    inits.push(
      tensor('s0', [1], Float32Array.of(0)),
      tensor('s1', [1], Float32Array.of(1)),
      tensor('s4', [1], Float32Array.of(4)),
      tensor('ax', [1], Float32Array.of(1)),
    );
    nodes.push(node('Slice', [current, 's0', 's1', 'ax'], [outputs[0]!]), node('Slice', [current, 's1', 's4', 'ax'], [outputs[1]!]));
  } else {
    nodes.push(node('Split', [current], outputs, { axis: 1, split: [1, 3] }));
  }
  if (opts.foldActivations) {
    inits.push(tensor('one', [], Float32Array.of(1)));
    nodes.push(node('Sub', ['density_raw', 'one'], ['density_shift']), node('Exp', ['density_shift'], ['density']));
    nodes.push(node('Sigmoid', ['colour_raw'], ['colour']));
  }
  // Initializer order is not layer order in published exports.
  inits.reverse();
  const graph = onnx.GraphProto.create({
    name: 'decoder',
    node: nodes,
    initializer: inits,
    input: [valueInfo('features_in', ['N', 120])],
    output: [valueInfo('density', ['N', 1]), valueInfo('colour', ['N', 3])],
  });
  const model = onnx.ModelProto.create({ irVersion: 8, producerName: 'cadlift-tests', opsetImport: [{ domain: '', version: 17 }], graph });
  return onnx.ModelProto.encode(model).finish();
}
