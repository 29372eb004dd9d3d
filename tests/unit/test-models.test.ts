import { buildTestSegmenter } from '../../scripts/make-test-segmenter';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { readDecoderOnnx, type DecoderWeights } from '../../src/gpu/decoder-weights';
import { decodePointsCpu, sampleTriplane } from '../../src/gpu/reference/triplane-decoder-cpu';
import { meshTriplaneCpu } from '../../src/gpu/reference/triplane-mesher-cpu';
import { readOnnxGraph } from '../../src/lib/onnx-graph';
import type { ModelManifest } from '../../src/shared/manifest';
import {
  buildTestModels,
  DENSITY_THRESHOLD,
  expectedColour,
  expectedDensity,
  expectedRadius,
  expectedTriplane,
  imageMeans,
  syntheticImage,
  TEST_CHANNELS,
  TEST_DECODERS,
  TEST_ENCODER_INPUT,
  TEST_ENCODER_OUTPUT,
  testDecoderWeights,
} from '../../scripts/make-test-models';
import { isClosed } from '../helpers/mesh-metrics';

const root = fileURLToPath(new URL('../fixtures/models/', import.meta.url));
const fixture = (path: string): Uint8Array => new Uint8Array(readFileSync(root + path));
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const TEXELS = 64 * 64;
const ENCODER = 'triposr-test/triplane_q8.onnx';
const ENCODER_DATA = 'triposr-test/triplane_q8.onnx.data';

/** Dark, bright and saturated test images; white has the largest sphere (R = 0.7). */
const IMAGES = {
  dark: syntheticImage([0.2, 0.1, 0.05], 11),
  bright: syntheticImage([0.9, 0.8, 0.7], 12),
  white: syntheticImage([1, 1, 1], 13, 0),
};
type ImageName = keyof typeof IMAGES;
const IMAGE_NAMES = Object.keys(IMAGES) as ImageName[];

/** Unit directions for probing the sphere: axes, a diagonal and a few off-axis ones. */
const DIRECTIONS = [
  [1, 0, 0],
  [0, -1, 0],
  [0, 0, 1],
  [1, 1, 1],
  [-1, 0.5, -0.25],
  [0.3, -0.9, 0.4],
].map((d) => {
  const n = Math.hypot(d[0]!, d[1]!, d[2]!);
  return d.map((v) => v / n);
});

function pointsAt(radius: number): Float32Array {
  return Float32Array.from(DIRECTIONS.flatMap((d) => d.map((v) => v * radius)));
}

describe('test-model fixtures', () => {
  const built = buildTestModels();

  it('regenerate byte-identical to the committed files, with no stray files', () => {
    const committed = readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => `${e.parentPath.slice(root.length)}/${e.name}`.replace(/^\//, ''))
      .sort();
    // The segmenter generator writes beside the TripoSR test models; together they are every file.
    expect(committed).toEqual([...built.keys(), ...buildTestSegmenter().keys()].sort());
    for (const [path, bytes] of built) expect(sha256(fixture(path)), path).toBe(sha256(bytes));
  });

  it('stay small', () => {
    const total = [...built.values()].reduce((n, b) => n + b.length, 0);
    expect(total).toBeLessThan(1024 * 1024);
  });

  for (const { variant, file } of TEST_DECODERS) {
    it(`manifest ${variant} lists the files with exact sizes and hashes`, () => {
      const json = readFileSync(`${root}test-${variant}.manifest.json`, 'utf8');
      const manifest = JSON.parse(json) as ModelManifest;
      expect(manifest).toMatchObject({
        version: 1,
        id: `triposr-test-${variant}`,
        license: 'MIT',
        contract: { image: [1, 3, 512, 512], triplane: [1, 3, 40, 64, 64], features: 120 },
      });
      expect(manifest.files.map((f) => [f.role, f.name])).toEqual([
        ['encoder', 'triplane_q8.onnx'],
        ['encoder-data', 'triplane_q8.onnx.data'],
        ['decoder', file],
      ]);
      for (const f of manifest.files) {
        const bytes = fixture(f.url);
        expect(f.bytes).toBe(bytes.length);
        expect(f.sha256).toBe(sha256(bytes));
      }
      expect(manifest.requirements.maxBufferSize).toBeLessThanOrEqual(8 * 1024 * 1024);
    });
  }

  it('encoder keeps its weights in external data and quantises with 8-bit MatMulNBits', () => {
    const graph = readOnnxGraph(fixture(ENCODER));
    const data = fixture(ENCODER_DATA);
    const tensors = [...graph.initializers.values()];
    // Only the int64 shape tensors stay inline (shape inference reads them before external data).
    expect(tensors.filter((t) => !t.external).every((t) => t.name.startsWith('shape_'))).toBe(true);
    const external = tensors.filter((t) => t.external);
    expect(external.length).toBeGreaterThan(10);
    for (const t of external) {
      const offset = Number(t.external!.offset);
      expect(t.external!.location).toBe('triplane_q8.onnx.data');
      expect(offset % 64).toBe(0);
      expect(offset + Number(t.external!.length)).toBeLessThanOrEqual(data.length);
    }
    const mixer = graph.nodes.find((n) => n.opType === 'MatMulNBits')!;
    expect(mixer.domain).toBe('com.microsoft');
    expect(mixer.attributes.get('bits')?.i).toBe(8);
    expect(mixer.attributes.get('block_size')?.i).toBe(32);
    expect(graph.inputs.map((i) => [i.name, i.shape])).toEqual([
      [TEST_ENCODER_INPUT, [1, 3, 512, 512]],
    ]);
    expect(graph.outputs.map((o) => [o.name, o.shape])).toEqual([
      [TEST_ENCODER_OUTPUT, [1, 3, 40, 64, 64]],
    ]);
  });
});

describe('test models in onnxruntime-web (WASM) and the CPU reference', () => {
  const triplanes = {} as Record<ImageName, Float32Array>;
  let decoders: { variant: string; file: string; weights: DecoderWeights }[] = [];

  beforeAll(async () => {
    ort.env.wasm.numThreads = 1;
    const session = await ort.InferenceSession.create(fixture(ENCODER), {
      executionProviders: ['wasm'],
      externalData: [{ path: 'triplane_q8.onnx.data', data: fixture(ENCODER_DATA) }],
    });
    expect(session.inputNames).toEqual([TEST_ENCODER_INPUT]);
    expect(session.outputNames).toEqual([TEST_ENCODER_OUTPUT]);
    for (const name of IMAGE_NAMES) {
      const image = new ort.Tensor('float32', IMAGES[name], [1, 3, 512, 512]);
      const out = await session.run({ [session.inputNames[0]!]: image });
      const tensor = out[session.outputNames[0]!]!;
      expect(tensor.dims).toEqual([1, 3, 40, 64, 64]);
      triplanes[name] = tensor.data as Float32Array;
    }
    await session.release();
    decoders = TEST_DECODERS.map(({ variant, file }) => ({
      variant,
      file,
      weights: readDecoderOnnx(fixture(`triposr-test/${file}`)),
    }));
  }, 60_000);

  for (const name of IMAGE_NAMES) {
    it(`encoder writes R², the colour logits and the ramp for the ${name} image`, () => {
      const { rgb, brightness } = imageMeans(IMAGES[name]);
      const triplane = triplanes[name];
      const radius = expectedRadius(brightness);
      const colour = expectedColour(rgb);
      const at = (plane: number, ch: number, texel: number) =>
        triplane[(plane * 40 + ch) * TEXELS + texel]!;
      // Constant channels hold one value in every texel (float32 means over 512² pixels: ~1e-6).
      for (const texel of [0, 2080, TEXELS - 1]) {
        expect(at(0, TEST_CHANNELS.radiusSquared, texel)).toBeCloseTo(radius * radius, 5);
        expect(at(0, TEST_CHANNELS.presence, texel)).toBe(1);
        TEST_CHANNELS.colourLogit.forEach((ch, k) => {
          expect(sigmoid(at(0, ch, texel))).toBeCloseTo(colour[k]!, 5);
        });
        TEST_CHANNELS.means.forEach((ch, k) => expect(at(1, ch, texel)).toBeCloseTo(rgb[k]!, 5));
      }
      // Everything else, distractors and the positional ramp included, as documented.
      const expected = expectedTriplane(rgb);
      let worst = 0;
      for (let i = 0; i < expected.length; i++) {
        worst = Math.max(worst, Math.abs(triplane[i]! - expected[i]!));
      }
      expect(worst).toBeLessThan(1e-4);
    });
  }

  it('every decoder variant reads back to the same MLP and the right activations', () => {
    const reference = testDecoderWeights();
    for (const { variant, weights } of decoders) {
      expect(weights.layers.map((l) => [l.inFeatures, l.outFeatures]), variant).toEqual([
        [120, 64],
        ...Array.from({ length: 8 }, () => [64, 64]),
        [64, 4],
      ]);
      weights.layers.forEach((l, k) => {
        expect(l.weight).toEqual(reference.layers[k]!.weight);
        expect(l.bias).toEqual(reference.layers[k]!.bias);
      });
      const folded = variant === 'folded';
      expect(weights.graphApplies).toEqual({ densityExp: folded, colourSigmoid: folded });
      expect(weights.densityBias).toBe(-1);
    }
  });

  for (const name of IMAGE_NAMES) {
    it(`decodes density 25 on the expected sphere and the mean colour (${name})`, () => {
      const { rgb, brightness } = imageMeans(IMAGES[name]);
      const radius = expectedRadius(brightness);
      const colour = expectedColour(rgb);
      for (const { variant, weights } of decoders) {
        const on = decodePointsCpu(triplanes[name], weights, pointsAt(radius));
        // Bilinear sampling of x² adds ≤ 3h²/4 to |p|², so density lies in 25·[exp(−0.0056), 1].
        on.density.forEach((d) => expect(d / DENSITY_THRESHOLD, variant).toBeGreaterThan(0.99));
        on.density.forEach((d) => expect(d / DENSITY_THRESHOLD, variant).toBeLessThan(1.0001));
        on.colour.forEach((c, i) => expect(c, variant).toBeCloseTo(colour[i % 3]!, 4));
        const inside = decodePointsCpu(triplanes[name], weights, pointsAt(radius - 0.005));
        const outside = decodePointsCpu(triplanes[name], weights, pointsAt(radius + 0.005));
        inside.density.forEach((d) => expect(d, variant).toBeGreaterThan(DENSITY_THRESHOLD));
        outside.density.forEach((d) => expect(d, variant).toBeLessThan(DENSITY_THRESHOLD));
        // The documented profile 25·exp(s·(R² − |p|²)), from the centre to past the surface.
        for (const r of [0, 0.5 * radius, 1.2 * radius]) {
          const points = pointsAt(r);
          const { density } = decodePointsCpu(triplanes[name], weights, points);
          density.forEach((d, i) => {
            const expected = expectedDensity(radius, points.subarray(3 * i, 3 * i + 3));
            expect(Math.abs(d / expected - 1), variant).toBeLessThan(0.01);
          });
        }
      }
    });
  }

  it('keeps the zero-padded rim of the box outside (closed surface even at R = 0.7)', () => {
    const weights = decoders[0]!.weights;
    const h = 0.87;
    const rim: number[] = [];
    for (const a of [-h, -0.86, 0, 0.86, h]) {
      for (const b of [-h, 0, h]) rim.push(h, a, b, -h, a, b, a, h, b, a, -h, b, a, b, h, a, b, -h);
    }
    const points = Float32Array.from(rim);
    const { density } = decodePointsCpu(triplanes.white, weights, points, { density: true });
    density.forEach((d) => expect(d).toBeLessThan(DENSITY_THRESHOLD));
  });

  it('decoder graphs run in onnxruntime and agree with the weights read from them', async () => {
    const points = pointsAt(0.5);
    const n = points.length / 3;
    const features = new Float32Array(120 * n);
    for (let i = 0; i < n; i++) {
      const point = points.subarray(3 * i, 3 * i + 3);
      sampleTriplane(triplanes.bright, point, features.subarray(120 * i));
    }
    for (const { variant, file, weights } of decoders) {
      const session = await ort.InferenceSession.create(fixture(`triposr-test/${file}`), {
        executionProviders: ['wasm'],
      });
      const input = new ort.Tensor('float32', features, [n, 120]);
      const out = await session.run({ [session.inputNames[0]!]: input });
      const [density, colour] = session.outputNames.map((k) => out[k]!.data as Float32Array);
      await session.release();
      const reference = decodePointsCpu(triplanes.bright, weights, points);
      for (let i = 0; i < n; i++) {
        const d = weights.graphApplies.densityExp ? density![i]! : Math.exp(density![i]! - 1);
        expect(d / reference.density[i]!, variant).toBeCloseTo(1, 4);
        for (let c = 0; c < 3; c++) {
          const raw = colour![3 * i + c]!;
          const value = weights.graphApplies.colourSigmoid ? raw : sigmoid(raw);
          expect(value, variant).toBeCloseTo(reference.colour[3 * i + c]!, 5);
        }
      }
    }
  });

  it('meshes two images into closed spheres whose radii follow their brightness', () => {
    const cell = 1.74 / 31;
    const radii: number[] = [];
    for (const name of ['dark', 'bright'] as const) {
      const { rgb, brightness } = imageMeans(IMAGES[name]);
      const mesh = meshTriplaneCpu(triplanes[name], decoders[0]!.weights, {
        resolution: 32,
        threshold: DENSITY_THRESHOLD,
        mode: 'coarse-to-fine',
      });
      expect(isClosed(mesh), name).toBe(true);
      const r: number[] = [];
      for (let i = 0; i < mesh.positions.length; i += 3) {
        r.push(Math.hypot(mesh.positions[i]!, mesh.positions[i + 1]!, mesh.positions[i + 2]!));
      }
      const expected = expectedRadius(brightness);
      for (const v of r) expect(Math.abs(v - expected), name).toBeLessThan(cell);
      const mean = r.reduce((a, b) => a + b, 0) / r.length;
      expect(Math.abs(mean - expected), name).toBeLessThan(cell / 4);
      radii.push(mean);
      const colour = expectedColour(rgb);
      mesh.colours.forEach((c, i) => expect(c).toBeCloseTo(colour[i % 3]!, 3));
    }
    expect(radii[1]! - radii[0]!).toBeGreaterThan(3 * cell);
  }, 60_000);
});
