/**
 * The working form of a mesh while it is processed: positions and sRGB colours per vertex and
 * triangle indices, all typed arrays (a 2 M-triangle mesh must fit, so no per-vertex objects).
 * Normals are not carried through the steps; they are recomputed once at the end.
 */
import type { ResultMesh } from '../shared/mesh';

/** Positions (3 floats), colours (3 floats, sRGB 0..1) and triangles (3 indices). */
export interface WorkMesh {
  positions: Float32Array;
  colours: Float32Array;
  indices: Uint32Array;
}

/** Number of vertices. */
export function vertexCount(mesh: WorkMesh): number {
  return mesh.positions.length / 3;
}

/** Number of triangles. */
export function triangleCount(mesh: WorkMesh): number {
  return Math.floor(mesh.indices.length / 3);
}

/** The working form of a ResultMesh (copies, so processing never mutates the caller's mesh). */
export function toWorkMesh(mesh: ResultMesh): WorkMesh {
  const vertices = Math.floor(mesh.positions.length / 3);
  const colours = new Float32Array(vertices * 3);
  // A mesh without colours (or with too few) gets mid grey rather than black.
  if (mesh.colours.length >= vertices * 3) colours.set(mesh.colours.subarray(0, vertices * 3));
  else colours.fill(0.8);
  return {
    positions: mesh.positions.slice(0, vertices * 3),
    colours,
    indices: mesh.indices.slice(0, Math.floor(mesh.indices.length / 3) * 3),
  };
}

/** A ResultMesh with area-weighted vertex normals recomputed. */
export function toResultMesh(mesh: WorkMesh): ResultMesh {
  return { ...mesh, normals: vertexNormals(mesh) };
}

/** Area-weighted unit vertex normals (a vertex no triangle uses gets +Y). */
export function vertexNormals(mesh: WorkMesh): Float32Array {
  const p = mesh.positions;
  const ix = mesh.indices;
  const sum = new Float64Array(p.length);
  for (let t = 0; t + 2 < ix.length; t += 3) {
    const a = ix[t]! * 3, b = ix[t + 1]! * 3, c = ix[t + 2]! * 3;
    const ux = p[b]! - p[a]!, uy = p[b + 1]! - p[a + 1]!, uz = p[b + 2]! - p[a + 2]!;
    const vx = p[c]! - p[a]!, vy = p[c + 1]! - p[a + 1]!, vz = p[c + 2]! - p[a + 2]!;
    // The unnormalised cross product weights each face by twice its area.
    const nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
    add3(sum, a, nx, ny, nz);
    add3(sum, b, nx, ny, nz);
    add3(sum, c, nx, ny, nz);
  }
  const normals = new Float32Array(p.length);
  for (let v = 0; v < p.length; v += 3) {
    const length = Math.hypot(sum[v]!, sum[v + 1]!, sum[v + 2]!);
    if (length > 0) {
      normals[v] = sum[v]! / length;
      normals[v + 1] = sum[v + 1]! / length;
      normals[v + 2] = sum[v + 2]! / length;
    } else normals[v + 1] = 1;
  }
  return normals;
}

function add3(target: Float64Array, at: number, x: number, y: number, z: number): void {
  target[at] = target[at]! + x;
  target[at + 1] = target[at + 1]! + y;
  target[at + 2] = target[at + 2]! + z;
}

/** Drops vertices no triangle uses and renumbers the triangles; returns the mesh unchanged when all are used. */
export function compactVertices(mesh: WorkMesh): WorkMesh {
  const n = vertexCount(mesh);
  const remap = new Int32Array(n).fill(-1);
  let next = 0;
  for (let i = 0; i < mesh.indices.length; i++) {
    const v = mesh.indices[i]!;
    if (remap[v] === -1) remap[v] = next++;
  }
  if (next === n) {
    // Every vertex is used, but keep the first-use order only if it is already the identity.
    let identity = true;
    for (let v = 0; v < n && identity; v++) identity = remap[v] === v;
    if (identity) return mesh;
  }
  const positions = new Float32Array(next * 3);
  const colours = new Float32Array(next * 3);
  for (let v = 0; v < n; v++) {
    const to = remap[v]!;
    if (to < 0) continue;
    positions.set(mesh.positions.subarray(v * 3, v * 3 + 3), to * 3);
    colours.set(mesh.colours.subarray(v * 3, v * 3 + 3), to * 3);
  }
  const indices = new Uint32Array(mesh.indices.length);
  for (let i = 0; i < indices.length; i++) indices[i] = remap[mesh.indices[i]!]!;
  return { positions, colours, indices };
}

/** Keeps the triangles whose flag is 1. */
export function keepTriangles(indices: Uint32Array, keep: Uint8Array): Uint32Array {
  let count = 0;
  for (let t = 0; t < keep.length; t++) count += keep[t]!;
  const out = new Uint32Array(count * 3);
  let o = 0;
  for (let t = 0; t < keep.length; t++) {
    if (!keep[t]) continue;
    out[o++] = indices[t * 3]!;
    out[o++] = indices[t * 3 + 1]!;
    out[o++] = indices[t * 3 + 2]!;
  }
  return out;
}

/** Signed volume (positive for outward, counter-clockwise triangles) and surface area, in float64. */
export function volumeAndArea(mesh: WorkMesh, triangles?: ArrayLike<number>): { volume: number; area: number } {
  const p = mesh.positions;
  const ix = mesh.indices;
  let volume = 0;
  let area = 0;
  const count = triangles ? triangles.length : ix.length / 3;
  for (let k = 0; k < count; k++) {
    const t = (triangles ? triangles[k]! : k) * 3;
    const a = ix[t]! * 3, b = ix[t + 1]! * 3, c = ix[t + 2]! * 3;
    const ax = p[a]!, ay = p[a + 1]!, az = p[a + 2]!;
    const ux = p[b]! - ax, uy = p[b + 1]! - ay, uz = p[b + 2]! - az;
    const vx = p[c]! - ax, vy = p[c + 1]! - ay, vz = p[c + 2]! - az;
    const cx = uy * vz - uz * vy, cy = uz * vx - ux * vz, cz = ux * vy - uy * vx;
    area += Math.hypot(cx, cy, cz) / 2;
    volume += (ax * cx + ay * cy + az * cz) / 6;
  }
  return { volume, area };
}

/** Axis-aligned bounds of the vertices triangles use (all zeros when there are none). */
export function usedBounds(mesh: WorkMesh): { min: [number, number, number]; max: [number, number, number] } {
  const min: [number, number, number] = [Infinity, Infinity, Infinity];
  const max: [number, number, number] = [-Infinity, -Infinity, -Infinity];
  const p = mesh.positions;
  for (let i = 0; i < mesh.indices.length; i++) {
    const v = mesh.indices[i]! * 3;
    for (let a = 0; a < 3; a++) {
      const x = p[v + a]!;
      if (x < min[a]!) min[a] = x;
      if (x > max[a]!) max[a] = x;
    }
  }
  if (min[0] === Infinity) return { min: [0, 0, 0], max: [0, 0, 0] };
  return { min, max };
}

/** Lets the event loop run (messages, cancellation) in the middle of long work. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
