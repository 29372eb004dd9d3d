/**
 * Writes small ONNX graphs with onnx-proto (protobufjs), independently of the project's own reader
 * (src/lib/onnx-graph.ts), so tests of the reader are not checked against themselves. Used by the
 * test-model generator (scripts/make-test-models.ts) and by unit tests.
 */
import onnxProto from 'onnx-proto';
import type { DecoderWeights } from '../../src/gpu/decoder-weights';

const { onnx } = onnxProto;

/** An ONNX TensorProto as onnx-proto builds it. */
export type TensorProto = InstanceType<typeof onnx.TensorProto>;
/** An ONNX NodeProto as onnx-proto builds it. */
export type NodeProto = InstanceType<typeof onnx.NodeProto>;
/** An ONNX ValueInfoProto as onnx-proto builds it. */
export type ValueInfoProto = InstanceType<typeof onnx.ValueInfoProto>;

/** Node attribute values: an int, a list of ints, or a float (tagged so 1 and 1.0 stay apart). */
export type AttributeValue = number | number[] | { float: number };

function bytesOf(values: ArrayBufferView): Uint8Array {
  const { buffer, byteOffset, byteLength } = values;
  return new Uint8Array(buffer.slice(byteOffset, byteOffset + byteLength));
}

/** A float32 tensor initializer with raw little-endian data. */
export function floatTensor(name: string, dims: number[], values: Float32Array): TensorProto {
  return onnx.TensorProto.create({
    name,
    dims,
    dataType: onnx.TensorProto.DataType.FLOAT,
    rawData: bytesOf(values),
  });
}

/** An int64 tensor initializer (shapes, axes, split sizes) with raw little-endian data. */
export function int64Tensor(name: string, dims: number[], values: number[]): TensorProto {
  return onnx.TensorProto.create({
    name,
    dims,
    dataType: onnx.TensorProto.DataType.INT64,
    rawData: bytesOf(BigInt64Array.from(values, (v) => BigInt(v))),
  });
}

/** A uint8 tensor initializer (packed quantised weights, zero points). */
export function uint8Tensor(name: string, dims: number[], values: Uint8Array): TensorProto {
  return onnx.TensorProto.create({
    name,
    dims,
    dataType: onnx.TensorProto.DataType.UINT8,
    rawData: bytesOf(values),
  });
}

/** A graph node; `domain` is '' for the default ONNX domain. */
export function onnxNode(
  opType: string,
  inputs: string[],
  outputs: string[],
  attrs: Record<string, AttributeValue> = {},
  name = outputs[0]!,
  domain = '',
): NodeProto {
  const { AttributeType } = onnx.AttributeProto;
  return onnx.NodeProto.create({
    opType,
    input: inputs,
    output: outputs,
    name,
    domain,
    attribute: Object.entries(attrs).map(([key, v]) =>
      Array.isArray(v)
        ? onnx.AttributeProto.create({ name: key, ints: v, type: AttributeType.INTS })
        : typeof v === 'object'
          ? onnx.AttributeProto.create({ name: key, f: v.float, type: AttributeType.FLOAT })
          : onnx.AttributeProto.create({ name: key, i: v, type: AttributeType.INT }),
    ),
  });
}

/** A float32 graph input or output; a string dimension is symbolic. */
export function valueInfo(name: string, dims: (number | string)[]): ValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: {
          dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
        },
      },
    },
  });
}

/**
 * Moves every initializer's raw data into one external-data file (ONNX external data: location,
 * offset, length), each tensor starting at a multiple of `align` bytes, and returns that file.
 */
export function externalizeTensors(
  tensors: TensorProto[],
  location: string,
  align = 64,
): Uint8Array {
  let size = 0;
  const placed = tensors.map((t) => {
    const offset = Math.ceil(size / align) * align;
    size = offset + t.rawData.length;
    return { t, offset, data: t.rawData };
  });
  const file = new Uint8Array(size);
  for (const { t, offset, data } of placed) {
    file.set(data, offset);
    t.rawData = new Uint8Array(0);
    t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    t.externalData = [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(data.length) },
    ];
  }
  return file;
}

/** Serialises a model; opset imports as [domain, version] pairs. */
export function encodeModel(
  graph: {
    name: string;
    nodes: NodeProto[];
    initializers: TensorProto[];
    inputs: ValueInfoProto[];
    outputs: ValueInfoProto[];
  },
  opsets: [string, number][] = [['', 17]],
  producerName = 'cadlift-tests',
): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName,
    opsetImport: opsets.map(([domain, version]) => ({ domain, version })),
    graph: onnx.GraphProto.create({
      name: graph.name,
      node: graph.nodes,
      initializer: graph.initializers,
      input: graph.inputs,
      output: graph.outputs,
    }),
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Layouts of published decoder exports. */
export type DecoderLayout = 'gemm-transB' | 'gemm' | 'matmul-add';

/** How `writeDecoderOnnx` lays the graph out. */
export interface DecoderOnnxOptions {
  layout: DecoderLayout;
  /** Apply density = exp(raw − 1) and colour = sigmoid(raw) inside the graph. */
  foldActivations?: boolean;
  /** How the [N,4] output is cut into density and colour. */
  tail?: 'split' | 'slice';
  /** 'relu' writes ReLU hidden layers (read as `hidden: 'relu'`). */
  activation?: 'silu' | 'relu';
}

/**
 * Writes a decoder ONNX graph (features [N,120] → density [N,1], colour [N,3]) with the given layer
 * layout, SiLU as Sigmoid + Mul, and the output activations optionally folded into the graph.
 * Initializers are shuffled so their order is not layer order. Opset 17, so Split and Slice take
 * their sizes as int64 inputs, as torch exports write them and onnxruntime requires.
 */
export function writeDecoderOnnx(weights: DecoderWeights, opts: DecoderOnnxOptions): Uint8Array {
  const nodes: NodeProto[] = [];
  const inits: TensorProto[] = [];
  let current = 'features_in';
  weights.layers.forEach((l, k) => {
    const out = `h${k}`;
    const transposed = (): Float32Array => {
      const wt = new Float32Array(l.inFeatures * l.outFeatures);
      for (let o = 0; o < l.outFeatures; o++) {
        for (let i = 0; i < l.inFeatures; i++) {
          wt[i * l.outFeatures + o] = l.weight[o * l.inFeatures + i]!;
        }
      }
      return wt;
    };
    if (opts.layout === 'matmul-add') {
      inits.push(
        floatTensor(`mlp.${k}.w`, [l.inFeatures, l.outFeatures], transposed()),
        floatTensor(`mlp.${k}.b`, [l.outFeatures], l.bias),
      );
      nodes.push(
        onnxNode('MatMul', [current, `mlp.${k}.w`], [`${out}_mm`]),
        onnxNode('Add', [`${out}_mm`, `mlp.${k}.b`], [out]),
      );
    } else {
      const transB = opts.layout === 'gemm-transB';
      inits.push(
        floatTensor(
          `mlp.${k}.weight`,
          transB ? [l.outFeatures, l.inFeatures] : [l.inFeatures, l.outFeatures],
          transB ? l.weight : transposed(),
        ),
        floatTensor(`mlp.${k}.bias`, [l.outFeatures], l.bias),
      );
      nodes.push(
        onnxNode(
          'Gemm',
          [current, `mlp.${k}.weight`, `mlp.${k}.bias`],
          [out],
          transB ? { transB: 1 } : {},
        ),
      );
    }
    current = out;
    if (k < weights.layers.length - 1) {
      if (opts.activation === 'relu') {
        nodes.push(onnxNode('Relu', [out], [`${out}_act`], {}, `/act_${k}/Relu`));
      } else {
        nodes.push(
          onnxNode('Sigmoid', [out], [`${out}_sig`]),
          onnxNode('Mul', [out, `${out}_sig`], [`${out}_act`]),
        );
      }
      current = `${out}_act`;
    }
  });
  const outputs = opts.foldActivations ? ['density_raw', 'colour_raw'] : ['density', 'colour'];
  if (opts.tail === 'slice') {
    inits.push(
      int64Tensor('s0', [1], [0]),
      int64Tensor('s1', [1], [1]),
      int64Tensor('s4', [1], [4]),
      int64Tensor('ax', [1], [1]),
    );
    nodes.push(
      onnxNode('Slice', [current, 's0', 's1', 'ax'], [outputs[0]!]),
      onnxNode('Slice', [current, 's1', 's4', 'ax'], [outputs[1]!]),
    );
  } else {
    inits.push(int64Tensor('split_sizes', [2], [1, 3]));
    nodes.push(onnxNode('Split', [current, 'split_sizes'], outputs, { axis: 1 }));
  }
  if (opts.foldActivations) {
    inits.push(floatTensor('one', [], Float32Array.of(1)));
    nodes.push(
      onnxNode('Sub', ['density_raw', 'one'], ['density_shift']),
      onnxNode('Exp', ['density_shift'], ['density']),
      onnxNode('Sigmoid', ['colour_raw'], ['colour']),
    );
  }
  // Initializer order is not layer order in published exports.
  inits.reverse();
  return encodeModel({
    name: 'decoder',
    nodes,
    initializers: inits,
    inputs: [valueInfo('features_in', ['N', 120])],
    outputs: [valueInfo('density', ['N', 1]), valueInfo('colour', ['N', 3])],
  });
}
