import { beforeAll, describe, expect, it } from 'vitest';
import { BatchDecoder } from '../../src/cpu/batch-decoder';
import { cpuTexelColourer } from '../../src/cpu/bake';
import { decodePointsCpu } from '../../src/gpu/reference/triplane-decoder-cpu';
import { bakeTexture, type BakeOutcome } from '../../src/texture/bake';
import { colourChangePerTexel, bandDecoder, bandMesh, bandTriplane, BAND_THRESHOLD, randomPoints, seamPoints, textureError, toTripoSR } from '../helpers/band-fixture';

/**
 * The CPU bake of the band fixture at 256² (a 1 280-triangle sphere, 4 % smaller than the isosurface):
 * the texture at the UV of random surface points matches the field's colour on the isosurface.
 * Tolerance: 0.03 (≈ 8/255) at any point, 0.01 on average: 8-bit rounding, bilinear reconstruction of
 * the bands, and the normal's small deviation from the ray the reference projects along (measured:
 * 0.0073 and 0.0014). On seams, where bilinear taps read dilated texels, the colour change across one
 * texel (colourChangePerTexel: 0.032 here; measured 0.020).
 */
const TOLERANCE = { max: 0.03, mean: 0.01 };

describe('bakeTexture on the CPU', () => {
  const triplane = bandTriplane();
  const weights = bandDecoder();
  const { mesh, toSource } = bandMesh(3);
  let baked: BakeOutcome;
  const progress: string[] = [];

  beforeAll(async () => {
    const colourer = cpuTexelColourer(new BatchDecoder(triplane, weights));
    baked = await bakeTexture({ triplane, mesh, toSource, size: 256, threshold: BAND_THRESHOLD }, colourer, {
      onProgress: (step, fraction) => progress.push(`${step}:${fraction.toFixed(2)}`),
    });
  }, 120_000);

  it('the fixture is what it claims: isosurface at radius 0.5, bands along the height', () => {
    const d = (r: number) => decodePointsCpu(triplane, weights, Float32Array.from(toTripoSR([0.3 * r, 0.8 * r, Math.sqrt(1 - 0.73) * r])), { density: true }).density[0]!;
    expect(d(0.49)).toBeGreaterThan(BAND_THRESHOLD);
    expect(d(0.51)).toBeLessThan(BAND_THRESHOLD);
    const c = (y: number) => decodePointsCpu(triplane, weights, Float32Array.from(toTripoSR([0.2, y, 0.1])), { colour: true }).colour;
    expect(Math.abs(c(0)[0]! - c(0.2)[0]!)).toBeGreaterThan(0.3);
    expect(Math.abs(c(0.1)[0]! - decodePointsCpu(triplane, weights, Float32Array.from(toTripoSR([-0.3, 0.1, 0.3])), { colour: true }).colour[0]!)).toBeLessThan(0.02);
  });

  it('reports unwrap then bake progress and returns a 256² opaque texture', () => {
    expect(progress[0]).toBe('unwrap:0.00');
    expect(progress.at(-1)).toBe('bake:1.00');
    expect(progress.indexOf('bake:0.00')).toBeGreaterThan(progress.indexOf('unwrap:1.00'));
    const { texture, uvs, positions } = baked.mesh;
    expect([texture.width, texture.height, texture.rgba.length]).toEqual([256, 256, 256 * 256 * 4]);
    expect(uvs.length / 2).toBe(positions.length / 3);
    expect(texture.rgba.every((v, i) => i % 4 !== 3 || v === 255)).toBe(true);
    expect(baked.texels).toBeGreaterThan(0.4 * 256 * 256);
  });

  it('matches the field at random surface points, projected onto the isosurface', () => {
    const error = textureError(baked.mesh, toSource, triplane, weights, randomPoints(baked.mesh.indices.length / 3, 300));
    expect(error.max).toBeLessThan(TOLERANCE.max);
    expect(error.mean).toBeLessThan(TOLERANCE.mean);
  });

  it('stays within one texel\'s colour change on both sides of the seams after dilation', () => {
    const points = seamPoints(baked.mesh, baked.unwrapped.charts, 150);
    expect(points.length).toBeGreaterThan(100);
    const error = textureError(baked.mesh, toSource, triplane, weights, points);
    expect(error.max).toBeLessThan(colourChangePerTexel(baked.texels));
  });

  it('without the projection the colour is visibly off (the test can see it)', async () => {
    const colourer = cpuTexelColourer(new BatchDecoder(triplane, weights));
    const flat = await bakeTexture({ triplane, mesh, toSource, size: 256, threshold: BAND_THRESHOLD }, colourer, { project: { searchSteps: 1, searchRadius: 1e-6, bisections: 0 } });
    const error = textureError(flat.mesh, toSource, triplane, weights, randomPoints(flat.mesh.indices.length / 3, 300));
    expect(error.max).toBeGreaterThan(TOLERANCE.max);
  }, 120_000);
});
