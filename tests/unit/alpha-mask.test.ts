import { describe, expect, it } from 'vitest';
import { maskFromOutput, removeBackground, resizeRgb } from '../../src/lib/alpha-mask';
import type { RgbaImage } from '../../src/lib/prepare-image';

function solid(width: number, height: number, rgba: number[]): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) data.set(rgba, p * 4);
  return { width, height, data };
}

function fillRect(
  image: RgbaImage,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  rgba: number[],
) {
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) image.data.set(rgba, (y * image.width + x) * 4);
  }
}

describe('resizeRgb', () => {
  it('is the identity at the same size and drops alpha', () => {
    const image = solid(5, 3, [10, 20, 30, 77]);
    fillRect(image, 1, 1, 3, 2, [200, 100, 0, 255]);
    const rgb = resizeRgb(image, 5, 3);
    for (let p = 0; p < 15; p++) {
      expect(Array.from(rgb.subarray(p * 3, p * 3 + 3))).toEqual(
        Array.from(image.data.subarray(p * 4, p * 4 + 3)),
      );
    }
  });

  it('halves with the antialiased triangle filter: weights 1/8, 3/8, 3/8, 1/8', () => {
    // An 8-wide row, a block at columns 2–3 of value 255 on 0: output pixel i reads 2i−1 … 2i+2.
    const image = solid(8, 2, [0, 0, 0, 255]);
    fillRect(image, 2, 0, 4, 2, [255, 255, 255, 255]);
    const rgb = resizeRgb(image, 4, 1);
    const red = [0, 1, 2, 3].map((i) => rgb[i * 3]);
    // Pixel 0 reads 0,1,2 (clamped window, weights 3/7, 3/7, 1/7); pixel 1 reads 1–4 → 6/8 of 255.
    expect(red).toEqual([Math.round(255 / 7), Math.round((255 * 6) / 8), Math.round(255 / 8), 0]);
  });
});

describe('maskFromOutput', () => {
  it('applies the sigmoid and rounds 255·p', () => {
    const mask = maskFromOutput(Float32Array.of(-20, 0, 20, Math.log(3)), 2, 2, 2, 2).data;
    expect(Array.from(mask)).toEqual([0, 128, 255, 191]);
  });

  it('takes probabilities as they are with activation none', () => {
    const mask = maskFromOutput(Float32Array.of(-1, 0.25, 0.5, 2), 2, 2, 2, 2, 'none').data;
    expect(Array.from(mask)).toEqual([0, 64, 128, 255]);
  });

  it('doubles with bilinear weights 3/4 and 1/4, clamped at the edges', () => {
    const mask = maskFromOutput(Float32Array.of(0, 1), 2, 1, 4, 1, 'none').data;
    expect(Array.from(mask)).toEqual([0, 64, 191, 255]);
  });
});

describe('removeBackground', () => {
  const image = solid(4, 1, [9, 8, 7, 255]);
  const mask = Uint8ClampedArray.of(0, 100, 128, 255);

  it('puts the mask in the alpha channel and keeps the colours', () => {
    const cut = removeBackground(image, mask);
    expect(Array.from(cut.data.filter((_, i) => i % 4 === 3))).toEqual([0, 100, 128, 255]);
    expect(Array.from(cut.data.subarray(0, 3))).toEqual([9, 8, 7]);
    expect(image.data[3]).toBe(255);
  });

  it('drops mask values below the threshold and keeps the others soft', () => {
    const cut = removeBackground(image, { width: 4, height: 1, data: mask }, 128);
    expect(Array.from(cut.data.filter((_, i) => i % 4 === 3))).toEqual([0, 0, 128, 255]);
  });

  it('multiplies an existing alpha by the mask', () => {
    const translucent = solid(4, 1, [9, 8, 7, 128]);
    const cut = removeBackground(translucent, mask);
    expect(Array.from(cut.data.filter((_, i) => i % 4 === 3))).toEqual([0, 50, 64, 128]);
  });

  it('refuses a mask of the wrong size and a threshold out of range', () => {
    expect(() => removeBackground(image, new Uint8ClampedArray(3))).toThrow(RangeError);
    expect(() => removeBackground(image, mask, 256)).toThrow(RangeError);
  });
});
