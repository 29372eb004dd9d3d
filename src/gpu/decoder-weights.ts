import type { OnnxNode } from '../lib/onnx-graph';
import { DecoderGraph, DecoderGraphError, fail, skipViews, viewOp, type DecoderReadOptions } from './decoder-graph';
import { readHead, type DensityActivation, type HeadMath } from './decoder-tail';

export { DecoderGraphError, type DecoderReadOptions };
export type { DensityActivation };

/** One fully connected layer; `weight` is row-major [outFeatures][inFeatures]. */
export interface DenseLayer {
  inFeatures: number;
  outFeatures: number;
  weight: Float32Array;
  bias: Float32Array;
}

/**
 * TripoSR's NeRF MLP as plain arrays. Every layer but the last is followed by the hidden activation.
 * From the last layer's raw outputs o, the mesher computes
 *   density = clamp(act(o[0] + densityBias), densityClip)   (act: densityActivation, exp by default)
 *   colour  = clamp(sigmoid(o[1..3]), colourClip)
 * which is what the graph computes when it applies these itself, and the spec's exp(o − 1) and
 * sigmoid when it returns raw outputs; `graphApplies` records what the graph did, so nothing is applied twice.
 */
export interface DecoderWeights {
  layers: DenseLayer[];
  /** Added to o[0] before the density activation: −1 per the spec when the graph returns raw outputs. */
  densityBias: number;
  graphApplies: { densityExp: boolean; colourSigmoid: boolean };
  /** The hidden-layer activation; absent means SiLU. */
  hidden?: 'silu' | 'relu';
  /** The density activation; absent means exp. */
  densityActivation?: DensityActivation;
  /** Clamp of the density after its activation; absent means none. */
  densityClip?: [number, number];
  /** Clamp of the colour after the sigmoid; absent means none. */
  colourClip?: [number, number];
}

/** A linear layer found in the graph, with the tensor its output ends at. */
interface FoundLayer {
  layer: DenseLayer;
  output: string;
  last: OnnxNode;
}

/**
 * Reads the MLP weights out of a decoder ONNX file (features [N,120] → density, colour), walking the
 * graph from its input: Gemm (transB 0 or 1) or MatMul + Add layers with weights from initializers,
 * Constant nodes or external data; SiLU (Sigmoid + Mul) or Relu between layers; view ops (Identity,
 * Cast to float, Reshape/Flatten/Squeeze/Unsqueeze that keep the feature axis) anywhere; one 4-wide
 * output layer cut by Split/Slice/Gather, or separate density and colour layers; and heads that may
 * apply an offset, exp/Softplus/Relu to the density, a sigmoid to the colour, and Clip.
 *
 * @example
 * const weights = readDecoderOnnx(bytes, { externalData: new Map([['decoder.onnx.data', data]]) });
 */
export function readDecoderOnnx(bytes: Uint8Array, opts: DecoderReadOptions = {}): DecoderWeights {
  const g = new DecoderGraph(bytes, opts);
  const dataInputs = g.graph.inputs.filter((i) => !g.graph.initializers.has(i.name));
  if (dataInputs.length !== 1) fail(undefined, `expected one input, found ${dataInputs.length}`);
  const inputWidth = Number(dataInputs[0]!.shape?.at(-1) ?? 120);
  let current = skipViews(g, dataInputs[0]!.name, Number.isFinite(inputWidth) ? inputWidth : 120);
  let previous: OnnxNode | undefined;
  const layers: DenseLayer[] = [];
  let hidden: 'silu' | 'relu' | undefined;
  let heads: { density: HeadMath; colour: HeadMath } | undefined;

  for (;;) {
    const users = g.users(current);
    if (users.length === 2 && layers.length && users.every((u) => linearOp(u))) {
      heads = twoHeads(users);
      break;
    }
    const node = users[0];
    if (!node) fail(previous, 'the graph ends before its output layer');
    if (users.length > 1) fail(previous, `"${current}" feeds ${users.length} nodes`);
    const found = readLinear(node, current);
    if (!found) break;
    push(found);
    const width = found.layer.outFeatures;
    current = skipViews(g, found.output, width);
    previous = found.last;
    const act = readActivation(current, width);
    if (!act && width !== 4) fail(g.users(current)[0] ?? found.last, 'expected SiLU (Sigmoid + Mul) or Relu after a hidden layer');
    if (!act) break;
    if (hidden && hidden !== act.kind) fail(act.node, `the hidden layers mix ${hidden} and ${act.kind}`);
    hidden = act.kind;
    current = skipViews(g, act.output, width);
    previous = act.node;
  }
  if (layers.length < 2) fail(previous, 'found fewer than two linear layers');
  const last = layers.at(-1)!;
  if (last.outFeatures !== 4) fail(previous, `the last layer has ${last.outFeatures} outputs, expected 4`);
  const { density, colour } = heads ?? splitTail(g, current, previous);
  for (let k = 0; k < 3; k++) last.bias[k + 1] = last.bias[k + 1]! + colour.offset[k]!;
  return {
    layers,
    densityBias: density.offset[0]!,
    graphApplies: { densityExp: density.activation === 'exp', colourSigmoid: colour.activation === 'sigmoid' },
    hidden: hidden ?? 'silu',
    densityActivation: (density.activation ?? 'exp') as DensityActivation,
    densityClip: density.clip,
    colourClip: colour.clip,
  };

  function push(found: FoundLayer): void {
    const prev = layers.at(-1);
    if (prev && prev.outFeatures !== found.layer.inFeatures) {
      fail(found.last, `expects ${found.layer.inFeatures} inputs after a layer of ${prev.outFeatures}`);
    }
    layers.push(found.layer);
  }

  function linearOp(node: OnnxNode): boolean {
    return node.opType === 'Gemm' || node.opType === 'MatMul';
  }

  /** Separate density (1-wide) and colour (3-wide) layers on the last hidden activation: one 4-wide layer. */
  function twoHeads(users: OnnxNode[]): { density: HeadMath; colour: HeadMath } {
    const found = users.map((u) => readLinear(u, current)!);
    const d = found.find((f) => f.layer.outFeatures === 1);
    const c = found.find((f) => f.layer.outFeatures === 3);
    if (!d || !c) fail(users[0], 'two heads must be density (1 output) and colour (3 outputs)');
    const inF = d.layer.inFeatures;
    if (c.layer.inFeatures !== inF) fail(c.last, 'the two heads read different widths');
    const weight = new Float32Array(4 * inF);
    weight.set(d.layer.weight, 0);
    weight.set(c.layer.weight, inF);
    const bias = Float32Array.of(d.layer.bias[0]!, ...c.layer.bias);
    push({ layer: { inFeatures: inF, outFeatures: 4, weight, bias }, output: '', last: c.last });
    return {
      density: readHead(g, d.output, 1, 'density', 'exp'),
      colour: readHead(g, c.output, 3, 'colour', 'sigmoid'),
    };
  }

  /** SiLU as x · sigmoid(x) (either operand order), or Relu. */
  function readActivation(x: string, width: number): { kind: 'silu' | 'relu'; output: string; node: OnnxNode } | undefined {
    const users = g.users(x);
    if (users.length === 1 && users[0]!.opType === 'Relu') return { kind: 'relu', output: users[0]!.outputs[0]!, node: users[0]! };
    if (users.length !== 2) return undefined;
    const sigmoid = users.find((u) => u.opType === 'Sigmoid');
    const mul = users.find((u) => u.opType === 'Mul');
    if (!sigmoid || !mul) return undefined;
    const sig = skipViews(g, sigmoid.outputs[0]!, width);
    if (!mul.inputs.includes(sig)) fail(mul, 'Mul is not x · sigmoid(x)');
    return { kind: 'silu', output: mul.outputs[0]!, node: mul };
  }

  function readLinear(node: OnnxNode, x: string): FoundLayer | undefined {
    if (node.opType === 'Gemm') {
      const attr = (n: string, d: number): number => {
        const a = node.attributes.get(n);
        return a?.i ?? a?.f ?? d;
      };
      if (attr('transA', 0) !== 0) fail(node, 'transA must be 0');
      if (attr('alpha', 1) !== 1 || attr('beta', 1) !== 1) fail(node, 'alpha and beta must be 1');
      if (node.inputs[0] !== x) fail(node, 'the activations must be the left operand');
      const b = g.matrix(node.inputs[1]!, node);
      if (b.dims.length !== 2) fail(node, 'weights must be 2-D');
      const transB = attr('transB', 0) === 1;
      const [rows, cols] = b.dims as [number, number];
      const [inF, outF] = transB ? [cols, rows] : [rows, cols];
      const bias = node.inputs[2] ? g.constant(node.inputs[2], node) : new Float32Array(outF);
      return { layer: dense(node, b.values, inF, outF, transB, bias), output: node.outputs[0]!, last: node };
    }
    if (node.opType === 'MatMul') {
      if (node.inputs[0] !== x) fail(node, 'the activations must be the left operand');
      const b = g.matrix(node.inputs[1]!, node);
      if (b.dims.length !== 2) fail(node, 'weights must be 2-D');
      const [inF, outF] = b.dims as [number, number];
      const mm = skipViews(g, node.outputs[0]!, outF);
      const next = g.users(mm);
      const add = next.length === 1 && next[0]!.opType === 'Add' ? next[0]! : undefined;
      const biasName = add?.inputs.find((i) => i !== mm);
      if (add && biasName && g.isConstant(biasName) && g.constant(biasName, add).length === outF) {
        return { layer: dense(node, b.values, inF, outF, false, g.constant(biasName, add)), output: add.outputs[0]!, last: add };
      }
      return { layer: dense(node, b.values, inF, outF, false, new Float32Array(outF)), output: node.outputs[0]!, last: node };
    }
    return undefined;
  }
}

/** Builds a [out][in] layer from weights stored [out][in] (rowsAreOutputs) or [in][out]. */
function dense(node: OnnxNode, w: Float32Array, inF: number, outF: number, rowsAreOutputs: boolean, bias: Float32Array): DenseLayer {
  if (bias.length !== outF) fail(node, `bias has ${bias.length} values for ${outF} outputs`);
  const weight = new Float32Array(inF * outF);
  for (let o = 0; o < outF; o++) {
    for (let i = 0; i < inF; i++) weight[o * inF + i] = rowsAreOutputs ? w[o * inF + i]! : w[i * outF + o]!;
  }
  return { inFeatures: inF, outFeatures: outF, weight, bias: Float32Array.from(bias) };
}

/** Cuts the last layer's [N,4] output into density (column 0) and colour (columns 1..3) and reads both heads. */
function splitTail(g: DecoderGraph, raw: string, lastNode: OnnxNode | undefined): { density: HeadMath; colour: HeadMath } {
  if (g.outputs.has(raw)) {
    return {
      density: { offset: [-1], clip: [-Infinity, Infinity], outputShift: -1 },
      colour: { offset: [0, 0, 0], clip: [-Infinity, Infinity], outputShift: 0 },
    };
  }
  const branches: { name: string; columns: [number, number]; node: OnnxNode }[] = [];
  for (const node of g.users(raw)) {
    if (node.opType === 'Split') {
      const axis = node.attributes.get('axis')?.i ?? 0;
      if (axis !== 1 && axis !== -1) fail(node, 'Split must be along the feature axis');
      const sizes = node.attributes.get('split')?.ints.length
        ? node.attributes.get('split')!.ints
        : node.inputs[1]
          ? Array.from(g.constant(node.inputs[1], node))
          : node.outputs.length === 4
            ? [1, 1, 1, 1]
            : fail(node, 'Split needs explicit sizes');
      let start = 0;
      node.outputs.forEach((name, k) => {
        branches.push({ name, columns: [start, start + sizes[k]!], node });
        start += sizes[k]!;
      });
    } else if (node.opType === 'Slice') {
      const starts = g.constant(node.inputs[1]!, node);
      const ends = g.constant(node.inputs[2]!, node);
      const axes = node.inputs[3] ? g.constant(node.inputs[3], node) : [0];
      if (node.inputs[4] && g.constant(node.inputs[4], node)[0] !== 1) fail(node, 'Slice steps must be 1');
      if (starts.length !== 1 || (axes[0] !== 1 && axes[0] !== -1)) fail(node, 'Slice must cut the feature axis only');
      branches.push({ name: node.outputs[0]!, columns: [starts[0]!, Math.min(ends[0]!, 4)], node });
    } else if (node.opType === 'Gather') {
      const axis = node.attributes.get('axis')?.i ?? 0;
      const idx = Array.from(g.constant(node.inputs[1]!, node));
      if (axis !== 1 && axis !== -1) fail(node, 'Gather must pick features');
      if (idx.some((v, k) => v !== idx[0]! + k)) fail(node, 'Gather must pick consecutive features');
      branches.push({ name: node.outputs[0]!, columns: [idx[0]!, idx[0]! + idx.length], node });
    } else if (viewOp(g, node, 4, false)) {
      return splitTail(g, node.outputs[0]!, node);
    } else fail(node, 'expected Split, Slice or Gather after the last layer');
  }
  const density = branches.find((b) => b.columns[0] === 0 && b.columns[1] === 1);
  const colour = branches.find((b) => b.columns[0] === 1 && b.columns[1] === 4);
  if (!density || !colour) fail(lastNode, 'the outputs must be density (column 0) and colour (columns 1–3)');
  return {
    density: readHead(g, density.name, 1, 'density', 'exp'),
    colour: readHead(g, colour.name, 3, 'colour', 'sigmoid'),
  };
}
