/**
 * Photo file → straight-alpha RGBA8, in the page or a worker (createImageBitmap + OffscreenCanvas).
 * Images over the pixel budget are decoded downscaled, sized from their header, so a 100-megapixel
 * photo never needs a full-size canvas.
 */
import { AppError, throwIfAborted } from './errors';
import type { RgbaImage } from './prepare-image';

/** Limits on the decoded image. */
export interface DecodeOptions {
  /** Most pixels kept; larger images are decoded downscaled to fit, keeping the aspect. */
  maxPixels: number;
  /** Longest side kept (16,384 is the canvas side every current browser accepts). */
  maxSide: number;
  /** Leading bytes searched for the dimensions: JPEG metadata (EXIF, ICC) can precede them. */
  headerBytes: number;
}

/** 40 megapixels, 16,384 a side, dimensions looked for in the first MiB. */
export const DECODE_DEFAULTS: DecodeOptions = {
  maxPixels: 40_000_000,
  maxSide: 16_384,
  headerBytes: 1 << 20,
};

/** Formats told apart by their magic bytes. */
export type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp' | 'heif';

/** Dimensions as stored in the file, before any EXIF rotation. */
export interface ImageHeader {
  format: Exclude<ImageFormat, 'heif'>;
  width: number;
  height: number;
  /** EXIF orientation 1–8 (JPEG only; 1 when absent): 5–8 swap width and height on display. */
  orientation: number;
}

/** A decoded image, upright, and the upright size of the file before any downscaling. */
export interface DecodedImage extends RgbaImage {
  sourceWidth: number;
  sourceHeight: number;
}

const HEIF_BRANDS = new Set(['heic', 'heix', 'mif1', 'hevc']);

/** The format named by the file's magic bytes, or null when unknown. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  if (matches(bytes, 0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (matches(bytes, 0, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') return 'gif';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return 'webp';
  if (ascii(bytes, 4, 4) === 'ftyp' && HEIF_BRANDS.has(ascii(bytes, 8, 4))) return 'heif';
  return null;
}

/**
 * Reads the stored width and height from a PNG IHDR, JPEG SOFn (plus its EXIF orientation), WebP
 * VP8/VP8L/VP8X or GIF screen descriptor; null for other formats or truncated bytes.
 */
export function readImageHeader(bytes: Uint8Array): ImageHeader | null {
  const format = sniffImageFormat(bytes);
  let size: [number, number] | null = null;
  let orientation = 1;
  switch (format) {
    case 'png':
      if (bytes.length >= 24 && ascii(bytes, 12, 4) === 'IHDR') {
        size = [u32be(bytes, 16), u32be(bytes, 20)];
      }
      break;
    case 'gif':
      if (bytes.length >= 10) size = [u16le(bytes, 6), u16le(bytes, 8)];
      break;
    case 'webp':
      size = webpSize(bytes);
      break;
    case 'jpeg': {
      const jpeg = jpegSize(bytes);
      if (jpeg) {
        size = [jpeg.width, jpeg.height];
        orientation = jpeg.orientation;
      }
      break;
    }
    default:
      return null;
  }
  if (!size || size[0] < 1 || size[1] < 1) return null;
  return { format, width: size[0], height: size[1], orientation };
}

/** The largest size within the budget with the aspect of width×height; null when it fits. */
export function fitToBudget(
  width: number,
  height: number,
  options: Partial<DecodeOptions> = {},
): { width: number; height: number } | null {
  const { maxPixels, maxSide } = { ...DECODE_DEFAULTS, ...options };
  if (width * height <= maxPixels && width <= maxSide && height <= maxSide) return null;
  const k = Math.min(Math.sqrt(maxPixels / (width * height)), maxSide / width, maxSide / height);
  return { width: Math.max(1, Math.floor(width * k)), height: Math.max(1, Math.floor(height * k)) };
}

/**
 * Decodes `blob` upright (EXIF orientation applied) to straight-alpha RGBA8, downscaled to fit the
 * budget; embedded colour profiles are ignored, as TripoSR's own loader does.
 */
export async function decodeImage(
  blob: Blob,
  options: Partial<DecodeOptions> = {},
  signal?: AbortSignal,
): Promise<DecodedImage> {
  const opts = { ...DECODE_DEFAULTS, ...options };
  const head = new Uint8Array(await blob.slice(0, opts.headerBytes).arrayBuffer());
  throwIfAborted(signal);
  const format = sniffImageFormat(head);
  const header = readImageHeader(head);
  const upright = header && uprightSize(header);
  const target = upright && fitToBudget(upright.width, upright.height, opts);

  let bitmap = await bitmapOf(blob, target, format, upright, opts.maxPixels);
  try {
    throwIfAborted(signal);
    const sourceWidth = upright?.width ?? bitmap.width;
    const sourceHeight = upright?.height ?? bitmap.height;
    // Formats without a readable header (AVIF, BMP, ...) are only measured once decoded.
    const late = !upright && fitToBudget(bitmap.width, bitmap.height, opts);
    if (late) {
      const full = bitmap;
      try {
        const size = { width: full.width, height: full.height };
        bitmap = await bitmapOf(full, late, format, size, opts.maxPixels);
      } finally {
        full.close();
      }
      throwIfAborted(signal);
    }
    const { width, height } = bitmap;
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d', { willReadFrequently: true });
    if (!context) throw new Error('No 2D context on an OffscreenCanvas.');
    context.drawImage(bitmap, 0, 0);
    // getImageData returns straight alpha. The canvas stores premultiplied colour, so colours of
    // nearly transparent pixels are rounded; they are multiplied by that alpha when composited.
    const { data } = context.getImageData(0, 0, width, height);
    return { width, height, data, sourceWidth, sourceHeight };
  } finally {
    bitmap.close();
  }
}

/** The displayed size: orientations 5–8 turn the image a quarter. */
function uprightSize(header: ImageHeader): { width: number; height: number } {
  return header.orientation >= 5
    ? { width: header.height, height: header.width }
    : { width: header.width, height: header.height };
}

/** createImageBitmap with straight alpha and no colour conversion; failures become AppErrors. */
async function bitmapOf(
  source: Blob | ImageBitmap,
  target: { width: number; height: number } | null,
  format: ImageFormat | null,
  upright: { width: number; height: number } | null,
  maxPixels: number,
): Promise<ImageBitmap> {
  try {
    return await createImageBitmap(source, {
      premultiplyAlpha: 'none',
      colorSpaceConversion: 'none',
      imageOrientation: 'from-image',
      // Chromium resizes the upright image (checked by tests/gpu/decode-image.test.ts), so the
      // target is the upright size.
      ...(target && {
        resizeWidth: target.width,
        resizeHeight: target.height,
        resizeQuality: 'high',
      }),
    });
  } catch (error) {
    const type = source instanceof Blob ? source.type.toLowerCase() : '';
    if (format === 'heif' || type === 'image/heic' || type === 'image/heif') {
      throw new AppError(
        'image-unsupported',
        'This browser cannot open HEIC/HEIF photos: export the photo as JPEG or PNG and try again.',
        { cause: error },
      );
    }
    if (target && upright) {
      throw new AppError(
        'image-too-large',
        `This ${upright.width}×${upright.height} image is too large for this browser to open: ` +
          `resize it to under ${Math.round(maxPixels / 1e6)} megapixels and try again.`,
        { cause: error },
      );
    }
    throw new AppError(
      'image-unreadable',
      'This file could not be read as an image: choose a JPEG, PNG or WebP photo.',
      { cause: error },
    );
  }
}

/** JPEG: walk the segments to the first SOFn, noting the EXIF orientation on the way. */
function jpegSize(
  bytes: Uint8Array,
): { width: number; height: number; orientation: number } | null {
  let orientation = 1;
  let p = 2;
  while (p + 4 <= bytes.length) {
    if (bytes[p] !== 0xff) return null;
    const marker = bytes[p + 1]!;
    if (marker === 0xff) {
      p++; // fill byte
      continue;
    }
    p += 2;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) continue; // no length
    if (marker === 0xd9 || marker === 0xda) return null; // image data before any frame header
    const length = u16be(bytes, p);
    if (length < 2) return null;
    // SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (p + 7 > bytes.length) return null;
      return { height: u16be(bytes, p + 3), width: u16be(bytes, p + 5), orientation };
    }
    if (marker === 0xe1 && ascii(bytes, p + 2, 6) === 'Exif\0\0') {
      const end = Math.min(p + length, bytes.length);
      orientation = exifOrientation(bytes, p + 8, end) ?? orientation;
    }
    p += length;
  }
  return null;
}

/** The Orientation tag (0x0112) of IFD0 in the TIFF structure at [start, end), or null. */
function exifOrientation(bytes: Uint8Array, start: number, end: number): number | null {
  if (start + 8 > end) return null;
  const order = ascii(bytes, start, 2);
  if (order !== 'II' && order !== 'MM') return null;
  const le = order === 'II';
  const u16 = (at: number): number => (le ? u16le(bytes, at) : u16be(bytes, at));
  const u32 = (at: number): number => (le ? u32le(bytes, at) : u32be(bytes, at));
  if (u16(start + 2) !== 42) return null;
  const ifd = start + u32(start + 4);
  if (ifd + 2 > end) return null;
  const count = u16(ifd);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > end) return null;
    if (u16(entry) === 0x0112) {
      const value = u16(entry + 8);
      return u16(entry + 2) === 3 && value >= 1 && value <= 8 ? value : null;
    }
  }
  return null;
}

/** WebP: the first chunk says which header follows (lossy, lossless or extended). */
function webpSize(bytes: Uint8Array): [number, number] | null {
  const chunk = ascii(bytes, 12, 4);
  if (chunk === 'VP8 ' && bytes.length >= 30 && matches(bytes, 23, [0x9d, 0x01, 0x2a])) {
    return [u16le(bytes, 26) & 0x3fff, u16le(bytes, 28) & 0x3fff];
  }
  if (chunk === 'VP8L' && bytes.length >= 25 && bytes[20] === 0x2f) {
    const bits = u32le(bytes, 21);
    return [(bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1];
  }
  if (chunk === 'VP8X' && bytes.length >= 30) {
    return [u24le(bytes, 24) + 1, u24le(bytes, 27) + 1];
  }
  return null;
}

function matches(bytes: Uint8Array, at: number, expected: number[]): boolean {
  return at + expected.length <= bytes.length && expected.every((b, i) => bytes[at + i] === b);
}

/** `length` bytes from `at` as Latin-1; shorter when the bytes run out. */
function ascii(bytes: Uint8Array, at: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + length));
}

function u16be(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
}

function u16le(b: Uint8Array, at: number): number {
  return (b[at] ?? 0) | ((b[at + 1] ?? 0) << 8);
}

function u24le(b: Uint8Array, at: number): number {
  return u16le(b, at) + (b[at + 2] ?? 0) * 0x10000;
}

function u32be(b: Uint8Array, at: number): number {
  return u16be(b, at) * 0x10000 + u16be(b, at + 2);
}

function u32le(b: Uint8Array, at: number): number {
  return u16le(b, at) + u16le(b, at + 2) * 0x10000;
}
