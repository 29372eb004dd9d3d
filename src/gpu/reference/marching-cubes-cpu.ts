import type { Dims } from '../constants';
import { CASE_EDGES, CUBE_CORNERS, EDGE_CORNER_AXIS } from '../mc-tables';
import {
  checkDims,
  finishNormals,
  gridToWorld,
  type IndexedMesh,
  type MarchingCubesOptions,
} from '../mesh';

/**
 * Marching cubes in plain TypeScript: the oracle for the WGSL kernels and the mesher when WebGPU is
 * unavailable. Same conventions as `marchingCubes`: field index (x * ny + y) * nz + z, a corner is
 * inside iff f > iso, one vertex per crossed edge numbered in (x, y, z, axis) order, counter-clockwise
 * triangles seen from outside, normals normalize(−∇f) by central differences.
 */
export function marchingCubesCpu(
  field: Float32Array,
  dims: Dims,
  iso: number,
  options: MarchingCubesOptions = {},
): IndexedMesh {
  checkDims(dims, field.length);
  const [nx, ny, nz] = dims;
  const pad = options.pad ? 1 : 0;
  const lx = nx + 2 * pad;
  const ly = ny + 2 * pad;
  const lz = nz + 2 * pad;
  const { origin, spacing } = gridToWorld(dims, options.bounds);

  /** Value at a padded lattice corner; −Infinity stands for the outside pad layer. */
  const value = (x: number, y: number, z: number): number => {
    const rx = x - pad;
    const ry = y - pad;
    const rz = z - pad;
    if (rx < 0 || ry < 0 || rz < 0 || rx >= nx || ry >= ny || rz >= nz) return -Infinity;
    return field[(rx * ny + ry) * nz + rz]!;
  };
  const gradient = (rx: number, ry: number, rz: number, out: Float64Array): void => {
    const r = [rx, ry, rz];
    for (let a = 0; a < 3; a++) {
      const n = dims[a]!;
      const i = r[a]!;
      const lo = i > 0 ? i - 1 : i;
      const hi = i < n - 1 ? i + 1 : i;
      const rl = [rx, ry, rz];
      const rh = [rx, ry, rz];
      rl[a] = lo;
      rh[a] = hi;
      const fl = field[(rl[0]! * ny + rl[1]!) * nz + rl[2]!]!;
      const fh = field[(rh[0]! * ny + rh[1]!) * nz + rh[2]!]!;
      out[a] = hi > lo ? (fh - fl) / (hi - lo) : 0;
    }
  };

  const positions: number[] = [];
  const normals: number[] = [];
  const indices: number[] = [];
  const layerSize = ly * lz * 3;
  // Vertex ids of the edges owned by the corners of two consecutive x layers.
  const layers = [new Int32Array(layerSize), new Int32Array(layerSize)];
  const g0 = new Float64Array(3);
  const g1 = new Float64Array(3);

  const emitLayer = (x: number, map: Int32Array): void => {
    map.fill(-1);
    for (let y = 0; y < ly; y++) {
      for (let z = 0; z < lz; z++) {
        const v0 = value(x, y, z);
        const in0 = v0 > iso;
        for (let a = 0; a < 3; a++) {
          const x1 = a === 0 ? x + 1 : x;
          const y1 = a === 1 ? y + 1 : y;
          const z1 = a === 2 ? z + 1 : z;
          if (x1 >= lx || y1 >= ly || z1 >= lz) continue;
          const v1 = value(x1, y1, z1);
          if (v1 > iso === in0) continue;
          map[(y * lz + z) * 3 + a] = positions.length / 3;
          const normal = [0, 0, 0];
          let t: number;
          if (v0 === -Infinity) {
            t = 1;
            normal[a] = -1;
          } else if (v1 === -Infinity) {
            t = 0;
            normal[a] = 1;
          } else {
            t = (iso - v0) / (v1 - v0);
            gradient(x - pad, y - pad, z - pad, g0);
            gradient(x1 - pad, y1 - pad, z1 - pad, g1);
            let len = 0;
            for (let k = 0; k < 3; k++) {
              normal[k] = -((1 - t) * g0[k]! + t * g1[k]!) / spacing[k]!;
              len += normal[k]! * normal[k]!;
            }
            len = Math.sqrt(len);
            for (let k = 0; k < 3; k++) normal[k] = len > 0 ? normal[k]! / len : 0;
          }
          const g = [x - pad, y - pad, z - pad];
          g[a]! += t;
          for (let k = 0; k < 3; k++) positions.push(origin[k]! + g[k]! * spacing[k]!);
          normals.push(normal[0]!, normal[1]!, normal[2]!);
        }
      }
    }
  };

  emitLayer(0, layers[0]!);
  for (let x = 0; x < lx - 1; x++) {
    const lower = layers[x & 1]!;
    const upper = layers[(x + 1) & 1]!;
    emitLayer(x + 1, upper);
    for (let y = 0; y < ly - 1; y++) {
      for (let z = 0; z < lz - 1; z++) {
        let cubeCase = 0;
        for (let c = 0; c < 8; c++) {
          const [ox, oy, oz] = CUBE_CORNERS[c]!;
          if (!(value(x + ox, y + oy, z + oz) > iso)) cubeCase |= 1 << c;
        }
        for (const e of CASE_EDGES[cubeCase]!) {
          const [ox, oy, oz, a] = EDGE_CORNER_AXIS[e]!;
          const map = ox ? upper : lower;
          indices.push(map[((y + oy) * lz + z + oz) * 3 + a]!);
        }
      }
    }
  }
  return finishNormals({
    positions: Float32Array.from(positions),
    normals: Float32Array.from(normals),
    indices: Uint32Array.from(indices),
  });
}
