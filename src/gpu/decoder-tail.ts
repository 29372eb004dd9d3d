import type { OnnxNode } from '../lib/onnx-graph';
import { DecoderGraph, fail, skipViews, type DecoderReadOptions } from './decoder-graph';

/** The density activation the mesher applies to o[0] + densityBias. */
export type DensityActivation = 'exp' | 'softplus' | 'relu';

/** What one output head does to its raw columns, as read from the graph. */
export interface HeadMath {
  /** The activation the graph applies itself, if any. */
  activation?: 'exp' | 'softplus' | 'relu' | 'sigmoid';
  /** Constant offset added before the activation (scalar for density, per column for colour). */
  offset: number[];
  /** Clamp of the head's final value, after the activation (the mesher's or the graph's). */
  clip: [number, number];
  /** Added to the graph's own output before the spec's activation when the graph applies none (−1 for a raw density). */
  outputShift: number;
}

/** What the decoder's outputs mean, read from the graph outputs backwards. */
export interface DecoderOutputs {
  density: HeadMath;
  colour: HeadMath;
  /** The graph outputs holding each; the same name for one raw [N,4] output (density column 0, colour 1..3). */
  names: { density: string; colour: string };
}

const UNCLIPPED: [number, number] = [-Infinity, Infinity];

const softplus = (x: number): number => (x > 30 ? x : Math.log1p(Math.exp(x)));
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const relu = (x: number): number => Math.max(x, 0);
const monotone: Record<string, (x: number) => number> = { exp: Math.exp, softplus, relu, sigmoid };

function clipBounds(g: DecoderGraph, node: OnnxNode): [number, number] {
  const lo = node.inputs[1] ? g.constant(node.inputs[1], node)[0]! : (node.attributes.get('min')?.f ?? -Infinity);
  const hi = node.inputs[2] ? g.constant(node.inputs[2], node)[0]! : (node.attributes.get('max')?.f ?? Infinity);
  return [lo, hi];
}

/**
 * Walks one head from the tensor holding its raw columns to a graph output: view ops, a constant
 * offset, at most one activation, and Clip anywhere. A Clip before the activation becomes a clip after
 * it, because every activation here is non-decreasing: f(clamp(v, a, b)) = clamp(f(v), f(a), f(b)).
 * When the graph applies no activation, `implied` (the spec's) is the one the mesher applies.
 */
export function readHead(
  g: DecoderGraph,
  start: string,
  width: number,
  kind: 'density' | 'colour',
  implied: 'exp' | 'sigmoid',
): HeadMath {
  const allowed = kind === 'density' ? ['Exp', 'Softplus', 'Relu'] : ['Sigmoid'];
  const offset = new Array<number>(width).fill(0);
  let activation: HeadMath['activation'];
  let pre: [number, number] = [...UNCLIPPED];
  let post: [number, number] = [...UNCLIPPED];
  let sawOffset = false;
  let name = skipViews(g, start, width, true);
  for (let guard = 0; !g.outputs.has(name); guard++) {
    const users = g.users(name);
    const node = users[0];
    if (users.length !== 1 || !node || guard > 12) fail(node, `the ${kind} does not reach one graph output`);
    const other = node.inputs.find((i) => i !== name);
    if ((node.opType === 'Add' || node.opType === 'Sub') && !activation && pre[0] === -Infinity && pre[1] === Infinity && other) {
      if (node.opType === 'Sub' && node.inputs[0] !== name) fail(node, `expected ${kind} − c`);
      const c = g.constant(other, node);
      if (c.length !== 1 && c.length !== width) fail(node, `the ${kind} offset has ${c.length} values`);
      for (let k = 0; k < width; k++) offset[k] = offset[k]! + (node.opType === 'Add' ? 1 : -1) * c[c.length === 1 ? 0 : k]!;
      sawOffset = true;
    } else if (allowed.includes(node.opType) && !activation) {
      activation = node.opType.toLowerCase() as HeadMath['activation'];
    } else if (node.opType === 'Clip' || (node.opType === 'Relu' && kind === 'colour')) {
      const [lo, hi] = node.opType === 'Relu' ? [0, Infinity] : clipBounds(g, node);
      const target = activation ? post : pre;
      target[0] = Math.max(target[0], lo);
      target[1] = Math.min(target[1], hi);
    } else fail(node, `only an offset, ${allowed.join('/')} and Clip may follow the ${kind}`);
    name = skipViews(g, node.outputs[0]!, width, true);
  }
  // Without a density activation the graph returns the exp argument: a raw MLP output gets the spec's
  // − 1, but an offset the graph adds itself already is that shift, so it is the whole bias (adding the
  // spec's − 1 on top would count it twice).
  if (kind === 'density' && !activation && !sawOffset) {
    offset[0] = -1;
    // The spec's shift comes after any Clip the graph applied to the raw output.
    pre = [pre[0] - 1, pre[1] - 1];
  }
  const f = monotone[activation ?? implied]!;
  const clip: [number, number] = [Math.max(f(pre[0]), post[0]), Math.min(f(pre[1]), post[1])];
  const outputShift = kind === 'density' && !activation && !sawOffset ? -1 : 0;
  return { activation, offset, clip, outputShift };
}

/**
 * Reads what a decoder's outputs mean without understanding its body: finds the density and colour
 * outputs (by width 1 and 3, else by name) and walks each back to the first node that is not a view,
 * an offset, an activation or a Clip. Assumption when the graph has one 4-wide output: raw columns
 * [density, r, g, b] as the spec's MLP returns them (the mesher applies exp(o − 1) and sigmoid).
 */
export function readDecoderOutputs(bytes: Uint8Array, opts: DecoderReadOptions = {}): DecoderOutputs {
  const g = new DecoderGraph(bytes, opts);
  const raw = (name: string): DecoderOutputs => ({
    names: { density: name, colour: name },
    density: { offset: [-1], clip: [0, Infinity], outputShift: -1 },
    colour: { offset: [0, 0, 0], clip: [0, 1], outputShift: 0 },
  });
  const outs = g.graph.outputs;
  const width = (o: (typeof outs)[number]): number | string | undefined => o.shape?.at(-1);
  if (outs.length === 1) return raw(outs[0]!.name);
  const density = outs.find((o) => width(o) === 1) ?? outs.find((o) => /dens|sigma/i.test(o.name)) ?? outs[0]!;
  const colour = outs.find((o) => o !== density && (width(o) === 3 || /col|rgb/i.test(o.name))) ?? outs[1]!;
  return {
    names: { density: density.name, colour: colour.name },
    density: backwards(g, density.name, 1, 'density', 'exp'),
    colour: backwards(g, colour.name, 3, 'colour', 'sigmoid'),
  };
}

/** Walks from an output back over tail ops, then reads the head forwards from where it starts. */
function backwards(g: DecoderGraph, output: string, width: number, kind: 'density' | 'colour', implied: 'exp' | 'sigmoid'): HeadMath {
  const tailOps = new Set(['Identity', 'Cast', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Exp', 'Softplus', 'Relu', 'Sigmoid', 'Clip', 'Add', 'Sub']);
  let name = output;
  for (let guard = 0; guard < 16; guard++) {
    const node = g.producers.get(name);
    if (!node || !tailOps.has(node.opType)) break;
    if ((node.opType === 'Add' || node.opType === 'Sub') && !node.inputs.some((i) => g.isConstant(i))) break;
    const data = node.inputs.find((i) => !g.isConstant(i));
    if (!data || g.users(data).length !== 1) break;
    name = data;
  }
  try {
    return readHead(g, name, width, kind, implied);
  } catch {
    // Nothing readable at the output: assume the spec's raw MLP output.
    return kind === 'density'
      ? { offset: [-1], clip: [0, Infinity], outputShift: -1 }
      : { offset: [0, 0, 0], clip: [0, 1], outputShift: 0 };
  }
}

/** The density the mesher thresholds, from the value a graph output holds (see HeadMath). */
export function densityFromOutput(head: HeadMath, v: number): number {
  const d = head.activation ? v : Math.exp(Math.min(v + head.outputShift, 80));
  return Math.min(Math.max(d, head.clip[0]), head.clip[1]);
}

/** The sRGB colour 0..1, from the value a graph output holds (see HeadMath). */
export function colourFromOutput(head: HeadMath, v: number): number {
  const c = head.activation ? v : 1 / (1 + Math.exp(-v));
  return Math.min(Math.max(c, head.clip[0]), head.clip[1]);
}
