import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { maskFromOutput } from '../../src/lib/alpha-mask';
import {
  buildTestSegmenter,
  SEGMENTER_BACKDROP,
  SEGMENTER_FILES,
  SEGMENTER_INPUT,
  SEGMENTER_MEAN,
  SEGMENTER_OUTPUT,
  SEGMENTER_STD,
  SEGMENTER_TEST_FOLDER,
  SEGMENTER_TEST_SIZE,
  segmenterLogit,
  segmenterProbability,
} from '../../scripts/make-test-segmenter';

const root = fileURLToPath(new URL('../fixtures/models/', import.meta.url));
const fixture = (path: string): Uint8Array => new Uint8Array(readFileSync(root + path));
const N = SEGMENTER_TEST_SIZE;

/**
 * A 64×64 RGB image: the backdrop, a red block (rows 10–29, columns 20–43) and, in row 50, colours
 * that step from the backdrop towards white so the logit crosses 0 (distance 0.5) along the row.
 */
function testImage(): Uint8Array {
  const rgb = new Uint8Array(N * N * 3);
  for (let p = 0; p < N * N; p++) rgb.set(SEGMENTER_BACKDROP, p * 3);
  for (let y = 10; y < 30; y++) {
    for (let x = 20; x < 44; x++) rgb.set([204, 51, 51], (y * N + x) * 3);
  }
  for (let x = 0; x < N; x++) {
    const t = x / (N - 1);
    const mix = SEGMENTER_BACKDROP.map((b) => Math.round(b + (255 - b) * t));
    rgb.set(mix, (50 * N + x) * 3);
  }
  return rgb;
}

/** transformers.js' ViT preprocessing in float32, step by step: v·(1/255), then (v − mean)/std. */
function normalise(rgb: Uint8Array): Float32Array {
  const out = new Float32Array(3 * N * N);
  for (let p = 0; p < N * N; p++) {
    for (let c = 0; c < 3; c++) {
      const scaled = Math.fround((1 / 255) * rgb[p * 3 + c]!);
      out[c * N * N + p] = Math.fround((scaled - SEGMENTER_MEAN[c]!) / SEGMENTER_STD[c]!);
    }
  }
  return out;
}

describe('segmenter test model fixtures', () => {
  it('the generator writes the committed files byte for byte', () => {
    const built = buildTestSegmenter();
    expect([...built.keys()].sort()).toEqual(
      [
        ...SEGMENTER_FILES.map((f) => `${SEGMENTER_TEST_FOLDER}/${f}`),
        `${SEGMENTER_TEST_FOLDER}.manifest.json`,
      ].sort(),
    );
    for (const [path, bytes] of built) expect(fixture(path), path).toEqual(new Uint8Array(bytes));
  });

  it('has BiRefNet_lite-ONNX layout: model type, ViT preprocessing and a manifest of its files', () => {
    const json = (path: string): Record<string, unknown> =>
      JSON.parse(new TextDecoder().decode(fixture(path))) as Record<string, unknown>;
    expect(json(`${SEGMENTER_TEST_FOLDER}/config.json`)).toEqual({ model_type: 'birefnet' });
    expect(json(`${SEGMENTER_TEST_FOLDER}/preprocessor_config.json`)).toMatchObject({
      image_processor_type: 'ViTFeatureExtractor',
      do_resize: true,
      do_rescale: true,
      do_normalize: true,
      image_mean: [...SEGMENTER_MEAN],
      image_std: [...SEGMENTER_STD],
      size: { width: N, height: N },
    });
    const manifest = json(`${SEGMENTER_TEST_FOLDER}.manifest.json`) as {
      files: { name: string; url: string; bytes: number }[];
    };
    expect(manifest.files.map((f) => f.name)).toEqual([...SEGMENTER_FILES]);
    for (const file of manifest.files) expect(fixture(file.url).length).toBe(file.bytes);
  });
});

describe('segmenter test model in onnxruntime-web (WASM)', () => {
  const rgb = testImage();
  let logits: Float32Array;

  beforeAll(async () => {
    ort.env.wasm.numThreads = 1;
    const session = await ort.InferenceSession.create(
      fixture(`${SEGMENTER_TEST_FOLDER}/onnx/model.onnx`),
      { executionProviders: ['wasm'] },
    );
    expect(session.inputNames).toEqual([SEGMENTER_INPUT]);
    expect(session.outputNames).toEqual([SEGMENTER_OUTPUT]);
    const input = new ort.Tensor('float32', normalise(rgb), [1, 3, N, N]);
    const out = (await session.run({ [SEGMENTER_INPUT]: input }))[SEGMENTER_OUTPUT]!;
    expect(out.dims).toEqual([1, 1, N, N]);
    logits = out.data as Float32Array;
    await session.release();
  }, 60_000);

  it('outputs k·(L1 distance from the backdrop − t) as logits', () => {
    let worst = 0;
    for (let p = 0; p < N * N; p++) {
      worst = Math.max(
        worst,
        Math.abs(logits[p]! - segmenterLogit(rgb.subarray(p * 3, p * 3 + 3))),
      );
    }
    // float32 normalisation and back: ~1e-7 per channel, times k = 20.
    expect(worst).toBeLessThan(1e-4);
    expect(logits[0]).toBeCloseTo(-10, 4); // the backdrop: distance 0
    expect(logits[10 * N + 20]).toBeCloseTo(18, 4); // red: 0.6 + 0.2 + 0.6 = 1.4
  });

  it('gives the hand-computed mask: 0 on the backdrop, 255 on red, soft along the ramp', () => {
    const mask = maskFromOutput(logits, N, N, N, N).data;
    for (let p = 0; p < N * N; p++) {
      const want = 255 * segmenterProbability(rgb.subarray(p * 3, p * 3 + 3));
      expect(Math.abs(mask[p]! - want), `pixel ${p}`).toBeLessThanOrEqual(0.5 + 1e-3);
    }
    expect(mask[0]).toBe(0);
    expect(mask[12 * N + 30]).toBe(255);
    // The ramp: white is (204 + 153 + 51)/255 = 1.6 from the backdrop, so the half-way point
    // (distance 0.5) is at t = 0.5/1.6 of the row.
    const ramp = Array.from(mask.subarray(50 * N, 51 * N));
    const rising = ramp.findIndex((v) => v >= 128);
    expect(rising).toBe(Math.ceil((0.5 / 1.6) * (N - 1)));
    expect(ramp[0]).toBe(0);
    expect(ramp[N - 1]).toBe(255);
    for (let x = 1; x < N; x++) expect(ramp[x]).toBeGreaterThanOrEqual(ramp[x - 1]!);
  });
});
