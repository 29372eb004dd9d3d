import { readOnnxGraph, tensorToFloat32, type OnnxGraph, type OnnxNode, type OnnxTensor } from '../lib/onnx-graph';

/** Raised when a decoder graph has a node or layout this reader does not understand. */
export class DecoderGraphError extends Error {
  override name = 'DecoderGraphError';
}

/** Throws a DecoderGraphError naming the node it stopped at. */
export function fail(node: OnnxNode | undefined, why: string): never {
  const where = node ? `node "${node.name || node.outputs[0]}" (${node.opType})` : 'the graph';
  throw new DecoderGraphError(`Unsupported decoder graph at ${where}: ${why}.`);
}

/** How `readDecoderOnnx` finds tensors kept outside the .onnx file. */
export interface DecoderReadOptions {
  /** External-data files by the `location` the graph names (e.g. "decoder.onnx.data"). */
  externalData?: Map<string, Uint8Array>;
}

/** A parsed decoder graph with the lookups the readers need. */
export class DecoderGraph {
  readonly graph: OnnxGraph;
  readonly consumers = new Map<string, OnnxNode[]>();
  readonly producers = new Map<string, OnnxNode>();
  readonly outputs: Set<string>;

  constructor(
    bytes: Uint8Array,
    private readonly opts: DecoderReadOptions = {},
  ) {
    this.graph = readOnnxGraph(bytes);
    for (const node of this.graph.nodes) {
      for (const input of node.inputs) {
        if (!input) continue;
        if (!this.consumers.has(input)) this.consumers.set(input, []);
        this.consumers.get(input)!.push(node);
      }
      for (const output of node.outputs) this.producers.set(output, node);
    }
    this.outputs = new Set(this.graph.outputs.map((o) => o.name));
  }

  users(name: string): OnnxNode[] {
    return this.consumers.get(name) ?? [];
  }

  /** The tensor behind an initializer or a Constant node, or undefined. */
  tensor(name: string): OnnxTensor | undefined {
    const init = this.graph.initializers.get(name);
    if (init) return init;
    const producer = this.producers.get(name);
    return producer?.opType === 'Constant' ? producer.attributes.get('value')?.t : undefined;
  }

  isConstant(name: string): boolean {
    return this.tensor(name) !== undefined;
  }

  /** A constant's values as float32 (resolving external data); fails at `node` when it is not constant. */
  constant(name: string, node: OnnxNode): Float32Array {
    const t = this.tensor(name) ?? fail(node, `input "${name}" is not a constant`);
    return this.floats(t, node);
  }

  /** A constant's dims and float values. */
  matrix(name: string, node: OnnxNode): { dims: number[]; values: Float32Array } {
    const t = this.tensor(name) ?? fail(node, `weights "${name}" are not a constant`);
    return { dims: t.dims, values: this.floats(t, node) };
  }

  private floats(t: OnnxTensor, node: OnnxNode): Float32Array {
    if (!t.external) return tensorToFloat32(t);
    const location = t.external.location ?? '';
    const file = this.opts.externalData?.get(location) ?? this.opts.externalData?.get(location.split('/').at(-1)!);
    if (!file) fail(node, `tensor "${t.name}" lives in external data "${location}", which was not given`);
    const offset = Number(t.external.offset ?? 0);
    const count = t.dims.reduce((a, b) => a * b, 1);
    const size = t.dataType === 11 || t.dataType === 7 ? 8 : t.dataType === 10 ? 2 : 4;
    const length = t.external.length !== undefined ? Number(t.external.length) : count * size;
    if (offset + length > file.length) fail(node, `external data "${location}" is shorter than tensor "${t.name}" needs`);
    const { external: _external, ...rest } = t;
    return tensorToFloat32({ ...rest, raw: file.subarray(offset, offset + length) });
  }
}

/** Ops that never change values; `viewOp` decides whether a given one keeps the feature axis. */
const VIEW_OPS = new Set(['Identity', 'Cast', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze']);

/** ONNX TensorProto.DataType FLOAT, the only Cast target that leaves the math alone. */
const CAST_TO_FLOAT = 1;

/**
 * Whether `node` only reshapes a tensor whose last axis holds `width` features, keeping that axis
 * last and whole (so the next layer sees the same features). With `loose` (after the last layer, where
 * only elementwise ops follow), any reshape or squeeze is harmless.
 */
export function viewOp(g: DecoderGraph, node: OnnxNode, width: number, loose: boolean): boolean {
  if (!VIEW_OPS.has(node.opType)) return false;
  if (node.opType === 'Identity') return true;
  if (node.opType === 'Cast') return (node.attributes.get('to')?.i ?? 0) === CAST_TO_FLOAT;
  if (loose) return true;
  if (node.opType === 'Reshape') {
    const shape = node.inputs[1] ? g.tensor(node.inputs[1]) : undefined;
    return !!shape && tensorToFloat32(shape).at(-1) === width;
  }
  if (node.opType === 'Flatten') {
    // Flatten(axis) keeps the last axis whole only when it cuts right before it.
    const axis = node.attributes.get('axis')?.i ?? 1;
    return axis === -1 || (axis === 1 && width > 0);
  }
  // Squeeze/Unsqueeze: axes from the attribute (opset < 13) or the second input.
  const attr = node.attributes.get('axes')?.ints;
  const axes = attr?.length ? attr : node.inputs[1] ? Array.from(g.constant(node.inputs[1], node)) : [];
  if (node.opType === 'Unsqueeze') return axes.every((a) => a !== -1);
  return axes.length ? axes.every((a) => a !== -1) : width !== 1;
}

/** Follows `name` through view ops; returns the name they end at. */
export function skipViews(g: DecoderGraph, name: string, width: number, loose = false): string {
  for (let guard = 0; guard < 16 && !g.outputs.has(name); guard++) {
    const users = g.users(name);
    if (users.length !== 1 || !viewOp(g, users[0]!, width, loose)) break;
    name = users[0]!.outputs[0]!;
  }
  return name;
}
