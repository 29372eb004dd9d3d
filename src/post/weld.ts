/** Welding duplicate vertices and dropping triangles that cannot be part of a surface. */
import { compactVertices, keepTriangles, vertexCount, type WorkMesh } from './work-mesh';

/** Options for {@link weldVertices}. */
export interface WeldOptions {
  /** Vertices closer than this share of the bounding-box diagonal become one (0 = exact positions only). */
  tolerance: number;
}

/** A millionth of the model's size: far below marching cubes' cell size, far above float rounding. */
export const WELD_DEFAULTS: WeldOptions = { tolerance: 1e-6 };

/** What {@link weldVertices} did. */
export interface WeldResult {
  mesh: WorkMesh;
  /** Vertices merged into another one. */
  merged: number;
  /** Triangles dropped because two corners became the same vertex, an index was out of range or a corner was not finite. */
  degenerate: number;
  /** Vertices dropped because a coordinate was NaN or infinite. */
  nonFinite: number;
}

/**
 * Merges vertices whose positions fall in the same cell of a grid `tolerance × diagonal` wide
 * (exact duplicates always do), keeps the first vertex's colour, drops triangles that repeat a
 * vertex, reference a missing vertex or a non-finite one, and removes unused vertices.
 * Triangles of zero area with three distinct corners are kept: removing one would open a closed
 * surface, and manifold-3d collapses them when the mesh is made printable.
 */
export function weldVertices(input: WorkMesh, options: Partial<WeldOptions> = {}): WeldResult {
  const { tolerance } = { ...WELD_DEFAULTS, ...options };
  const n = vertexCount(input);
  const p = input.positions;
  let nonFinite = 0;
  const finite = new Uint8Array(n);
  let min = Infinity;
  let max = -Infinity;
  for (let v = 0; v < n; v++) {
    const x = p[v * 3]!, y = p[v * 3 + 1]!, z = p[v * 3 + 2]!;
    if (Number.isFinite(x) && Number.isFinite(y) && Number.isFinite(z)) {
      finite[v] = 1;
      min = Math.min(min, x, y, z);
      max = Math.max(max, x, y, z);
    } else nonFinite++;
  }
  const cell = max > min ? tolerance * (max - min) * Math.sqrt(3) : 0;
  const remap = weldRemap(p, finite, cell);
  let merged = 0;
  for (let v = 0; v < n; v++) if (finite[v] && remap[v] !== v) merged++;

  const triangles = Math.floor(input.indices.length / 3);
  const indices = new Uint32Array(triangles * 3);
  const keep = new Uint8Array(triangles);
  let degenerate = 0;
  for (let t = 0; t < triangles; t++) {
    const a = input.indices[t * 3]!, b = input.indices[t * 3 + 1]!, c = input.indices[t * 3 + 2]!;
    if (a >= n || b >= n || c >= n || !finite[a] || !finite[b] || !finite[c]) {
      degenerate++;
      continue;
    }
    const ra = remap[a]!, rb = remap[b]!, rc = remap[c]!;
    if (ra === rb || rb === rc || ra === rc) {
      degenerate++;
      continue;
    }
    indices[t * 3] = ra;
    indices[t * 3 + 1] = rb;
    indices[t * 3 + 2] = rc;
    keep[t] = 1;
  }
  const mesh = compactVertices({ positions: input.positions, colours: input.colours, indices: keepTriangles(indices, keep) });
  return { mesh, merged, degenerate, nonFinite };
}

/**
 * For every vertex, the first vertex in its grid cell (itself when alone). Open addressing over
 * integer cell coordinates; a cell of 0 compares positions exactly.
 */
function weldRemap(p: Float32Array, finite: Uint8Array, cell: number): Int32Array {
  const n = finite.length;
  const remap = new Int32Array(n);
  let size = 1;
  while (size < n * 2) size <<= 1;
  const table = new Int32Array(size).fill(-1);
  const mask = size - 1;
  const scale = cell > 0 ? 1 / cell : 0;
  const key = new Float64Array(n * 3);
  for (let v = 0; v < n; v++) {
    remap[v] = v;
    if (!finite[v]) continue;
    for (let a = 0; a < 3; a++) {
      const x = p[v * 3 + a]!;
      key[v * 3 + a] = scale > 0 ? Math.floor(x * scale) : x;
    }
    const kx = key[v * 3]!, ky = key[v * 3 + 1]!, kz = key[v * 3 + 2]!;
    let slot = hash(kx, ky, kz) & mask;
    for (;;) {
      const other = table[slot]!;
      if (other === -1) {
        table[slot] = v;
        break;
      }
      if (key[other * 3] === kx && key[other * 3 + 1] === ky && key[other * 3 + 2] === kz) {
        remap[v] = other;
        break;
      }
      slot = (slot + 1) & mask;
    }
  }
  return remap;
}

const hashView = new DataView(new ArrayBuffer(8));

function hash(x: number, y: number, z: number): number {
  return Math.imul(mix(x), 73856093) ^ Math.imul(mix(y), 19349663) ^ Math.imul(mix(z), 83492791);
}

/** A 32-bit mix of a double's bits (cell indices and exact float positions alike). */
function mix(x: number): number {
  hashView.setFloat64(0, x === 0 ? 0 : x);
  const h = hashView.getInt32(0) ^ Math.imul(hashView.getInt32(4), 0x9e3779b1);
  return h ^ (h >>> 15);
}
