/**
 * Wavefront OBJ: Y up, in the chosen unit (OBJ has no unit field, so a comment records it),
 * vertex colours as the widely read `v x y z r g b` extension (sRGB 0..1), one normal per vertex.
 */
import type { ResultMesh } from '../shared/mesh';
import { checkExportable } from './check';
import { asciiName, type MeshExportOptions } from './options';
import { TextWriter } from './text-writer';
import type { ExportedFile } from './types';

/** Writes `mesh` as a single .obj with positions, vertex colours, normals and faces. */
export function exportObj(
  mesh: ResultMesh,
  options: Pick<MeshExportOptions, 'unit' | 'name'>,
): ExportedFile {
  checkExportable(mesh, 'obj');
  const { positions, normals, colours, indices } = mesh;
  const vertexCount = positions.length / 3;
  const lines = new TextWriter();
  lines.line('# CADLift');
  lines.line(`# units: ${options.unit}, Y up; vertex colours are sRGB`);
  lines.line(`o ${asciiName(options.name).replace(/\s+/g, '_')}`);
  for (let v = 0; v < vertexCount; v++) {
    const i = v * 3;
    lines.line(
      `v ${num(positions[i]!)} ${num(positions[i + 1]!)} ${num(positions[i + 2]!)} ${colour(colours[i]!)} ${colour(colours[i + 1]!)} ${colour(colours[i + 2]!)}`,
    );
  }
  for (let v = 0; v < vertexCount; v++) {
    const i = v * 3;
    lines.line(`vn ${unit(normals[i]!)} ${unit(normals[i + 1]!)} ${unit(normals[i + 2]!)}`);
  }
  for (let t = 0; t < indices.length; t += 3) {
    const a = indices[t]! + 1;
    const b = indices[t + 1]! + 1;
    const c = indices[t + 2]! + 1;
    lines.line(`f ${a}//${a} ${b}//${b} ${c}//${c}`);
  }
  return {
    bytes: lines.bytes(),
    mime: 'model/obj',
    extension: 'obj',
    warnings: [],
  };
}

/** A float32 coordinate with the digits it carries (7 significant), without trailing zeros. */
function num(value: number): string {
  return String(Number(value.toPrecision(7)));
}

function colour(value: number): string {
  return String(Math.round(Math.min(1, Math.max(0, value)) * 10000) / 10000);
}

function unit(value: number): string {
  return String(Math.round(value * 1e5) / 1e5);
}
