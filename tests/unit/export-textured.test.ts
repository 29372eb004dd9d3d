import { Accessor, WebIO } from '@gltf-transform/core';
import { decode } from 'fast-png';
import { unzipSync } from 'fflate';
import { resolveObjectURL } from 'node:buffer';
import { BufferGeometry, ImageLoader, Mesh, MeshStandardMaterial } from 'three';
import { MTLLoader } from 'three/examples/jsm/loaders/MTLLoader.js';
import { OBJLoader } from 'three/examples/jsm/loaders/OBJLoader.js';
import { USDLoader } from 'three/examples/jsm/loaders/USDLoader.js';
import { describe, expect, it, vi } from 'vitest';
import { exportMesh } from '../../src/export/export-mesh';
import { texturePng } from '../../src/export/texture-file';
import { connectTexture, TEXTURE_SHADERS, USDZ_TEXTURE_PATH } from '../../src/export/usdz';
import { colouredCube } from '../helpers/export-fixtures';
import { gltfValidator } from '../helpers/gltf-validator';
import { texelAt, texturedCube } from '../helpers/textured-fixtures';
import { zipDataOffsets } from '../helpers/zip-offsets';

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

/** The PNG's pixels as RGB, checked to be 8-bit. */
function decodeRgb(png: Uint8Array): { width: number; height: number; data: Uint8Array; channels: number } {
  const image = decode(png);
  expect(image.depth).toBe(8);
  return { width: image.width, height: image.height, data: image.data as Uint8Array, channels: image.channels };
}

/** The decoded image holds the texture's RGB texel for texel. */
function expectSamePixels(png: Uint8Array): ReturnType<typeof decodeRgb> {
  const source = texturedCube().texture;
  const image = decodeRgb(png);
  expect([image.width, image.height]).toEqual([source.width, source.height]);
  const rgb: number[] = [];
  const expected: number[] = [];
  for (let p = 0; p < source.width * source.height; p++) {
    for (let k = 0; k < 3; k++) {
      rgb.push(image.data[p * image.channels + k]!);
      expected.push(source.rgba[p * 4 + k]!);
    }
  }
  expect(rgb).toEqual(expected);
  return image;
}


describe('texture PNG', () => {
  it('decodes (fast-png) to the texture’s RGB, without alpha', () => {
    const image = expectSamePixels(texturePng(texturedCube().texture));
    expect(image.channels).toBe(3);
  });

  it('refuses pixels that do not fill the image', () => {
    expect(() => texturePng({ width: 4, height: 4, rgba: new Uint8Array(60) })).toThrow(/60 bytes/);
  });
});

describe('textured GLB', () => {
  it('validates, has TEXCOORD_0 per vertex and a PNG baseColorTexture, and no vertex colours', async () => {
    const mesh = texturedCube();
    const file = await exportMesh('glb', mesh, { unit: 'mm', name: 'cube' });
    const report = await gltfValidator.validateBytes(file.bytes);
    expect(report.issues.messages.filter((m) => m.severity === 0)).toEqual([]);
    expect(report.issues.numErrors).toBe(0);

    const doc = await new WebIO().readBinary(file.bytes);
    const [primitive] = doc.getRoot().listMeshes()[0]!.listPrimitives();
    const vertexCount = mesh.positions.length / 3;
    const uv = primitive!.getAttribute('TEXCOORD_0')!;
    expect(uv.getType()).toBe(Accessor.Type.VEC2);
    expect(uv.getCount()).toBe(vertexCount);
    expect(primitive!.getAttribute('POSITION')!.getCount()).toBe(vertexCount);
    expect(primitive!.getAttribute('COLOR_0')).toBeNull();

    const material = primitive!.getMaterial()!;
    expect(material.getBaseColorFactor()).toEqual([1, 1, 1, 1]);
    const texture = material.getBaseColorTexture()!;
    expect(texture.getMimeType()).toBe('image/png');
    expect(material.getBaseColorTextureInfo()!.getTexCoord()).toBe(0);
    const image = expectSamePixels(texture.getImage()!);
    // Each vertex reads the texel its source UV names.
    for (let v = 0; v < vertexCount; v++) {
      const [u, t] = uv.getElement(v, [0, 0]);
      expect(texelAt(image, u, t, image.data, image.channels)).toEqual(texelAt(mesh.texture, mesh.uvs[v * 2]!, mesh.uvs[v * 2 + 1]!));
    }
  });

  it('leaves the vertex-colour GLB as it was: COLOR_0, no texture', async () => {
    const file = await exportMesh('glb', colouredCube(), { unit: 'm', name: 'cube' });
    const doc = await new WebIO().readBinary(file.bytes);
    const [primitive] = doc.getRoot().listMeshes()[0]!.listPrimitives();
    expect(primitive!.getAttribute('COLOR_0')).not.toBeNull();
    expect(primitive!.getAttribute('TEXCOORD_0')).toBeNull();
    expect(doc.getRoot().listTextures()).toEqual([]);
  });
});

describe('textured OBJ', () => {
  it('is a zip whose OBJ, MTL and PNG name each other, with v flipped up', async () => {
    const mesh = texturedCube();
    const file = await exportMesh('obj', mesh, { unit: 'cm', name: 'Red cube #2' });
    expect([file.extension, file.mime]).toEqual(['zip', 'application/zip']);
    const parts = unzipSync(file.bytes);
    expect(Object.keys(parts).sort()).toEqual(['Red_cube_2.mtl', 'Red_cube_2.obj', 'Red_cube_2.png']);
    const obj = text(parts['Red_cube_2.obj']);
    const mtl = text(parts['Red_cube_2.mtl']);
    expect(obj).toMatch(/^mtllib Red_cube_2\.mtl$/m);
    const used = /^usemtl (\S+)$/m.exec(obj)![1]!;
    const materials = new MTLLoader().parse(mtl, '').materialsInfo as Record<string, Record<string, string>>;
    expect(Object.keys(materials)).toEqual([used]);
    expect(materials[used]!.map_kd).toBe('Red_cube_2.png');
    const image = expectSamePixels(parts['Red_cube_2.png']!);

    // three's OBJLoader as the independent reader: one corner per face corner, its uv in OBJ's v-up.
    const group = new OBJLoader().parse(obj);
    const loaded = group.children[0] as Mesh;
    const uv = loaded.geometry.getAttribute('uv');
    expect(uv.count).toBe(mesh.indices.length);
    for (let corner = 0; corner < mesh.indices.length; corner++) {
      const v = mesh.indices[corner]!;
      const read = texelAt(image, uv.getX(corner), 1 - uv.getY(corner), image.data, image.channels);
      expect(read).toEqual(texelAt(mesh.texture, mesh.uvs[v * 2]!, mesh.uvs[v * 2 + 1]!));
    }
    expect(obj.match(/^vt /gm)!.length).toBe(mesh.positions.length / 3);
    expect(obj).toMatch(/^f 1\/1\/1 /m);
  });

  it('stays a single vertex-colour .obj for an untextured mesh', async () => {
    const file = await exportMesh('obj', colouredCube(), { unit: 'mm', name: 'cube' });
    expect(file.extension).toBe('obj');
    expect(text(file.bytes)).not.toContain('mtllib');
  });
});

describe('textured USDZ', () => {
  it('holds the PNG, aligned, and a UsdUVTexture that reads it at st', async () => {
    const mesh = texturedCube();
    const file = await exportMesh('usdz', mesh, { unit: 'mm', name: 'cube' });
    const parts = unzipSync(file.bytes);
    const names = Object.keys(parts);
    expect(names[0]).toBe('model.usda');
    expect(names).toContain(USDZ_TEXTURE_PATH);
    for (const [name, offset] of zipDataOffsets(file.bytes)) {
      expect(offset % 64, name).toBe(0);
      expect(file.bytes.subarray(offset, offset + parts[name]!.length)).toEqual(parts[name]);
    }
    const image = expectSamePixels(parts[USDZ_TEXTURE_PATH]!);

    const root = text(parts['model.usda']);
    expect(root).not.toMatch(/color3f inputs:diffuseColor = /);
    const material = /def Material "([^"]+)"/.exec(root)![1]!;
    expect(root).toContain(`color3f inputs:diffuseColor.connect = </Materials/${material}/${TEXTURE_SHADERS.texture}.outputs:rgb>`);
    const reader = new RegExp(`def Shader "${TEXTURE_SHADERS.texture}"\\s*\\{([^}]*)\\}`).exec(root)![1]!;
    expect(reader).toContain('uniform token info:id = "UsdUVTexture"');
    expect(reader).toContain(`asset inputs:file = @${USDZ_TEXTURE_PATH}@`);
    expect(reader).toContain('token inputs:sourceColorSpace = "sRGB"');
    expect(reader).toContain(`float2 inputs:st.connect = </Materials/${material}/${TEXTURE_SHADERS.st}.outputs:result>`);
    const st = new RegExp(`def Shader "${TEXTURE_SHADERS.st}"\\s*\\{([^}]*)\\}`).exec(root)![1]!;
    expect(st).toContain('string inputs:varname = "st"');

    // USD's t runs up from the image's bottom row.
    const geometry = text(parts[names.find((n) => n.startsWith('geometries/'))!]);
    const values = /texCoord2f\[\] primvars:st = \[([^\]]*)\]/.exec(geometry)![1]!.replace(/[()]/g, '').split(',').map(Number);
    expect(values.length).toBe(mesh.uvs.length);
    for (let v = 0; v < values.length / 2; v++) {
      const read = texelAt(image, values[v * 2]!, 1 - values[v * 2 + 1]!, image.data, image.channels);
      expect(read).toEqual(texelAt(mesh.texture, mesh.uvs[v * 2]!, mesh.uvs[v * 2 + 1]!));
    }
  });

  it("reads back in three.js's USDLoader: st per corner and the PNG as the material's map", async () => {
    const mesh = texturedCube();
    const file = await exportMesh('usdz', mesh, { unit: 'm', name: 'cube' });
    // The loader decodes images through the DOM; here it hands over the bytes it resolved instead.
    const images: Blob[] = [];
    const load = vi.spyOn(ImageLoader.prototype, 'load').mockImplementation((url, onLoad) => {
      images.push(resolveObjectURL(url)!);
      onLoad?.({ width: 48, height: 32 } as HTMLImageElement);
      return {} as HTMLImageElement;
    });
    try {
      const group = new USDLoader().parse(file.bytes.buffer.slice(file.bytes.byteOffset) as ArrayBuffer);
      const meshes: Mesh<BufferGeometry, MeshStandardMaterial>[] = [];
      group.traverse((object) => {
        if ((object as Mesh).isMesh) meshes.push(object as Mesh<BufferGeometry, MeshStandardMaterial>);
      });
      expect(meshes.length).toBe(1);
      expect(meshes[0]!.geometry.getAttribute('uv')?.count).toBe(mesh.indices.length);
      expect(meshes[0]!.material.map).not.toBeNull();
      expect(images.length).toBe(1);
      expect(new Uint8Array(await images[0]!.arrayBuffer())).toEqual(unzipSync(file.bytes)[USDZ_TEXTURE_PATH]);
    } finally {
      load.mockRestore();
    }
  });

  it('refuses exporter output it does not recognise rather than writing an untextured model', () => {
    expect(() => connectTexture('#usda 1.0\n', USDZ_TEXTURE_PATH)).toThrow(/no constant diffuseColor/);
  });
});
