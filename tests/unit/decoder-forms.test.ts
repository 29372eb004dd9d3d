import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { readDecoderOnnx, type DecoderWeights } from '../../src/gpu/decoder-weights';
import { decodePointsCpu, sampleTriplane } from '../../src/gpu/reference/triplane-decoder-cpu';
import { blobDecoder, smoothTriplane } from '../helpers/synthetic-decoder';
import { VARIANT_DATA, writeDecoderVariant, type DecoderVariantOptions } from '../helpers/onnx-writer';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const same = (x: number): number => x;

/**
 * Each form, with what the mesher must make of the graph's outputs: the graph's own density when it
 * applies a density activation, else exp(output) (the graph returns the exp argument: the spec's
 * exp(o − 1) for a raw output, exp(output) when the graph already shifted it); colour likewise.
 */
const FORMS: { name: string; opts: DecoderVariantOptions; density: (d: number) => number; colour: (c: number) => number }[] = [
  { name: 'raw outputs', opts: {}, density: (d) => Math.exp(d - 1), colour: sigmoid },
  { name: 'exp(x − 1) and sigmoid in the graph', opts: { density: 'exp', colour: 'sigmoid' }, density: same, colour: same },
  { name: 'x − 1 without Exp', opts: { density: 'offset' }, density: Math.exp, colour: sigmoid },
  { name: 'x + 0.5 without Exp', opts: { density: 'add-offset' }, density: Math.exp, colour: sigmoid },
  { name: 'Softplus density', opts: { density: 'softplus', colour: 'sigmoid' }, density: same, colour: same },
  { name: 'Relu density', opts: { density: 'relu' }, density: same, colour: sigmoid },
  { name: 'Clip after Exp, Clip after Sigmoid', opts: { density: 'exp-clip', colour: 'sigmoid-clip' }, density: same, colour: same },
  { name: 'Clip on raw outputs', opts: { density: 'clip-raw', colour: 'clip-raw' }, density: (d) => Math.exp(d - 1), colour: sigmoid },
  { name: 'Clip before Sigmoid', opts: { colour: 'clip-sigmoid' }, density: (d) => Math.exp(d - 1), colour: same },
  { name: 'Relu hidden layers', opts: { hidden: 'relu', density: 'softplus' }, density: same, colour: sigmoid },
  { name: 'view ops everywhere (Gemm)', opts: { views: true, density: 'exp', colour: 'sigmoid' }, density: same, colour: same },
  { name: 'view ops everywhere (MatMul + Add)', opts: { views: true, layout: 'matmul-add' }, density: (d) => Math.exp(d - 1), colour: sigmoid },
  { name: 'weights in Constant nodes', opts: { weightsFrom: 'constant', density: 'exp' }, density: same, colour: sigmoid },
  { name: 'weights in external data', opts: { weightsFrom: 'external', layout: 'matmul-add' }, density: (d) => Math.exp(d - 1), colour: sigmoid },
  { name: 'two output heads', opts: { heads: 'two' }, density: (d) => Math.exp(d - 1), colour: sigmoid },
  { name: 'two heads with views, Relu and Constant weights', opts: { heads: 'two', views: true, hidden: 'relu', weightsFrom: 'constant', layout: 'matmul-add', density: 'exp', colour: 'sigmoid' }, density: same, colour: same },
];

describe('readDecoderOnnx reads the forms of a real export', () => {
  const triplane = smoothTriplane(7);
  // A bumpy blob: density and colour vary over the box, both sides of every clip and activation.
  const weights = blobDecoder(7, triplane, 0.5, 3, 1);
  // Points spread through the box, so activations and clips take both sides.
  const n = 48;
  const points = Float32Array.from({ length: 3 * n }, (_, i) => 0.5 * Math.sin(i * 1.618 + 0.2));
  const features = new Float32Array(120 * n);
  for (let i = 0; i < n; i++) sampleTriplane(triplane, points.subarray(3 * i, 3 * i + 3), features.subarray(120 * i));

  beforeAll(() => {
    ort.env.wasm.numThreads = 1;
  });

  for (const form of FORMS) {
    it(`${form.name}: the read weights reproduce onnxruntime's outputs`, async () => {
      const { model, externalData } = writeDecoderVariant(weights, form.opts);
      const external = externalData ? new Map([[VARIANT_DATA, externalData]]) : undefined;
      const read: DecoderWeights = readDecoderOnnx(model, { externalData: external });
      const session = await ort.InferenceSession.create(model, {
        executionProviders: ['wasm'],
        externalData: externalData ? [{ path: VARIANT_DATA, data: externalData }] : undefined,
      });
      const out = await session.run({ features_in: new ort.Tensor('float32', features, [n, 120]) });
      await session.release();
      const density = out.density!.data as Float32Array;
      const colour = out.colour!.data as Float32Array;
      const cpu = decodePointsCpu(triplane, read, points);
      let variedDensity = 0;
      for (let i = 0; i < n; i++) {
        const want = form.density(density[i]!);
        expect(Math.abs(cpu.density[i]! - want), `density ${i}`).toBeLessThanOrEqual(2e-4 * (1 + Math.abs(want)));
        if (Math.abs(want - form.density(density[0]!)) > 1e-3) variedDensity++;
        for (let c = 0; c < 3; c++) {
          expect(cpu.colour[3 * i + c]!, `colour ${i}.${c}`).toBeCloseTo(form.colour(colour[3 * i + c]!), 4);
        }
      }
      // The comparison means something only if the field varies over the points.
      expect(variedDensity).toBeGreaterThan(n / 4);
    });
  }

  it('takes an offset without Exp as the whole density bias (no extra − 1)', () => {
    expect(readDecoderOnnx(writeDecoderVariant(weights, { density: 'offset' }).model).densityBias).toBe(-1);
    expect(readDecoderOnnx(writeDecoderVariant(weights, { density: 'add-offset' }).model).densityBias).toBe(0.5);
    expect(readDecoderOnnx(writeDecoderVariant(weights, {}).model).densityBias).toBe(-1);
  });

  it('records the activations it read', () => {
    const read = readDecoderOnnx(writeDecoderVariant(weights, { hidden: 'relu', heads: 'two', density: 'softplus' }).model);
    expect(read.hidden).toBe('relu');
    expect(read.densityActivation).toBe('softplus');
    expect(read.layers.at(-1)!.outFeatures).toBe(4);
    expect(readDecoderOnnx(writeDecoderVariant(weights).model).hidden).toBe('silu');
  });

  it('asks for external data it was not given, by name', () => {
    const { model } = writeDecoderVariant(weights, { weightsFrom: 'external' });
    expect(() => readDecoderOnnx(model)).toThrow(/decoder\.onnx\.data/);
  });

  it('refuses SiLU written as x / (1 + exp(−x)), naming the node', () => {
    expect(() => readDecoderOnnx(writeDecoderVariant(weights, { hidden: 'silu-div' }).model)).toThrow(/node "neg_\d+" \(Neg\).*SiLU/);
  });
});
