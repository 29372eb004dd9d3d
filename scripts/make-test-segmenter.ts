/// <reference types="node" />
/**
 * A tiny stand-in for the background-removal model (BiRefNet_lite as onnx-community exports it for
 * transformers.js) with the same folder layout and input/output contract, so the segmentation code
 * runs end to end in tests without the real model. `npx tsx scripts/make-test-segmenter.ts` writes,
 * under tests/fixtures/models/ (byte-identical on every run; there is nothing random to seed):
 *
 *   segmenter-test/config.json               {"model_type": "birefnet"}
 *   segmenter-test/preprocessor_config.json  BiRefNet's ViTFeatureExtractor settings (rescale 1/255,
 *                                            ImageNet mean/std, bilinear), at SEGMENTER_TEST_SIZE²
 *   segmenter-test/onnx/model.onnx           'input_image' f32[batch,3,height,width] (normalised RGB)
 *                                            → 'output_image' f32[batch,1,height,width] (logits)
 *   segmenter-test.manifest.json             the files in the proposed segmenter manifest format
 *
 * The maths. The graph undoes the normalisation (rgb = x·std + mean, so rgb ∈ [0, 1] again) and
 * scores each pixel by its L1 distance from a fixed backdrop colour B:
 *
 *   logit = k·(|r − B_r| + |g − B_g| + |b − B_b| − t),   k = 20, t = 0.5, B = (51, 102, 204)/255
 *
 * so the mask the app computes is round(255·sigmoid(logit)): 0 on the backdrop (logit −10), 255 on
 * any colour at least 0.9 from it (red (204, 51, 51) is 1.4 away: logit 18), and soft in between. B is
 * not grey, so a swapped channel order or a wrong mean/std turns the backdrop into foreground.
 * Like BiRefNet's export, the output is logits (the app applies the sigmoid) and the spatial
 * dimensions are symbolic; the real model's size comes from its preprocessor_config.json as here.
 */
import { writeFixtures } from './lib/fixtures';
import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { encodeModel, floatTensor, int64Tensor, onnxNode, valueInfo } from './lib/onnx-writer';
import {
  SEGMENTER_BACKDROP,
  SEGMENTER_FILES,
  SEGMENTER_GAIN,
  SEGMENTER_INPUT,
  SEGMENTER_MEAN,
  SEGMENTER_OUTPUT,
  SEGMENTER_STD,
  SEGMENTER_TEST_FOLDER,
  SEGMENTER_TEST_SIZE,
  SEGMENTER_THRESHOLD,
} from './lib/test-segmenter-spec';

export * from './lib/test-segmenter-spec';

/** Where the fixtures live, relative to the repository root. */
export const SEGMENTER_MODELS_DIR = 'tests/fixtures/models';

/** BiRefNet_lite's config layout (transformers.js maps model_type birefnet to a plain image model). */
const CONFIG = { model_type: 'birefnet' };

/** onnx-community/BiRefNet_lite-ONNX's preprocessor_config.json, at the test size. */
const PREPROCESSOR_CONFIG = {
  do_normalize: true,
  do_rescale: true,
  do_resize: true,
  feature_extractor_type: 'ViTFeatureExtractor',
  image_mean: [...SEGMENTER_MEAN],
  image_processor_type: 'ViTFeatureExtractor',
  image_std: [...SEGMENTER_STD],
  resample: 2,
  rescale_factor: 1 / 255,
  size: { height: SEGMENTER_TEST_SIZE, width: SEGMENTER_TEST_SIZE },
};

/** The graph: rgb = x·std + mean, logit = k·(Σ_c |rgb_c − B_c| − t). */
function segmenterOnnx(): Uint8Array {
  const perChannel = (name: string, values: readonly number[]) =>
    floatTensor(name, [1, 3, 1, 1], Float32Array.from(values));
  const scalar = (name: string, v: number) => floatTensor(name, [], Float32Array.of(v));
  const initializers = [
    perChannel('std', SEGMENTER_STD),
    perChannel('mean', SEGMENTER_MEAN),
    perChannel(
      'backdrop',
      SEGMENTER_BACKDROP.map((v) => v / 255),
    ),
    int64Tensor('channel_axis', [1], [1]),
    scalar('threshold', SEGMENTER_THRESHOLD),
    scalar('gain', SEGMENTER_GAIN),
  ];
  const nodes = [
    onnxNode('Mul', [SEGMENTER_INPUT, 'std'], ['scaled']),
    onnxNode('Add', ['scaled', 'mean'], ['rgb']),
    onnxNode('Sub', ['rgb', 'backdrop'], ['offset']),
    onnxNode('Abs', ['offset'], ['offset_abs']),
    onnxNode('ReduceSum', ['offset_abs', 'channel_axis'], ['distance'], { keepdims: 1 }),
    onnxNode('Sub', ['distance', 'threshold'], ['centred']),
    onnxNode('Mul', ['centred', 'gain'], [SEGMENTER_OUTPUT]),
  ];
  return encodeModel({
    name: 'segmenter_test',
    nodes,
    initializers,
    inputs: [valueInfo(SEGMENTER_INPUT, ['batch_size', 3, 'height', 'width'])],
    outputs: [valueInfo(SEGMENTER_OUTPUT, ['batch_size', 1, 'height', 'width'])],
  });
}

function json(value: unknown): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Builds every fixture in memory: path relative to tests/fixtures/models/ → bytes. Deterministic,
 * so tests compare it with the committed files.
 */
export function buildTestSegmenter(): Map<string, Uint8Array> {
  const model = new Map<string, Uint8Array>([
    ['config.json', json(CONFIG)],
    ['preprocessor_config.json', json(PREPROCESSOR_CONFIG)],
    ['onnx/model.onnx', segmenterOnnx()],
  ]);
  const files = new Map<string, Uint8Array>();
  for (const [name, bytes] of model) files.set(`${SEGMENTER_TEST_FOLDER}/${name}`, bytes);
  const entries = SEGMENTER_FILES.map((name) => {
    const bytes = model.get(name)!;
    return {
      role: 'segmenter',
      name,
      url: `${SEGMENTER_TEST_FOLDER}/${name}`,
      bytes: bytes.length,
      sha256: sha256(bytes),
    };
  });
  const hashes = new TextEncoder().encode(entries.map((f) => f.sha256).join('\n'));
  // The proposed manifest extension (see the report of issue 5): `kind`, role 'segmenter' with names
  // that are paths inside the model folder, and a contract of input and output shapes.
  const manifest = {
    version: 1,
    kind: 'segmenter',
    id: 'segmenter-test',
    name: 'Background removal test model (distance from a backdrop colour)',
    license: 'MIT',
    // Content-addressed: a regenerated model with different bytes gets a new cache key.
    revision: sha256(hashes).slice(0, 16),
    files: entries,
    contract: {
      input: [1, 3, SEGMENTER_TEST_SIZE, SEGMENTER_TEST_SIZE],
      output: [1, 1, SEGMENTER_TEST_SIZE, SEGMENTER_TEST_SIZE],
    },
  };
  files.set(`${SEGMENTER_TEST_FOLDER}.manifest.json`, json(manifest));
  return files;
}

/** Writes the fixtures under tests/fixtures/models/. */
export function main(): void {
  writeFixtures(resolve(dirname(fileURLToPath(import.meta.url)), '..', SEGMENTER_MODELS_DIR), buildTestSegmenter());
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
