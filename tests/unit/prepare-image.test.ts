import { describe, expect, it } from 'vitest';
import golden from '../fixtures/goldens/prepare-torch.json';
import { fitToBudget, readImageHeader, sniffImageFormat, type ImageHeader } from '../../src/lib/decode-image';
import { AppError } from '../../src/lib/errors';
import {
  findAlphaBox,
  frameBox,
  hasMeaningfulAlpha,
  imageRows,
  prepareImage,
  prepareImageRows,
  previewRgba,
  PREPARE_DEFAULTS,
  type RgbaImage,
  type RgbaRowSource,
} from '../../src/lib/prepare-image';
import { PREPARE_CASES, prepareInput } from '../helpers/prepare-inputs';

/** A width×height image filled with one RGBA value. */
function filled(width: number, height: number, rgba: [number, number, number, number]): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) data.set(rgba, p * 4);
  return { width, height, data };
}

function setPixel(image: RgbaImage, x: number, y: number, rgba: [number, number, number, number]): void {
  image.data.set(rgba, (y * image.width + x) * 4);
}

/** Value of channel c at (x, y) of a CHW result. */
function at(pixels: Float32Array, size: number, c: number, x: number, y: number): number {
  return pixels[c * size * size + y * size + x]!;
}

describe('prepareImage against torch (numpy framing + F.interpolate bilinear antialias)', () => {
  for (const spec of PREPARE_CASES) {
    it(`${spec.name} ${spec.width}×${spec.height}, ratio ${spec.ratio}: framing exact, pixels within 1/255`, () => {
      const want = golden[spec.name];
      const { pixels, size, framing } = prepareImage(prepareInput(spec.name), { ratio: spec.ratio });
      expect(size).toBe(512);
      expect(pixels.length).toBe(3 * 512 * 512);
      const { box } = framing;
      expect([box.x, box.y, box.width, box.height]).toEqual(want.box);
      expect(framing.squareSide).toBe(want.squareSide);
      expect([framing.squareOffset.x, framing.squareOffset.y]).toEqual(want.squareOffset);
      expect(framing.paddedSide).toBe(want.paddedSide);
      expect(framing.paddedOffset).toBe(want.paddedOffset);

      let worst = 0;
      let k = 0;
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < 512; y += want.stride) {
          for (let x = 0; x < 512; x += want.stride) {
            worst = Math.max(worst, Math.abs(at(pixels, 512, c, x, y) - want.strided[k++]!));
          }
        }
      }
      expect(k).toBe(want.strided.length);
      console.info(`prepare ${spec.name}: max |ours − torch| = ${worst.toExponential(2)}`);
      expect(worst).toBeLessThan(1 / 255);
      // Much tighter in practice: only float32 rounding and the 6-decimal golden differ.
      expect(worst).toBeLessThan(2e-6);
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let p = 0; p < 512 * 512; p++) sum += pixels[c * 512 * 512 + p]!;
        expect(Math.abs(sum / (512 * 512) - want.means[c]!)).toBeLessThan(1e-6);
      }
    });
  }
});

describe('framing', () => {
  it('finds the inclusive alpha box; a fully opaque image is its own box', () => {
    const image = filled(7, 5, [0, 0, 0, 0]);
    setPixel(image, 2, 1, [9, 9, 9, 1]);
    setPixel(image, 5, 3, [9, 9, 9, 255]);
    expect(findAlphaBox(imageRows(image))).toEqual({ x: 2, y: 1, width: 4, height: 3 });
    expect(findAlphaBox(imageRows(filled(7, 5, [1, 2, 3, 255])))).toEqual({ x: 0, y: 0, width: 7, height: 5 });
    expect(findAlphaBox(imageRows(filled(7, 5, [1, 2, 3, 0])))).toBeNull();
  });

  it('centres the box in its square with the odd pixel right/bottom, then pads to round(side / ratio)', () => {
    // Height difference 3: 1 above, 2 below; ratio 1 adds nothing.
    expect(frameBox({ x: 3, y: 4, width: 10, height: 7 }, 1)).toEqual({
      box: { x: 3, y: 4, width: 10, height: 7 },
      squareSide: 10,
      squareOffset: { x: 0, y: 1 },
      paddedSide: 10,
      paddedOffset: 0,
      frame: { x: 3, y: 3, side: 10 },
    });
    // Width difference 2 (even); ratio 0.5 doubles the side, 4 each side.
    expect(frameBox({ x: 20, y: 5, width: 6, height: 8 }, 0.5)).toMatchObject({
      squareSide: 8,
      squareOffset: { x: 1, y: 0 },
      paddedSide: 16,
      paddedOffset: 4,
      frame: { x: 15, y: 1, side: 16 },
    });
    // 17 / 0.85 = 20.000000000000004 → 20: 3 extra pixels, 1 before and 2 after.
    expect(frameBox({ x: 0, y: 0, width: 17, height: 17 })).toMatchObject({ paddedSide: 20, paddedOffset: 1 });
    // Half rounds up (Python's round() would give 2).
    expect(frameBox({ x: 0, y: 0, width: 2, height: 1 }, 0.8)).toMatchObject({ paddedSide: 3, paddedOffset: 0 });
    // A 1-pixel object: 1 / 0.85 rounds to 1; at ratio 0.5 the grey pixel goes right/bottom.
    expect(frameBox({ x: 4, y: 4, width: 1, height: 1 })).toMatchObject({ paddedSide: 1, paddedOffset: 0 });
    expect(frameBox({ x: 4, y: 4, width: 1, height: 1 }, 0.5)).toMatchObject({
      paddedSide: 2,
      paddedOffset: 0,
      frame: { x: 4, y: 4, side: 2 },
    });
  });

  it('rejects a ratio outside 0.5–1 and a bad size', () => {
    const image = filled(4, 4, [0, 0, 0, 255]);
    for (const ratio of [0.49, 1.01, Number.NaN]) {
      expect(() => prepareImage(image, { ratio })).toThrow(RangeError);
    }
    expect(() => prepareImage(image, { size: 0 })).toThrow(RangeError);
    expect(() => prepareImage({ width: 4, height: 4, data: new Uint8ClampedArray(10) })).toThrow(RangeError);
    expect(PREPARE_DEFAULTS).toEqual({ ratio: 0.85, size: 512 });
  });

  it("refuses a fully transparent image with 'image-unreadable'", () => {
    const run = (): unknown => prepareImage(filled(30, 20, [255, 255, 255, 0]));
    expect(run).toThrow(AppError);
    try {
      run();
    } catch (error) {
      expect((error as AppError).code).toBe('image-unreadable');
    }
  });
});

describe('composite and resize', () => {
  it('composites a half-transparent pixel on grey 0.5 with straight alpha', () => {
    const image = filled(9, 6, [0, 0, 0, 0]);
    setPixel(image, 6, 2, [200, 100, 0, 128]);
    const { pixels, framing } = prepareImage(image, { ratio: 1, size: 8 });
    expect(framing.paddedSide).toBe(1);
    const a = 128 / 255;
    const want = [200, 100, 0].map((v) => (v / 255) * a + 0.5 * (1 - a));
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < 64; p++) expect(Math.abs(pixels[c * 64 + p]! - want[c]!)).toBeLessThan(1e-6);
    }
  });

  it('upscales a 1-pixel object at ratio 0.5 with the grey padding right/bottom, edges clamped', () => {
    const image = filled(5, 5, [0, 0, 0, 0]);
    setPixel(image, 2, 2, [255, 0, 0, 255]);
    const { pixels } = prepareImage(image, { ratio: 0.5, size: 8 });
    // 2 → 8: output i samples source (i + 0.5) / 4 − 0.5, clamped; i ≤ 1 is the red pixel alone.
    expect([0, 1, 2].map((c) => at(pixels, 8, c, 0, 0))).toEqual([1, 0, 0]);
    expect([0, 1, 2].map((c) => at(pixels, 8, c, 7, 7))).toEqual([0.5, 0.5, 0.5]);
    // i = 2 sits at source 0.125: weights 0.875 / 0.125 per axis; (2, 0) mixes red and grey along x.
    expect(at(pixels, 8, 0, 2, 0)).toBeCloseTo(0.875 + 0.125 * 0.5, 6);
    expect(at(pixels, 8, 1, 2, 0)).toBeCloseTo(0.125 * 0.5, 6);
  });

  it('keeps a fully opaque image whole and centred', () => {
    const image = filled(40, 10, [0, 255, 0, 255]);
    const { pixels, framing } = prepareImage(image, { ratio: 1, size: 40 });
    expect(framing.box).toEqual({ x: 0, y: 0, width: 40, height: 10 });
    expect(framing.squareOffset).toEqual({ x: 0, y: 15 });
    // Same size: the resize is the identity, grey rows above and below the green band.
    expect(at(pixels, 40, 1, 20, 14)).toBe(0.5);
    expect(at(pixels, 40, 1, 20, 15)).toBe(1);
    expect(at(pixels, 40, 1, 20, 24)).toBe(1);
    expect(at(pixels, 40, 0, 20, 24)).toBe(0);
    expect(at(pixels, 40, 1, 20, 25)).toBe(0.5);
  });

  it('streams a virtual 20,000×15,000 source: every row read once for the box, box rows once more', () => {
    const width = 20_000;
    const height = 15_000;
    // A 4,000×3,000 opaque red object at (7000, 5000); rows are shared buffers, never a full image.
    const empty = new Uint8ClampedArray(width * 4);
    const full = new Uint8ClampedArray(width * 4);
    for (let x = 7000; x < 11_000; x++) full.set([255, 0, 0, 255], x * 4);
    let reads = 0;
    const source: RgbaRowSource = {
      width,
      height,
      row: (y) => {
        reads++;
        return y >= 5000 && y < 8000 ? full : empty;
      },
    };
    const before = process.memoryUsage();
    const { pixels, framing } = prepareImageRows(source);
    const after = process.memoryUsage();
    expect(reads).toBe(height + 3000);
    expect(framing).toMatchObject({
      box: { x: 7000, y: 5000, width: 4000, height: 3000 },
      squareSide: 4000,
      squareOffset: { x: 0, y: 500 },
      paddedSide: 4706,
      paddedOffset: 353,
      frame: { x: 6647, y: 4147, side: 4706 },
    });
    // The object spans 512 · 4000 / 4706 ≈ 435 px wide, 326 tall, centred.
    expect([0, 1, 2].map((c) => at(pixels, 512, c, 256, 256))).toEqual([1, 0, 0]);
    expect([0, 1, 2].map((c) => at(pixels, 512, c, 5, 256))).toEqual([0.5, 0.5, 0.5]);
    expect([0, 1, 2].map((c) => at(pixels, 512, c, 256, 60))).toEqual([0.5, 0.5, 0.5]);
    // Typed arrays allocated during the call (accumulator, result, row and weight tables): ~11 MB.
    const grown = after.arrayBuffers + after.heapUsed - before.arrayBuffers - before.heapUsed;
    expect(grown).toBeLessThan(32 * 1024 * 1024);
  }, 60_000);
});

describe('hasMeaningfulAlpha', () => {
  it('needs at least 0.1 % of the pixels (and one) with alpha < 128', () => {
    expect(hasMeaningfulAlpha(filled(100, 100, [5, 5, 5, 255]))).toBe(false);
    // Faint transparency everywhere is not a cut-out.
    expect(hasMeaningfulAlpha(filled(100, 100, [5, 5, 5, 200]))).toBe(false);
    const image = filled(100, 100, [5, 5, 5, 255]);
    for (let x = 0; x < 9; x++) setPixel(image, x, 0, [5, 5, 5, 0]);
    expect(hasMeaningfulAlpha(image)).toBe(false);
    setPixel(image, 9, 0, [5, 5, 5, 127]);
    expect(hasMeaningfulAlpha(image)).toBe(true);
    const tiny = filled(2, 2, [5, 5, 5, 255]);
    setPixel(tiny, 1, 1, [0, 0, 0, 0]);
    expect(hasMeaningfulAlpha(tiny)).toBe(true);
  });
});

describe('previewRgba', () => {
  it('turns CHW floats into opaque RGBA8, rounded and clamped', () => {
    const pixels = Float32Array.from([0, 1, 0.5, 1.2, 0.25, -0.1, 0.999, 0.002, 0.75, 0.5, 0.5, 0.5]);
    const { width, height, data } = previewRgba(pixels, 2);
    expect([width, height]).toEqual([2, 2]);
    expect(Array.from(data)).toEqual([0, 64, 191, 255, 255, 0, 128, 255, 128, 255, 128, 255, 255, 1, 128, 255]);
  });
});

describe('readImageHeader (decode-image.ts)', () => {
  const be32 = (v: number): number[] => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
  const le16 = (v: number): number[] => [v & 255, v >>> 8];
  const le24 = (v: number): number[] => [v & 255, (v >>> 8) & 255, v >>> 16];
  const text = (s: string): number[] => Array.from(s, (ch) => ch.charCodeAt(0));
  /** A JPEG segment: marker, big-endian length, payload. */
  const segment = (marker: number, payload: number[]): number[] => [0xff, marker, (payload.length + 2) >> 8, (payload.length + 2) & 255, ...payload];
  /** An EXIF APP1 payload whose IFD0 holds only Orientation, in either byte order. */
  const exif = (orientation: number, littleEndian: boolean): number[] => {
    const u16 = (v: number): number[] => (littleEndian ? le16(v) : [v >> 8, v & 255]);
    const u32 = (v: number): number[] => (littleEndian ? [...le16(v & 0xffff), ...le16(v >>> 16)] : be32(v));
    return [...text('Exif\0\0'), ...text(littleEndian ? 'II' : 'MM'), ...u16(42), ...u32(8), ...u16(1), ...u16(0x0112), ...u16(3), ...u32(1), ...u16(orientation), 0, 0, ...u32(0)];
  };

  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...be32(13), ...text('IHDR'), ...be32(70000), ...be32(3), 8, 6, 0, 0, 0];
  const jpeg = [
    0xff, 0xd8,
    ...segment(0xe0, [...text('JFIF\0'), 1, 1, 0, 0, 1, 0, 1, 0, 0]),
    ...segment(0xe1, exif(6, false)),
    ...segment(0xdb, Array.from({ length: 65 }, () => 1)),
    0xff, // a fill byte before the marker
    ...segment(0xc2, [8, 0x0b, 0xb8, 0x0f, 0xa0, 3, 1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1]),
    0xff, 0xda,
  ];
  const gif = [...text('GIF89a'), ...le16(640), ...le16(480), 0xf7, 0, 0];
  const vp8 = [...text('RIFF'), 0, 0, 0, 0, ...text('WEBPVP8 '), 0, 0, 0, 0, 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, ...le16(0x4000 | 1024), ...le16(0xc000 | 768)];
  const vp8l = [...text('RIFF'), 0, 0, 0, 0, ...text('WEBPVP8L'), 0, 0, 0, 0, 0x2f, ...[...le16(0), ...le16(0)]];
  // VP8L packs width − 1 and height − 1 in 14 bits each: 300 × 200 (and the alpha bit).
  const bits = 299 | (199 << 14) | (1 << 28);
  vp8l.splice(21, 4, bits & 255, (bits >>> 8) & 255, (bits >>> 16) & 255, bits >>> 24);
  const vp8x = [...text('RIFF'), 0, 0, 0, 0, ...text('WEBPVP8X'), 10, 0, 0, 0, 0x10, 0, 0, 0, ...le24(19999), ...le24(14999)];

  // The JPEG's SOF2 segment starts 19 bytes before the trailing SOS marker; its size ends 9 bytes in.
  const jpegNeeds = jpeg.length - 2 - 19 + 9;
  const cases: [string, number[], number, ImageHeader][] = [
    ['PNG IHDR', png, 24, { format: 'png', width: 70000, height: 3, orientation: 1 }],
    ['JPEG SOF2 after JFIF, EXIF and DQT', jpeg, jpegNeeds, { format: 'jpeg', width: 4000, height: 3000, orientation: 6 }],
    ['GIF screen descriptor', gif, 10, { format: 'gif', width: 640, height: 480, orientation: 1 }],
    ['WebP VP8 (scale bits masked)', vp8, 30, { format: 'webp', width: 1024, height: 768, orientation: 1 }],
    ['WebP VP8L', vp8l, 25, { format: 'webp', width: 300, height: 200, orientation: 1 }],
    ['WebP VP8X', vp8x, 30, { format: 'webp', width: 20000, height: 15000, orientation: 1 }],
  ];
  for (const [label, bytes, needs, want] of cases) {
    it(`reads ${label} from its first ${needs} bytes, and null from any shorter prefix`, () => {
      for (let n = 0; n <= bytes.length; n++) {
        expect(readImageHeader(Uint8Array.from(bytes.slice(0, n)))).toEqual(n >= needs ? want : null);
      }
    });
  }

  it('reads a little-endian EXIF orientation and ignores a JPEG without a frame header', () => {
    const sof = segment(0xc0, [8, 0, 20, 0, 10, 1, 1, 0x11, 0]);
    const le = Uint8Array.from([0xff, 0xd8, ...segment(0xe1, exif(8, true)), ...sof]);
    expect(readImageHeader(le)).toEqual({ format: 'jpeg', width: 10, height: 20, orientation: 8 });
    expect(readImageHeader(Uint8Array.from([0xff, 0xd8, ...segment(0xe1, exif(6, true)), 0xff, 0xda, 0, 2]))).toBeNull();
  });

  it('sniffs HEIF brands without reading a size, and rejects garbage', () => {
    const heic = Uint8Array.from([0, 0, 0, 24, ...text('ftypheic'), 0, 0, 0, 0, ...text('mif1heic')]);
    expect(sniffImageFormat(heic)).toBe('heif');
    expect(sniffImageFormat(Uint8Array.from([0, 0, 0, 24, ...text('ftypmif1')]))).toBe('heif');
    expect(readImageHeader(heic)).toBeNull();
    expect(readImageHeader(Uint8Array.from(text('not an image at all, honestly')))).toBeNull();
    expect(readImageHeader(new Uint8Array(0))).toBeNull();
  });

  it('fits the budget keeping the aspect', () => {
    expect(fitToBudget(300, 200, { maxPixels: 6000 })).toEqual({ width: 94, height: 63 });
    expect(fitToBudget(20_000, 15_000)).toEqual({ width: 7302, height: 5477 });
    expect(fitToBudget(30_000, 1000)).toEqual({ width: 16_384, height: 546 });
    expect(fitToBudget(6000, 6000)).toBeNull();
  });
});
