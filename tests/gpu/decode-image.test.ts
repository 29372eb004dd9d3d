import { describe, expect, it } from 'vitest';
import { decodeImage, readImageHeader, type DecodedImage } from '../../src/lib/decode-image';
import { AppError, type AppErrorCode } from '../../src/lib/errors';

// Decoding needs createImageBitmap and OffscreenCanvas, so it runs in real Chromium (no GPU used).

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 255]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function be32(v: number): number[] {
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
}

function pngChunk(type: string, payload: Uint8Array): number[] {
  const body = Uint8Array.from([...Array.from(type, (ch) => ch.charCodeAt(0)), ...payload]);
  return [...be32(payload.length), ...body, ...be32(crc32(body))];
}

/** A straight-alpha RGBA8 PNG built by hand (a canvas would premultiply before encoding). */
async function encodePng(width: number, height: number, rgba: Uint8Array): Promise<Blob> {
  const raw = new Uint8Array(height * (width * 4 + 1));
  for (let y = 0; y < height; y++) raw.set(rgba.subarray(y * width * 4, (y + 1) * width * 4), y * (width * 4 + 1) + 1);
  const zlib = new Uint8Array(await new Response(new Blob([raw]).stream().pipeThrough(new CompressionStream('deflate'))).arrayBuffer());
  const ihdr = Uint8Array.from([...be32(width), ...be32(height), 8, 6, 0, 0, 0]);
  const bytes = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...pngChunk('IHDR', ihdr), ...pngChunk('IDAT', zlib), ...pngChunk('IEND', new Uint8Array(0))];
  return new Blob([Uint8Array.from(bytes)], { type: 'image/png' });
}

/** A 64×32 JPEG with four coloured quadrants, an EXIF APP1 (orientation `orientation`) spliced after SOI. */
async function quadrantJpeg(orientation: number): Promise<Blob> {
  const canvas = new OffscreenCanvas(64, 32);
  const context = canvas.getContext('2d')!;
  const fills: [string, number, number][] = [['#f00', 0, 0], ['#0f0', 32, 0], ['#00f', 0, 16], ['#fff', 32, 16]];
  for (const [colour, x, y] of fills) {
    context.fillStyle = colour;
    context.fillRect(x, y, 32, 16);
  }
  const jpeg = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.95 })).arrayBuffer());
  const tiff = [0x4d, 0x4d, 0, 42, ...be32(8), 0, 1, 0x01, 0x12, 0, 3, ...be32(1), 0, orientation, 0, 0, ...be32(0)];
  const payload = [...Array.from('Exif\0\0', (ch) => ch.charCodeAt(0)), ...tiff];
  const app1 = [0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 255, ...payload];
  return new Blob([Uint8Array.from([0xff, 0xd8, ...app1, ...jpeg.subarray(2)])], { type: 'image/jpeg' });
}

function rgbaAt(image: DecodedImage, x: number, y: number): number[] {
  const p = (y * image.width + x) * 4;
  return Array.from(image.data.subarray(p, p + 4));
}

function expectColour(actual: number[], want: number[], tolerance: number): void {
  for (let c = 0; c < want.length; c++) expect(Math.abs(actual[c]! - want[c]!)).toBeLessThanOrEqual(tolerance);
}

async function codeOf(promise: Promise<unknown>): Promise<AppErrorCode | string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return error instanceof AppError ? error.code : String(error);
  }
}

describe('decodeImage in Chromium', () => {
  it('keeps straight alpha from a PNG', async () => {
    const pixels: number[][] = [
      [255, 0, 0, 255],
      [200, 100, 50, 128],
      [10, 200, 30, 200],
      [0, 0, 255, 255],
      [60, 250, 120, 64],
      [50, 60, 70, 0],
    ];
    const image = await decodeImage(await encodePng(3, 2, Uint8Array.from(pixels.flat())));
    expect([image.width, image.height, image.sourceWidth, image.sourceHeight]).toEqual([3, 2, 3, 2]);
    expect(rgbaAt(image, 0, 0)).toEqual([255, 0, 0, 255]);
    expect(rgbaAt(image, 0, 1)).toEqual([0, 0, 255, 255]);
    // Premultiplied would read (100, 50, 25); the canvas round trip may move a colour by 1–2.
    for (const [index, want] of pixels.entries()) {
      const got = rgbaAt(image, index % 3, Math.floor(index / 3));
      expect(got[3]).toBe(want[3]);
      if (want[3]! > 0) expectColour(got, want, want[3]! >= 128 ? 1 : 2);
    }
  });

  it('applies EXIF orientation 6 (a quarter turn clockwise)', async () => {
    const blob = await quadrantJpeg(6);
    expect(readImageHeader(new Uint8Array(await blob.arrayBuffer()))).toEqual({ format: 'jpeg', width: 64, height: 32, orientation: 6 });
    const image = await decodeImage(blob);
    expect([image.width, image.height]).toEqual([32, 64]);
    // Stored top-left red lands top-right, green bottom-right, blue top-left, white bottom-left.
    expectColour(rgbaAt(image, 24, 16), [255, 0, 0, 255], 24);
    expectColour(rgbaAt(image, 24, 48), [0, 255, 0, 255], 24);
    expectColour(rgbaAt(image, 8, 16), [0, 0, 255, 255], 24);
    expectColour(rgbaAt(image, 8, 48), [255, 255, 255, 255], 24);
  });

  it('downscales a rotated JPEG over the budget to the upright aspect', async () => {
    const image = await decodeImage(await quadrantJpeg(6), { maxPixels: 512 });
    expect([image.width, image.height, image.sourceWidth, image.sourceHeight]).toEqual([16, 32, 32, 64]);
    expectColour(rgbaAt(image, 12, 8), [255, 0, 0, 255], 32);
    expectColour(rgbaAt(image, 4, 24), [255, 255, 255, 255], 32);
  });

  it('downscales a PNG over the budget, keeping the aspect', async () => {
    const rgba = new Uint8Array(300 * 200 * 4).fill(255);
    const image = await decodeImage(await encodePng(300, 200, rgba), { maxPixels: 6000 });
    expect([image.width, image.height, image.sourceWidth, image.sourceHeight]).toEqual([94, 63, 300, 200]);
    expect(rgbaAt(image, 40, 30)).toEqual([255, 255, 255, 255]);
  });

  it('downscales a format without a readable header once decoded (BMP)', async () => {
    const width = 40;
    const height = 30;
    const header = new DataView(new ArrayBuffer(54));
    header.setUint16(0, 0x424d);
    header.setUint32(2, 54 + width * height * 3, true);
    header.setUint32(10, 54, true);
    header.setUint32(14, 40, true);
    header.setInt32(18, width, true);
    header.setInt32(22, height, true);
    header.setUint16(26, 1, true);
    header.setUint16(28, 24, true);
    const pixels = new Uint8Array(width * height * 3).fill(128); // 40·3 = 120: rows need no padding
    const image = await decodeImage(new Blob([header, pixels], { type: 'image/bmp' }), { maxPixels: 300 });
    expect([image.width, image.height, image.sourceWidth, image.sourceHeight]).toEqual([20, 15, 40, 30]);
    expectColour(rgbaAt(image, 10, 7), [128, 128, 128, 255], 1);
  });

  it("reports corrupt bytes as 'image-unreadable' and HEIC as 'image-unsupported'", async () => {
    const truncatedPng = (await (await encodePng(8, 8, new Uint8Array(256).fill(90))).arrayBuffer()).slice(0, 40);
    expect(await codeOf(decodeImage(new Blob([truncatedPng], { type: 'image/png' })))).toBe('image-unreadable');
    expect(await codeOf(decodeImage(new Blob(['definitely not an image'])))).toBe('image-unreadable');
    const heic = Uint8Array.from([0, 0, 0, 24, ...Array.from('ftypheic\0\0\0\0mif1heic', (ch) => ch.charCodeAt(0)), 0, 0, 0, 8]);
    expect(await codeOf(decodeImage(new Blob([heic])))).toBe('image-unsupported');
    expect(await codeOf(decodeImage(new Blob(['garbage'], { type: 'image/heic' })))).toBe('image-unsupported');
  });

  it('honours an aborted signal', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await decodeImage(await encodePng(2, 2, new Uint8Array(16).fill(255)), {}, controller.signal).catch((e: unknown) => e);
    expect((error as Error).name).toBe('AbortError');
  });
});
