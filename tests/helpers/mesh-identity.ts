import { expect } from 'vitest';
import { maxAbsDifference, NORMAL_TOLERANCE } from './mesh-compare';

/** Asserts identicalMeshes with readable failures (counts first, then contents). */
export function expectIdenticalMeshes(
  actual: { positions: Float32Array; normals: Float32Array; indices: Uint32Array },
  expected: { positions: Float32Array; normals: Float32Array; indices: Uint32Array },
): void {
  expect(actual.positions.length).toBe(expected.positions.length);
  expect(actual.indices.length).toBe(expected.indices.length);
  expect(maxAbsDifference(actual.positions, expected.positions)).toBe(0);
  expect(maxAbsDifference(actual.indices, expected.indices)).toBe(0);
  expect(maxAbsDifference(actual.normals, expected.normals)).toBeLessThanOrEqual(NORMAL_TOLERANCE);
}
