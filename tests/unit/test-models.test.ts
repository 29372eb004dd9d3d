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
  bodyBounds,
  bodyQuadric,
  buildTestModels,
  columnToWorldY,
  DENSITY_THRESHOLD,
  expectedColour,
  expectedDensity,
  expectedTriplane,
  principalAngle,
  rowToWorldZ,
  syntheticImage,
  TEST_CHANNELS,
  TEST_DECODERS,
  TEST_ENCODER_INPUT,
  TEST_ENCODER_OUTPUT,
  testBody,
  testDecoderWeights,
  VIEW_HALF_WIDTH,
  type TestBody,
} from '../../scripts/make-test-models';
import { isClosed } from '../helpers/mesh-metrics';

const root = fileURLToPath(new URL('../fixtures/models/', import.meta.url));
const fixture = (path: string): Uint8Array => new Uint8Array(readFileSync(root + path));
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const TEXELS = 64 * 64;
const ENCODER = 'triposr-test/triplane_q8.onnx';
const ENCODER_DATA = 'triposr-test/triplane_q8.onnx.data';

/**
 * Objects on the grey background: left of centre; up and right, long and tilted (its long axis
 * toward image right-up); and a dark round one at the centre.
 */
const IMAGES = {
  left: syntheticImage({ colour: [0.9, 0.5, 0.1], cx: 0.3, cy: 0.5, rx: 0.12, ry: 0.2 }, 11),
  tilted: syntheticImage({ colour: [0.2, 0.6, 0.9], cx: 0.62, cy: 0.35, rx: 0.08, ry: 0.26, angle: 0.5 }, 12),
  centre: syntheticImage({ colour: [0.1, 0.1, 0.1], cx: 0.5, cy: 0.5, rx: 0.25, ry: 0.25 }, 13),
};
type ImageName = keyof typeof IMAGES;
const IMAGE_NAMES = Object.keys(IMAGES) as ImageName[];
const BODIES = Object.fromEntries(IMAGE_NAMES.map((n) => [n, testBody(IMAGES[n])])) as Record<ImageName, TestBody>;

/** Unit directions for probing the body from its centre: axes, a diagonal and a few off-axis ones. */
const DIRECTIONS = [
  [1, 0, 0],
  [-1, 0, 0],
  [0, -1, 0],
  [0, 0, 1],
  [1, 1, 1],
  [-1, 0.5, -0.25],
  [0.3, -0.9, 0.4],
].map((d) => {
  const n = Math.hypot(d[0]!, d[1]!, d[2]!);
  return d.map((v) => v / n);
});

/** Points where the body's surface Q = 1 lies along each direction from its centre, scaled by `k`. */
function surfacePoints(body: TestBody, k = 1): Float32Array {
  const out: number[] = [];
  for (const d of DIRECTIONS) {
    const at = (t: number) => d.map((v, a) => body.centre[a]! + t * v);
    let lo = 0;
    let hi = 2;
    for (let i = 0; i < 60; i++) {
      const mid = (lo + hi) / 2;
      if (bodyQuadric(body, at(mid)) < 1) lo = mid;
      else hi = mid;
    }
    out.push(...at(lo * k));
  }
  return Float32Array.from(out);
}

/** The image mirrored left-right (columns reversed) or transposed (rows ↔ columns). */
function remap(image: Float32Array, how: 'mirror' | 'transpose'): Float32Array {
  const out = new Float32Array(image.length);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < 512; i++) {
      for (let j = 0; j < 512; j++) {
        const from = how === 'mirror' ? i * 512 + (511 - j) : j * 512 + i;
        out[c * 512 * 512 + i * 512 + j] = image[c * 512 * 512 + from]!;
      }
    }
  }
  return out;
}

describe('test-model fixtures', () => {
  const built = buildTestModels();

  it('regenerate byte-identical to the committed files, with no stray files', () => {
    const committed = readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => `${e.parentPath.slice(root.length)}/${e.name}`.replace(/^\//, ''))
      // The tiny real-architecture export is written by scripts/export-triposr/fixtures.py (torch, by hand).
      .filter((path) => !path.startsWith('triposr-tiny'))
      .sort();
    // The segmenter generator writes beside the TripoSR test models; together they are every other file.
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

describe("the body follows the silhouette in TripoSR's input view", () => {
  it('maps image columns to +y and rows to −z (tsr/utils.py get_ray_directions, view 0)', () => {
    expect(columnToWorldY(0)).toBeCloseTo(-VIEW_HALF_WIDTH * (511 / 512), 9);
    expect(columnToWorldY(511)).toBeCloseTo(VIEW_HALF_WIDTH * (511 / 512), 9);
    expect(rowToWorldZ(0)).toBeGreaterThan(0.69);
    expect(rowToWorldZ(511)).toBeLessThan(-0.69);
    expect(VIEW_HALF_WIDTH).toBeCloseTo(1.9 * Math.tan(Math.PI / 9), 12);
  });

  it('puts the centre where the object is, and its outline where the silhouette is', () => {
    const s = 2 * VIEW_HALF_WIDTH; // world units per image width
    // left: x fraction 0.3 → y = (0.3 − 0.5)·s; semi-axes 0.12 and 0.2 of the side.
    expect(BODIES.left.centre[1]).toBeCloseTo(-0.2 * s, 2);
    expect(BODIES.left.centre[2]).toBeCloseTo(0, 2);
    const left = bodyBounds(BODIES.left);
    expect(left.max[1] - left.min[1]).toBeCloseTo(2 * Math.hypot(0.12 * s, 0.05 * 2), 1);
    expect(left.max[2] - left.min[2]).toBeGreaterThan(left.max[1] - left.min[1]);
    // tilted: up (row fraction 0.35 → z > 0) and right (y > 0); long axis toward +y +z.
    expect(BODIES.tilted.centre[1]).toBeCloseTo(0.12 * s, 2);
    expect(BODIES.tilted.centre[2]).toBeCloseTo(0.15 * s, 2);
    // Turned 0.5 rad clockwise on screen from vertical: the long axis is 90° − 28.6° from +y.
    expect(principalAngle(BODIES.tilted)).toBeCloseTo(Math.PI / 2 - 0.5, 1);
    // Deeper toward the camera (+x) than away from it.
    const b = bodyBounds(BODIES.centre);
    expect(b.max[0] / -b.min[0]).toBeCloseTo(1.25 / 0.75, 6);
  });

  it('tells a mirrored or transposed image from the right one', () => {
    const mirrored = testBody(remap(IMAGES.tilted, 'mirror'));
    expect(mirrored.centre[1]).toBeCloseTo(-BODIES.tilted.centre[1], 2);
    expect(principalAngle(mirrored)).toBeCloseTo(-principalAngle(BODIES.tilted), 1);
    const transposed = testBody(remap(IMAGES.tilted, 'transpose'));
    // (row, col) swapped: the centre goes from (y, z) = (+0.17, +0.21) to (−0.21, −0.17).
    expect(transposed.centre[1]).toBeLessThan(-0.1);
    expect(transposed.centre[2]).toBeLessThan(-0.1);
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
    it(`encoder writes the documented triplane for the ${name} image`, () => {
      const body = BODIES[name];
      const triplane = triplanes[name];
      const at = (plane: number, ch: number, texel: number) =>
        triplane[(plane * 40 + ch) * TEXELS + texel]!;
      const colour = expectedColour(body);
      for (const texel of [0, 2080, TEXELS - 1]) {
        for (let plane = 0; plane < 3; plane++) expect(at(plane, TEST_CHANNELS.presence, texel)).toBe(1);
        TEST_CHANNELS.colourLogit.forEach((ch, k) => {
          expect(sigmoid(at(0, ch, texel))).toBeCloseTo(colour[k]!, 5);
        });
        const [, y, z] = body.centre;
        const diagnostics = [body.area / 512 ** 2, y, z, ...body.covariance, ...body.meanColour];
        TEST_CHANNELS.diagnostics.forEach((ch, k) => expect(at(1, ch, texel)).toBeCloseTo(diagnostics[k]!, 5));
      }
      // Everything else, distractors and the positional parts included, as documented.
      const expected = expectedTriplane(IMAGES[name]);
      let worst = 0;
      for (let i = 0; i < expected.length; i++) {
        worst = Math.max(worst, Math.abs(triplane[i]! - expected[i]!) / (1 + Math.abs(expected[i]!)));
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
    it(`decodes density 25 on the expected body and the foreground colour (${name})`, () => {
      const body = BODIES[name];
      const colour = expectedColour(body);
      for (const { variant, weights } of decoders) {
        const on = decodePointsCpu(triplanes[name], weights, surfacePoints(body));
        // Bilinear sampling raises Q by at most ~h²/4·ΣP (≈ 0.01 here), so density ∈ 25·[e^−0.05, 1].
        on.density.forEach((d) => expect(d / DENSITY_THRESHOLD, variant).toBeGreaterThan(0.95));
        on.density.forEach((d) => expect(d / DENSITY_THRESHOLD, variant).toBeLessThan(1.0001));
        on.colour.forEach((c, i) => expect(c, variant).toBeCloseTo(colour[i % 3]!, 4));
        const inside = decodePointsCpu(triplanes[name], weights, surfacePoints(body, 0.97));
        const outside = decodePointsCpu(triplanes[name], weights, surfacePoints(body, 1.03));
        inside.density.forEach((d) => expect(d, variant).toBeGreaterThan(DENSITY_THRESHOLD));
        outside.density.forEach((d) => expect(d, variant).toBeLessThan(DENSITY_THRESHOLD));
        // The documented profile 25·exp(s·(1 − Q)), from the centre to past the surface.
        for (const k of [0, 0.5, 1.2]) {
          const points = surfacePoints(body, k);
          const { density } = decodePointsCpu(triplanes[name], weights, points);
          density.forEach((d, i) => {
            const expected = expectedDensity(body, points.subarray(3 * i, 3 * i + 3));
            expect(Math.abs(d / expected - 1), variant).toBeLessThan(0.05);
          });
        }
      }
    });
  }

  it('keeps the zero-padded rim of the box outside (closed surface)', () => {
    const weights = decoders[0]!.weights;
    const h = 0.87;
    const rim: number[] = [];
    for (const a of [-h, -0.86, 0, 0.86, h]) {
      for (const b of [-h, 0, h]) rim.push(h, a, b, -h, a, b, a, h, b, a, -h, b, a, b, h, a, b, -h);
    }
    const points = Float32Array.from(rim);
    for (const name of IMAGE_NAMES) {
      const { density } = decodePointsCpu(triplanes[name], weights, points, { density: true });
      density.forEach((d) => expect(d).toBeLessThan(DENSITY_THRESHOLD));
    }
  });

  it('decoder graphs run in onnxruntime and agree with the weights read from them', async () => {
    const points = surfacePoints(BODIES.tilted, 0.8);
    const n = points.length / 3;
    const features = new Float32Array(120 * n);
    for (let i = 0; i < n; i++) {
      const point = points.subarray(3 * i, 3 * i + 3);
      sampleTriplane(triplanes.tilted, point, features.subarray(120 * i));
    }
    for (const { variant, file, weights } of decoders) {
      const session = await ort.InferenceSession.create(fixture(`triposr-test/${file}`), {
        executionProviders: ['wasm'],
      });
      const input = new ort.Tensor('float32', features, [n, 120]);
      const out = await session.run({ [session.inputNames[0]!]: input });
      const [density, colour] = session.outputNames.map((k) => out[k]!.data as Float32Array);
      await session.release();
      const reference = decodePointsCpu(triplanes.tilted, weights, points);
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

  it('meshes each image into a closed body at the expected place, size and tilt', () => {
    const cell = 1.74 / 31;
    for (const name of IMAGE_NAMES) {
      const body = BODIES[name];
      const mesh = meshTriplaneCpu(triplanes[name], decoders[0]!.weights, {
        resolution: 32,
        threshold: DENSITY_THRESHOLD,
        mode: 'coarse-to-fine',
      });
      expect(isClosed(mesh), name).toBe(true);
      const min = [Infinity, Infinity, Infinity];
      const max = [-Infinity, -Infinity, -Infinity];
      let yy = 0;
      let zz = 0;
      let yz = 0;
      const count = mesh.positions.length / 3;
      for (let i = 0; i < mesh.positions.length; i += 3) {
        const p = mesh.positions.subarray(i, i + 3);
        // Every vertex on the surface Q = 1, to within a cell.
        const q = bodyQuadric(body, p);
        expect(Math.abs(Math.sqrt(q) - 1) * 0.2, name).toBeLessThan(cell);
        for (let a = 0; a < 3; a++) {
          min[a] = Math.min(min[a]!, p[a]!);
          max[a] = Math.max(max[a]!, p[a]!);
        }
        const dy = p[1]! - body.centre[1];
        const dz = p[2]! - body.centre[2];
        yy += (dy * dy) / count;
        zz += (dz * dz) / count;
        yz += (dy * dz) / count;
      }
      const expected = bodyBounds(body);
      for (let a = 0; a < 3; a++) {
        expect(Math.abs(min[a]! - Math.max(-0.87, expected.min[a]!)), `${name} min ${a}`).toBeLessThan(cell);
        expect(Math.abs(max[a]! - Math.min(0.87, expected.max[a]!)), `${name} max ${a}`).toBeLessThan(cell);
      }
      if (name === 'tilted') {
        expect(0.5 * Math.atan2(2 * yz, yy - zz)).toBeCloseTo(principalAngle(body), 1);
      }
      mesh.colours.forEach((c, i) => expect(c).toBeCloseTo(expectedColour(body)[i % 3]!, 3));
    }
  }, 120_000);
});
