import type { IndexedMesh } from '../../src/gpu/mesh';

/** Undirected edge key for two vertex ids. */
function edgeKey(a: number, b: number): number {
  return a < b ? a * 0x100000 + b : b * 0x100000 + a;
}

/** How many triangles use each undirected edge. */
export function edgeUse(mesh: IndexedMesh): Map<number, number> {
  const uses = new Map<number, number>();
  const ix = mesh.indices;
  for (let t = 0; t < ix.length; t += 3) {
    for (let k = 0; k < 3; k++) {
      const key = edgeKey(ix[t + k]!, ix[t + ((k + 1) % 3)]!);
      uses.set(key, (uses.get(key) ?? 0) + 1);
    }
  }
  return uses;
}

/** True when every edge is shared by exactly two triangles. */
export function isClosed(mesh: IndexedMesh): boolean {
  for (const n of edgeUse(mesh).values()) if (n !== 2) return false;
  return mesh.indices.length > 0;
}

/** V − E + F over the vertices that triangles use. */
export function eulerCharacteristic(mesh: IndexedMesh): number {
  const used = new Set(mesh.indices);
  return used.size - edgeUse(mesh).size + mesh.indices.length / 3;
}

/** Surface area and signed volume (positive when triangles wind counter-clockwise from outside). */
export function areaAndVolume(mesh: IndexedMesh): { area: number; volume: number } {
  const p = mesh.positions;
  const ix = mesh.indices;
  let area = 0;
  let volume = 0;
  for (let t = 0; t < ix.length; t += 3) {
    const [a, b, c] = [ix[t]! * 3, ix[t + 1]! * 3, ix[t + 2]! * 3];
    const ux = p[b]! - p[a]!, uy = p[b + 1]! - p[a + 1]!, uz = p[b + 2]! - p[a + 2]!;
    const vx = p[c]! - p[a]!, vy = p[c + 1]! - p[a + 1]!, vz = p[c + 2]! - p[a + 2]!;
    const cx = uy * vz - uz * vy, cy = uz * vx - ux * vz, cz = ux * vy - uy * vx;
    area += Math.hypot(cx, cy, cz) / 2;
    volume += (p[a]! * cx + p[a + 1]! * cy + p[a + 2]! * cz) / 6;
  }
  return { area, volume };
}

/** Number of connected components over shared vertex ids. */
export function componentCount(mesh: IndexedMesh): number {
  const parent = new Int32Array(mesh.positions.length / 3).map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  const ix = mesh.indices;
  for (let t = 0; t < ix.length; t += 3) {
    parent[find(ix[t]!)] = find(ix[t + 1]!);
    parent[find(ix[t + 1]!)] = find(ix[t + 2]!);
  }
  const roots = new Set<number>();
  for (const i of new Set(ix)) roots.add(find(i));
  return roots.size;
}

/** Axis-aligned extent of the positions. */
export function extent(positions: Float32Array): { min: number[]; max: number[] } {
  const min = [Infinity, Infinity, Infinity];
  const max = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < positions.length; i++) {
    const a = i % 3;
    min[a] = Math.min(min[a]!, positions[i]!);
    max[a] = Math.max(max[a]!, positions[i]!);
  }
  return { min, max };
}

/** Fraction of triangles whose face normal agrees with the mean of its vertex normals. */
export function normalAgreement(mesh: IndexedMesh): number {
  const { positions: p, normals: n, indices: ix } = mesh;
  let agree = 0;
  for (let t = 0; t < ix.length; t += 3) {
    const [a, b, c] = [ix[t]! * 3, ix[t + 1]! * 3, ix[t + 2]! * 3];
    const ux = p[b]! - p[a]!, uy = p[b + 1]! - p[a + 1]!, uz = p[b + 2]! - p[a + 2]!;
    const vx = p[c]! - p[a]!, vy = p[c + 1]! - p[a + 1]!, vz = p[c + 2]! - p[a + 2]!;
    const cx = uy * vz - uz * vy, cy = uz * vx - ux * vz, cz = ux * vy - uy * vx;
    const dot = cx * (n[a]! + n[b]! + n[c]!) + cy * (n[a + 1]! + n[b + 1]! + n[c + 1]!) + cz * (n[a + 2]! + n[b + 2]! + n[c + 2]!);
    if (dot > 0) agree++;
  }
  return agree / (ix.length / 3);
}

/** Vertex positions sorted lexicographically, for comparing meshes as sets. */
export function sortedVertices(positions: Float32Array): number[][] {
  const v: number[][] = [];
  for (let i = 0; i < positions.length; i += 3) v.push([positions[i]!, positions[i + 1]!, positions[i + 2]!]);
  return v.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!);
}

/** Largest coordinate difference between two vertex sets once sorted (Infinity if counts differ). */
export function maxVertexSetDistance(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  const sa = sortedVertices(a);
  const sb = sortedVertices(b);
  let worst = 0;
  for (let i = 0; i < sa.length; i++) {
    for (let k = 0; k < 3; k++) worst = Math.max(worst, Math.abs(sa[i]![k]! - sb[i]![k]!));
  }
  return worst;
}

/** Analytic fields on a grid (grid units): positive inside, for `f > iso` with iso 0. */
export function makeField(dims: [number, number, number], f: (x: number, y: number, z: number) => number): Float32Array {
  const [nx, ny, nz] = dims;
  const out = new Float32Array(nx * ny * nz);
  for (let x = 0; x < nx; x++) for (let y = 0; y < ny; y++) for (let z = 0; z < nz; z++) out[(x * ny + y) * nz + z] = f(x, y, z);
  return out;
}

/**
 * Triangles of `a` that `b` lacks, comparing positions within `tol`: each vertex of a is matched to a
 * vertex of b within tol (spatial hash), and triangles compare as rotations of matched id triples.
 * Returns −1 when some vertex has no match.
 */
export function unmatchedTriangles(a: IndexedMesh, b: IndexedMesh, tol = 1e-4): number {
  const cell = tol * 4;
  const key = (x: number, y: number, z: number): string => `${x},${y},${z}`;
  const grid = new Map<string, number[]>();
  const pb = b.positions;
  for (let i = 0; i < pb.length / 3; i++) {
    const k = key(Math.floor(pb[3 * i]! / cell), Math.floor(pb[3 * i + 1]! / cell), Math.floor(pb[3 * i + 2]! / cell));
    if (!grid.has(k)) grid.set(k, []);
    grid.get(k)!.push(i);
  }
  const pa = a.positions;
  const match = new Int32Array(pa.length / 3).fill(-1);
  for (let i = 0; i < match.length; i++) {
    const [x, y, z] = [pa[3 * i]!, pa[3 * i + 1]!, pa[3 * i + 2]!];
    let best = tol;
    for (let dx = -1; dx <= 1; dx++) for (let dy = -1; dy <= 1; dy++) for (let dz = -1; dz <= 1; dz++) {
      for (const j of grid.get(key(Math.floor(x / cell) + dx, Math.floor(y / cell) + dy, Math.floor(z / cell) + dz)) ?? []) {
        const d = Math.max(Math.abs(pb[3 * j]! - x), Math.abs(pb[3 * j + 1]! - y), Math.abs(pb[3 * j + 2]! - z));
        if (d <= best) {
          best = d;
          match[i] = j;
        }
      }
    }
    if (match[i] === -1) return -1;
  }
  const canon = (u: number, v: number, w: number): string => {
    const m = Math.min(u, v, w);
    return m === u ? `${u} ${v} ${w}` : m === v ? `${v} ${w} ${u}` : `${w} ${u} ${v}`;
  };
  const tb = new Set<string>();
  for (let t = 0; t < b.indices.length; t += 3) tb.add(canon(b.indices[t]!, b.indices[t + 1]!, b.indices[t + 2]!));
  let missing = 0;
  for (let t = 0; t < a.indices.length; t += 3) {
    if (!tb.has(canon(match[a.indices[t]!]!, match[a.indices[t + 1]!]!, match[a.indices[t + 2]!]!))) missing++;
  }
  return missing;
}
