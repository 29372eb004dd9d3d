import {
  DEFAULT_BOUNDS,
  DECODE_TILE,
  DECODER_FEATURES,
  DECODER_HIDDEN,
  DECODER_OUTPUTS,
  TRIPLANE_CHANNELS,
  TRIPLANE_PLANES,
  TRIPLANE_SIZE,
  type Dims,
} from './constants';
import type { DecoderWeights } from './decoder-weights';
import { PointSource, pointJobParams, type GpuFieldEvaluator } from './field-evaluator';
import { bindGroup, computePipeline, dispatchLinear, GpuScope, readBuffers } from './gpu-kit';
import type { KernelSource } from './pipeline-cache';
import pointJobWgsl from './point-job.wgsl?raw';
import decodeWgsl from './triplane-decode.wgsl?raw';
import sampleWgsl from './triplane-sample.wgsl?raw';

/** Floats in one triplane [3, 40, 64, 64]. */
export const TRIPLANE_FLOATS = TRIPLANE_PLANES * TRIPLANE_CHANNELS * TRIPLANE_SIZE * TRIPLANE_SIZE;

/** Throws unless the MLP has the shape the WGSL kernel is built for: 120 → 64 → … → 64 → 4. */
export function checkDecoderShape(weights: DecoderWeights): void {
  const layers = weights.layers;
  const ok =
    layers.length >= 2 &&
    layers[0]!.inFeatures === DECODER_FEATURES &&
    layers.at(-1)!.outFeatures === DECODER_OUTPUTS &&
    layers.slice(0, -1).every((l) => l.outFeatures === DECODER_HIDDEN) &&
    layers.slice(1).every((l) => l.inFeatures === DECODER_HIDDEN);
  if (!ok) {
    const shape = [layers[0]?.inFeatures, ...layers.map((l) => l.outFeatures)].join(' → ');
    throw new RangeError(`The decoder's layers are ${shape}; the GPU mesher needs 120 → 64 → … → 64 → 4.`);
  }
}

/** The MLP laid out for the kernel: per layer, rows [out][in] then the bias, in vec4s. */
export function packDecoderWeights(weights: DecoderWeights): Float32Array {
  const size = weights.layers.reduce((n, l) => n + l.weight.length + Math.ceil(l.outFeatures / 4) * 4, 0);
  const out = new Float32Array(size);
  let at = 0;
  for (const l of weights.layers) {
    out.set(l.weight, at);
    at += l.weight.length;
    out.set(l.bias, at);
    at += Math.ceil(l.outFeatures / 4) * 4;
  }
  return out;
}

/** Finite stand-in for an unbounded clamp (WGSL override constants cannot be infinite). */
const NO_CLAMP = 3e38;

const bound = (v: number): number => Math.max(-NO_CLAMP, Math.min(NO_CLAMP, v));

/** The kernel's override constants for the graph's activations and clamps (triplane-decode.wgsl). */
export function decoderConstants(weights: DecoderWeights): Record<string, number> {
  const [dLo, dHi] = weights.densityClip ?? [-Infinity, Infinity];
  const [cLo, cHi] = weights.colourClip ?? [-Infinity, Infinity];
  return {
    hiddenRelu: weights.hidden === 'relu' ? 1 : 0,
    densityAct: { exp: 0, softplus: 1, relu: 2 }[weights.densityActivation ?? 'exp'],
    densityLo: bound(dLo),
    densityHi: bound(dHi),
    colourLo: bound(cLo),
    colourHi: bound(cHi),
  };
}

/** The decode kernel for these weights' activations and clamps: density, or colour when `colourOut`. */
export function decodeKernel(weights: DecoderWeights, colourOut: boolean): KernelSource {
  const constants = { colourOut: colourOut ? 1 : 0, ...decoderConstants(weights) };
  return {
    key: `triplane-decode:${Object.values(constants).join(',')}`,
    code: pointJobWgsl + decodeWgsl + sampleWgsl,
    constants,
  };
}

/** The decoder's GPU resources: triplane, packed weights and parameters, owned by `scope`. */
export interface TriplaneDecoder {
  /** Density evaluator for the density walk. */
  density: GpuFieldEvaluator;
  /** Colour evaluator: sRGB 0..1, 3 floats per point, for vertex records (PointSource.Vertices). */
  colour: GpuFieldEvaluator;
}

/** Builds the density and colour evaluators of one triplane. */
export function triplaneDecoder(
  scope: GpuScope,
  triplane: GPUBuffer | Float32Array,
  weights: DecoderWeights,
): TriplaneDecoder {
  checkDecoderShape(weights);
  const device = scope.device;
  if (triplane instanceof Float32Array ? triplane.length !== TRIPLANE_FLOATS : triplane.size < TRIPLANE_FLOATS * 4) {
    throw new RangeError(`A triplane holds ${TRIPLANE_FLOATS} floats ([3, 40, 64, 64]).`);
  }
  const planes = triplane instanceof Float32Array ? scope.upload(triplane, GPUBufferUsage.STORAGE, 'triplane') : triplane;
  const packed = scope.upload(packDecoderWeights(weights), GPUBufferUsage.STORAGE, 'decoder weights');
  const params = new ArrayBuffer(16);
  new Uint32Array(params)[0] = weights.layers.length - 2;
  new Float32Array(params)[1] = weights.densityBias;
  const decoder = scope.uniform(new Uint8Array(params), 'decoder params');
  const make = (colourOut: boolean): GpuFieldEvaluator => {
    const kernel = decodeKernel(weights, colourOut);
    const pipeline = computePipeline(device, kernel.key, kernel.code, kernel.constants);
    const weightsGroup = bindGroup(device, pipeline, { 0: planes, 1: packed, 2: decoder }, 2);
    return {
      encode(pass, jobScope, job, maxPerDim) {
        const group = bindGroup(device, pipeline, { 0: job.params, 1: job.points, 2: job.results });
        dispatchLinear(pass, jobScope, pipeline, [group, weightsGroup], Math.ceil(job.maxPoints / DECODE_TILE), maxPerDim);
      },
    };
  };
  return { density: make(false), colour: make(true) };
}

/** The triplane's floats back from a GPU buffer (2 MB), for the walk's bound. */
export async function readTriplane(device: GPUDevice, triplane: GPUBuffer): Promise<Float32Array> {
  const scope = new GpuScope(device);
  try {
    const [bytes] = await readBuffers(device, scope, device.createCommandEncoder(), [{ buffer: triplane, size: TRIPLANE_FLOATS * 4 }]);
    return new Float32Array(bytes!);
  } finally {
    scope.destroy();
  }
}

/** Decodes density and sRGB colour at world points (xyz triples) on the GPU: a direct check of the kernel. */
export async function decodePoints(
  device: GPUDevice,
  triplane: GPUBuffer | Float32Array,
  weights: DecoderWeights,
  points: Float32Array,
): Promise<{ density: Float32Array; colour: Float32Array }> {
  const scope = new GpuScope(device);
  try {
    const n = points.length / 3;
    const decoder = triplaneDecoder(scope, triplane, weights);
    const records = new Float32Array(n * 6);
    for (let i = 0; i < n; i++) records.set(points.subarray(3 * i, 3 * i + 3), 6 * i);
    const vertices = scope.upload(records, GPUBufferUsage.STORAGE, 'points');
    const density = scope.buffer(n * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, 'density');
    const colour = scope.buffer(n * 12, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, 'colour');
    const job = { dims: [2, 2, 2] as Dims, bounds: DEFAULT_BOUNDS, mode: PointSource.Vertices, count: n, compactOut: true };
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    const maxPerDim = device.limits.maxComputeWorkgroupsPerDimension;
    decoder.density.encode(pass, scope, { params: pointJobParams(scope, job), points: vertices, results: density, maxPoints: n }, maxPerDim);
    decoder.colour.encode(pass, scope, { params: pointJobParams(scope, job), points: vertices, results: colour, maxPoints: n }, maxPerDim);
    pass.end();
    const [d, c] = await readBuffers(device, scope, encoder, [
      { buffer: density, size: n * 4 },
      { buffer: colour, size: n * 12 },
    ]);
    return { density: new Float32Array(d!), colour: new Float32Array(c!) };
  } finally {
    scope.destroy();
  }
}
