/**
 * Binary STL for slicers: Z up, standing on z = 0, in millimetres (STL has no unit field and every
 * slicer reads it as millimetres), one normal per facet computed from its corners.
 */
import { METRES_PER_UNIT } from '../post/types';
import type { ResultMesh } from '../shared/mesh';
import { checkExportable } from './check';
import { faceNormal, zUpOnBed } from './frame';
import { asciiName, type MeshExportOptions } from './options';
import type { ExportedFile } from './types';

/** Writes `mesh` (in `options.unit`) as binary STL in millimetres, Z up, on z = 0. */
export function exportStl(
  mesh: ResultMesh,
  options: Pick<MeshExportOptions, 'unit' | 'name'>,
): ExportedFile {
  checkExportable(mesh, 'stl');
  const positions = zUpOnBed(mesh.positions, METRES_PER_UNIT[options.unit] / METRES_PER_UNIT.mm);
  const { indices } = mesh;
  const triangleCount = indices.length / 3;
  const bytes = new Uint8Array(84 + triangleCount * 50);
  const view = new DataView(bytes.buffer);
  // A header starting with "solid" makes some readers take the file for ASCII STL.
  const header = `CADLift binary STL, mm, Z up: ${asciiName(options.name)}`.slice(0, 80);
  bytes.set(new TextEncoder().encode(header), 0);
  view.setUint32(80, triangleCount, true);
  let offset = 84;
  for (let t = 0; t < triangleCount; t++) {
    const corners = [indices[t * 3]!, indices[t * 3 + 1]!, indices[t * 3 + 2]!] as const;
    for (const n of faceNormal(positions, ...corners)) {
      view.setFloat32(offset, n, true);
      offset += 4;
    }
    for (const v of corners) {
      for (let k = 0; k < 3; k++) {
        view.setFloat32(offset, positions[v * 3 + k]!, true);
        offset += 4;
      }
    }
    offset += 2; // attribute byte count: 0
  }
  return { bytes, mime: 'model/stl', extension: 'stl', warnings: [] };
}
