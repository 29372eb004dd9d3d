/**
 * Binary little-endian PLY: Y up, in the chosen unit (a comment records it), float normals and
 * 8-bit sRGB colours per vertex, the layout MeshLab, Blender and CloudCompare read.
 */
import type { ResultMesh } from '../shared/mesh';
import { checkExportable } from './check';
import { asciiName, type MeshExportOptions } from './options';
import type { ExportedFile } from './types';

/** Writes `mesh` as binary PLY with positions, normals and uchar sRGB colours. */
export function exportPly(
  mesh: ResultMesh,
  options: Pick<MeshExportOptions, 'unit' | 'name'>,
): ExportedFile {
  checkExportable(mesh, 'ply');
  const { positions, normals, colours, indices } = mesh;
  const vertexCount = positions.length / 3;
  const triangleCount = indices.length / 3;
  const header = [
    'ply',
    'format binary_little_endian 1.0',
    'comment CADLift',
    `comment units: ${options.unit}, Y up; colours are sRGB`,
    `obj_info ${asciiName(options.name)}`,
    `element vertex ${vertexCount}`,
    'property float x',
    'property float y',
    'property float z',
    'property float nx',
    'property float ny',
    'property float nz',
    'property uchar red',
    'property uchar green',
    'property uchar blue',
    `element face ${triangleCount}`,
    'property list uchar uint vertex_indices',
    'end_header',
    '',
  ].join('\n');
  const head = new TextEncoder().encode(header);
  const bytes = new Uint8Array(head.length + vertexCount * 27 + triangleCount * 13);
  bytes.set(head, 0);
  const view = new DataView(bytes.buffer);
  let offset = head.length;
  for (let v = 0; v < vertexCount; v++) {
    for (let k = 0; k < 3; k++, offset += 4) view.setFloat32(offset, positions[v * 3 + k]!, true);
    for (let k = 0; k < 3; k++, offset += 4) view.setFloat32(offset, normals[v * 3 + k]!, true);
    for (let k = 0; k < 3; k++) bytes[offset++] = toByte(colours[v * 3 + k]!);
  }
  for (let t = 0; t < triangleCount; t++) {
    bytes[offset++] = 3;
    for (let k = 0; k < 3; k++, offset += 4) view.setUint32(offset, indices[t * 3 + k]!, true);
  }
  return { bytes, mime: 'application/x-ply', extension: 'ply', warnings: [] };
}

/** An sRGB channel 0..1 as 0..255. */
export function toByte(c: number): number {
  return Math.round(Math.min(1, Math.max(0, c)) * 255);
}
