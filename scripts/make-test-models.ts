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
 * The shape follows the image the way TripoSR's camera sees it: an egg-shaped ellipsoid whose
 * centre, outline and tilt are the silhouette's (its area, centroid and second moments), with the
 * fuller half toward the camera. The body's maths, and float64 predictions of it, are in
 * scripts/lib/test-body.ts; spec: /work/shared/docs/triposr-spec.md §3. World units; box ±0.87.
 *
 * Encoder (input 'pixel_values_rgb', output 'scene_codes_tri'; names are deliberately unusual
 * because the app must read them from the session):
 *   w = Clip(10·ReduceSum_c |x − 0.5| − 0.25, 0, 1)              foreground weight per pixel
 *   M = rowTable[3,512] · (w[512,512] · colTable[512,3])          M[a][b] = Σ w·z^a·y^b (MatMuls)
 *   → centre, covariance, P, Pxx and the foreground colour (elementwise ops on 1×1 tensors)
 *   code a (64 values, 2 blocks of 32) = [1, k0, kY, kZ, kYY, kZZ, kYZ, Pxx, L_r, L_g, L_b, 0…
 *                                        | A/512², ȳ, z̄, Cyy, Czz, Cyz, r, g, b, 0…]
 *   The plane-yz quadratic (p − c)ᵀP(p − c) = k0 + kY·y + kZ·z + kYY·y² + kZZ·z² + kYZ·y·z.
 *   Each of the 120 channels is a combination of 7 basis grids over a plane's (row, column):
 *     1, U(col), U(row), U(col)², U(row)², U(col)·U(row), egg(U(col))
 *   (U(i) = 0.87·((2i + 1)/64 − 1), the world coordinate of texel centre i; the column axis is
 *   x, x, y and the row axis y, z, z for planes xy, xz, yz, as TripoSR's grid_sample reads them).
 *   Their 840 coefficients are MatMulNBits(a) (com.microsoft, bits 8, block 32, K 64, N 840),
 *   weight = (q − zero_point) · scale per block of 32: a copied value has q = zero_point + 64
 *   (+ 32 for a half) and scale 1/64, so its weight is exactly 1 (or ½) and every other weight in
 *   the column exactly 0; unused ("distractor") channels get seeded random q, zero points and
 *   scales ≈ 2⁻⁹…2⁻⁸. onnxruntime-web 1.30 runs 8-bit MatMulNBits on the WASM EP and on the
 *   native WebGPU EP ('onnxruntime-web/webgpu'); the JSEP build refuses it, as it would the real
 *   model. A plain MatMul with the [7, 4096] basis table then spreads them over the texels.
 *     every plane ch 2: 1 (presence)
 *     plane 0 (xy) ch 0 and plane 1 (xz) ch 0: ½·Pxx·egg(x)        (depth, split over both)
 *     plane 2 (yz) ch 0: (p − c)ᵀP(p − c)                           (the silhouette's ellipse)
 *     plane 0 ch 4–6: the colour logits
 *     plane 1 ch 3–11: A/512², ȳ, z̄, Cyy, Czz, Cyz, r, g, b        (diagnostics, unused)
 *     every other channel: a seeded distractor, ignored by the decoder.
 *
 * Decoder (TripoSR's MLP exactly: Linear(120→64), SiLU, 8 × (Linear(64→64), SiLU), Linear(64→4)):
 *   o0 = 1 + ln 25 + s·(1 − Q) − G·Σ_planes(1 − presence),  s = 2, G = 20,
 *     Q = the sum of the three ch-0 features, so density = exp(o0 − 1) = 25·exp(s·(1 − Q)) and
 *     the threshold 25 gives the surface Q = 1. Every ch-0 feature is ≥ 0 (a PSD quadratic, or
 *     egg ≥ 0, bilinearly blended), so the presence term, 0 inside |coordinate| ≤ 0.8564 (the last
 *     texel centre), keeps grid_sample's zero-padded rim outside and the surface closed.
 *   o1..3 = L_r, L_g, L_b, so colour = sigmoid(o) = the clamped foreground colour.
 *   Four "carrier" units hold 32 + value through every hidden layer (SiLU(x) = x to float32
 *   precision for x ≥ 16); each layer moves them to seeded unit positions and scales their value by
 *   a seeded power of two (undone by the last layer), and the other 60 units are seeded noise the
 *   output ignores, so a transposed or misordered layer breaks the body.
 *
 * Accuracy: bilinear sampling reproduces 1, u, v and u·v exactly and adds t(1 − t)·h² (h = 0.0272,
 * the texel width) to u², so Q is sampled at most ~h²/4·(Pyy + Pzz + Pxx) too high.
 */
import { writeFixtures } from './lib/fixtures';
import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { mulberry32 } from './lib/rng';
import {
  BACKGROUND,
  COLOUR_MAX,
  COLOUR_MIN,
  columnToWorldY,
  DENSITY_GAIN,
  DENSITY_THRESHOLD,
  egg,
  expectedColour,
  FOREGROUND_GAIN,
  FOREGROUND_OFFSET,
  IMAGE_SIZE,
  rowToWorldZ,
  testBody,
  VARIANCE_FLOOR,
  type TestBody,
} from './lib/test-body';
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

export * from './lib/test-body';

/** Encoder input name (read it from the session; it is unusual on purpose). */
export const TEST_ENCODER_INPUT = 'pixel_values_rgb';
/** Encoder output name. */
export const TEST_ENCODER_OUTPUT = 'scene_codes_tri';
/** Where the fixtures live, relative to the repository root. */
export const TEST_MODELS_DIR = 'tests/fixtures/models';
/** Folder of the model files, relative to the manifests. */
export const TEST_MODEL_FOLDER = 'triposr-test';

/** G in o0 = … − G·Σ(1 − presence): keeps the zero-padded rim of the box outside. */
export const PRESENCE_GAIN = 20;
/** Offset that keeps the decoder's carrier units in SiLU's linear range. */
export const CARRIER_OFFSET = 32;

/** Triplane channels with a meaning (all others are distractors). */
export const TEST_CHANNELS = {
  /** Every plane: its part of Q (depth on planes 0 and 1, the silhouette ellipse on plane 2). */
  shape: 0,
  /** Every plane: 1. */
  presence: 2,
  /** Plane 0. */
  colourLogit: [4, 5, 6],
  /** Plane 1: A/512², ȳ, z̄, Cyy, Czz, Cyz, r, g, b. */
  diagnostics: [3, 4, 5, 6, 7, 8, 9, 10, 11],
} as const;

const PLANES = 3;
const CHANNELS = 40;
const SIZE = 64;
const FEATURES = PLANES * CHANNELS;
const HIDDEN = 64;
const HIDDEN_LAYERS = 8;
const BOX = 0.87;

/** Basis grids over a plane's (row, column): 1, U(col), U(row), U(col)², U(row)², U(col)U(row), egg(U(col)). */
const BASES = 7;
const BASIS = { one: 0, col: 1, row: 2, colSq: 3, rowSq: 4, colRow: 5, eggCol: 6 } as const;

/** MatMulNBits shape: the 64-value code a, 120 × 7 basis coefficients, 8-bit blocks of 32. */
const MIX_K = 64;
const MIX_N = FEATURES * BASES;
const MIX_BITS = 8;
const MIX_BLOCK = 32;
const MIX_BLOCKS = MIX_K / MIX_BLOCK;
/** Positions in the code a. */
const CODE = { one: 0, quadric: 1, depth: 7, logit: 8, diagnostics: 32 } as const;

const ENCODER_SEED = 0x7e57_0001;
const DECODER_SEED = 0x7e57_0002;

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** World coordinate of texel centre i: 0.87·((2i + 1)/64 − 1). */
export function texelCentre(i: number): number {
  return BOX * ((2 * i + 1) / SIZE - 1);
}

/** The value of basis grid b at texel (row, col). */
function basisValue(b: number, row: number, col: number): number {
  const u = texelCentre(col);
  const v = texelCentre(row);
  return [1, u, v, u * u, v * v, u * v, egg(u)][b]!;
}

/**
 * A seeded synthetic image f32[1,3,512,512] on the grey 0.5 background: an ellipse of `colour`
 * centred at (cx, cy) (image fractions, y down) with semi-axes (rx, ry) (fractions of the side),
 * turned `angle` radians clockwise on screen (its long axis toward image right-up for a negative
 * angle), antialiased by 4×4 supersampling, plus uniform noise in ±`noise` on the object.
 */
export function syntheticImage(
  shape: { colour: readonly number[]; cx: number; cy: number; rx: number; ry: number; angle?: number },
  seed: number,
  noise = 0.02,
): Float32Array {
  const rand = mulberry32(seed);
  const plane = IMAGE_SIZE * IMAGE_SIZE;
  const out = new Float32Array(3 * plane).fill(BACKGROUND);
  const cos = Math.cos(shape.angle ?? 0);
  const sin = Math.sin(shape.angle ?? 0);
  for (let i = 0; i < IMAGE_SIZE; i++) {
    for (let j = 0; j < IMAGE_SIZE; j++) {
      let cover = 0;
      for (let s = 0; s < 16; s++) {
        const x = (j + ((s % 4) + 0.5) / 4) / IMAGE_SIZE - shape.cx;
        const y = (i + (Math.floor(s / 4) + 0.5) / 4) / IMAGE_SIZE - shape.cy;
        const a = (cos * x + sin * y) / shape.rx;
        const b = (-sin * x + cos * y) / shape.ry;
        if (a * a + b * b <= 1) cover++;
      }
      if (cover === 0) continue;
      const k = i * IMAGE_SIZE + j;
      for (let c = 0; c < 3; c++) {
        const value = shape.colour[c]! + noise * (2 * rand() - 1);
        const mixed = (cover / 16) * value + (1 - cover / 16) * BACKGROUND;
        out[c * plane + k] = Math.min(1, Math.max(0, mixed));
      }
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

/** Column of the mixer for (feature, basis). */
const column = (feature: number, basis: number): number => feature * BASES + basis;

/** Meaningful mixer columns → [code position, weight] (weight 0: the column is all zeros). */
function copiedColumns(): Map<number, [number, number]> {
  const copies = new Map<number, [number, number]>();
  const feature = (plane: number, ch: number) => plane * CHANNELS + ch;
  const meaningful = (f: number) => {
    for (let b = 0; b < BASES; b++) copies.set(column(f, b), [0, 0]);
  };
  for (let plane = 0; plane < PLANES; plane++) {
    meaningful(feature(plane, TEST_CHANNELS.presence));
    copies.set(column(feature(plane, TEST_CHANNELS.presence), BASIS.one), [CODE.one, 1]);
    meaningful(feature(plane, TEST_CHANNELS.shape));
  }
  for (const plane of [0, 1]) {
    copies.set(column(feature(plane, TEST_CHANNELS.shape), BASIS.eggCol), [CODE.depth, 0.5]);
  }
  const yz = feature(2, TEST_CHANNELS.shape);
  [BASIS.one, BASIS.col, BASIS.row, BASIS.colSq, BASIS.rowSq, BASIS.colRow].forEach((b, k) => {
    copies.set(column(yz, b), [CODE.quadric + k, 1]);
  });
  TEST_CHANNELS.colourLogit.forEach((ch, c) => {
    meaningful(feature(0, ch));
    copies.set(column(feature(0, ch), BASIS.one), [CODE.logit + c, 1]);
  });
  TEST_CHANNELS.diagnostics.forEach((ch, k) => {
    meaningful(feature(1, ch));
    copies.set(column(feature(1, ch), BASIS.one), [CODE.diagnostics + k, 1]);
  });
  return copies;
}

/** The MatMulNBits weights, seeded. */
function mixer(): Mixer {
  const rand = mulberry32(ENCODER_SEED);
  const q = new Uint8Array(MIX_N * MIX_K);
  const zeroPoints = new Uint8Array(MIX_N * MIX_BLOCKS);
  const scales = new Float32Array(MIX_N * MIX_BLOCKS);
  const copies = copiedColumns();
  for (let n = 0; n < MIX_N; n++) {
    const copy = copies.get(n);
    for (let b = 0; b < MIX_BLOCKS; b++) {
      // A copied value needs room for zero_point + 64 in a byte.
      const zp = copy ? Math.floor(rand() * 192) : Math.floor(rand() * 256);
      zeroPoints[n * MIX_BLOCKS + b] = zp;
      scales[n * MIX_BLOCKS + b] = copy ? 1 / 64 : 2 ** -9 * (1 + rand());
      for (let k = b * MIX_BLOCK; k < (b + 1) * MIX_BLOCK; k++) {
        q[n * MIX_K + k] = copy ? (k === copy[0] && copy[1] ? zp + 64 * copy[1] : zp) : Math.floor(rand() * 256);
      }
    }
  }
  return { q, zeroPoints, scales };
}

/** The encoder's 64-value code a for a body (float64). */
function codeFor(body: TestBody): Float64Array {
  const a = new Float64Array(MIX_K);
  const [pyy, pzz, pyz] = body.precision;
  const [, my, mz] = body.centre;
  const ky = -2 * (pyy * my + pyz * mz);
  const kz = -2 * (pyz * my + pzz * mz);
  a[CODE.one] = 1;
  [-0.5 * (ky * my + kz * mz), ky, kz, pyy, pzz, 2 * pyz].forEach((v, k) => (a[CODE.quadric + k] = v));
  a[CODE.depth] = body.depthPrecision;
  expectedColour(body).forEach((k, c) => (a[CODE.logit + c] = Math.log(k) - Math.log(1 - k)));
  const diagnostics = [body.area / IMAGE_SIZE ** 2, my, mz, ...body.covariance, ...body.meanColour];
  diagnostics.forEach((v, k) => (a[CODE.diagnostics + k] = v));
  return a;
}

/**
 * The triplane f32[1,3,40,64,64] the test encoder computes for an image f32[1,3,512,512]
 * (evaluated in float64; the ONNX graph agrees to float32 rounding).
 */
export function expectedTriplane(image: Float32Array): Float32Array {
  const { q, zeroPoints, scales } = mixer();
  const a = codeFor(testBody(image));
  const out = new Float32Array(FEATURES * SIZE * SIZE);
  const coefficients = new Float64Array(BASES);
  for (let f = 0; f < FEATURES; f++) {
    for (let b = 0; b < BASES; b++) {
      const n = column(f, b);
      let sum = 0;
      for (let k = 0; k < MIX_K; k++) {
        const block = n * MIX_BLOCKS + Math.floor(k / MIX_BLOCK);
        sum += (q[n * MIX_K + k]! - zeroPoints[block]!) * scales[block]! * a[k]!;
      }
      coefficients[b] = sum;
    }
    for (let row = 0; row < SIZE; row++) {
      for (let col = 0; col < SIZE; col++) {
        let value = 0;
        for (let b = 0; b < BASES; b++) value += coefficients[b]! * basisValue(b, row, col);
        out[(f * SIZE + row) * SIZE + col] = value;
      }
    }
  }
  return out;
}

/** Writes the encoder graph and its external data. */
function encoderOnnx(): { model: Uint8Array; data: Uint8Array } {
  const { q, zeroPoints, scales } = mixer();
  const scalar = (name: string, v: number) => floatTensor(name, [1, 1], Float32Array.of(v));
  // Clip takes its bounds as rank-0 tensors.
  const bound = (name: string, v: number) => floatTensor(name, [], Float32Array.of(v));
  const zeros = (name: string, n: number) => floatTensor(name, [1, n], new Float32Array(n));
  const colTable = new Float32Array(IMAGE_SIZE * 3);
  const rowTable = new Float32Array(3 * IMAGE_SIZE);
  for (let i = 0; i < IMAGE_SIZE; i++) {
    const y = columnToWorldY(i);
    const z = rowToWorldZ(i);
    colTable.set([1, y, y * y], 3 * i);
    [1, z, z * z].forEach((v, p) => (rowTable[p * IMAGE_SIZE + i] = v));
  }
  const basis = new Float32Array(BASES * SIZE * SIZE);
  for (let b = 0; b < BASES; b++) {
    for (let t = 0; t < SIZE * SIZE; t++) basis[b * SIZE * SIZE + t] = basisValue(b, Math.floor(t / SIZE), t % SIZE);
  }
  // M[a][b] = Σ w·z^a·y^b flattened to 9; one-hot columns pick the moments out.
  const pick = (name: string, a: number, b: number) => {
    const v = new Float32Array(9);
    v[3 * a + b] = 1;
    return floatTensor(name, [9, 1], v);
  };
  const initializers = [
    scalar('background', BACKGROUND),
    scalar('fg_gain', FOREGROUND_GAIN),
    scalar('fg_offset', FOREGROUND_OFFSET),
    scalar('one', 1),
    scalar('quarter', 0.25),
    scalar('minus_half', -0.5),
    scalar('minus_two', -2),
    scalar('two', 2),
    scalar('variance_floor', VARIANCE_FLOOR),
    scalar('inv_pixels', 1 / IMAGE_SIZE ** 2),
    bound('clip_zero', 0),
    bound('clip_one', 1),
    bound('colour_min', COLOUR_MIN),
    bound('colour_max', COLOUR_MAX),
    floatTensor('col_table', [IMAGE_SIZE, 3], colTable),
    floatTensor('row_table', [3, IMAGE_SIZE], rowTable),
    pick('pick_area', 0, 0),
    pick('pick_y', 0, 1),
    pick('pick_yy', 0, 2),
    pick('pick_z', 1, 0),
    pick('pick_yz', 1, 1),
    pick('pick_zz', 2, 0),
    zeros('pad_a', CODE.diagnostics - CODE.logit - 3),
    zeros('pad_b', MIX_K - CODE.diagnostics - TEST_CHANNELS.diagnostics.length),
    uint8Tensor('mixer.q', [MIX_N, MIX_BLOCKS, (MIX_BLOCK * MIX_BITS) / 8], q),
    floatTensor('mixer.scales', [MIX_N * MIX_BLOCKS], scales),
    uint8Tensor('mixer.zero_points', [MIX_N * MIX_BLOCKS], zeroPoints),
    floatTensor('basis', [BASES, SIZE * SIZE], basis),
    int64Tensor('shape_axis_channel', [1], [1]),
    int64Tensor('shape_axis_col', [1], [3]),
    int64Tensor('shape_axis_row', [1], [2]),
    int64Tensor('shape_image', [2], [IMAGE_SIZE, IMAGE_SIZE]),
    int64Tensor('shape_weight_4d', [4], [1, 1, IMAGE_SIZE, IMAGE_SIZE]),
    int64Tensor('shape_moments', [2], [1, 9]),
    int64Tensor('shape_coefficients', [2], [FEATURES, BASES]),
    int64Tensor('shape_triplane', [5], [1, PLANES, CHANNELS, SIZE, SIZE]),
  ];
  const n = (op: string, inputs: string[], output: string, attributes?: Record<string, number | number[]>) =>
    onnxNode(op, inputs, [output], attributes);
  const nodes = [
    // Foreground weight: distance from the grey the framing composites onto.
    n('Sub', [TEST_ENCODER_INPUT, 'background'], 'centred'),
    n('Abs', ['centred'], 'deviation'),
    n('ReduceSum', ['deviation', 'shape_axis_channel'], 'distance', { keepdims: 0 }),
    n('Mul', ['distance', 'fg_gain'], 'distance_scaled'),
    n('Sub', ['distance_scaled', 'fg_offset'], 'weight_raw'),
    n('Clip', ['weight_raw', 'clip_zero', 'clip_one'], 'weight'),
    // Moments: rows of w against (1, y, y²), then (1, z, z²) against the rows.
    n('Reshape', ['weight', 'shape_image'], 'weight_2d'),
    n('MatMul', ['weight_2d', 'col_table'], 'row_moments'),
    n('MatMul', ['row_table', 'row_moments'], 'moments'),
    n('Reshape', ['moments', 'shape_moments'], 'moments_flat'),
    ...(['area', 'y', 'yy', 'z', 'yz', 'zz'] as const).map((m) =>
      n('MatMul', ['moments_flat', `pick_${m}`], `sum_${m}`),
    ),
    n('Add', ['sum_area', 'one'], 'norm'),
    n('Div', ['sum_y', 'norm'], 'mean_y'),
    n('Div', ['sum_z', 'norm'], 'mean_z'),
    n('Div', ['sum_yy', 'norm'], 'e_yy'),
    n('Div', ['sum_zz', 'norm'], 'e_zz'),
    n('Div', ['sum_yz', 'norm'], 'e_yz'),
    n('Mul', ['mean_y', 'mean_y'], 'mean_yy'),
    n('Mul', ['mean_z', 'mean_z'], 'mean_zz'),
    n('Mul', ['mean_y', 'mean_z'], 'mean_yz'),
    n('Sub', ['e_yy', 'mean_yy'], 'var_y'),
    n('Sub', ['e_zz', 'mean_zz'], 'var_z'),
    n('Add', ['var_y', 'variance_floor'], 'c_yy'),
    n('Add', ['var_z', 'variance_floor'], 'c_zz'),
    n('Sub', ['e_yz', 'mean_yz'], 'c_yz'),
    // P = (4C)⁻¹ = [c_zz, −c_yz; −c_yz, c_yy] / (4 det C); Pxx = 1 / (4√det C).
    n('Mul', ['c_yy', 'c_zz'], 'det_diagonal'),
    n('Mul', ['c_yz', 'c_yz'], 'det_cross'),
    n('Sub', ['det_diagonal', 'det_cross'], 'det'),
    n('Div', ['quarter', 'det'], 'inv_4det'),
    n('Mul', ['c_zz', 'inv_4det'], 'p_yy'),
    n('Mul', ['c_yy', 'inv_4det'], 'p_zz'),
    n('Mul', ['c_yz', 'inv_4det'], 'minus_p_yz'),
    n('Sqrt', ['det'], 'sqrt_det'),
    n('Div', ['quarter', 'sqrt_det'], 'p_xx'),
    // (p − c)ᵀP(p − c) = k0 + kY·y + kZ·z + Pyy·y² + Pzz·z² + 2Pyz·y·z.
    n('Mul', ['minus_p_yz', 'minus_two'], 'k_yz'),
    n('Mul', ['p_yy', 'mean_y'], 'py_a'),
    n('Mul', ['minus_p_yz', 'mean_z'], 'py_b'),
    n('Sub', ['py_a', 'py_b'], 'py'),
    n('Mul', ['py', 'minus_two'], 'k_y'),
    n('Mul', ['minus_p_yz', 'mean_y'], 'pz_a'),
    n('Mul', ['p_zz', 'mean_z'], 'pz_b'),
    n('Sub', ['pz_b', 'pz_a'], 'pz'),
    n('Mul', ['pz', 'minus_two'], 'k_z'),
    n('Mul', ['k_y', 'mean_y'], 'k0_a'),
    n('Mul', ['k_z', 'mean_z'], 'k0_b'),
    n('Add', ['k0_a', 'k0_b'], 'k0_sum'),
    n('Mul', ['k0_sum', 'minus_half'], 'k_0'),
    // Foreground colour: rows first, then columns (512-term float32 sums stay within ~1e-6).
    n('Reshape', ['weight', 'shape_weight_4d'], 'weight_4d'),
    n('Mul', [TEST_ENCODER_INPUT, 'weight_4d'], 'weighted'),
    n('ReduceSum', ['weighted', 'shape_axis_col'], 'weighted_rows', { keepdims: 0 }),
    n('ReduceSum', ['weighted_rows', 'shape_axis_row'], 'weighted_sum', { keepdims: 0 }),
    n('Div', ['weighted_sum', 'norm'], 'fg_colour'),
    n('Clip', ['fg_colour', 'colour_min', 'colour_max'], 'colour'),
    n('Sub', ['one', 'colour'], 'colour_rest'),
    n('Log', ['colour'], 'log_colour'),
    n('Log', ['colour_rest'], 'log_rest'),
    n('Sub', ['log_colour', 'log_rest'], 'colour_logit'),
    n('Mul', ['sum_area', 'inv_pixels'], 'area_fraction'),
    onnxNode(
      'Concat',
      [
        'one', 'k_0', 'k_y', 'k_z', 'p_yy', 'p_zz', 'k_yz', 'p_xx', 'colour_logit', 'pad_a',
        'area_fraction', 'mean_y', 'mean_z', 'c_yy', 'c_zz', 'c_yz', 'fg_colour', 'pad_b',
      ],
      ['code'],
      { axis: 1 },
    ),
    onnxNode(
      'MatMulNBits',
      ['code', 'mixer.q', 'mixer.scales', 'mixer.zero_points'],
      ['coefficients'],
      { K: MIX_K, N: MIX_N, bits: MIX_BITS, block_size: MIX_BLOCK },
      'mixer/MatMulNBits',
      'com.microsoft',
    ),
    n('Reshape', ['coefficients', 'shape_coefficients'], 'coefficients_2d'),
    n('MatMul', ['coefficients_2d', 'basis'], 'channels'),
    n('Reshape', ['channels', 'shape_triplane'], TEST_ENCODER_OUTPUT),
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
  for (let plane = 0; plane < PLANES; plane++) {
    first.weight[density + feature(plane, TEST_CHANNELS.shape)] = -s;
    first.weight[density + feature(plane, TEST_CHANNELS.presence)] = PRESENCE_GAIN;
  }
  first.bias[units[0]!] = B + s - PLANES * PRESENCE_GAIN;
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
