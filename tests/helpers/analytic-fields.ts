import type { Dims } from '../../src/gpu/constants';
import { makeField } from './mesh-metrics';

/** Analytic test fields in grid units, positive inside (iso 0), with their WGSL twins where needed. */
export interface AnalyticCase {
  name: string;
  dims: Dims;
  field: Float32Array;
}

export function sphereField(n: number, r: number): Float32Array {
  const c = (n - 1) / 2;
  return makeField([n, n, n], (x, y, z) => r - Math.hypot(x - c, y - c, z - c));
}

export function torusField(n: number, major: number, minor: number): Float32Array {
  const c = (n - 1) / 2;
  return makeField([n, n, n], (x, y, z) => minor - Math.hypot(Math.hypot(x - c, y - c) - major, z - c));
}

export function twoSpheresField(n: number): Float32Array {
  const c = (n - 1) / 2;
  return makeField([n, n, n], (x, y, z) =>
    Math.max(n / 6 - Math.hypot(x - c / 2, y - c, z - c), n / 6 - Math.hypot(x - 1.5 * c, y - c, z - c)),
  );
}

/** Off-centre ellipsoid with radii 14, 18, 22 centred at (18.3, 22.6, 27.1) on a 40×48×56 grid. */
export const ELLIPSOID = { dims: [40, 48, 56] as Dims, centre: [18.3, 22.6, 27.1], radii: [14, 18, 22] };

export function ellipsoidField(): Float32Array {
  const { centre: c, radii: r } = ELLIPSOID;
  return makeField(ELLIPSOID.dims, (x, y, z) => 1 - Math.hypot((x - c[0]!) / r[0]!, (y - c[1]!) / r[1]!, (z - c[2]!) / r[2]!));
}

/** A sphere of radius 12 centred on the box's x = 0 face: the box cuts it. */
export function cutSphereField(n: number): Float32Array {
  const c = (n - 1) / 2;
  return makeField([n, n, n], (x, y, z) => 12 - Math.hypot(x, y - c, z - c));
}
