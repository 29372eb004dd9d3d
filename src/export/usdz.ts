/**
 * USDZ for AR Quick Look: Y up, metres, written by three.js's USDZExporter. That exporter writes
 * the vertex colours as `primvars:displayColor` but binds a material with a constant diffuseColor,
 * so viewers show a white model; this module rewires the material's diffuseColor to a
 * UsdPrimvarReader_float3 that reads displayColor (UsdPreviewSurface spec, "Primvar Reader") and
 * repacks the archive with the 64-byte data alignment USDZ requires.
 * It needs no DOM: the exporter only draws on a canvas for textures, and this mesh has none.
 */
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { BufferAttribute, BufferGeometry, Mesh, MeshStandardMaterial } from 'three';
import { USDZExporter } from 'three/examples/jsm/exporters/USDZExporter.js';
import { srgbToLinearArray } from '../lib/colour';
import { METRES_PER_UNIT } from '../post/types';
import type { ResultMesh } from '../shared/mesh';
import { checkExportable } from './check';
import { scaled } from './frame';
import type { MeshExportOptions } from './options';
import type { ExportedFile } from './types';

/** Name of the shader this module adds to the exporter's material. */
export const DISPLAY_COLOR_READER = 'PrimvarReader_displayColor';

/** Writes `mesh` (in `options.unit`) as USDZ in metres, its material coloured by the vertices. */
export async function exportUsdz(
  mesh: ResultMesh,
  options: Pick<MeshExportOptions, 'unit' | 'name'>,
): Promise<ExportedFile> {
  checkExportable(mesh, 'usdz');
  const geometry = new BufferGeometry();
  geometry.setAttribute('position', new BufferAttribute(scaled(mesh.positions, METRES_PER_UNIT[options.unit]), 3));
  geometry.setAttribute('normal', new BufferAttribute(new Float32Array(mesh.normals), 3));
  // USD colours are linear, like three's colour attributes.
  geometry.setAttribute('color', new BufferAttribute(srgbToLinearArray(mesh.colours), 3));
  geometry.setIndex(new BufferAttribute(new Uint32Array(mesh.indices), 1));
  const material = new MeshStandardMaterial({ vertexColors: true, roughness: 0.8, metalness: 0 });
  const object = new Mesh(geometry, material);
  object.name = options.name || 'CADLift model';
  try {
    const archive = await new USDZExporter().parseAsync(object, { quickLookCompatible: true });
    const files = unzipSync(new Uint8Array(archive));
    const modelName = Object.keys(files).find((name) => name.endsWith('.usda') && !name.includes('/'));
    if (!modelName) throw new Error('exportUsdz: the exporter wrote no root .usda layer.');
    const text = new TextDecoder().decode(files[modelName]);
    files[modelName] = new TextEncoder().encode(connectDisplayColor(text));
    return {
      bytes: zipAligned(files, modelName),
      mime: 'model/vnd.usdz+zip',
      extension: 'usdz',
      warnings: [],
    };
  } finally {
    geometry.dispose();
    material.dispose();
  }
}

/**
 * Replaces each material's constant `inputs:diffuseColor` with a connection to a new primvar
 * reader of `displayColor`. Throws when the exporter's output no longer has the expected shape
 * (a three.js upgrade), so the tests catch it rather than users getting white models.
 */
export function connectDisplayColor(usda: string): string {
  const constant = /^([ \t]*)color3f inputs:diffuseColor = \([^)]*\)$/m;
  let patched = usda;
  let count = 0;
  for (;;) {
    const match = constant.exec(patched);
    if (!match) break;
    // The material's path: the closest `def Material "..."` before this line, under /Materials.
    const before = patched.slice(0, match.index);
    const materials = [...before.matchAll(/def Material "([^"]+)"/g)];
    const materialName = materials.at(-1)?.[1];
    if (!materialName) throw new Error('exportUsdz: diffuseColor outside a Material.');
    const path = `/Materials/${materialName}/${DISPLAY_COLOR_READER}`;
    const indent = match[1]!;
    patched = `${before}${indent}color3f inputs:diffuseColor.connect = <${path}.outputs:result>${patched.slice(match.index + match[0].length)}`;
    // The reader sits next to PreviewSurface inside the material.
    const shader = /^([ \t]*)def Shader "PreviewSurface"/m;
    const materialStart = before.lastIndexOf(`def Material "${materialName}"`);
    const rest = patched.slice(materialStart);
    const found = shader.exec(rest);
    if (!found) throw new Error('exportUsdz: no PreviewSurface shader in the material.');
    const pad = found[1]!;
    const reader = [
      `${pad}def Shader "${DISPLAY_COLOR_READER}"`,
      `${pad}{`,
      `${pad}\tuniform token info:id = "UsdPrimvarReader_float3"`,
      `${pad}\tfloat3 inputs:fallback = (1, 1, 1)`,
      `${pad}\tstring inputs:varname = "displayColor"`,
      `${pad}\tfloat3 outputs:result`,
      `${pad}}`,
      '',
      '',
    ].join('\n');
    const at = materialStart + found.index;
    patched = patched.slice(0, at) + reader + patched.slice(at);
    count++;
  }
  if (count === 0) throw new Error('exportUsdz: the exporter wrote no constant diffuseColor to connect.');
  return patched;
}

/**
 * Stores `files` uncompressed with every file's data starting on a 64-byte boundary, as the USDZ
 * spec requires, padding through each local header's extra field; `first` goes first (the layer
 * Quick Look opens).
 */
function zipAligned(files: Record<string, Uint8Array>, first: string): Uint8Array {
  const names = [first, ...Object.keys(files).filter((name) => name !== first)];
  const zippable: Zippable = {};
  let offset = 0;
  for (const name of names) {
    const data = files[name]!;
    const nameLength = new TextEncoder().encode(name).length;
    // Local header: 30 bytes + name + extra field; an extra block is a 4-byte tag + its data.
    const bare = offset + 30 + nameLength;
    const pad = (64 - ((bare + 4) % 64)) % 64;
    zippable[name] = [data, { level: 0, extra: { 0x3039: new Uint8Array(pad) } }];
    offset = bare + 4 + pad + data.length;
  }
  return zipSync(zippable, { level: 0 });
}
