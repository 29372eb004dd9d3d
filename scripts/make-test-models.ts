/// <reference types="node" />
/**
 * Tiny, seeded TripoSR stand-ins with the real ONNX contract, for tests of the download, session,
 * decoding and meshing paths without the 485 MB model. `npx tsx scripts/make-test-models.ts` writes
 * them into tests/fixtures/models/ (byte-identical on every run):
 *
 *   triposr-test/triplane_q8.onnx + .onnx.data  image f32[1,3,512,512] → triplane f32[1,3,40,64,64]
 *   triposr-test/decoder.onnx          features f32[N,120] → density [N,1], colour [N,3]
 *                                      (Gemm transB=1, raw outputs)
 *   triposr-test/decoder_matmul.onnx   same maths, MatMul with [in,out] weights + Add
 *   triposr-test/decoder_folded.onnx   same maths, Gemm, exp(raw − 1) and sigmoid in the graph
 *   test-{gemm,matmul,folded}.manifest.json   one ModelManifest per decoder variant
 *
 * The maths (spec: /work/shared/docs/triposr-spec.md §3). All world units; box ±0.87.
 *
 * Encoder (input 'pixel_values_rgb', output 'scene_codes_tri'; names are deliberately unusual
 * because the app must read them from the session):
 *   means  m_c = mean over pixels of channel c, brightness m = (m_r + m_g + m_b) / 3
 *   radius R   = 0.3 + 0.4·m   (so R ∈ [0.3, 0.7])
 *   colour k_c = clamp(m_c, 0.01, 0.99), logit L_c = ln k_c − ln(1 − k_c)
 *   code   a   = [1, R², L_r, L_g, L_b, 0…0 | m_r, m_g, m_b, m, 0…0]   (64 values, 2 blocks of 32)
 *   The 120 per-channel constants are MatMulNBits(a) (com.microsoft, bits 8, block 32, K 64,
 *   N 120):
 *   weight = (q − zero_point) · scale per block of 32. A copied value has q = zero_point + 64 and
 *   scale 1/64, so its weight is exactly 1 and every other weight in the column exactly 0; unused
 *   ("distractor") channels get seeded random q, zero points and scales ≈ 2⁻⁹…2⁻⁸. Zero points
 *   are explicit (uint8, one per block). onnxruntime-web 1.30 runs 8-bit MatMulNBits on the WASM
 *   EP and on the native WebGPU EP ('onnxruntime-web/webgpu'); the JSEP build ('onnxruntime-web'
 *   in a browser) refuses it at session creation (only 2 and 4 bits), as it would the real model.
 *   triplane[plane][ch][row][col] = constant[plane][ch] + positional[ch](row, col) where
 *     ch 0: U(col)²  (the plane's column axis: x, x, y for planes xy, xz, yz)
 *     ch 1: U(row)²  (the row axis: y, z, z)
 *     ch 2: 1 (presence), every plane
 *     plane 0 ch 3: R², ch 4–6: L_r, L_g, L_b
 *     plane 1 ch 3–5: m_r, m_g, m_b, ch 6: m
 *     every other channel: a seeded distractor (a fixed linear function of a), ignored by the
 *     decoder.
 *   U(i) = 0.87·((2i + 1)/64 − 1) is the world coordinate of texel centre i; U(i)² comes from one
 *   64-value ramp initializer broadcast by Mul/Add, so no 2 MB constant is stored.
 *
 * Decoder (TripoSR's MLP exactly: Linear(120→64), SiLU, 8 × (Linear(64→64), SiLU), Linear(64→4)):
 *   o0 = 1 + ln 25 + s·(R² − x² − y² − z²) − s·Σ_planes(1 − presence),  s = 10
 *     reading R², x², y² from plane 0 and z² from plane 1 (ch 1), so the spec's threshold 25 on
 *     density = exp(o0 − 1) = 25·exp(s·(R² − |p|²)) is the sphere |p| = R. The presence term is 0
 *     inside |coordinate| ≤ 0.8564 (last texel centre) and keeps grid_sample's zero-padded rim
 *     (where every channel fades to 0) outside, so the surface is closed.
 *   o1..3 = L_r, L_g, L_b, so colour = sigmoid(o) = clamp(mean colour, 0.01, 0.99).
 *   Four "carrier" units hold 32 + value through every hidden layer (SiLU(x) = x to float32
 *   precision for x ≥ 16); each layer moves them to seeded unit positions and scales their value by
 *   a seeded power of two (undone by the last layer), and the other 60 units are seeded noise the
 *   output ignores, so a transposed or misordered layer breaks the sphere.
 *
 * Accuracy: bilinear sampling of U² between texel centres adds t(1 − t)·h² (h = 0.0272, the texel
 * width) per coordinate, so the decoded surface radius is within sqrt(R² − 3h²/4) … R, i.e. at most
 * 0.001 below R; float32 adds ~1e-6.
 */
import { writeFixtures } from './lib/fixtures';
import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { mulberry32 } from './lib/rng';
import type { DecoderWeights, DenseLayer } from '../src/gpu/decoder-weights';
import type { ModelFile, ModelManifest } from '../src/shared/manifest';
import {
  encodeModel,
  externalizeTensors,
  floatTensor,
  int64Tensor,
  onnxNode,
  uint8Tensor,
  valueInfo,
  writeDecoderOnnx,
  type DecoderOnnxOptions,
} from './lib/onnx-writer';

/** Encoder input name (read it from the session; it is unusual on purpose). */
export const TEST_ENCODER_INPUT = 'pixel_values_rgb';
/** Encoder output name. */
export const TEST_ENCODER_OUTPUT = 'scene_codes_tri';
/** Where the fixtures live, relative to the repository root. */
export const TEST_MODELS_DIR = 'tests/fixtures/models';
/** Folder of the model files, relative to the manifests. */
export const TEST_MODEL_FOLDER = 'triposr-test';

/** R = RADIUS_BASE + RADIUS_GAIN · brightness. */
export const RADIUS_BASE = 0.3;
export const RADIUS_GAIN = 0.4;
/** s in o0 = 1 + ln 25 + s·(R² − |p|²): density = 25·exp(s·(R² − |p|²)). */
export const DENSITY_GAIN = 10;
/** The spec's isosurface threshold on density. */
export const DENSITY_THRESHOLD = 25;
/** Mean colours are clamped to this range before the logit. */
export const COLOUR_MIN = 0.01;
export const COLOUR_MAX = 0.99;
/** Offset that keeps the decoder's carrier units in SiLU's linear range. */
export const CARRIER_OFFSET = 32;

/** Triplane channels with a meaning (all others are distractors). */
export const TEST_CHANNELS = {
  /** Every plane: U(col)², U(row)², presence (1). */
  colSquared: 0,
  rowSquared: 1,
  presence: 2,
  /** Plane 0. */
  radiusSquared: 3,
  colourLogit: [4, 5, 6],
  /** Plane 1. */
  means: [3, 4, 5],
  brightness: 6,
} as const;

const PLANES = 3;
const CHANNELS = 40;
const SIZE = 64;
const FEATURES = PLANES * CHANNELS;
const HIDDEN = 64;
const HIDDEN_LAYERS = 8;
const BOX = 0.87;

/** MatMulNBits shape: the 64-value code a, 120 channel constants, 8-bit blocks of 32. */
const MIX_K = 64;
const MIX_N = FEATURES;
const MIX_BITS = 8;
const MIX_BLOCK = 32;
const MIX_BLOCKS = MIX_K / MIX_BLOCK;
/** Positions in the code a. */
const CODE = { one: 0, radiusSquared: 1, logit: 2, means: 32, brightness: 35 } as const;

const ENCODER_SEED = 0x7e57_0001;
const DECODER_SEED = 0x7e57_0002;

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** World coordinate of texel centre i: 0.87·((2i + 1)/64 − 1). */
export function texelCentre(i: number): number {
  return BOX * ((2 * i + 1) / SIZE - 1);
}

/** Per-channel means and brightness of an image f32[1,3,H,W] (float64 sums). */
export function imageMeans(image: Float32Array): {
  rgb: [number, number, number];
  brightness: number;
} {
  const plane = image.length / 3;
  const rgb = [0, 1, 2].map((c) => {
    let sum = 0;
    for (let i = c * plane; i < (c + 1) * plane; i++) sum += image[i]!;
    return sum / plane;
  }) as [number, number, number];
  return { rgb, brightness: (rgb[0] + rgb[1] + rgb[2]) / 3 };
}

/** The sphere radius the test models give an image of this mean brightness: 0.3 + 0.4·m. */
export function expectedRadius(brightness: number): number {
  return RADIUS_BASE + RADIUS_GAIN * brightness;
}

/** The mesh colour the test models give an image of this mean colour: each channel clamped. */
export function expectedColour(meanRgb: readonly number[]): [number, number, number] {
  return [0, 1, 2].map((c) => Math.min(COLOUR_MAX, Math.max(COLOUR_MIN, meanRgb[c]!))) as [
    number,
    number,
    number,
  ];
}

/** density = 25·exp(s·(R² − |p|²)) at world point p, before bilinear and float32 error. */
export function expectedDensity(radius: number, p: ArrayLike<number>): number {
  const r2 = p[0]! ** 2 + p[1]! ** 2 + p[2]! ** 2;
  return DENSITY_THRESHOLD * Math.exp(DENSITY_GAIN * (radius * radius - r2));
}

/**
 * A seeded synthetic image f32[1,3,512,512]: `base` colour plus uniform noise in ±`noise`, clamped
 * to [0, 1]. Its exact means come from `imageMeans`.
 */
export function syntheticImage(base: readonly number[], seed: number, noise = 0.05): Float32Array {
  const rand = mulberry32(seed);
  const plane = 512 * 512;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) {
      out[c * plane + i] = Math.min(1, Math.max(0, base[c]! + noise * (2 * rand() - 1)));
    }
  }
  return out;
}

interface Mixer {
  /** Unpacked 8-bit codes [N][K]. */
  q: Uint8Array;
  /** Zero point per [N][block]. */
  zeroPoints: Uint8Array;
  /** float32 scale per [N][block]. */
  scales: Float32Array;
}

/** Which code entry each meaningful channel copies (feature index → position in a). */
function copiedChannels(): Map<number, number> {
  const copies = new Map<number, number>();
  for (let plane = 0; plane < PLANES; plane++) {
    copies.set(plane * CHANNELS + TEST_CHANNELS.presence, CODE.one);
  }
  copies.set(TEST_CHANNELS.radiusSquared, CODE.radiusSquared);
  TEST_CHANNELS.colourLogit.forEach((ch, c) => copies.set(ch, CODE.logit + c));
  TEST_CHANNELS.means.forEach((ch, c) => copies.set(CHANNELS + ch, CODE.means + c));
  copies.set(CHANNELS + TEST_CHANNELS.brightness, CODE.brightness);
  return copies;
}

/** Positional channels: no constant part. */
function isPositional(feature: number): boolean {
  const ch = feature % CHANNELS;
  return ch === TEST_CHANNELS.colSquared || ch === TEST_CHANNELS.rowSquared;
}

/** The MatMulNBits weights, seeded. */
function mixer(): Mixer {
  const rand = mulberry32(ENCODER_SEED);
  const q = new Uint8Array(MIX_N * MIX_K);
  const zeroPoints = new Uint8Array(MIX_N * MIX_BLOCKS);
  const scales = new Float32Array(MIX_N * MIX_BLOCKS);
  const copies = copiedChannels();
  for (let n = 0; n < MIX_N; n++) {
    const source = copies.get(n);
    for (let b = 0; b < MIX_BLOCKS; b++) {
      const meaningful = source !== undefined || isPositional(n);
      // A copied value needs room for zero_point + 64 in a byte.
      const zp = meaningful ? Math.floor(rand() * 192) : Math.floor(rand() * 256);
      zeroPoints[n * MIX_BLOCKS + b] = zp;
      scales[n * MIX_BLOCKS + b] = meaningful ? 1 / 64 : 2 ** -9 * (1 + rand());
      for (let k = b * MIX_BLOCK; k < (b + 1) * MIX_BLOCK; k++) {
        q[n * MIX_K + k] = meaningful ? (k === source ? zp + 64 : zp) : Math.floor(rand() * 256);
      }
    }
  }
  return { q, zeroPoints, scales };
}

/** The encoder's 64-value code a for an image's mean colour (float64). */
function codeFor(meanRgb: readonly number[]): Float64Array {
  const a = new Float64Array(MIX_K);
  const m = (meanRgb[0]! + meanRgb[1]! + meanRgb[2]!) / 3;
  const radius = expectedRadius(m);
  a[CODE.one] = 1;
  a[CODE.radiusSquared] = radius * radius;
  expectedColour(meanRgb).forEach((k, c) => {
    a[CODE.logit + c] = Math.log(k) - Math.log(1 - k);
    a[CODE.means + c] = meanRgb[c]!;
  });
  a[CODE.brightness] = m;
  return a;
}

/**
 * The triplane f32[1,3,40,64,64] the test encoder computes for an image with this mean colour
 * (evaluated in float64; the ONNX graph agrees to float32 rounding).
 */
export function expectedTriplane(meanRgb: readonly number[]): Float32Array {
  const { q, zeroPoints, scales } = mixer();
  const a = codeFor(meanRgb);
  const out = new Float32Array(FEATURES * SIZE * SIZE);
  for (let n = 0; n < MIX_N; n++) {
    let constant = 0;
    for (let k = 0; k < MIX_K; k++) {
      const block = n * MIX_BLOCKS + Math.floor(k / MIX_BLOCK);
      constant += (q[n * MIX_K + k]! - zeroPoints[block]!) * scales[block]! * a[k]!;
    }
    const ch = n % CHANNELS;
    for (let row = 0; row < SIZE; row++) {
      for (let col = 0; col < SIZE; col++) {
        const positional =
          ch === TEST_CHANNELS.colSquared
            ? Math.fround(texelCentre(col) ** 2)
            : ch === TEST_CHANNELS.rowSquared
              ? Math.fround(texelCentre(row) ** 2)
              : 0;
        out[(n * SIZE + row) * SIZE + col] = constant + positional;
      }
    }
  }
  return out;
}

/** Writes the encoder graph and its external data. */
function encoderOnnx(): { model: Uint8Array; data: Uint8Array } {
  const { q, zeroPoints, scales } = mixer();
  const scalar = (name: string, v: number) => floatTensor(name, [], Float32Array.of(v));
  const zeros = (name: string, n: number) => floatTensor(name, [1, n], new Float32Array(n));
  const coef = (ch: number) => {
    const c = new Float32Array(FEATURES);
    for (let plane = 0; plane < PLANES; plane++) c[plane * CHANNELS + ch] = 1;
    return c;
  };
  const ramp = Float32Array.from({ length: SIZE }, (_, i) => texelCentre(i) ** 2);
  const initializers = [
    scalar('radius_gain', RADIUS_GAIN),
    scalar('radius_base', RADIUS_BASE),
    scalar('colour_min', COLOUR_MIN),
    scalar('colour_max', COLOUR_MAX),
    floatTensor('one', [1, 1], Float32Array.of(1)),
    zeros('pad_a', CODE.means - CODE.logit - 3),
    zeros('pad_b', MIX_K - CODE.brightness - 1),
    uint8Tensor('mixer.q', [MIX_N, MIX_BLOCKS, (MIX_BLOCK * MIX_BITS) / 8], q),
    floatTensor('mixer.scales', [MIX_N * MIX_BLOCKS], scales),
    uint8Tensor('mixer.zero_points', [MIX_N * MIX_BLOCKS], zeroPoints),
    int64Tensor('shape_channels', [5], [1, PLANES, CHANNELS, 1, 1]),
    int64Tensor('shape_cols', [5], [1, 1, 1, 1, SIZE]),
    int64Tensor('shape_rows', [5], [1, 1, 1, SIZE, 1]),
    floatTensor('ramp_sq', [SIZE], ramp),
    floatTensor('col_coef', [1, PLANES, CHANNELS, 1, 1], coef(TEST_CHANNELS.colSquared)),
    floatTensor('row_coef', [1, PLANES, CHANNELS, 1, 1], coef(TEST_CHANNELS.rowSquared)),
  ];
  const nodes = [
    // Rows first, then columns: onnxruntime's CPU kernel sums in float32 in order, and 512-term
    // sums keep the mean within ~1e-6 where one 262144-term sum drifts by ~1e-4.
    onnxNode('ReduceMean', [TEST_ENCODER_INPUT], ['row_mean'], { axes: [3], keepdims: 0 }),
    onnxNode('ReduceMean', ['row_mean'], ['chan_mean'], { axes: [2], keepdims: 0 }),
    onnxNode('ReduceMean', ['chan_mean'], ['brightness'], { axes: [1], keepdims: 1 }),
    onnxNode('Mul', ['brightness', 'radius_gain'], ['radius_delta']),
    onnxNode('Add', ['radius_delta', 'radius_base'], ['radius']),
    onnxNode('Mul', ['radius', 'radius'], ['radius_sq']),
    onnxNode('Clip', ['chan_mean', 'colour_min', 'colour_max'], ['colour']),
    onnxNode('Sub', ['one', 'colour'], ['colour_rest']),
    onnxNode('Log', ['colour'], ['log_colour']),
    onnxNode('Log', ['colour_rest'], ['log_rest']),
    onnxNode('Sub', ['log_colour', 'log_rest'], ['colour_logit']),
    onnxNode(
      'Concat',
      ['one', 'radius_sq', 'colour_logit', 'pad_a', 'chan_mean', 'brightness', 'pad_b'],
      ['code'],
      { axis: 1 },
    ),
    onnxNode(
      'MatMulNBits',
      ['code', 'mixer.q', 'mixer.scales', 'mixer.zero_points'],
      ['channel_consts'],
      { K: MIX_K, N: MIX_N, bits: MIX_BITS, block_size: MIX_BLOCK },
      'mixer/MatMulNBits',
      'com.microsoft',
    ),
    onnxNode('Reshape', ['channel_consts', 'shape_channels'], ['channel_consts_5d']),
    onnxNode('Reshape', ['ramp_sq', 'shape_cols'], ['ramp_cols']),
    onnxNode('Reshape', ['ramp_sq', 'shape_rows'], ['ramp_rows']),
    onnxNode('Mul', ['col_coef', 'ramp_cols'], ['col_part']),
    onnxNode('Mul', ['row_coef', 'ramp_rows'], ['row_part']),
    onnxNode('Add', ['channel_consts_5d', 'col_part'], ['with_cols']),
    onnxNode('Add', ['with_cols', 'row_part'], [TEST_ENCODER_OUTPUT]),
  ];
  // Shape tensors stay inline: ONNX shape inference reads them before external data is loaded.
  const data = externalizeTensors(
    initializers.filter((t) => !t.name.startsWith('shape_')),
    'triplane_q8.onnx.data',
  );
  const model = encodeModel(
    {
      name: 'triposr_test_encoder',
      nodes,
      initializers,
      inputs: [valueInfo(TEST_ENCODER_INPUT, [1, 3, 512, 512])],
      outputs: [valueInfo(TEST_ENCODER_OUTPUT, [1, PLANES, CHANNELS, SIZE, SIZE])],
    },
    [
      ['', 17],
      ['com.microsoft', 1],
    ],
  );
  return { model, data };
}

function denseLayer(inFeatures: number, outFeatures: number): DenseLayer {
  return {
    inFeatures,
    outFeatures,
    weight: new Float32Array(inFeatures * outFeatures),
    bias: new Float32Array(outFeatures),
  };
}

/** Seeded distinct unit positions for the four carriers in one layer. */
function carrierUnits(rand: () => number): number[] {
  const units = Array.from({ length: HIDDEN }, (_, i) => i);
  for (let i = HIDDEN - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [units[i], units[j]] = [units[j]!, units[i]!];
  }
  return units.slice(0, 4);
}

/**
 * The test decoder's weights (see the header): carriers 0 (density) and 1–3 (colour logits) ride
 * through the hidden layers at offset CARRIER_OFFSET; everything else is seeded noise.
 */
export function testDecoderWeights(): DecoderWeights {
  const rand = mulberry32(DECODER_SEED);
  const B = CARRIER_OFFSET;
  const s = DENSITY_GAIN;
  const feature = (plane: number, ch: number) => plane * CHANNELS + ch;
  const layers: DenseLayer[] = [];

  // Layer 0: carriers read their features; the other units read everything, weakly.
  let units = carrierUnits(rand);
  const first = denseLayer(FEATURES, HIDDEN);
  for (let o = 0; o < HIDDEN; o++) {
    if (units.includes(o)) continue;
    for (let i = 0; i < FEATURES; i++) first.weight[o * FEATURES + i] = 0.1 * gaussian(rand);
    first.bias[o] = 0.1 * gaussian(rand);
  }
  const density = units[0]! * FEATURES;
  first.weight[density + feature(0, TEST_CHANNELS.radiusSquared)] = s;
  first.weight[density + feature(0, TEST_CHANNELS.colSquared)] = -s;
  first.weight[density + feature(0, TEST_CHANNELS.rowSquared)] = -s;
  first.weight[density + feature(1, TEST_CHANNELS.rowSquared)] = -s;
  for (let plane = 0; plane < PLANES; plane++) {
    first.weight[density + feature(plane, TEST_CHANNELS.presence)] = s;
  }
  first.bias[units[0]!] = B - PLANES * s;
  TEST_CHANNELS.colourLogit.forEach((ch, c) => {
    first.weight[units[c + 1]! * FEATURES + feature(0, ch)] = 1;
    first.bias[units[c + 1]!] = B;
  });
  layers.push(first);

  // Hidden layers: a carrier's value v (unit = B + v) becomes gain·v at a new unit.
  const gains = [1, 1, 1, 1];
  for (let k = 0; k < HIDDEN_LAYERS; k++) {
    const next = carrierUnits(rand);
    const layer = denseLayer(HIDDEN, HIDDEN);
    for (let o = 0; o < HIDDEN; o++) {
      if (next.includes(o)) continue;
      for (let i = 0; i < HIDDEN; i++) {
        // Carriers sit near 32: read them faintly so the noise stays O(1).
        const scale = units.includes(i) ? 0.002 : 1 / Math.sqrt(HIDDEN);
        layer.weight[o * HIDDEN + i] = scale * gaussian(rand);
      }
      layer.bias[o] = 0.1 * gaussian(rand);
    }
    next.forEach((o, j) => {
      // Powers of two keep the arithmetic exact; the running gain stays in [0.5, 2].
      const options = [0.5, 1, 2].filter((g) => gains[j]! * g >= 0.5 && gains[j]! * g <= 2);
      const gain = options[Math.floor(rand() * options.length)]!;
      gains[j] = gains[j]! * gain;
      layer.weight[o * HIDDEN + units[j]!] = gain;
      layer.bias[o] = (1 - gain) * B;
    });
    layers.push(layer);
    units = next;
  }

  // Output: undo the offset and gains; o0 gets 1 + ln 25 so that density = 25 on the sphere.
  const last = denseLayer(HIDDEN, 4);
  for (let j = 0; j < 4; j++) {
    last.weight[j * HIDDEN + units[j]!] = 1 / gains[j]!;
    last.bias[j] = -B / gains[j]! + (j === 0 ? 1 + Math.log(DENSITY_THRESHOLD) : 0);
  }
  layers.push(last);
  return { layers, densityBias: -1, graphApplies: { densityExp: false, colourSigmoid: false } };
}

/** The decoder variants: file name, manifest suffix, writer options. */
export const TEST_DECODERS = [
  { variant: 'gemm', file: 'decoder.onnx', options: { layout: 'gemm-transB' } },
  { variant: 'matmul', file: 'decoder_matmul.onnx', options: { layout: 'matmul-add' } },
  {
    variant: 'folded',
    file: 'decoder_folded.onnx',
    options: { layout: 'gemm-transB', foldActivations: true },
  },
] as const satisfies readonly { variant: string; file: string; options: DecoderOnnxOptions }[];

const TEST_DECODER_LABELS: Record<(typeof TEST_DECODERS)[number]['variant'], string> = {
  gemm: 'Gemm decoder',
  matmul: 'MatMul + Add decoder',
  folded: 'decoder with exp and sigmoid in the graph',
};

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Builds every fixture in memory: path relative to tests/fixtures/models/ → bytes. Deterministic,
 * so tests compare it with the committed files.
 */
export function buildTestModels(): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const { model, data } = encoderOnnx();
  const encoderName = 'triplane_q8.onnx';
  const dataName = 'triplane_q8.onnx.data';
  files.set(`${TEST_MODEL_FOLDER}/${encoderName}`, model);
  files.set(`${TEST_MODEL_FOLDER}/${dataName}`, data);
  const weights = testDecoderWeights();
  for (const { file, options } of TEST_DECODERS) {
    files.set(`${TEST_MODEL_FOLDER}/${file}`, writeDecoderOnnx(weights, options));
  }
  const entry = (role: ModelFile['role'], name: string): ModelFile => {
    const bytes = files.get(`${TEST_MODEL_FOLDER}/${name}`)!;
    const url = `${TEST_MODEL_FOLDER}/${name}`;
    return { role, name, url, bytes: bytes.length, sha256: sha256(bytes) };
  };
  for (const { variant, file } of TEST_DECODERS) {
    const modelFiles = [
      entry('encoder', encoderName),
      entry('encoder-data', dataName),
      entry('decoder', file),
    ];
    const hashes = new TextEncoder().encode(modelFiles.map((f) => f.sha256).join('\n'));
    const manifest: ModelManifest = {
      version: 1,
      id: `triposr-test-${variant}`,
      name: `TripoSR test model (${TEST_DECODER_LABELS[variant]})`,
      license: 'MIT',
      // Content-addressed: a regenerated model with different bytes gets a new cache key.
      revision: sha256(hashes).slice(0, 16),
      files: modelFiles,
      contract: {
        image: [1, 3, 512, 512],
        triplane: [1, PLANES, CHANNELS, SIZE, SIZE],
        features: FEATURES,
      },
      // The largest buffers are the 3 MiB image and the 1.9 MiB triplane.
      requirements: { maxBufferSize: 8 << 20, maxStorageBufferBindingSize: 8 << 20 },
    };
    const json = `${JSON.stringify(manifest, null, 2)}\n`;
    files.set(`test-${variant}.manifest.json`, new TextEncoder().encode(json));
  }
  return files;
}

/** Writes the fixtures under tests/fixtures/models/. */
export function main(): void {
  writeFixtures(resolve(dirname(fileURLToPath(import.meta.url)), '..', TEST_MODELS_DIR), buildTestModels());
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
