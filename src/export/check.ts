/** Checks every exporter runs first, so a bad mesh fails the same way whatever the format. */
import { AppError } from '../lib/errors';
import type { ResultMesh } from '../shared/mesh';

/**
 * Throws AppError 'no-surface' for a mesh without triangles and 'export-invalid-mesh' for
 * non-finite coordinates; buffers that disagree are a bug upstream and throw a plain Error.
 */
export function checkExportable(mesh: ResultMesh, format: string): void {
  const { positions, normals, colours, indices } = mesh;
  const n = positions.length;
  if (indices.length === 0 || n === 0) {
    throw new AppError(
      'no-surface',
      `The model has no triangles to write as ${format.toUpperCase()}. Generate a model, or switch off the processing step that removed every triangle.`,
    );
  }
  if (n % 3 !== 0 || normals.length !== n || colours.length !== n || indices.length % 3 !== 0) {
    throw new Error(
      `export: buffer lengths disagree (positions ${n}, normals ${normals.length}, colours ${colours.length}, indices ${indices.length}).`,
    );
  }
  const vertexCount = n / 3;
  for (let i = 0; i < indices.length; i++) {
    if (indices[i]! >= vertexCount) {
      throw new Error(`export: index ${indices[i]} is out of range (${vertexCount} vertices).`);
    }
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(positions[i]!)) {
      throw new AppError(
        'export-invalid-mesh',
        'The model has broken (not-a-number) coordinates. Run "Clean up" in Prepare for printing and export again.',
      );
    }
  }
}
