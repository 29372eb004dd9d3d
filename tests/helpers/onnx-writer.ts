// The writer lives with the test-model generator; tests keep importing it from here.
import onnxProto from 'onnx-proto';
import type { DecoderWeights } from '../../src/gpu/decoder-weights';
import {
  encodeModel,
  externalizeTensors,
  floatTensor,
  int64Tensor,
  onnxNode,
  valueInfo,
  type NodeProto,
  type TensorProto,
} from '../../scripts/lib/onnx-writer';

export {
  writeDecoderOnnx,
  type DecoderLayout,
  type DecoderOnnxOptions,
} from '../../scripts/lib/onnx-writer';

const { onnx } = onnxProto;

/** Forms a real decoder export plausibly takes (see writeDecoderVariant). */
export interface DecoderVariantOptions {
  layout?: 'gemm-transB' | 'matmul-add';
  /** Hidden activation; 'silu-div' is x / (1 + exp(−x)) with Neg/Exp/Add/Div, which the reader refuses. */
  hidden?: 'silu' | 'relu' | 'silu-div';
  /** Where the weights live: initializers, Constant nodes, or an external-data file. */
  weightsFrom?: 'initializer' | 'constant' | 'external';
  /** Identity, Cast, Reshape, Flatten, Unsqueeze/Squeeze on the input, between layers and on the heads. */
  views?: boolean;
  /** One 4-wide last layer cut by Split, or separate density and colour layers. */
  heads?: 'split' | 'two';
  /** What the graph does to the density column. */
  density?: 'raw' | 'exp' | 'offset' | 'add-offset' | 'softplus' | 'relu' | 'exp-clip' | 'clip-raw';
  /** What the graph does to the colour columns. */
  colour?: 'raw' | 'sigmoid' | 'sigmoid-clip' | 'clip-raw' | 'clip-sigmoid';
}

/** The external-data file name `writeDecoderVariant` uses. */
export const VARIANT_DATA = 'decoder.onnx.data';

/**
 * Writes a decoder graph (features [N,120] → density [N,1], colour [N,3]) in one of the forms of
 * DecoderVariantOptions with onnx-proto, independently of the project's reader.
 */
export function writeDecoderVariant(
  weights: DecoderWeights,
  opts: DecoderVariantOptions = {},
): { model: Uint8Array; externalData?: Uint8Array } {
  const nodes: NodeProto[] = [];
  const floats: TensorProto[] = [];
  const others: TensorProto[] = [];
  let uid = 0;
  const fresh = (base: string): string => `${base}_${uid++}`;
  const node = (op: string, inputs: string[], attrs: Record<string, number | number[]> = {}): string => {
    const out = fresh(op.toLowerCase());
    nodes.push(onnxNode(op, inputs, [out], attrs));
    return out;
  };
  const floatConst = (name: string, dims: number[], values: Float32Array): string => {
    floats.push(floatTensor(name, dims, values));
    return name;
  };
  const ints = (values: number[]): string => {
    const name = fresh('shape');
    others.push(int64Tensor(name, [values.length], values));
    return name;
  };
  const scalar = (v: number): string => {
    const name = fresh('c');
    others.push(floatTensor(name, [], Float32Array.of(v)));
    return name;
  };
  const views = (x: string, k: number): string => {
    if (!opts.views) return x;
    const forms = [
      () => node('Cast', [node('Identity', [x])], { to: 1 }),
      () => node('Reshape', [x, ints([-1, 64])]),
      () => node('Squeeze', [node('Unsqueeze', [x, ints([0])]), ints([0])]),
      () => node('Flatten', [x], { axis: 1 }),
    ];
    return forms[k % forms.length]!();
  };
  const transposed = (w: Float32Array, inF: number, outF: number): Float32Array => {
    const t = new Float32Array(inF * outF);
    for (let o = 0; o < outF; o++) for (let i = 0; i < inF; i++) t[i * outF + o] = w[o * inF + i]!;
    return t;
  };
  const linear = (x: string, w: Float32Array, b: Float32Array, inF: number, outF: number, name: string): string => {
    if (opts.layout === 'matmul-add') {
      const mm = node('MatMul', [x, floatConst(`${name}.w`, [inF, outF], transposed(w, inF, outF))]);
      return node('Add', [mm, floatConst(`${name}.b`, [outF], b)]);
    }
    const weight = floatConst(`${name}.weight`, [outF, inF], w);
    return node('Gemm', [x, weight, floatConst(`${name}.bias`, [outF], b)], { transB: 1 });
  };

  let current = views('features_in', 0);
  const last = weights.layers.length - 1;
  weights.layers.slice(0, last).forEach((l, k) => {
    current = views(linear(current, l.weight, l.bias, l.inFeatures, l.outFeatures, `mlp.${k}`), k + 1);
    if (opts.hidden === 'relu') current = node('Relu', [current]);
    else if (opts.hidden === 'silu-div') {
      const e = node('Exp', [node('Neg', [current])]);
      current = node('Div', [current, node('Add', [e, scalar(1)])]);
    } else current = node('Mul', [current, node('Sigmoid', [current])]);
  });
  const out = weights.layers[last]!;
  let density: string;
  let colour: string;
  if (opts.heads === 'two') {
    const inF = out.inFeatures;
    density = linear(current, out.weight.slice(0, inF), out.bias.slice(0, 1), inF, 1, 'density_head');
    colour = linear(current, out.weight.slice(inF), out.bias.slice(1), inF, 3, 'colour_head');
  } else {
    const raw = views(linear(current, out.weight, out.bias, out.inFeatures, 4, `mlp.${last}`), 0);
    const outs = [fresh('density_raw'), fresh('colour_raw')];
    nodes.push(onnxNode('Split', [raw, ints([1, 3])], outs, { axis: 1 }));
    [density, colour] = outs as [string, string];
  }
  if (opts.views) {
    density = node('Identity', [node('Reshape', [density, ints([-1, 1])])]);
    colour = node('Flatten', [colour], { axis: 1 });
  }
  const clip = (x: string, lo: number, hi: number): string => node('Clip', [x, scalar(lo), scalar(hi)]);
  switch (opts.density ?? 'raw') {
    case 'exp': density = node('Exp', [node('Sub', [density, scalar(1)])]); break;
    case 'offset': density = node('Sub', [density, scalar(1)]); break;
    case 'add-offset': density = node('Add', [density, scalar(0.5)]); break;
    case 'softplus': density = node('Softplus', [density]); break;
    case 'relu': density = node('Relu', [density]); break;
    case 'exp-clip': density = clip(node('Exp', [node('Sub', [density, scalar(1)])]), 0, 2); break;
    case 'clip-raw': density = clip(density, 0, 3); break;
    default: break;
  }
  switch (opts.colour ?? 'raw') {
    case 'sigmoid': colour = node('Sigmoid', [colour]); break;
    case 'sigmoid-clip': colour = clip(node('Sigmoid', [colour]), 0.3, 0.7); break;
    case 'clip-raw': colour = clip(colour, -0.5, 0.5); break;
    case 'clip-sigmoid': colour = node('Sigmoid', [clip(colour, -0.5, 0.5)]); break;
    default: break;
  }
  nodes.push(onnxNode('Identity', [density], ['density']), onnxNode('Identity', [colour], ['colour']));

  let externalData: Uint8Array | undefined;
  if (opts.weightsFrom === 'external') externalData = externalizeTensors(floats, VARIANT_DATA);
  if (opts.weightsFrom === 'constant') {
    // Constant nodes first, so a topological reader meets them before their users.
    nodes.unshift(
      ...floats.map((t) =>
        onnx.NodeProto.create({
          opType: 'Constant',
          input: [],
          output: [t.name],
          name: `const_${t.name}`,
          attribute: [onnx.AttributeProto.create({ name: 'value', t, type: onnx.AttributeProto.AttributeType.TENSOR })],
        }),
      ),
    );
  }
  const model = encodeModel({
    name: 'decoder',
    nodes,
    initializers: opts.weightsFrom === 'constant' ? others : [...others, ...floats].reverse(),
    inputs: [valueInfo('features_in', ['N', 120])],
    outputs: [valueInfo('density', ['N', 1]), valueInfo('colour', ['N', 3])],
  });
  return { model, externalData };
}
