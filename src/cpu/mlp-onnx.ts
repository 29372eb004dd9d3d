import type { DecoderWeights } from '../gpu/decoder-weights';

/** Input and output names of the graph `mlpOnnx` writes. */
export const MLP_ONNX_INPUT = 'features';
export const MLP_ONNX_OUTPUT = 'raw';

// ONNX's protobuf field numbers (onnx/onnx.proto) for the few messages this writer needs.
const WIRE_VARINT = 0;
const WIRE_BYTES = 2;
const FLOAT = 1;
const ATTRIBUTE_INT = 2;

class ProtoWriter {
  private readonly parts: Uint8Array[] = [];
  private static readonly text = new TextEncoder();

  private varint(value: number): void {
    const bytes: number[] = [];
    let v = value;
    while (v >= 0x80) {
      bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    bytes.push(v);
    this.parts.push(Uint8Array.from(bytes));
  }

  int(field: number, value: number): this {
    this.varint(field * 8 + WIRE_VARINT);
    this.varint(value);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.varint(field * 8 + WIRE_BYTES);
    this.varint(value.length);
    this.parts.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, ProtoWriter.text.encode(value));
  }

  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

/** TensorProto: dims 1, data_type 2, name 8, raw_data 9 (little-endian, as every ONNX reader expects). */
function floatTensor(w: ProtoWriter, name: string, dims: number[], values: Float32Array): void {
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setFloat32(4 * i, v, true));
  for (const d of dims) w.int(1, d);
  w.int(2, FLOAT).string(8, name).bytes(9, raw);
}

/** ValueInfoProto for a float tensor [N, width] with a symbolic batch dimension. */
function valueInfo(w: ProtoWriter, name: string, width: number): void {
  w.string(1, name).message(2, (type) =>
    type.message(1, (tensor) =>
      tensor.int(1, FLOAT).message(2, (shape) => {
        shape.message(1, (dim) => dim.string(2, 'N'));
        shape.message(1, (dim) => dim.int(1, width));
      }),
    ),
  );
}

/** NodeProto: input 1, output 2, name 3, op_type 4, attribute 5 (name 1, i 3, type 20). */
function node(w: ProtoWriter, op: string, inputs: string[], output: string, ints: Record<string, number> = {}): void {
  w.message(1, (n) => {
    for (const i of inputs) n.string(1, i);
    n.string(2, output).string(3, output).string(4, op);
    for (const [name, value] of Object.entries(ints)) n.message(5, (a) => a.string(1, name).int(3, value).int(20, ATTRIBUTE_INT));
  });
}

/**
 * The decoder MLP as an ONNX model: features [N, 120] → the last layer's raw outputs [N, 4], Gemm
 * layers with the hidden activation between them (SiLU as x · sigmoid(x), or ReLU). Density and colour
 * are left to the caller, so every backend applies the same reference functions to the same raw values.
 */
export function mlpOnnx(weights: DecoderWeights): Uint8Array {
  const hidden = (weights as DecoderWeights & { hidden?: 'silu' | 'relu' }).hidden ?? 'silu';
  const layers = weights.layers;
  return new ProtoWriter()
    .int(1, 8) // ir_version 8: what onnxruntime 1.x reads for opset 17
    .message(8, (opset) => opset.string(1, '').int(2, 17))
    .message(7, (graph) => {
      let current = MLP_ONNX_INPUT;
      layers.forEach((layer, k) => {
        const last = k === layers.length - 1;
        const linear = last ? MLP_ONNX_OUTPUT : `linear${k}`;
        node(graph, 'Gemm', [current, `w${k}`, `b${k}`], linear, { transB: 1 });
        current = linear;
        if (last) return;
        if (hidden === 'relu') {
          node(graph, 'Relu', [linear], `act${k}`);
        } else {
          node(graph, 'Sigmoid', [linear], `sig${k}`);
          node(graph, 'Mul', [linear, `sig${k}`], `act${k}`);
        }
        current = `act${k}`;
      });
      graph.string(2, 'cadlift-decoder-mlp');
      layers.forEach((layer, k) => {
        graph.message(5, (t) => floatTensor(t, `w${k}`, [layer.outFeatures, layer.inFeatures], layer.weight));
        graph.message(5, (t) => floatTensor(t, `b${k}`, [layer.outFeatures], layer.bias));
      });
      graph.message(11, (v) => valueInfo(v, MLP_ONNX_INPUT, layers[0]!.inFeatures));
      graph.message(12, (v) => valueInfo(v, MLP_ONNX_OUTPUT, layers.at(-1)!.outFeatures));
    })
    .finish();
}
