/** Small meshes with known answers for the exporter tests (node and browser). */
import type { ResultMesh } from '../../src/shared/mesh';

/** Centre and half size of `colouredCube`: off the origin, so bounds and the bed shift show. */
export const CUBE_CENTRE = [5, 7, -3] as const;
export const CUBE_HALF = 10;

/**
 * A closed cube, counter-clockwise from outside, with one colour and one normal per side: 24
 * vertices on 8 positions, as a flat-shaded mesh has them. `withoutTop` leaves out the +Y side
 * (an open box: 10 triangles, 4 open edges).
 */
export function colouredCube(withoutTop = false): ResultMesh {
  const positions: number[] = [];
  const normals: number[] = [];
  const colours: number[] = [];
  const indices: number[] = [];
  for (let axis = 0; axis < 3; axis++) {
    for (const sign of [1, -1]) {
      if (withoutTop && axis === 1 && sign === 1) continue;
      const u = (axis + 1) % 3;
      const v = (axis + 2) % 3;
      const base = positions.length / 3;
      for (const [a, b] of [[-1, -1], [1, -1], [1, 1], [-1, 1]] as const) {
        const p = [...CUBE_CENTRE];
        p[axis]! += sign * CUBE_HALF;
        p[u]! += a * CUBE_HALF;
        p[v]! += b * CUBE_HALF;
        positions.push(...p);
        const n = [0, 0, 0];
        n[axis] = sign;
        normals.push(...n);
        colours.push(...sideColour(axis, sign));
      }
      // (u, v, axis) is right-handed, so u→v turns counter-clockwise seen from +axis.
      if (sign > 0) indices.push(base, base + 1, base + 2, base, base + 2, base + 3);
      else indices.push(base, base + 2, base + 1, base, base + 3, base + 2);
    }
  }
  return {
    positions: new Float32Array(positions),
    normals: new Float32Array(normals),
    colours: new Float32Array(colours),
    indices: new Uint32Array(indices),
  };
}

/** The sRGB colour of a cube side, each distinct and exact in 8 bits. */
export function sideColour(axis: number, sign: number): [number, number, number] {
  return [[0xff, 0x20, 0x40], [0x10, 0xc0, 0x30], [0x22, 0x44, 0xee]][axis]!.map(
    (c) => (sign > 0 ? c : 255 - c) / 255,
  ) as [number, number, number];
}

/**
 * An icosphere of radius `radius` (subdivided `levels` times: 20·4^levels triangles, shared
 * vertices), its colour from its position, centred at `centre`.
 */
export function icosphere(levels: number, radius = 1, centre = [0, 0, 0]): ResultMesh {
  const t = (1 + Math.sqrt(5)) / 2;
  let vertices: number[][] = [
    [-1, t, 0], [1, t, 0], [-1, -t, 0], [1, -t, 0], [0, -1, t], [0, 1, t],
    [0, -1, -t], [0, 1, -t], [t, 0, -1], [t, 0, 1], [-t, 0, -1], [-t, 0, 1],
  ].map(normalise);
  let faces = [
    [0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11], [1, 5, 9], [5, 11, 4], [11, 10, 2],
    [10, 7, 6], [7, 1, 8], [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8], [3, 8, 9], [4, 9, 5],
    [2, 4, 11], [6, 2, 10], [8, 6, 7], [9, 8, 1],
  ];
  for (let level = 0; level < levels; level++) {
    const midpoints = new Map<string, number>();
    const mid = (a: number, b: number): number => {
      const key = a < b ? `${a},${b}` : `${b},${a}`;
      let id = midpoints.get(key);
      if (id === undefined) {
        id = vertices.length;
        vertices.push(normalise(vertices[a]!.map((x, k) => x + vertices[b]![k]!)));
        midpoints.set(key, id);
      }
      return id;
    };
    faces = faces.flatMap(([a, b, c]) => {
      const ab = mid(a!, b!);
      const bc = mid(b!, c!);
      const ca = mid(c!, a!);
      return [[a!, ab, ca], [b!, bc, ab], [c!, ca, bc], [ab, bc, ca]];
    });
    vertices = [...vertices];
  }
  return {
    positions: new Float32Array(vertices.flatMap((v) => v.map((x, k) => x * radius + centre[k]!))),
    normals: new Float32Array(vertices.flat()),
    colours: new Float32Array(vertices.flatMap((v) => v.map((x) => (x + 1) / 2))),
    indices: new Uint32Array(faces.flat()),
  };
}

function normalise(v: number[]): number[] {
  const length = Math.hypot(...v);
  return v.map((x) => x / length);
}

/** Axis-aligned bounds of 3-per-vertex coordinates. */
export function bounds(positions: ArrayLike<number>): { min: number[]; max: number[] } {
  const min = [Infinity, Infinity, Infinity];
  const max = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < positions.length; i++) {
    min[i % 3] = Math.min(min[i % 3]!, positions[i]!);
    max[i % 3] = Math.max(max[i % 3]!, positions[i]!);
  }
  return { min, max };
}

/**
 * The bounds a Z-up export must have: glTF (x, y, z) → (x, −z, y), lowest point on z = 0, times
 * `scale`.
 */
export function zUpBounds(mesh: ResultMesh, scale = 1): { min: number[]; max: number[] } {
  const { min, max } = bounds(mesh.positions);
  return {
    min: [min[0]! * scale, -max[2]! * scale, 0],
    max: [max[0]! * scale, -min[2]! * scale, (max[1]! - min[1]!) * scale],
  };
}

/**
 * A closed torus of `rings` × `segments` quads (2·rings·segments triangles, no degenerate ones),
 * tube radius `tube` around a ring of radius `radius` in the XZ plane, coloured by angle: a stand-in
 * for a processed mesh of a chosen size.
 */
export function torus(rings: number, segments: number, radius = 30, tube = 10): ResultMesh {
  const positions: number[] = [];
  const normals: number[] = [];
  const colours: number[] = [];
  const indices: number[] = [];
  for (let i = 0; i < rings; i++) {
    const u = (i / rings) * 2 * Math.PI;
    for (let j = 0; j < segments; j++) {
      const v = (j / segments) * 2 * Math.PI;
      const n = [Math.cos(v) * Math.cos(u), Math.sin(v), Math.cos(v) * Math.sin(u)];
      normals.push(...n);
      positions.push(radius * Math.cos(u) + tube * n[0]!, tube + tube * n[1]!, radius * Math.sin(u) + tube * n[2]!);
      colours.push(i / rings, j / segments, 0.5);
    }
  }
  const id = (i: number, j: number) => (i % rings) * segments + (j % segments);
  for (let i = 0; i < rings; i++) {
    for (let j = 0; j < segments; j++) {
      const [a, b, c, d] = [id(i, j), id(i + 1, j), id(i + 1, j + 1), id(i, j + 1)];
      // Increasing u runs +X → +Z (clockwise from +Y), increasing v outward-then-up: a, d, c is outward.
      indices.push(a, d, c, a, c, b);
    }
  }
  return {
    positions: new Float32Array(positions),
    normals: new Float32Array(normals),
    colours: new Float32Array(colours),
    indices: new Uint32Array(indices),
  };
}
