/** Small meshes with known answers for the post-processing tests. */
import type { ResultMesh } from '../../src/shared/mesh';
import { icosphere as colouredIcosphere } from './export-fixtures';

/** A mesh from positions and triangles; colours are a function of position, normals zero (unused). */
export function meshOf(positions: number[], indices: number[]): ResultMesh {
  const p = Float32Array.from(positions);
  const colours = new Float32Array(p.length);
  for (let i = 0; i < p.length; i++) colours[i] = colourAt(p[i]!);
  return { positions: p, normals: new Float32Array(p.length), colours, indices: Uint32Array.from(indices) };
}

/** The colour channel the test meshes give a coordinate (so colours can be checked after processing). */
export function colourAt(x: number): number {
  return Math.min(1, Math.max(0, 0.5 + 0.4 * Math.sin(3 * x)));
}

/** The 12 outward counter-clockwise triangles of a box over its 8 corners (corner i: bit 0 x, bit 1 y, bit 2 z). */
export const BOX_TRIANGLES = [
  0, 2, 3, 0, 3, 1, // z = min, facing −z
  4, 5, 7, 4, 7, 6, // z = max
  0, 1, 5, 0, 5, 4, // y = min
  2, 6, 7, 2, 7, 3, // y = max
  0, 4, 6, 0, 6, 2, // x = min
  1, 3, 7, 1, 7, 5, // x = max
];

/** Corner positions of the box [min, max]. */
export function boxCorners(min: [number, number, number], max: [number, number, number]): number[] {
  const out: number[] = [];
  for (let i = 0; i < 8; i++) out.push(i & 1 ? max[0] : min[0], i & 2 ? max[1] : min[1], i & 4 ? max[2] : min[2]);
  return out;
}

/** A closed box. */
export function box(min: [number, number, number], max: [number, number, number]): ResultMesh {
  return meshOf(boxCorners(min, max), BOX_TRIANGLES);
}

/** Several meshes as one (indices offset, no welding). */
export function combine(...meshes: ResultMesh[]): ResultMesh {
  const positions: number[] = [];
  const indices: number[] = [];
  for (const mesh of meshes) {
    const base = positions.length / 3;
    positions.push(...mesh.positions);
    for (const i of mesh.indices) indices.push(i + base);
  }
  return meshOf(positions, indices);
}

/** An icosphere of `subdivisions` levels (20·4^s triangles), radius `radius`, centred at `centre`, coloured by colourAt. */
export function icosphere(subdivisions: number, radius = 1, centre: [number, number, number] = [0, 0, 0]): ResultMesh {
  const sphere = colouredIcosphere(subdivisions, radius, centre);
  return meshOf(Array.from(sphere.positions), Array.from(sphere.indices));
}

/** A seeded pseudo-random generator (mulberry32) returning [0, 1). */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let r = Math.imul(s ^ (s >>> 15), 1 | s);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

/** Moves every vertex radially by up to ±amplitude (relative to the centre). */
export function addRadialNoise(mesh: ResultMesh, amplitude: number, seed = 1): ResultMesh {
  const random = seeded(seed);
  const positions = mesh.positions.slice();
  for (let v = 0; v < positions.length; v += 3) {
    const k = 1 + amplitude * (2 * random() - 1);
    positions[v]! *= k;
    positions[v + 1]! *= k;
    positions[v + 2]! *= k;
  }
  return { ...mesh, positions };
}

/** Drops the given triangles. */
export function withoutTriangles(mesh: ResultMesh, drop: number[]): ResultMesh {
  const indices: number[] = [];
  for (let t = 0; t < mesh.indices.length / 3; t++) if (!drop.includes(t)) indices.push(...mesh.indices.subarray(t * 3, t * 3 + 3));
  return { ...mesh, indices: Uint32Array.from(indices) };
}

/** Signed volume of a mesh (float64). */
export function signedVolume(mesh: { positions: Float32Array; indices: Uint32Array }): number {
  const p = mesh.positions;
  let volume = 0;
  for (let t = 0; t < mesh.indices.length; t += 3) {
    const a = mesh.indices[t]! * 3, b = mesh.indices[t + 1]! * 3, c = mesh.indices[t + 2]! * 3;
    volume +=
      (p[a]! * (p[b + 1]! * p[c + 2]! - p[b + 2]! * p[c + 1]!) +
        p[a + 1]! * (p[b + 2]! * p[c]! - p[b]! * p[c + 2]!) +
        p[a + 2]! * (p[b]! * p[c + 1]! - p[b + 1]! * p[c]!)) / 6;
  }
  return volume;
}

/** A torus (major radius 0.5, minor 0.2) of about `triangles` triangles, ±0.5 % radial noise, two holes and a floater. */
export function noisyTorus(triangles: number): ResultMesh {
  const nv = Math.max(8, Math.round(Math.sqrt(triangles / 4)));
  const nu = Math.max(8, Math.round(triangles / (2 * nv)));
  const positions = new Float32Array((nu * nv + 8) * 3);
  const colours = new Float32Array(positions.length);
  let seed = 12345;
  const random = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296);
  for (let i = 0; i < nu; i++) {
    for (let j = 0; j < nv; j++) {
      const u = (2 * Math.PI * i) / nu, v = (2 * Math.PI * j) / nv;
      const r = 0.2 * (1 + 0.005 * (2 * random() - 1));
      const k = (i * nv + j) * 3;
      positions[k] = (0.5 + r * Math.cos(v)) * Math.cos(u);
      positions[k + 1] = r * Math.sin(v);
      positions[k + 2] = (0.5 + r * Math.cos(v)) * Math.sin(u);
      colours[k] = 0.5 + 0.5 * Math.cos(u);
      colours[k + 1] = 0.5 + 0.5 * Math.sin(v);
      colours[k + 2] = 0.5;
    }
  }
  const holes = new Set([nv * 3 + 2, nv * Math.floor(nu / 2) + 5].map((q) => q * 2));
  const indices: number[] = [];
  for (let i = 0; i < nu; i++) {
    for (let j = 0; j < nv; j++) {
      const a = i * nv + j, b = ((i + 1) % nu) * nv + j, c = ((i + 1) % nu) * nv + ((j + 1) % nv), d = i * nv + ((j + 1) % nv);
      const t = (i * nv + j) * 2;
      if (!holes.has(t)) indices.push(a, d, c);
      if (!holes.has(t + 1)) indices.push(a, c, b);
    }
  }
  const base = nu * nv;
  for (let c = 0; c < 8; c++) {
    positions.set([0.8 + (c & 1 ? 0.01 : 0), 0.8 + (c & 2 ? 0.01 : 0), 0.8 + (c & 4 ? 0.01 : 0)], (base + c) * 3);
  }
  const box = [0, 2, 3, 0, 3, 1, 4, 5, 7, 4, 7, 6, 0, 1, 5, 0, 5, 4, 2, 6, 7, 2, 7, 3, 0, 4, 6, 0, 6, 2, 1, 3, 7, 1, 7, 5];
  for (const i of box) indices.push(base + i);
  return { positions, normals: new Float32Array(positions.length), colours, indices: Uint32Array.from(indices) };
}
