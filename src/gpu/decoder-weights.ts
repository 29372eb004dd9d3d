import { readOnnxGraph, tensorToFloat32, type OnnxNode } from '../lib/onnx-graph';

/** One fully connected layer; `weight` is row-major [outFeatures][inFeatures]. */
export interface DenseLayer {
  inFeatures: number;
  outFeatures: number;
  weight: Float32Array;
  bias: Float32Array;
}

/**
 * TripoSR's NeRF MLP as plain arrays. Every layer but the last is followed by SiLU. The mesher always
 * computes density = exp(o[0] + densityBias) and colour = sigmoid(o[1..3]) from the last layer's raw
 * outputs; `graphApplies` records what the source graph did itself, so nothing is applied twice.
 */
export interface DecoderWeights {
  layers: DenseLayer[];
  /** exp(o[0] + densityBias): −1 per the spec when the graph returns raw outputs. */
  densityBias: number;
  graphApplies: { densityExp: boolean; colourSigmoid: boolean };
}

/** Raised when a decoder graph has a node or layout this reader does not understand. */
export class DecoderGraphError extends Error {
  override name = 'DecoderGraphError';
}

/** The spec's density offset: density = exp(raw − 1). */
const SPEC_DENSITY_BIAS = -1;

function fail(node: OnnxNode | undefined, why: string): never {
  const where = node ? `node "${node.name || node.outputs[0]}" (${node.opType})` : 'the graph';
  throw new DecoderGraphError(`Unsupported decoder graph at ${where}: ${why}.`);
}

/**
 * Reads the MLP weights out of a decoder ONNX file (features [N,120] → density, colour), walking the
 * graph from its input: Gemm (transB 0 or 1) or MatMul + Add layers, SiLU as Sigmoid + Mul, and a tail
 * that may already apply exp(x + c) to the density and a sigmoid to the colour.
 *
 * @example
 * const weights = readDecoderOnnx(new Uint8Array(await (await fetch(url)).arrayBuffer()));
 */
export function readDecoderOnnx(bytes: Uint8Array): DecoderWeights {
  const graph = readOnnxGraph(bytes);
  const consumers = new Map<string, OnnxNode[]>();
  const producers = new Map<string, OnnxNode>();
  for (const node of graph.nodes) {
    for (const input of node.inputs) {
      if (!consumers.has(input)) consumers.set(input, []);
      consumers.get(input)!.push(node);
    }
    for (const output of node.outputs) producers.set(output, node);
  }
  const constant = (name: string, node: OnnxNode): Float32Array => {
    const init = graph.initializers.get(name);
    if (init) return tensorToFloat32(init);
    const producer = producers.get(name);
    const value = producer?.opType === 'Constant' ? producer.attributes.get('value')?.t : undefined;
    if (value) return tensorToFloat32(value);
    fail(node, `input "${name}" is not a constant`);
  };
  const isConstant = (name: string): boolean =>
    graph.initializers.has(name) || producers.get(name)?.opType === 'Constant';
  const only = (name: string, after: OnnxNode | undefined): OnnxNode | undefined => {
    const users = consumers.get(name) ?? [];
    if (users.length > 1 && !isSiluPair(users, name)) fail(after, `"${name}" feeds ${users.length} nodes`);
    return users[0];
  };
  const isSiluPair = (users: OnnxNode[], name: string): boolean =>
    users.length === 2 &&
    users.some((u) => u.opType === 'Sigmoid') &&
    users.some((u) => u.opType === 'Mul' && u.inputs.includes(name));

  const dataInputs = graph.inputs.filter((i) => !graph.initializers.has(i.name));
  if (dataInputs.length !== 1) fail(undefined, `expected one input, found ${dataInputs.length}`);
  let current = dataInputs[0]!.name;
  let previous: OnnxNode | undefined;
  const layers: DenseLayer[] = [];

  // Linear layers, each optionally followed by SiLU.
  for (;;) {
    const node = only(current, previous);
    if (!node) fail(previous, 'the graph ends before its output layer');
    const layer = readLinear(node);
    if (!layer) break;
    if (layers.length && layers.at(-1)!.outFeatures !== layer.layer.inFeatures) {
      fail(node, `expects ${layer.layer.inFeatures} inputs after a layer of ${layers.at(-1)!.outFeatures}`);
    }
    layers.push(layer.layer);
    current = layer.output;
    previous = layer.last;
    const users = consumers.get(current) ?? [];
    if (users.length === 2 && isSiluPair(users, current)) {
      const sigmoid = users.find((u) => u.opType === 'Sigmoid')!;
      const mul = users.find((u) => u.opType === 'Mul')!;
      if (!mul.inputs.includes(sigmoid.outputs[0]!)) fail(mul, 'Mul is not x · sigmoid(x)');
      current = mul.outputs[0]!;
      previous = mul;
    } else if (users.length === 1 && users[0]!.opType === 'Sigmoid' && layers.length > 0) {
      // A sigmoid alone after a layer can only be the colour activation on a 3-wide output.
      break;
    } else if (users.some((u) => ['Relu', 'Gelu', 'Tanh', 'Elu', 'LeakyRelu'].includes(u.opType))) {
      fail(users[0], 'the MLP must use SiLU');
    } else break;
  }
  if (layers.length < 2) fail(previous, 'found fewer than two linear layers');
  const last = layers.at(-1)!;
  if (last.outFeatures !== 4) fail(previous, `the last layer has ${last.outFeatures} outputs, expected 4`);
  const outputNames = new Set(graph.outputs.map((o) => o.name));
  const tail = readTail(current, previous, consumers, outputNames, constant);
  return { layers, ...tail };

  function readLinear(node: OnnxNode): { layer: DenseLayer; output: string; last: OnnxNode } | undefined {
    if (node.opType === 'Gemm') {
      const attr = (n: string, d: number): number => {
        const a = node.attributes.get(n);
        return a?.i ?? a?.f ?? d;
      };
      if (attr('transA', 0) !== 0) fail(node, 'transA must be 0');
      if (attr('alpha', 1) !== 1 || attr('beta', 1) !== 1) fail(node, 'alpha and beta must be 1');
      const b = graph.initializers.get(node.inputs[1]!) ?? fail(node, 'weights are not an initializer');
      if (b.dims.length !== 2) fail(node, 'weights must be 2-D');
      const transB = attr('transB', 0) === 1;
      const [rows, cols] = b.dims as [number, number];
      const [inF, outF] = transB ? [cols, rows] : [rows, cols];
      const w = tensorToFloat32(b);
      const bias = node.inputs[2] ? constant(node.inputs[2], node) : new Float32Array(outF);
      return { layer: dense(node, w, inF, outF, transB, bias), output: node.outputs[0]!, last: node };
    }
    if (node.opType === 'MatMul') {
      if (node.inputs[0] !== current) fail(node, 'the activations must be the left operand');
      const b = graph.initializers.get(node.inputs[1]!) ?? fail(node, 'weights are not an initializer');
      if (b.dims.length !== 2) fail(node, 'weights must be 2-D');
      const [inF, outF] = b.dims as [number, number];
      const w = tensorToFloat32(b);
      const next = (consumers.get(node.outputs[0]!) ?? [])[0];
      if (next?.opType === 'Add' && next.inputs.some((i) => isConstant(i))) {
        const biasName = next.inputs.find((i) => i !== node.outputs[0])!;
        const bias = constant(biasName, next);
        return { layer: dense(node, w, inF, outF, false, bias), output: next.outputs[0]!, last: next };
      }
      return { layer: dense(node, w, inF, outF, false, new Float32Array(outF)), output: node.outputs[0]!, last: node };
    }
    return undefined;
  }
}

/** Builds a [out][in] layer from weights stored [out][in] (rowsAreOutputs) or [in][out]. */
function dense(
  node: OnnxNode,
  w: Float32Array,
  inF: number,
  outF: number,
  rowsAreOutputs: boolean,
  bias: Float32Array,
): DenseLayer {
  if (bias.length !== outF) fail(node, `bias has ${bias.length} values for ${outF} outputs`);
  const weight = new Float32Array(inF * outF);
  for (let o = 0; o < outF; o++) {
    for (let i = 0; i < inF; i++) weight[o * inF + i] = rowsAreOutputs ? w[o * inF + i]! : w[i * outF + o]!;
  }
  return { inFeatures: inF, outFeatures: outF, weight, bias: Float32Array.from(bias) };
}

/** Follows the last layer's [N,4] output to the graph outputs and records the activations on the way. */
function readTail(
  raw: string,
  lastNode: OnnxNode | undefined,
  consumers: Map<string, OnnxNode[]>,
  outputs: Set<string>,
  constant: (name: string, node: OnnxNode) => Float32Array,
): Pick<DecoderWeights, 'densityBias' | 'graphApplies'> {
  if (outputs.has(raw)) {
    return { densityBias: SPEC_DENSITY_BIAS, graphApplies: { densityExp: false, colourSigmoid: false } };
  }
  // Split the four columns into density (column 0) and colour (columns 1..3).
  const branches: { name: string; columns: [number, number]; node: OnnxNode }[] = [];
  for (const node of consumers.get(raw) ?? []) {
    if (node.opType === 'Split') {
      const axis = node.attributes.get('axis')?.i ?? 0;
      if (axis !== 1 && axis !== -1) fail(node, 'Split must be along the feature axis');
      const sizes = node.attributes.get('split')?.ints.length
        ? node.attributes.get('split')!.ints
        : node.inputs[1]
          ? Array.from(constant(node.inputs[1], node))
          : node.outputs.length === 4
            ? [1, 1, 1, 1]
            : fail(node, 'Split needs explicit sizes');
      let start = 0;
      node.outputs.forEach((name, k) => {
        branches.push({ name, columns: [start, start + sizes[k]!], node });
        start += sizes[k]!;
      });
    } else if (node.opType === 'Slice') {
      const starts = constant(node.inputs[1]!, node);
      const ends = constant(node.inputs[2]!, node);
      const axes = node.inputs[3] ? constant(node.inputs[3], node) : [0];
      if (starts.length !== 1 || (axes[0] !== 1 && axes[0] !== -1)) fail(node, 'Slice must cut the feature axis only');
      branches.push({ name: node.outputs[0]!, columns: [starts[0]!, Math.min(ends[0]!, 4)], node });
    } else if (node.opType === 'Gather') {
      const axis = node.attributes.get('axis')?.i ?? 0;
      const idx = Array.from(constant(node.inputs[1]!, node));
      if (axis !== 1 && axis !== -1) fail(node, 'Gather must pick features');
      if (idx.some((v, k) => v !== idx[0]! + k)) fail(node, 'Gather must pick consecutive features');
      branches.push({ name: node.outputs[0]!, columns: [idx[0]!, idx[0]! + idx.length], node });
    } else fail(node, 'expected Split, Slice or Gather after the last layer');
  }
  const density = branches.find((b) => b.columns[0] === 0 && b.columns[1] === 1);
  const colour = branches.find((b) => b.columns[0] === 1 && b.columns[1] === 4);
  if (!density || !colour) fail(lastNode, 'the outputs must be density (column 0) and colour (columns 1–3)');

  // Density: optional Add/Sub of a constant, optional Exp.
  let densityBias = 0;
  let densityExp = false;
  let name = density.name;
  for (let guard = 0; !outputs.has(name); guard++) {
    const users = consumers.get(name) ?? [];
    const node = users[0];
    if (users.length !== 1 || !node || guard > 8) fail(density.node, 'the density does not reach a graph output');
    if ((node.opType === 'Add' || node.opType === 'Sub') && !densityExp) {
      const other = node.inputs.find((i) => i !== name)!;
      const c = constant(other, node);
      if (c.length !== 1) fail(node, 'the density offset must be a scalar');
      if (node.opType === 'Sub' && node.inputs[0] !== name) fail(node, 'expected x − c');
      densityBias += node.opType === 'Add' ? c[0]! : -c[0]!;
    } else if (node.opType === 'Exp' && !densityExp) densityExp = true;
    else fail(node, 'only an offset and exp may follow the density');
    name = node.outputs[0]!;
  }
  // Colour: optional Sigmoid.
  let colourSigmoid = false;
  name = colour.name;
  for (let guard = 0; !outputs.has(name); guard++) {
    const users = consumers.get(name) ?? [];
    const node = users[0];
    if (users.length !== 1 || !node || guard > 2) fail(colour.node, 'the colour does not reach a graph output');
    if (node.opType !== 'Sigmoid' || colourSigmoid) fail(node, 'only a sigmoid may follow the colour');
    colourSigmoid = true;
    name = node.outputs[0]!;
  }
  return {
    densityBias: densityExp ? densityBias : densityBias + SPEC_DENSITY_BIAS,
    graphApplies: { densityExp, colourSigmoid },
  };
}
