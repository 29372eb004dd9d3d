import { describe, expect, it } from 'vitest';
import { editedMask } from '../../src/lib/mask-edits';

describe('editedMask', () => {
  const w = 20;
  const h = 10;
  const mask = new Uint8ClampedArray(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) mask[y * w + x] = x < 10 ? 200 : 40;

  it('drops values under the threshold and keeps the rest as they are', () => {
    const out = editedMask(mask, w, h, 50, []);
    expect(out[0]).toBe(200);
    expect(out[15]).toBe(0);
    expect(editedMask(mask, w, h, 0, [])[15]).toBe(40);
  });

  it('restores and erases discs along a stroke, in order, and undo is replaying fewer strokes', () => {
    const restore = { mode: 'restore' as const, radius: 2, points: [{ x: 12, y: 5 }, { x: 18, y: 5 }] };
    const erase = { mode: 'erase' as const, radius: 1.5, points: [{ x: 3, y: 5 }] };
    const out = editedMask(mask, w, h, 50, [restore, erase]);
    for (let x = 12; x <= 17; x++) expect(out[5 * w + x], `restored x=${x}`).toBe(255);
    expect(out[0 * w + 15]).toBe(0); // outside the brush
    expect(out[5 * w + 3]).toBe(0);
    expect(out[5 * w + 6]).toBe(200); // outside the eraser
    const undone = editedMask(mask, w, h, 50, [restore]);
    expect(undone[5 * w + 3]).toBe(200);
    expect(editedMask(mask, w, h, 50, [])[5 * w + 14]).toBe(0);
  });

  it('clips strokes at the image edges', () => {
    const out = editedMask(mask, w, h, 50, [{ mode: 'restore', radius: 3, points: [{ x: 19, y: 0 }] }]);
    expect(out[0 * w + 19]).toBe(255);
    expect(out.length).toBe(w * h);
  });
});
