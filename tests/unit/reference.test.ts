import { describe, expect, it } from 'vitest';
import goldenDecoder from '../fixtures/goldens/decoder-torch.json';
import goldenMc from '../fixtures/goldens/mc-skimage.json';
import { CoarseLattice } from '../../src/gpu/coarse-to-fine';
import { declaredWalkBound } from '../../src/gpu/walk-bound';
import { DEFAULT_BOUNDS, type Dims } from '../../src/gpu/constants';
import { densityWalkCpu } from '../../src/gpu/reference/density-walk-cpu';
import { marchingCubesCpu } from '../../src/gpu/reference/marching-cubes-cpu';
import { decodePointsCpu, runMlp, sampleTriplane } from '../../src/gpu/reference/triplane-decoder-cpu';
import { meshTriplaneCpu } from '../../src/gpu/reference/triplane-mesher-cpu';
import { cutSphereField, ELLIPSOID, ellipsoidField, sphereField, torusField, twoSpheresField } from '../helpers/analytic-fields';
import { goldenTriplane, goldenWeights, mcGoldenField } from '../helpers/golden-inputs';
import {
  areaAndVolume,
  componentCount,
  eulerCharacteristic,
  extent,
  isClosed,
  makeField,
  maxVertexSetDistance,
  normalAgreement,
} from '../helpers/mesh-metrics';
import { blobDecoder, smoothTriplane } from '../helpers/synthetic-decoder';

const close = (a: number, b: number, rel: number): boolean => Math.abs(a - b) <= rel * Math.abs(b);

describe('CPU triplane decoder against torch (grid_sample + MLP)', () => {
  const triplane = goldenTriplane();
  const weights = goldenWeights();
  const points = Float32Array.from(goldenDecoder.points);
  const n = points.length / 3;

  it('samples features like grid_sample(bilinear, align_corners=False, zeros) within 1e-5', () => {
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const f = sampleTriplane(triplane, points.subarray(3 * i, 3 * i + 3));
      for (let k = 0; k < 120; k++) worst = Math.max(worst, Math.abs(f[k]! - goldenDecoder.features[120 * i + k]!));
    }
    expect(worst).toBeLessThan(1e-5);
  });

  it('computes raw outputs within 1e-4, density and colour within 1e-4 relative', () => {
    const { density, colour } = decodePointsCpu(triplane, weights, points);
    for (let i = 0; i < n; i++) {
      const o = runMlp(weights, Float32Array.from(goldenDecoder.features.slice(120 * i, 120 * i + 120)));
      for (let k = 0; k < 4; k++) expect(Math.abs(o[k]! - goldenDecoder.raw[4 * i + k]!)).toBeLessThan(1e-4);
      expect(close(density[i]!, goldenDecoder.density[i]!, 1e-4)).toBe(true);
      for (let k = 0; k < 3; k++) expect(Math.abs(colour[3 * i + k]! - goldenDecoder.colour[3 * i + k]!)).toBeLessThan(1e-5);
    }
  });
});

describe('CPU marching cubes', () => {
  it('matches skimage (Lorensen) on a non-cubic field: vertex set, triangle count, area and volume', () => {
    const dims = goldenMc.dims as Dims;
    const mesh = marchingCubesCpu(mcGoldenField(dims), dims, 0);
    const theirs = { positions: Float32Array.from(goldenMc.vertices), normals: new Float32Array(0), indices: Uint32Array.from(goldenMc.faces) };
    expect(mesh.positions.length).toBe(theirs.positions.length);
    expect(maxVertexSetDistance(mesh.positions, theirs.positions)).toBeLessThan(1e-4);
    expect(mesh.indices.length).toBe(theirs.indices.length);
    // Same polygons, triangulated by another table: areas and volumes agree closely. skimage winds
    // the other way for f > iso inside, so its signed volume is negative.
    const ours = areaAndVolume(mesh);
    const ref = areaAndVolume(theirs);
    expect(close(ours.area, ref.area, 0.005)).toBe(true);
    expect(close(ours.volume, -ref.volume, 0.005)).toBe(true);
    expect(ours.volume).toBeGreaterThan(0);
  });

  it('meshes a sphere closed, genus 0, outward, area and volume within 1 % at 64³', () => {
    const r = 24;
    const mesh = marchingCubesCpu(sphereField(64, r), [64, 64, 64], 0);
    expect(isClosed(mesh)).toBe(true);
    expect(eulerCharacteristic(mesh)).toBe(2);
    expect(normalAgreement(mesh)).toBe(1);
    const { area, volume } = areaAndVolume(mesh);
    expect(close(area, 4 * Math.PI * r * r, 0.01)).toBe(true);
    expect(close(volume, (4 / 3) * Math.PI * r ** 3, 0.01)).toBe(true);
  });

  it('gives a torus Euler characteristic 0 and two spheres two components', () => {
    expect(eulerCharacteristic(marchingCubesCpu(torusField(48, 14, 6), [48, 48, 48], 0))).toBe(0);
    const two = marchingCubesCpu(twoSpheresField(48), [48, 48, 48], 0);
    expect(componentCount(two)).toBe(2);
    expect(isClosed(two)).toBe(true);
  });

  it('puts an off-centre ellipsoid on a non-cubic grid at the right extent per axis', () => {
    const mesh = marchingCubesCpu(ellipsoidField(), ELLIPSOID.dims, 0);
    const { min, max } = extent(mesh.positions);
    for (let a = 0; a < 3; a++) {
      expect(Math.abs(min[a]! - (ELLIPSOID.centre[a]! - ELLIPSOID.radii[a]!))).toBeLessThan(0.1);
      expect(Math.abs(max[a]! - (ELLIPSOID.centre[a]! + ELLIPSOID.radii[a]!))).toBeLessThan(0.1);
    }
  });

  it('leaves a shape cut by the box open without pad and closes it with pad', () => {
    const field = cutSphereField(40);
    const open = marchingCubesCpu(field, [40, 40, 40], 0);
    const closed = marchingCubesCpu(field, [40, 40, 40], 0, { pad: true });
    expect(isClosed(open)).toBe(false);
    expect(isClosed(closed)).toBe(true);
    expect(extent(closed.positions).min[0]).toBe(0);
    for (let i = 0; i < closed.normals.length; i += 3) {
      expect(Math.hypot(closed.normals[i]!, closed.normals[i + 1]!, closed.normals[i + 2]!)).toBeCloseTo(1, 5);
    }
  });

  it('gives empty meshes for empty and all-inside fields', () => {
    expect(marchingCubesCpu(new Float32Array(8 ** 3).fill(-1), [8, 8, 8], 0).indices.length).toBe(0);
    expect(marchingCubesCpu(new Float32Array(8 ** 3).fill(1), [8, 8, 8], 0).indices.length).toBe(0);
  });

  it('uses the face normal where the gradient vanishes', () => {
    // Alternating slabs along x: every central difference is zero at every vertex.
    const mesh = marchingCubesCpu(makeField([8, 6, 6], (x) => (x % 2 ? 1 : -1)), [8, 6, 6], 0);
    expect(mesh.indices.length).toBeGreaterThan(0);
    expect(normalAgreement(mesh)).toBe(1);
    for (let i = 0; i < mesh.normals.length; i += 3) {
      expect(Math.abs(mesh.normals[i]!)).toBeCloseTo(1, 5);
    }
  });
});

describe('CPU density walk', () => {
  it('coarse-to-fine equals dense on a smooth field with fewer evaluations', () => {
    const dims: Dims = [48, 48, 48];
    const evaluate = (p: Float32Array): Float32Array =>
      Float32Array.from({ length: p.length / 3 }, (_, i) => 0.5 - Math.hypot(p[3 * i]!, p[3 * i + 1]! * 1.2, p[3 * i + 2]!));
    const dense = densityWalkCpu(evaluate, dims, DEFAULT_BOUNDS, 0, 'dense');
    const c2f = densityWalkCpu(evaluate, dims, DEFAULT_BOUNDS, 0, 'coarse-to-fine', { bound: declaredWalkBound(1.2) });
    expect(dense.evaluations).toBe(48 ** 3);
    expect(c2f.evaluations).toBeLessThan(dense.evaluations / 2);
    const a = marchingCubesCpu(dense.field, dims, 0);
    const b = marchingCubesCpu(c2f.field, dims, 0);
    expect(b.positions).toEqual(a.positions);
    expect(b.normals).toEqual(a.normals);
    expect(b.indices).toEqual(a.indices);
  });

  it('refuses to walk coarse-to-fine without a bound on the field', () => {
    const evaluate = (p: Float32Array): Float32Array => new Float32Array(p.length / 3);
    expect(() => densityWalkCpu(evaluate, [9, 9, 9], DEFAULT_BOUNDS, 0, 'coarse-to-fine')).toThrow(RangeError);
  });

  it('plans refinement: blocks whose corner range plus slack reaches iso, and no others', () => {
    const lattice = new CoarseLattice([17, 17, 17], 4);
    expect(lattice.blocks).toEqual([4, 4, 4]);
    const values = new Float32Array(125).fill(-1);
    values[(2 * 5 + 2) * 5 + 2] = 1; // one coarse sample inside, at the centre
    // A slope too small to matter: exactly the 8 blocks sharing that corner.
    const tight = lattice.plan(values, 0, declaredWalkBound(1e-3), DEFAULT_BOUNDS);
    expect(tight.kind).toBe('declared');
    expect(Array.from(tight.refined)).toEqual([21, 22, 25, 26, 37, 38, 41, 42]);
    expect(tight.flags.reduce((a, b) => a + b, 0)).toBe(8);
    // Half a block diagonal is 0.87/4·√3 ≈ 0.377 world units: a slope of 2.7 lifts −1 to within
    // 0.02 of iso (not enough), 2.7 / 0.98 past it: every block.
    const h = (0.87 / 4) * Math.sqrt(3);
    expect(lattice.plan(values, 0, declaredWalkBound(0.98 / h), DEFAULT_BOUNDS).refined.length).toBe(8);
    expect(lattice.plan(values, 0, declaredWalkBound(1.02 / h), DEFAULT_BOUNDS).refined.length).toBe(64);
    // On the exp scale (value = exp(raw)), far-out corners at exp(−10) and iso 1: a slope worth 9.9
    // raw units over h leaves the block alone, 10.1 refines it.
    const expValues = new Float32Array(125).fill(Math.exp(-10));
    expect(lattice.plan(expValues, 1, declaredWalkBound(9.9 / h, { activation: 'exp' }), DEFAULT_BOUNDS).refined.length).toBe(0);
    expect(lattice.plan(expValues, 1, declaredWalkBound(10.1 / h, { activation: 'exp' }), DEFAULT_BOUNDS).refined.length).toBe(64);
  });

  it('lists the lattice points that are not coarse samples, for the GPU walk that decodes every point', () => {
    const dims = [14, 9, 11] as const;
    const lattice = new CoarseLattice([...dims], 4);
    const coarse = new Set(lattice.coarsePointIndices());
    const layer = dims[1] * dims[2];
    for (const [first, end] of [[0, 14], [3, 9], [12, 14], [5, 5]] as const) {
      const expected: number[] = [];
      for (let i = first * layer; i < end * layer; i++) if (!coarse.has(i)) expected.push(i);
      expect(Array.from(lattice.nonCoarseIndices(first, end))).toEqual(expected);
    }
    // Every point is either a coarse sample or listed; coarse samples sit at 0, 4, 8, … and the last index.
    expect(lattice.nonCoarseIndices(0, 14).length + coarse.size).toBe(14 * 9 * 11);
    expect(coarse.size).toBe(5 * 3 * 4);
  });

  it('meshes a seeded triplane identically dense and coarse-to-fine', () => {
    const tp = smoothTriplane(3);
    const w = blobDecoder(4, tp);
    const dense = meshTriplaneCpu(tp, w, { resolution: 32, threshold: 25, mode: 'dense' });
    const c2f = meshTriplaneCpu(tp, w, { resolution: 32, threshold: 25, mode: 'coarse-to-fine' });
    expect(dense.indices.length).toBeGreaterThan(1000);
    expect(c2f.positions).toEqual(dense.positions);
    expect(c2f.indices).toEqual(dense.indices);
    // A conservative bound refines every block of this fixture at 32³ (8 blocks per axis; its raw
    // saturates a few units below iso outside the blob): savings are asserted on the thin fixtures
    // (thin-features.test.ts) and the analytic fields, at resolutions where blocks are small.
    expect(c2f.stats.evaluations).toBeLessThanOrEqual(dense.stats.evaluations);
    expect(c2f.stats.walk).toMatch(/certified|measured/);
    expect(isClosed(dense)).toBe(true);
  }, 60_000);
});
