/** One brush stroke on the mask, in image pixels: a polyline of disc stamps. */
export interface MaskStroke {
  mode: 'restore' | 'erase';
  radius: number;
  points: { x: number; y: number }[];
}

/**
 * The mask the cut-out uses: the model's mask with values below `threshold` dropped (as
 * removeBackground does), then the visitor's strokes on top in order: 'restore' paints fully opaque,
 * 'erase' fully transparent. Recomputed from the strokes each time, so undo is dropping the last one.
 */
export function editedMask(
  mask: Uint8ClampedArray,
  width: number,
  height: number,
  threshold: number,
  strokes: readonly MaskStroke[],
): Uint8ClampedArray {
  if (mask.length !== width * height) throw new RangeError(`The mask holds ${mask.length} values, expected ${width * height}.`);
  const out = new Uint8ClampedArray(mask.length);
  for (let i = 0; i < mask.length; i++) out[i] = mask[i]! >= threshold ? mask[i]! : 0;
  for (const stroke of strokes) {
    const value = stroke.mode === 'restore' ? 255 : 0;
    const r = Math.max(0.5, stroke.radius);
    const stamp = (cx: number, cy: number): void => {
      const x0 = Math.max(0, Math.floor(cx - r));
      const x1 = Math.min(width - 1, Math.ceil(cx + r));
      const y0 = Math.max(0, Math.floor(cy - r));
      const y1 = Math.min(height - 1, Math.ceil(cy + r));
      for (let y = y0; y <= y1; y++) {
        for (let x = x0; x <= x1; x++) {
          if ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r * r) out[y * width + x] = value;
        }
      }
    };
    const points = stroke.points;
    for (let i = 0; i < points.length; i++) {
      const p = points[i]!;
      const q = points[i - 1] ?? p;
      // Stamps every half radius along the segment so a fast drag leaves no gaps.
      const steps = Math.max(1, Math.ceil(Math.hypot(p.x - q.x, p.y - q.y) / (r / 2)));
      for (let s = 1; s <= steps; s++) stamp(q.x + ((p.x - q.x) * s) / steps, q.y + ((p.y - q.y) * s) / steps);
    }
  }
  return out;
}
