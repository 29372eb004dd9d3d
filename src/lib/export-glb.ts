/** Writes the pipeline's mesh as a binary glTF (.glb) that any viewer shows with its colours. */
import { Document, WebIO } from '@gltf-transform/core';
import { checkTextured, isTextured, texturePng } from '../export/texture-file';
import type { ResultMesh } from '../shared/mesh';
import { srgbToLinearArray } from './colour';
import { AppError } from './errors';

/** Options for `meshToGlb`. */
export interface GlbOptions {
  /** Name of the mesh and its node. */
  name: string;
  /** `asset.generator` in the file. */
  generator: string;
}

/** glTF's sampler wrap mode (the WebGL enum); TextureInfo.WrapMode types its entries as optional. */
const CLAMP_TO_EDGE = 33071;

/** Defaults for `meshToGlb`. */
export const GLB_DEFAULTS: GlbOptions = { name: 'CADLift model', generator: 'CADLift' };

/**
 * Packs `mesh` (already in glTF's frame) into GLB bytes: one mesh with POSITION, NORMAL, linear
 * COLOR_0 and indices, and a rough non-metallic material so viewers light the vertex colours. A
 * `TexturedMesh` gets TEXCOORD_0 and its texture as a PNG `baseColorTexture` instead of COLOR_0.
 * Throws AppError 'no-surface' for a mesh without triangles.
 *
 * @example
 * const bytes = await meshToGlb(result);
 * const url = URL.createObjectURL(new Blob([bytes], { type: 'model/gltf-binary' }));
 */
export async function meshToGlb(
  mesh: ResultMesh,
  options: Partial<GlbOptions> = {},
): Promise<Uint8Array> {
  const { name, generator } = { ...GLB_DEFAULTS, ...options };
  const vertexCount = mesh.positions.length / 3;
  if (mesh.indices.length === 0 || vertexCount === 0) {
    throw new AppError(
      'no-surface',
      'The model found no surface at this threshold. Lower the density threshold and generate again.',
    );
  }
  checkShape(mesh, vertexCount);
  const textured = isTextured(mesh);
  if (textured) checkTextured(mesh);

  const doc = new Document();
  doc.getRoot().getAsset().generator = generator;
  const buffer = doc.createBuffer();
  const vec3 = (array: Float32Array<ArrayBuffer>) =>
    doc.createAccessor().setType('VEC3').setArray(array).setBuffer(buffer);
  // Copies: the document must not alias the caller's buffers, which may be views or shared memory.
  // 65535 is the primitive-restart value, which glTF forbids as an index, hence <= 65535 vertices.
  const indexArray =
    vertexCount <= 65535 ? new Uint16Array(mesh.indices) : new Uint32Array(mesh.indices);

  const material = doc
    .createMaterial(name)
    .setBaseColorFactor([1, 1, 1, 1])
    .setMetallicFactor(0)
    .setRoughnessFactor(0.8)
    .setDoubleSided(false);
  const primitive = doc
    .createPrimitive()
    .setAttribute('POSITION', vec3(new Float32Array(mesh.positions)))
    .setAttribute('NORMAL', vec3(unitNormals(mesh.normals)))
    .setIndices(doc.createAccessor().setType('SCALAR').setArray(indexArray).setBuffer(buffer))
    .setMaterial(material);
  if (textured) {
    // No COLOR_0 beside the texture: glTF multiplies the two, which would darken the baked colours.
    primitive.setAttribute(
      'TEXCOORD_0',
      doc.createAccessor().setType('VEC2').setArray(new Float32Array(mesh.uvs)).setBuffer(buffer),
    );
    const texture = doc.createTexture(`${name} colour`).setImage(texturePng(mesh.texture)).setMimeType('image/png');
    material.setBaseColorTexture(texture);
    // Clamp: the atlas does not tile, and repeat would bleed the opposite edge into border texels.
    material.getBaseColorTextureInfo()!.setWrapS(CLAMP_TO_EDGE).setWrapT(CLAMP_TO_EDGE);
  } else {
    primitive.setAttribute('COLOR_0', vec3(srgbToLinearArray(mesh.colours)));
  }
  const gltfMesh = doc.createMesh(name).addPrimitive(primitive);
  const node = doc.createNode(name).setMesh(gltfMesh);
  doc.getRoot().setDefaultScene(doc.createScene().addChild(node));

  return new WebIO().writeBinary(doc);
}

/** Buffers that disagree are a bug upstream, not something the user can fix. */
function checkShape(mesh: ResultMesh, vertexCount: number): void {
  const { positions, normals, colours, indices } = mesh;
  const n = positions.length;
  if (n % 3 !== 0 || normals.length !== n || colours.length !== n) {
    throw new Error(
      `meshToGlb: buffer lengths disagree (positions ${n}, normals ${normals.length}, colours ${colours.length}).`,
    );
  }
  if (indices.length % 3 !== 0) {
    throw new Error(`meshToGlb: ${indices.length} indices do not make whole triangles.`);
  }
  for (let i = 0; i < indices.length; i++) {
    if (indices[i]! >= vertexCount) {
      throw new Error(`meshToGlb: index ${indices[i]} is out of range (${vertexCount} vertices).`);
    }
  }
}

/**
 * A new array of unit normals. glTF requires unit NORMALs (validators reject others), and a normal
 * averaged over opposing faces can come out zero or short; a zero one points up so lighting stays
 * defined.
 */
function unitNormals(normals: Float32Array): Float32Array<ArrayBuffer> {
  const out = new Float32Array(normals.length);
  for (let i = 0; i + 2 < normals.length; i += 3) {
    const x = normals[i]!;
    const y = normals[i + 1]!;
    const z = normals[i + 2]!;
    const length = Math.hypot(x, y, z);
    if (length > 1e-12 && Number.isFinite(length)) {
      out[i] = x / length;
      out[i + 1] = y / length;
      out[i + 2] = z / length;
    } else {
      out[i + 1] = 1;
    }
  }
  return out;
}
