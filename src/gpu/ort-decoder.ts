import type * as Ort from 'onnxruntime-web';
import { DECODER_FEATURES, DEFAULT_BOUNDS } from './constants';
import { colourFromOutput, densityFromOutput, readDecoderOutputs, type DecoderOutputs } from './decoder-tail';
import type { DecoderReadOptions } from './decoder-graph';
import { fieldLength } from './mesh';
import { latticePoints } from './reference/density-walk-cpu';
import { marchingCubesCpu } from './reference/marching-cubes-cpu';
import { sampleTriplane } from './reference/triplane-decoder-cpu';
import type { TriplaneMesh, TriplaneMeshOptions } from './reference/triplane-mesher-cpu';
import { throwIfAborted } from '../lib/errors';

/** Which decoder produced a mesh: the WGSL kernel on read weights, or decoder.onnx itself in onnxruntime. */
export type DecoderBackend = 'wgsl' | 'cpu' | 'onnxruntime';

/** Tuning of the onnxruntime decoder. */
export interface OrtDecoderOptions extends DecoderReadOptions {
  /** Points per session.run: bounds the feature tensor (batch × 120 floats). */
  batch: number;
}

/** Defaults of OrtDecoderOptions: 65,536 points per run (31 MB of features). */
export const ORT_DECODER_DEFAULTS: OrtDecoderOptions = { batch: 65_536 };

/** decoder.onnx as an onnxruntime session, with what its outputs mean. */
export interface OrtDecoder {
  session: Ort.InferenceSession;
  Tensor: typeof Ort.Tensor;
  outputs: DecoderOutputs;
  /** Output names and the columns of each: [density, colour]; both name one [N,4] output for a raw graph. */
  densityOut: { name: string; column: number; width: number };
  colourOut: { name: string; column: number; width: number };
  batch: number;
}

/**
 * Opens decoder.onnx in onnxruntime (the module is passed in, so the CPU path can hand in the WASM build
 * and the GPU path `onnxruntime-web/webgpu`), for graphs `readDecoderOnnx` does not understand.
 *
 * @example
 * const decoder = await createOrtDecoder(await import('onnxruntime-web'), bytes, { executionProviders: ['wasm'] });
 */
export async function createOrtDecoder(
  ort: { InferenceSession: typeof Ort.InferenceSession; Tensor: typeof Ort.Tensor },
  bytes: Uint8Array,
  session: Ort.InferenceSession.SessionOptions = { executionProviders: ['wasm'] },
  options: Partial<OrtDecoderOptions> = {},
): Promise<OrtDecoder> {
  const opts = { ...ORT_DECODER_DEFAULTS, ...options };
  const externalData = opts.externalData ? [...opts.externalData].map(([path, data]) => ({ path, data })) : undefined;
  const s = await ort.InferenceSession.create(bytes, { ...session, externalData: session.externalData ?? externalData });
  const outputs = readDecoderOutputs(bytes, opts);
  const single = outputs.names.density === outputs.names.colour;
  return {
    session: s,
    Tensor: ort.Tensor,
    outputs,
    densityOut: { name: outputs.names.density, column: 0, width: single ? 4 : 1 },
    colourOut: { name: outputs.names.colour, column: single ? 1 : 0, width: single ? 4 : 3 },
    batch: opts.batch,
  };
}

/**
 * Decodes world points (xyz triples) with the CPU sampler's features and decoder.onnx in onnxruntime,
 * in batches: density the mesher thresholds, and sRGB colour 0..1 (3 per point).
 */
export async function decodePointsOrt(
  decoder: OrtDecoder,
  triplane: Float32Array,
  points: Float32Array,
  want: { density?: boolean; colour?: boolean } = { density: true, colour: true },
  signal?: AbortSignal,
): Promise<{ density: Float32Array; colour: Float32Array }> {
  const n = points.length / 3;
  const density = new Float32Array(want.density ? n : 0);
  const colour = new Float32Array(want.colour ? 3 * n : 0);
  const inputName = decoder.session.inputNames[0]!;
  for (let first = 0; first < n; first += decoder.batch) {
    throwIfAborted(signal);
    const count = Math.min(decoder.batch, n - first);
    const features = new Float32Array(count * DECODER_FEATURES);
    for (let i = 0; i < count; i++) {
      const p = 3 * (first + i);
      sampleTriplane(triplane, points.subarray(p, p + 3), features.subarray(i * DECODER_FEATURES, (i + 1) * DECODER_FEATURES));
    }
    const out = await decoder.session.run({ [inputName]: new decoder.Tensor('float32', features, [count, DECODER_FEATURES]) });
    if (want.density) {
      const { name, column, width } = decoder.densityOut;
      const d = out[name]!.data as Float32Array;
      for (let i = 0; i < count; i++) density[first + i] = densityFromOutput(decoder.outputs.density, d[i * width + column]!);
    }
    if (want.colour) {
      const { name, column, width } = decoder.colourOut;
      const c = out[name]!.data as Float32Array;
      for (let i = 0; i < count; i++) {
        for (let k = 0; k < 3; k++) colour[3 * (first + i) + k] = colourFromOutput(decoder.outputs.colour, c[i * width + column + k]!);
      }
    }
    for (const t of Object.values(out)) t.dispose();
  }
  return { density, colour };
}

/**
 * `meshTriplaneCpu` with decoder.onnx run by onnxruntime (WASM) instead of read weights: the CPU path
 * for a decoder graph the reader refuses. Dense lattice only (the coarse-to-fine walk needs a synchronous decoder).
 */
export async function meshTriplaneOrtCpu(
  triplane: Float32Array,
  decoder: OrtDecoder,
  options: Omit<TriplaneMeshOptions, 'mode' | 'coarseToFine'> & { signal?: AbortSignal },
): Promise<TriplaneMesh & { stats: { decoder: DecoderBackend } }> {
  const bounds = options.bounds ?? DEFAULT_BOUNDS;
  const r = options.resolution;
  const dims = [r, r, r] as [number, number, number];
  const n = fieldLength(dims);
  const t0 = performance.now();
  const all = new Uint32Array(n).map((_, i) => i);
  const { density: field } = await decodePointsOrt(decoder, triplane, latticePoints(dims, bounds, all), { density: true }, options.signal);
  const t1 = performance.now();
  const mesh = marchingCubesCpu(field, dims, options.threshold, { bounds });
  const t2 = performance.now();
  const { colour } = await decodePointsOrt(decoder, triplane, mesh.positions, { colour: true }, options.signal);
  const t3 = performance.now();
  return {
    ...mesh,
    colours: colour,
    stats: { evaluations: n, decoder: 'onnxruntime', ms: { decode: t1 - t0, march: t2 - t1, colour: t3 - t2, readback: 0 } },
  };
}
