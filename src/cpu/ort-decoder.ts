import type * as Ort from 'onnxruntime-web';
import { DECODER_FEATURES } from '../gpu/constants';
import type { DecoderWeights } from '../gpu/decoder-weights';
import type { PointDecoder } from './async-mesher';
import { MLP_ONNX_INPUT, MLP_ONNX_OUTPUT, mlpOnnx } from './mlp-onnx';
import { writeOutputs } from './raw-outputs';
import { TriplaneSampler } from './triplane-sampler';

/** The parts of onnxruntime-web this decoder uses: the caller passes the module it configured. */
export type OrtRuntime = Pick<typeof Ort, 'InferenceSession' | 'Tensor'>;

export interface OrtDecoderOptions {
  /** Points per `session.run`: large enough to amortise the call, small enough to keep cancel prompt. */
  batchPoints: number;
}

export const ORT_DECODER_DEFAULTS: OrtDecoderOptions = { batchPoints: 4096 };

/**
 * The triplane decoder with its MLP on onnxruntime-web's WASM backend (SIMD GEMMs; as many threads as
 * the runtime's `env.wasm.numThreads`, which needs cross-origin isolation): features are sampled in
 * TypeScript, the MLP graph is built from the weights (`mlpOnnx`) and returns raw outputs, and density
 * and colour come from the reference's functions. Takes the caller's `ort` so the app keeps one
 * runtime with one set of WASM paths.
 *
 * @example
 * const decoder = await OrtDecoder.create(ort, triplane, weights);
 * const mesh = await meshTriplaneCpuAsync(triplane, weights, { ...options, decoder });
 * await decoder.release();
 */
export class OrtDecoder implements PointDecoder {
  private readonly features: Float32Array;

  private constructor(
    private readonly ort: OrtRuntime,
    private readonly session: Ort.InferenceSession,
    private readonly sampler: TriplaneSampler,
    private readonly weights: DecoderWeights,
    private readonly opts: OrtDecoderOptions,
  ) {
    this.features = new Float32Array(opts.batchPoints * DECODER_FEATURES);
  }

  /** Builds the MLP session on the WASM execution provider. */
  static async create(ort: OrtRuntime, triplane: Float32Array, weights: DecoderWeights, options: Partial<OrtDecoderOptions> = {}): Promise<OrtDecoder> {
    const opts = { ...ORT_DECODER_DEFAULTS, ...options };
    const sampler = new TriplaneSampler(triplane);
    const session = await ort.InferenceSession.create(mlpOnnx(weights), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    return new OrtDecoder(ort, session, sampler, weights, opts);
  }

  /** `PointDecoder.decodeInto`: one `session.run` per `batchPoints` points. */
  async decodeInto(points: Float32Array, start: number, end: number, density: Float32Array | null, colour: Float32Array | null): Promise<void> {
    for (let s = start; s < end; s += this.opts.batchPoints) {
      const count = Math.min(this.opts.batchPoints, end - s);
      this.sampler.sampleInto(points, s, count, this.features);
      // ORT may keep the input until the run settles, so each run gets its own view of the buffer.
      const input = new this.ort.Tensor('float32', this.features.subarray(0, count * DECODER_FEATURES), [count, DECODER_FEATURES]);
      const outputs = await this.session.run({ [MLP_ONNX_INPUT]: input });
      const raw = outputs[MLP_ONNX_OUTPUT]!;
      writeOutputs(this.weights, raw.data as Float32Array, count, s, density, colour);
      raw.dispose();
    }
  }

  /** Decodes all points at once (density and colour); for tests and the benchmark. */
  async decode(points: Float32Array): Promise<{ density: Float32Array; colour: Float32Array }> {
    const n = points.length / 3;
    const density = new Float32Array(n);
    const colour = new Float32Array(3 * n);
    await this.decodeInto(points, 0, n, density, colour);
    return { density, colour };
  }

  /** Frees the session. */
  release(): Promise<void> {
    return this.session.release();
  }
}
