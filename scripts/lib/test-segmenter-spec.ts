/**
 * The test segmenter's contract and maths (see scripts/make-test-segmenter.ts), without Node
 * imports, so browser tests can work the expected masks out too.
 */

/** Folder of the model under tests/fixtures/models/: the layout transformers.js loads. */
export const SEGMENTER_TEST_FOLDER = 'segmenter-test';
/** Input and output tensor names, as BiRefNet's ONNX export names them. */
export const SEGMENTER_INPUT = 'input_image';
export const SEGMENTER_OUTPUT = 'output_image';
/** The model's square input side (BiRefNet_lite: 1024; small here so tests stay fast). */
export const SEGMENTER_TEST_SIZE = 64;
/** ImageNet normalisation, as BiRefNet's preprocessor_config.json gives it. */
export const SEGMENTER_MEAN = [0.485, 0.456, 0.406] as const;
export const SEGMENTER_STD = [0.229, 0.224, 0.225] as const;
/** The backdrop colour B, as bytes. */
export const SEGMENTER_BACKDROP = [51, 102, 204] as const;
/** k in logit = k·(distance − t). */
export const SEGMENTER_GAIN = 20;
/** t: the distance from the backdrop at which the mask is one half. */
export const SEGMENTER_THRESHOLD = 0.5;

/** The test model's logit for one pixel (RGB bytes), in float64. */
export function segmenterLogit(rgb: ArrayLike<number>): number {
  let distance = 0;
  for (let c = 0; c < 3; c++) distance += Math.abs(rgb[c]! / 255 - SEGMENTER_BACKDROP[c]! / 255);
  return SEGMENTER_GAIN * (distance - SEGMENTER_THRESHOLD);
}

/** The mask probability sigmoid(logit) for one pixel (RGB bytes). */
export function segmenterProbability(rgb: ArrayLike<number>): number {
  return 1 / (1 + Math.exp(-segmenterLogit(rgb)));
}

/** File names inside the model folder, in the order the manifest lists them. */
export const SEGMENTER_FILES = [
  'config.json',
  'preprocessor_config.json',
  'onnx/model.onnx',
] as const;
