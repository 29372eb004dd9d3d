/**
 * USDZ for AR Quick Look: Y up, metres, written by three.js's USDZExporter. That exporter writes
 * the vertex colours as `primvars:displayColor` but binds a material with a constant diffuseColor,
 * so viewers show a white model; this module rewires the material's diffuseColor to a
 * UsdPrimvarReader_float3 that reads displayColor (UsdPreviewSurface spec, "Primvar Reader") and
 * repacks the archive with the 64-byte data alignment USDZ requires. A `TexturedMesh` instead gets
 * its UVs as `primvars:st` and a UsdUVTexture reading its PNG from inside the package.
 * It needs no DOM: the exporter draws on a canvas only for three.js textures, and the PNG is added
 * here rather than through one.
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
import { isTextured, texturePng } from './texture-file';
import type { ExportedFile } from './types';

/** Name of the shader this module adds to the exporter's material. */
export const DISPLAY_COLOR_READER = 'PrimvarReader_displayColor';

/** Where a textured model's PNG sits inside the package (the usda refers to it relative to itself). */
export const USDZ_TEXTURE_PATH = 'textures/colour.png';

/** Names of the shaders this module adds for a texture. */
export const TEXTURE_SHADERS = { st: 'PrimvarReader_st', texture: 'ColourTexture' } as const;

/**
 * Writes `mesh` (in `options.unit`) as USDZ in metres, its material coloured by the vertices or, for
 * a `TexturedMesh`, by its texture.
 */
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
  const textured = isTextured(mesh);
  // The exporter writes `uv` as primvars:st with t = 1 − v, turning glTF's v-down into USD's t-up.
  if (textured) geometry.setAttribute('uv', new BufferAttribute(new Float32Array(mesh.uvs), 2));
  const material = new MeshStandardMaterial({ vertexColors: true, roughness: 0.8, metalness: 0 });
  const object = new Mesh(geometry, material);
  object.name = options.name || 'CADLift model';
  try {
    const archive = await new USDZExporter().parseAsync(object, { quickLookCompatible: true });
    const files = unzipSync(new Uint8Array(archive));
    const modelName = Object.keys(files).find((name) => name.endsWith('.usda') && !name.includes('/'));
    if (!modelName) throw new Error('exportUsdz: the exporter wrote no root .usda layer.');
    const text = new TextDecoder().decode(files[modelName]);
    files[modelName] = new TextEncoder().encode(textured ? connectTexture(text, USDZ_TEXTURE_PATH) : connectDisplayColor(text));
    if (textured) {
      // The geometry layers, not the root, hold the primvars; a three.js upgrade may rename them.
      const st = Object.values(files).some((bytes) => /texCoord2f\[\] primvars:st = /.test(new TextDecoder().decode(bytes)));
      if (!st) throw new Error('exportUsdz: the exporter wrote no st primvar.');
      files[USDZ_TEXTURE_PATH] = texturePng(mesh.texture);
    }
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
  return connectDiffuse(usda, (pad) => ({
    source: `${DISPLAY_COLOR_READER}.outputs:result`,
    shaders: [
      `${pad}def Shader "${DISPLAY_COLOR_READER}"`,
      `${pad}{`,
      `${pad}\tuniform token info:id = "UsdPrimvarReader_float3"`,
      `${pad}\tfloat3 inputs:fallback = (1, 1, 1)`,
      `${pad}\tstring inputs:varname = "displayColor"`,
      `${pad}\tfloat3 outputs:result`,
      `${pad}}`,
    ],
  }));
}

/**
 * Replaces each material's constant `inputs:diffuseColor` with a UsdUVTexture that reads `file` (a
 * path inside the package, sRGB) at the mesh's `st` primvar (UsdPreviewSurface spec, "Texture
 * Reader"). Throws, like `connectDisplayColor`, when the exporter's output changed shape.
 */
export function connectTexture(usda: string, file: string): string {
  return connectDiffuse(usda, (pad, material) => ({
    source: `${TEXTURE_SHADERS.texture}.outputs:rgb`,
    shaders: [
      `${pad}def Shader "${TEXTURE_SHADERS.st}"`,
      `${pad}{`,
      `${pad}\tuniform token info:id = "UsdPrimvarReader_float2"`,
      `${pad}\tfloat2 inputs:fallback = (0, 0)`,
      `${pad}\tstring inputs:varname = "st"`,
      `${pad}\tfloat2 outputs:result`,
      `${pad}}`,
      '',
      `${pad}def Shader "${TEXTURE_SHADERS.texture}"`,
      `${pad}{`,
      `${pad}\tuniform token info:id = "UsdUVTexture"`,
      `${pad}\tasset inputs:file = @${file}@`,
      `${pad}\tfloat2 inputs:st.connect = </Materials/${material}/${TEXTURE_SHADERS.st}.outputs:result>`,
      `${pad}\ttoken inputs:sourceColorSpace = "sRGB"`,
      `${pad}\ttoken inputs:wrapS = "clamp"`,
      `${pad}\ttoken inputs:wrapT = "clamp"`,
      `${pad}\tfloat3 outputs:rgb`,
      `${pad}}`,
    ],
  }));
}

/**
 * Connects each material's constant diffuseColor to `source` (a shader output, relative to the
 * material), inserting `shaders` (given the indent and the material's name) before PreviewSurface.
 */
function connectDiffuse(
  usda: string,
  build: (pad: string, material: string) => { source: string; shaders: string[] },
): string {
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
    // The readers sit next to PreviewSurface inside the material, at its indent.
    const materialStart = before.lastIndexOf(`def Material "${materialName}"`);
    const found = /^([ \t]*)def Shader "PreviewSurface"/m.exec(patched.slice(materialStart));
    if (!found) throw new Error('exportUsdz: no PreviewSurface shader in the material.');
    const { source, shaders } = build(found[1]!, materialName);
    const connected = `${match[1]!}color3f inputs:diffuseColor.connect = </Materials/${materialName}/${source}>`;
    patched = before + connected + patched.slice(match.index + match[0].length);
    // PreviewSurface comes before the diffuseColor line it holds, so its offset is unchanged.
    const at = materialStart + found.index;
    patched = patched.slice(0, at) + [...shaders, '', ''].join('\n') + patched.slice(at);
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
