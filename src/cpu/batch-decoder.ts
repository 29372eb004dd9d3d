import { DECODER_FEATURES } from '../gpu/constants';
import type { DecoderWeights } from '../gpu/decoder-weights';
import { writeOutputs } from './raw-outputs';
import { TriplaneSampler } from './triplane-sampler';

/** What `BatchDecoder` computes per point. */
export interface DecodeWant {
  density?: boolean;
  colour?: boolean;
}

export interface BatchDecoderOptions {
  /** Points per GEMM block: large enough to amortise the weight reads, small enough to stay in cache. */
  batchPoints: number;
}

export const BATCH_DECODER_DEFAULTS: BatchDecoderOptions = { batchPoints: 256 };

/** Hidden activation of the MLP; a weights object without the field is SiLU (TripoSR). */
type HiddenActivation = 'silu' | 'relu';

/**
 * The triplane decoder on the CPU without per-point allocation: a batch of points is sampled into one
 * feature matrix, then each layer runs as a register-blocked GEMM over the batch (4 points × 4 outputs).
 * Weights and activations are float64 like the reference's accumulators, so results agree with
 * `decodePointsCpu` to rounding.
 *
 * @example
 * const decoder = new BatchDecoder(triplane, weights);
 * const { density } = decoder.decode(points, { density: true });
 */
export class BatchDecoder {
  private readonly opts: BatchDecoderOptions;
  private readonly sampler: TriplaneSampler;
  private readonly layerWeights: Float64Array[];
  private readonly layerBias: Float64Array[];
  private readonly dims: { inF: number; outF: number }[];
  private readonly relu: boolean;
  /** Features [batch][120], then two ping-pong activation buffers [batch][width]. */
  private readonly features: Float64Array;
  private readonly actA: Float64Array;
  private readonly actB: Float64Array;

  constructor(
    triplane: Float32Array,
    private readonly weights: DecoderWeights,
    options: Partial<BatchDecoderOptions> = {},
  ) {
    this.opts = { ...BATCH_DECODER_DEFAULTS, ...options };
    // Blocks of 4 points: round the batch up so the GEMM never needs a scalar tail.
    this.opts.batchPoints = Math.max(4, Math.ceil(this.opts.batchPoints / 4) * 4);
    this.sampler = new TriplaneSampler(triplane);
    const layers = weights.layers;
    if (layers[0]?.inFeatures !== DECODER_FEATURES || layers.at(-1)?.outFeatures !== 4) {
      throw new Error(`The decoder must map ${DECODER_FEATURES} features to 4 outputs.`);
    }
    this.layerWeights = layers.map((l) => Float64Array.from(l.weight));
    this.layerBias = layers.map((l) => Float64Array.from(l.bias));
    this.dims = layers.map((l) => ({ inF: l.inFeatures, outF: l.outFeatures }));
    const hidden = (weights as DecoderWeights & { hidden?: HiddenActivation }).hidden ?? 'silu';
    this.relu = hidden === 'relu';
    const B = this.opts.batchPoints;
    const widest = Math.max(...layers.map((l) => l.outFeatures));
    this.features = new Float64Array(B * DECODER_FEATURES);
    this.actA = new Float64Array(B * widest);
    this.actB = new Float64Array(B * widest);
  }

  /** Points per internal batch. */
  get batchPoints(): number {
    return this.opts.batchPoints;
  }

  /** Decodes world points (xyz triples): density per point and sRGB colour (3 per point). */
  decode(points: Float32Array, want: DecodeWant = { density: true, colour: true }): { density: Float32Array; colour: Float32Array } {
    const n = points.length / 3;
    const density = new Float32Array(want.density ? n : 0);
    const colour = new Float32Array(want.colour ? 3 * n : 0);
    this.decodeInto(points, 0, n, want.density ? density : null, want.colour ? colour : null);
    return { density, colour };
  }

  /**
   * Decodes points [start, end) of `points` into `density[start..end)` and `colour[3·start..3·end)`
   * (either may be null); the unit of work the async mesher schedules.
   */
  decodeInto(points: Float32Array, start: number, end: number, density: Float32Array | null, colour: Float32Array | null): void {
    const B = this.opts.batchPoints;
    for (let s = start; s < end; s += B) {
      const count = Math.min(B, end - s);
      // Padded with zeros to a whole block of 4, so the GEMM's last block reads defined values.
      this.features.fill(0, count * DECODER_FEATURES, Math.ceil(count / 4) * 4 * DECODER_FEATURES);
      this.sampler.sampleInto(points, s, count, this.features);
      const out = this.runMlp(count);
      writeOutputs(this.weights, out, count, s, density, colour);
    }
  }

  /** Runs every layer over the first `count` rows of `features`; returns [count][4] raw outputs. */
  private runMlp(count: number): Float64Array {
    const padded = Math.ceil(count / 4) * 4;
    let input = this.features;
    let output = this.actA;
    const last = this.dims.length - 1;
    for (let k = 0; k <= last; k++) {
      const { inF, outF } = this.dims[k]!;
      gemmBias(input, this.layerWeights[k]!, this.layerBias[k]!, output, padded, inF, outF);
      if (k < last) {
        const m = padded * outF;
        if (this.relu) for (let i = 0; i < m; i++) output[i] = output[i]! > 0 ? output[i]! : 0;
        else for (let i = 0; i < m; i++) output[i] = output[i]! / (1 + Math.exp(-output[i]!));
      }
      input = output;
      output = output === this.actA ? this.actB : this.actA;
    }
    return input;
  }
}

/**
 * out[p][o] = bias[o] + Σ_i w[o][i] · x[p][i] for p < rows (a multiple of 4), in blocks of 4 points ×
 * 4 outputs so each loaded value feeds four multiply-adds. Sums run in the reference's order (bias
 * first, then i ascending) so float64 results match it exactly.
 */
function gemmBias(x: Float64Array, w: Float64Array, bias: Float64Array, out: Float64Array, rows: number, inF: number, outF: number): void {
  const outBlocked = outF & ~3;
  for (let p = 0; p < rows; p += 4) {
    const x0 = p * inF;
    const x1 = x0 + inF;
    const x2 = x1 + inF;
    const x3 = x2 + inF;
    const r0 = p * outF;
    const r1 = r0 + outF;
    const r2 = r1 + outF;
    const r3 = r2 + outF;
    let o = 0;
    for (; o < outBlocked; o += 4) {
      const w0 = o * inF;
      const w1 = w0 + inF;
      const w2 = w1 + inF;
      const w3 = w2 + inF;
      const b0 = bias[o]!;
      const b1 = bias[o + 1]!;
      const b2 = bias[o + 2]!;
      const b3 = bias[o + 3]!;
      let a00 = b0, a01 = b1, a02 = b2, a03 = b3;
      let a10 = b0, a11 = b1, a12 = b2, a13 = b3;
      let a20 = b0, a21 = b1, a22 = b2, a23 = b3;
      let a30 = b0, a31 = b1, a32 = b2, a33 = b3;
      for (let i = 0; i < inF; i++) {
        const v0 = x[x0 + i]!;
        const v1 = x[x1 + i]!;
        const v2 = x[x2 + i]!;
        const v3 = x[x3 + i]!;
        const c0 = w[w0 + i]!;
        const c1 = w[w1 + i]!;
        const c2 = w[w2 + i]!;
        const c3 = w[w3 + i]!;
        a00 += c0 * v0; a01 += c1 * v0; a02 += c2 * v0; a03 += c3 * v0;
        a10 += c0 * v1; a11 += c1 * v1; a12 += c2 * v1; a13 += c3 * v1;
        a20 += c0 * v2; a21 += c1 * v2; a22 += c2 * v2; a23 += c3 * v2;
        a30 += c0 * v3; a31 += c1 * v3; a32 += c2 * v3; a33 += c3 * v3;
      }
      out[r0 + o] = a00; out[r0 + o + 1] = a01; out[r0 + o + 2] = a02; out[r0 + o + 3] = a03;
      out[r1 + o] = a10; out[r1 + o + 1] = a11; out[r1 + o + 2] = a12; out[r1 + o + 3] = a13;
      out[r2 + o] = a20; out[r2 + o + 1] = a21; out[r2 + o + 2] = a22; out[r2 + o + 3] = a23;
      out[r3 + o] = a30; out[r3 + o + 1] = a31; out[r3 + o + 2] = a32; out[r3 + o + 3] = a33;
    }
    for (; o < outF; o++) {
      const w0 = o * inF;
      for (let q = 0; q < 4; q++) {
        const xr = x0 + q * inF;
        let acc = bias[o]!;
        for (let i = 0; i < inF; i++) acc += w[w0 + i]! * x[xr + i]!;
        out[r0 + q * outF + o] = acc;
      }
    }
  }
}
