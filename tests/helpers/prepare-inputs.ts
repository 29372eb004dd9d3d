import type { RgbaImage } from '../../src/lib/prepare-image';

/** The closed-form RGBA images of make_goldens.py (prepare_input), in integer maths only. */
export const PREPARE_CASES = [
  // Soft elliptical alpha blob off-centre in a non-square image: box, framing and composite.
  { name: 'blob', width: 300, height: 200, ratio: 0.85 },
  // Downscaled ~3.1×, with fine checkers that alias badly without the antialias filter.
  { name: 'large', width: 1400, height: 900, ratio: 0.85 },
  // Upscaled ~5×, half-transparent region, ratio 0.7.
  { name: 'small', width: 90, height: 70, ratio: 0.7 },
  // Fully opaque, odd square difference (257 − 130), ratio 1.
  { name: 'opaque', width: 257, height: 130, ratio: 1 },
] as const;

/** One of the golden cases' names. */
export type PrepareCaseName = (typeof PREPARE_CASES)[number]['name'];

/** The straight-alpha pixel (r, g, b, a) of case `name` at (x, y). */
function pixel(name: PrepareCaseName, x: number, y: number): [number, number, number, number] {
  switch (name) {
    case 'blob': {
      const q = (x - 190) ** 2 * 9 + (y - 80) ** 2 * 16;
      const a = q < 22500 ? 255 : q < 32400 ? Math.floor(((32400 - q) * 255) / 9900) : 0;
      return [(x * 3 + y) % 256, (((x >> 2) + (y >> 2)) % 2) * 210 + 20, (x * y) % 251, a];
    }
    case 'large': {
      const a = x < 50 || y < 30 ? 0 : x < 1200 ? 255 : 255 - (x - 1199);
      const checker = ((Math.floor(x / 3) + (y >> 1)) % 2) * 200 + 30;
      return [(x * 13 + y * 7) % 256, checker, (x ^ y) & 255, a];
    }
    case 'small': {
      const a = (x - 40) ** 2 + (y - 30) ** 2 < 400 ? 255 : x > 60 ? 128 : 0;
      return [x * 2 + 40, y * 3, ((x + y) % 3) * 100, a];
    }
    case 'opaque':
      return [(x * x) % 256, (y * 11) % 256, 128 + ((x >> 3) % 2) * 60, 255];
  }
}

/** Builds the RGBA image of golden case `name`. */
export function prepareInput(name: PrepareCaseName): RgbaImage {
  const spec = PREPARE_CASES.find((c) => c.name === name)!;
  const data = new Uint8ClampedArray(spec.width * spec.height * 4);
  for (let y = 0; y < spec.height; y++) {
    for (let x = 0; x < spec.width; x++) data.set(pixel(name, x, y), (y * spec.width + x) * 4);
  }
  return { width: spec.width, height: spec.height, data };
}
