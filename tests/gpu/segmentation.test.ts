import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  findAlphaBox,
  frameBox,
  imageRows,
  prepareImage,
  type PixelBox,
  type RgbaImage,
} from '../../src/lib/prepare-image';
import { createSegmenter, removeBackground, type Segmenter } from '../../src/lib/segmentation';
// After segmentation.ts, which must be evaluated before transformers.js (see transformers-ort.ts).
import { env } from '@huggingface/transformers';
import {
  SEGMENTER_BACKDROP,
  SEGMENTER_FILES,
  SEGMENTER_TEST_SIZE,
  segmenterProbability,
} from '../../scripts/lib/test-segmenter-spec';

// transformers.js in real Chromium on the tiny test segmenter (scripts/make-test-segmenter.ts), served
// by the vitest server from the repository root; the mask is 255·sigmoid(20·(distance − 0.5)) of each
// pixel's L1 distance from the backdrop colour, so every expectation here is worked out by hand.

const FOLDER = '/tests/fixtures/models/segmenter-test/';
const N = SEGMENTER_TEST_SIZE;
const RED = [204, 51, 51] as const;
const BACKDROP = [...SEGMENTER_BACKDROP, 255];

/** Every URL the code under test fetched through the fetch it was given. */
const fetched: string[] = [];
const recordingFetch: typeof fetch = (input, init) => {
  fetched.push(input instanceof Request ? input.url : String(input));
  return fetch(input, init);
};

function backdrop(width: number, height: number): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) data.set(BACKDROP, p * 4);
  return { width, height, data };
}

function fill(image: RgbaImage, box: PixelBox, rgb: readonly number[]): void {
  for (let y = box.y; y < box.y + box.height; y++) {
    for (let x = box.x; x < box.x + box.width; x++)
      image.data.set([...rgb, 255], (y * image.width + x) * 4);
  }
}

/** The model-size image: the backdrop, a red block, and in row 50 a ramp from the backdrop to white. */
function modelSizeImage(): RgbaImage {
  const image = backdrop(N, N);
  fill(image, { x: 20, y: 10, width: 24, height: 20 }, RED);
  for (let x = 0; x < N; x++) {
    const t = x / (N - 1);
    const mix = SEGMENTER_BACKDROP.map((b) => Math.round(b + (255 - b) * t));
    image.data.set([...mix, 255], (50 * N + x) * 4);
  }
  return image;
}

/** 255·p per pixel of an image the model sees at its own size. */
function handMask(image: RgbaImage): number[] {
  const out: number[] = [];
  for (let p = 0; p < image.width * image.height; p++) {
    out.push(255 * segmenterProbability(image.data.subarray(p * 4, p * 4 + 3)));
  }
  return out;
}

function expectMask(actual: Uint8ClampedArray, want: number[]): void {
  expect(actual.length).toBe(want.length);
  let worst = 0;
  for (let p = 0; p < want.length; p++) worst = Math.max(worst, Math.abs(actual[p]! - want[p]!));
  // Rounding to a byte, plus float32 normalisation (~1e-3 of a step).
  expect(worst).toBeLessThanOrEqual(0.501);
}

/**
 * The whole path worked out for an image twice the model's size along both axes, in 1D per axis:
 * halving reads source pixels 2i−1 … 2i+2 with weights 1/8, 3/8, 3/8, 1/8 (clamped and renormalised
 * at the edges), the model runs on the rounded bytes, and doubling the mask back takes 3/4 of the
 * nearer model pixel and 1/4 of the other (clamped at the edges).
 */
function handMaskHalved(image: RgbaImage): number[] {
  const w = image.width / 2;
  const h = image.height / 2;
  const halve = (n: number, i: number): [number, number][] => {
    const taps: [number, number][] = [
      [2 * i - 1, 1],
      [2 * i, 3],
      [2 * i + 1, 3],
      [2 * i + 2, 1],
    ].filter(([x]) => x! >= 0 && x! < n) as [number, number][];
    const total = taps.reduce((s, [, t]) => s + t, 0);
    return taps.map(([x, t]) => [x, t / total]);
  };
  const small = new Float64Array(w * h);
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      const rgb = [0, 1, 2].map((c) => {
        let v = 0;
        for (const [y, wy] of halve(image.height, j)) {
          for (const [x, wx] of halve(image.width, i))
            v += wy * wx * image.data[(y * image.width + x) * 4 + c]!;
        }
        return Math.min(255, Math.max(0, Math.round(v)));
      });
      small[j * w + i] = segmenterProbability(rgb);
    }
  }
  const double = (n: number, o: number): [number, number][] => {
    const s = (o + 0.5) / 2 - 0.5;
    const lo = Math.floor(s);
    const f = s - lo;
    return [
      [Math.min(n - 1, Math.max(0, lo)), 1 - f],
      [Math.min(n - 1, Math.max(0, lo + 1)), f],
    ];
  };
  const out: number[] = [];
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      let p = 0;
      for (const [j, wy] of double(h, y))
        for (const [i, wx] of double(w, x)) p += wy * wx * small[j * w + i]!;
      out.push(255 * p);
    }
  }
  return out;
}

describe('background removal with transformers.js on the test segmenter', () => {
  const segmenters: Segmenter[] = [];

  beforeAll(() => {
    performance.setResourceTimingBufferSize(100_000);
    performance.clearResourceTimings();
  });

  afterAll(async () => {
    for (const s of segmenters) await s.dispose();
  });

  it('loads from a local folder with remote models off, on WASM, and gives the hand-computed mask', async () => {
    const segmenter = await createSegmenter(
      { localPath: FOLDER },
      { backends: ['wasm'], fetch: recordingFetch },
    );
    segmenters.push(segmenter);
    expect(env.allowRemoteModels).toBe(false);
    expect(segmenter.backend).toBe('wasm');
    expect(segmenter.fallbackReason).toBeUndefined();
    expect(segmenter.inputSize).toEqual({ width: N, height: N });
    const paths = fetched.map((url) => new URL(url).pathname);
    expect(new Set(paths)).toEqual(new Set(SEGMENTER_FILES.map((f) => FOLDER + f)));

    const image = modelSizeImage();
    const mask = await segmenter.segment(image);
    expectMask(mask, handMask(image));
    expect(mask[0]).toBe(0);
    expect(mask[12 * N + 30]).toBe(255);
    // The ramp crosses one half at 0.5/1.6 of the row (white is 1.6 from the backdrop).
    const ramp = Array.from(mask.subarray(50 * N, 51 * N));
    expect(ramp.findIndex((v) => v >= 128)).toBe(Math.ceil((0.5 / 1.6) * (N - 1)));
  });

  it('runs on WebGPU first and agrees with WASM', async () => {
    const files = new Map<string, Uint8Array>();
    for (const name of SEGMENTER_FILES)
      files.set(name, new Uint8Array(await (await fetch(FOLDER + name)).arrayBuffer()));
    const segmenter = await createSegmenter(files);
    segmenters.push(segmenter);
    expect(segmenter.backend).toBe('webgpu');
    const image = modelSizeImage();
    expectMask(await segmenter.segment(image), handMask(image));
  });

  it('picks onnx/model_fp16.onnx when the files hold only that precision', async () => {
    const files = new Map<string, Uint8Array>();
    for (const name of SEGMENTER_FILES) {
      const bytes = new Uint8Array(await (await fetch(FOLDER + name)).arrayBuffer());
      // The fp32 test graph under the fp16 name: only the file choice is under test.
      files.set(name === 'onnx/model.onnx' ? 'onnx/model_fp16.onnx' : name, bytes);
    }
    const segmenter = await createSegmenter(files, { backends: ['wasm'] });
    segmenters.push(segmenter);
    const image = modelSizeImage();
    expectMask(await segmenter.segment(image), handMask(image));
  });

  // transformers.js 4.3.1 would let one failed session creation or run break every later one; these
  // two failures come before the tests below, which go on using the first (WASM) segmenter.
  it('falls back to WASM when WebGPU cannot build the session, and says why', async () => {
    const segmenter = await createSegmenter({ localPath: FOLDER }, { gpuDevice: {} as GPUDevice });
    segmenters.push(segmenter);
    expect(segmenter.backend).toBe('wasm');
    expect(segmenter.fallbackReason).toMatch(/^WebGPU: Invalid GPU device/);
    const image = modelSizeImage();
    expectMask(await segmenter.segment(image), handMask(image));
  });

  it('falls back to WASM when the first WebGPU run fails (device lost), and says why', async () => {
    const adapter = await navigator.gpu.requestAdapter();
    const device = await adapter!.requestDevice();
    device.destroy();
    const segmenter = await createSegmenter({ localPath: FOLDER }, { gpuDevice: device });
    segmenters.push(segmenter);
    expect(segmenter.backend).toBe('webgpu');
    const image = modelSizeImage();
    const mask = await segmenter.segment(image);
    expect(segmenter.backend).toBe('wasm');
    expect(segmenter.fallbackReason).toMatch(/^WebGPU failed on the first image: .*lost/);
    expectMask(mask, handMask(image));
  });

  it('cuts out a photo twice the model size: mask, alpha box and the framed 512² input by hand', async () => {
    const segmenter = segmenters[0]!;
    const object: PixelBox = { x: 30, y: 50, width: 60, height: 40 };
    const image = backdrop(2 * N, 2 * N);
    fill(image, object, RED);
    const mask = await segmenter.segment(image);
    const want = handMaskHalved(image);
    expectMask(mask, want);
    // Just outside the block the mask is 1/4 of an inside model pixel (64), just inside 3/4 (191).
    const at = (x: number, y: number) => mask[y * image.width + x]!;
    expect([at(object.x - 1, 70), at(object.x, 70), at(60, 70), at(5, 5)]).toEqual([
      64, 191, 255, 0,
    ]);

    // Threshold 128 keeps exactly the block: its alpha box is the object.
    const cutout = removeBackground(image, mask, 128);
    expect(findAlphaBox(imageRows(cutout))).toEqual(object);

    // The framed input: the object's box framed at ratio 0.85, red in the middle, grey at the rim.
    const prepared = prepareImage(cutout);
    expect(prepared.framing).toEqual(frameBox(object, 0.85));
    const wantCutout = removeBackground(
      image,
      Uint8ClampedArray.from(want, (v) => Math.round(v)),
      128,
    );
    const reference = prepareImage(wantCutout).pixels;
    let worst = 0;
    for (let i = 0; i < reference.length; i++)
      worst = Math.max(worst, Math.abs(prepared.pixels[i]! - reference[i]!));
    expect(worst).toBeLessThan(1e-6);
    const plane = 512 * 512;
    const centre = 256 * 512 + 256;
    for (const c of [0, 1, 2])
      expect(prepared.pixels[c * plane + centre]).toBeCloseTo(RED[c]! / 255, 6);
    for (const c of [0, 1, 2]) expect(prepared.pixels[c * plane]).toBeCloseTo(0.5, 6);
  });

  it('keeps a non-square photo in its own size and finds the object within a pixel', async () => {
    const segmenter = segmenters[0]!;
    const object: PixelBox = { x: 40, y: 20, width: 50, height: 30 };
    const image = backdrop(160, 72);
    fill(image, object, RED);
    const mask = await segmenter.segment(image);
    expect(mask.length).toBe(160 * 72);
    const box = findAlphaBox(imageRows(removeBackground(image, mask, 128)))!;
    expect(Math.abs(box.x - object.x)).toBeLessThanOrEqual(1);
    expect(Math.abs(box.y - object.y)).toBeLessThanOrEqual(1);
    expect(Math.abs(box.x + box.width - object.x - object.width)).toBeLessThanOrEqual(1);
    expect(Math.abs(box.y + box.height - object.y - object.height)).toBeLessThanOrEqual(1);
  });

  it('cancels before running when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(segmenters[0]!.segment(modelSizeImage(), controller.signal)).rejects.toMatchObject(
      { name: 'AbortError' },
    );
  });

  it('fetched nothing outside the test server, and never the virtual model path', () => {
    const entries = performance.getEntriesByType('resource').map((e) => e.name);
    expect(entries.length).toBeGreaterThan(0);
    for (const url of [...entries, ...fetched])
      expect(new URL(url).origin, url).toBe(location.origin);
    expect(entries.filter((url) => url.includes('/cadlift-segmenter/'))).toEqual([]);
    expect(entries.filter((url) => /huggingface|jsdelivr/.test(url))).toEqual([]);
  });
});
