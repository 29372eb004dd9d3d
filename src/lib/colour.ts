/**
 * sRGB to linear, shared by the GLB writer and the viewer so a model looks the same in the app and
 * in any glTF viewer. TripoSR decodes sRGB-like colours; glTF COLOR_0 and three.js colour
 * attributes are linear (docs/triposr-spec.md §6: "washed out colours" when this is skipped).
 */

/**
 * One sRGB channel (0..1) to linear, with the exact IEC 61966-2-1 piecewise curve (three.js's
 * `SRGBToLinear` is the same curve; it puts 0.04045 itself on the power side, 2e-9 away).
 */
export function srgbToLinear(c: number): number {
  return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
}

/** Every channel of `colours` to linear, in a new array (mesh buffers are never mutated). */
export function srgbToLinearArray(colours: Float32Array): Float32Array<ArrayBuffer> {
  const out = new Float32Array(colours.length);
  for (let i = 0; i < colours.length; i++) out[i] = srgbToLinear(colours[i]!);
  return out;
}
