/**
 * Wavefront OBJ with its texture: a zip of the .obj (positions, UVs, normals), a .mtl whose
 * `map_Kd` names the PNG, and the PNG, all under one base name so they keep finding each other
 * once unpacked. Y up, in the chosen unit, like the plain OBJ.
 */
import { zipSync } from 'fflate';
import type { TexturedMesh } from '../texture/types';
import { checkExportable } from './check';
import { asciiName, type MeshExportOptions } from './options';
import { checkTextured, texturePng } from './texture-file';
import { TextWriter } from './text-writer';
import type { ExportedFile } from './types';

/** Writes `mesh` as a zip of `<name>.obj`, `<name>.mtl` and `<name>.png`. */
export function exportTexturedObj(
  mesh: TexturedMesh,
  options: Pick<MeshExportOptions, 'unit' | 'name'>,
): ExportedFile {
  checkExportable(mesh, 'obj');
  checkTextured(mesh);
  const base = objFileBase(options.name);
  const material = 'baked';
  const { positions, normals, uvs, indices } = mesh;
  const vertexCount = positions.length / 3;

  const obj = new TextWriter();
  obj.line('# CADLift');
  obj.line(`# units: ${options.unit}, Y up; colours in ${base}.png`);
  obj.line(`mtllib ${base}.mtl`);
  obj.line(`o ${base}`);
  for (let v = 0; v < vertexCount; v++) {
    const i = v * 3;
    obj.line(`v ${num(positions[i]!)} ${num(positions[i + 1]!)} ${num(positions[i + 2]!)}`);
  }
  // OBJ's v runs up from the image's bottom row; glTF's (and the mesh's) runs down from the top.
  for (let v = 0; v < vertexCount; v++) {
    obj.line(`vt ${num(uvs[v * 2]!)} ${num(1 - uvs[v * 2 + 1]!)}`);
  }
  for (let v = 0; v < vertexCount; v++) {
    const i = v * 3;
    obj.line(`vn ${unit(normals[i]!)} ${unit(normals[i + 1]!)} ${unit(normals[i + 2]!)}`);
  }
  obj.line(`usemtl ${material}`);
  for (let t = 0; t < indices.length; t += 3) {
    const a = indices[t]! + 1;
    const b = indices[t + 1]! + 1;
    const c = indices[t + 2]! + 1;
    obj.line(`f ${a}/${a}/${a} ${b}/${b}/${b} ${c}/${c}/${c}`);
  }

  const mtl = new TextWriter();
  mtl.line('# CADLift');
  mtl.line(`newmtl ${material}`);
  // White diffuse so the map shows as baked; no specular highlight, like the GLB's rough material.
  mtl.line('Ka 0 0 0');
  mtl.line('Kd 1 1 1');
  mtl.line('Ks 0 0 0');
  mtl.line('d 1');
  mtl.line('illum 1');
  mtl.line(`map_Kd ${base}.png`);

  const bytes = zipSync({
    [`${base}.obj`]: obj.bytes(),
    [`${base}.mtl`]: mtl.bytes(),
    // PNG is compressed already.
    [`${base}.png`]: [texturePng(mesh.texture), { level: 0 }],
  });
  return { bytes, mime: 'application/zip', extension: 'zip', warnings: [] };
}

/** A base name that every OBJ reader takes in `mtllib` and `map_Kd`: no spaces, ASCII only. */
export function objFileBase(name: string): string {
  return asciiName(name, 'model').replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '') || 'model';
}

/** A float32 value with the digits it carries (7 significant), without trailing zeros. */
function num(value: number): string {
  return String(Number(value.toPrecision(7)));
}

function unit(value: number): string {
  return String(Math.round(value * 1e5) / 1e5);
}
