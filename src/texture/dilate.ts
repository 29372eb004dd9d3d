/** Grows texture islands into the empty texels around them, so filtering and mip-mapping show no seams. */

export interface DilateOptions {
  /** Rings of texels grown around every island (8 keeps a 1/8 mip level free of the background). */
  rings: number;
}

export const DILATE_DEFAULTS: DilateOptions = { rings: 16 };

/**
 * Fills empty texels (alpha 0) of an RGBA8 image in place, ring by ring: each new texel takes the mean
 * of its already filled 8-neighbours. Texels still empty after `rings` rings get the mean colour of the
 * islands, and every texel ends opaque.
 */
export function dilate(rgba: Uint8Array, width: number, height: number, options: Partial<DilateOptions> = {}): void {
  const { rings } = { ...DILATE_DEFAULTS, ...options };
  const filled = new Uint8Array(width * height);
  const sum = [0, 0, 0];
  let count = 0;
  for (let i = 0; i < filled.length; i++) {
    if (rgba[4 * i + 3]! === 0) continue;
    filled[i] = 1;
    for (let k = 0; k < 3; k++) sum[k]! += rgba[4 * i + k]!;
    count++;
  }
  let frontier = emptyNeighbours(filled, width, height, null);
  for (let ring = 0; ring < rings && frontier.length > 0; ring++) {
    const colours = new Uint8Array(frontier.length * 3);
    for (let f = 0; f < frontier.length; f++) {
      const i = frontier[f]!;
      const x = i % width;
      const y = (i - x) / width;
      let r = 0, g = 0, b = 0, n = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= width || (dx === 0 && dy === 0)) continue;
          const j = yy * width + xx;
          if (!filled[j]) continue;
          r += rgba[4 * j]!;
          g += rgba[4 * j + 1]!;
          b += rgba[4 * j + 2]!;
          n++;
        }
      }
      colours[3 * f] = Math.round(r / n);
      colours[3 * f + 1] = Math.round(g / n);
      colours[3 * f + 2] = Math.round(b / n);
    }
    for (let f = 0; f < frontier.length; f++) {
      const i = frontier[f]!;
      rgba.set(colours.subarray(3 * f, 3 * f + 3), 4 * i);
      rgba[4 * i + 3] = 255;
      filled[i] = 1;
    }
    frontier = emptyNeighbours(filled, width, height, frontier);
  }
  const mean = sum.map((s) => (count > 0 ? Math.round(s / count) : 0));
  for (let i = 0; i < filled.length; i++) {
    if (filled[i]) continue;
    rgba[4 * i] = mean[0]!;
    rgba[4 * i + 1] = mean[1]!;
    rgba[4 * i + 2] = mean[2]!;
    rgba[4 * i + 3] = 255;
  }
}

/** Empty texels next to a filled one: around `last` (the ring just filled), or over the whole image. */
function emptyNeighbours(filled: Uint8Array, width: number, height: number, last: Uint32Array | null): Uint32Array {
  const seen = new Uint8Array(filled.length);
  const out: number[] = [];
  const visit = (i: number): void => {
    const x = i % width;
    const y = (i - x) / width;
    for (let dy = -1; dy <= 1; dy++) {
      const yy = y + dy;
      if (yy < 0 || yy >= height) continue;
      for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx;
        if (xx < 0 || xx >= width) continue;
        const j = yy * width + xx;
        if (filled[j] || seen[j]) continue;
        seen[j] = 1;
        out.push(j);
      }
    }
  };
  if (last) for (const i of last) visit(i);
  else for (let i = 0; i < filled.length; i++) if (filled[i]) visit(i);
  return Uint32Array.from(out);
}
