import { unzipSync } from 'fflate';
import { Mesh } from 'three';
import { USDLoader } from 'three/examples/jsm/loaders/USDLoader.js';
import { describe, expect, it } from 'vitest';
import { exportMesh } from '../../src/export/export-mesh';
import { connectDisplayColor, DISPLAY_COLOR_READER } from '../../src/export/usdz';
import { srgbToLinear } from '../../src/lib/colour';
import { bounds, colouredCube, icosphere, zUpBounds } from '../helpers/export-fixtures';
import { zipDataOffsets } from '../helpers/zip-offsets';

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);


/** Numbers of a USDA array attribute such as `point3f[] points = [(1, 2, 3), ...]`. */
function usdaArray(usda: string, attribute: string): number[] {
  const match = new RegExp(`${attribute.replace(/[[\]]/g, '\\$&')} = \\[([^\\]]*)\\]`).exec(usda);
  expect(match, attribute).not.toBeNull();
  return match![1]!.replace(/[()]/g, '').split(',').map(Number);
}

describe('3MF package', () => {
  it('holds the three parts, millimetres, a welded solid with a colour group', async () => {
    const mesh = colouredCube();
    const file = await exportMesh('3mf', mesh, { unit: 'cm', name: 'A & B <cube>' });
    expect(file.extension).toBe('3mf');
    expect(file.warnings).toEqual([]);
    const parts = unzipSync(file.bytes);
    expect(Object.keys(parts).sort()).toEqual(['3D/3dmodel.model', '[Content_Types].xml', '_rels/.rels']);
    expect(text(parts['[Content_Types].xml'])).toContain('application/vnd.ms-package.3dmanufacturing-3dmodel+xml');
    expect(text(parts['_rels/.rels'])).toContain('Target="/3D/3dmodel.model"');
    const model = text(parts['3D/3dmodel.model']);
    expect(model).toContain('unit="millimeter"');
    expect(model).toContain('xmlns:m="http://schemas.microsoft.com/3dmanufacturing/material/2015/02"');
    expect(model).toContain('name="A &amp; B &lt;cube&gt;"');
    expect(model).toMatch(/<object id="2" type="model" pid="1" pindex="0"/);
    expect(model.match(/<vertex /g)!.length).toBe(8);
    expect(model.match(/<triangle /g)!.length).toBe(12);
    expect(model.match(/<m:color /g)!.length).toBe(6);
    // cm → mm, Z up, on z = 0.
    const xyz = [...model.matchAll(/<vertex x="([^"]+)" y="([^"]+)" z="([^"]+)"/g)].flatMap((m) => m.slice(1).map(Number));
    const expected = zUpBounds(mesh, 10);
    expect(bounds(xyz)).toEqual(expected);
  });

  it('writes an open mesh as type="surface" with a warning, and trusts a closed hint', async () => {
    const open = await exportMesh('3mf', colouredCube(true), { unit: 'mm', name: 'box' });
    expect(text(unzipSync(open.bytes)['3D/3dmodel.model'])).toContain('type="surface"');
    expect(open.warnings.join(' ')).toMatch(/open \(4 open edges\)/);
    const hinted = await exportMesh('3mf', colouredCube(true), { unit: 'mm', name: 'box', closed: true });
    expect(text(unzipSync(hinted.bytes)['3D/3dmodel.model'])).toContain('type="model"');
  });
});

describe('USDZ', () => {
  it('is an aligned, uncompressed archive whose material reads the vertex colours', async () => {
    const mesh = icosphere(1, 50, [0, 50, 0]);
    const file = await exportMesh('usdz', mesh, { unit: 'mm', name: 'ball' });
    expect(file.extension).toBe('usdz');
    const parts = unzipSync(file.bytes);
    const names = Object.keys(parts);
    expect(names[0]).toBe('model.usda');
    // USDZ: stored (not deflated), every file's data on a 64-byte boundary.
    const offsets = zipDataOffsets(file.bytes);
    expect([...offsets.keys()]).toEqual(names);
    for (const [name, offset] of offsets) {
      expect(offset % 64, name).toBe(0);
      expect(file.bytes.subarray(offset, offset + parts[name]!.length)).toEqual(parts[name]);
    }

    const root = text(parts['model.usda']);
    expect(root).toContain('upAxis = "Y"');
    expect(root).toContain('metersPerUnit = 1');
    expect(root).not.toMatch(/color3f inputs:diffuseColor = /);
    const material = /def Material "([^"]+)"/.exec(root)![1]!;
    expect(root).toContain(`color3f inputs:diffuseColor.connect = </Materials/${material}/${DISPLAY_COLOR_READER}.outputs:result>`);
    const reader = new RegExp(`def Shader "${DISPLAY_COLOR_READER}"\\s*\\{([^}]*)\\}`).exec(root)![1]!;
    expect(reader).toContain('uniform token info:id = "UsdPrimvarReader_float3"');
    expect(reader).toContain('string inputs:varname = "displayColor"');
    expect(reader).toContain('float3 outputs:result');

    const geometryName = names.find((n) => n.startsWith('geometries/'))!;
    const geometry = text(parts[geometryName]);
    const points = usdaArray(geometry, 'point3f[] points');
    expect(points.length).toBe(mesh.positions.length);
    const expected = bounds(mesh.positions);
    bounds(points).min.forEach((v, k) => expect(v).toBeCloseTo(expected.min[k]! / 1000, 6));
    bounds(points).max.forEach((v, k) => expect(v).toBeCloseTo(expected.max[k]! / 1000, 6));
    expect(bounds(points).min[1]).toBeCloseTo(0, 6); // Y up: the sphere stands on y = 0
    expect(usdaArray(geometry, 'int[] faceVertexIndices')).toEqual([...mesh.indices]);
    expect(usdaArray(geometry, 'int[] faceVertexCounts').every((n) => n === 3)).toBe(true);
    const colours = usdaArray(geometry, 'color3f[] primvars:displayColor');
    expect(colours.length).toBe(mesh.colours.length);
    colours.forEach((c, i) => expect(c).toBeCloseTo(srgbToLinear(mesh.colours[i]!), 5));
  });

  it("reads back in three.js's USDLoader: every triangle, in metres, Y up", async () => {
    const mesh = icosphere(2, 50, [0, 50, 0]);
    const file = await exportMesh('usdz', mesh, { unit: 'mm', name: 'ball' });
    const group = new USDLoader().parse(file.bytes.buffer.slice(file.bytes.byteOffset) as ArrayBuffer);
    const meshes: Mesh[] = [];
    group.traverse((object) => {
      if ((object as Mesh).isMesh) meshes.push(object as Mesh);
    });
    expect(meshes.length).toBe(1);
    const position = meshes[0]!.geometry.getAttribute('position');
    // The loader unrolls the faces: three corners per triangle.
    expect(position.count).toBe(mesh.indices.length);
    const { min, max } = bounds(position.array);
    [-0.05, 0, -0.05].forEach((v, k) => expect(min[k]).toBeCloseTo(v, 5));
    [0.05, 0.1, 0.05].forEach((v, k) => expect(max[k]).toBeCloseTo(v, 5));
  });

  it('refuses exporter output it does not recognise rather than writing a white model', () => {
    expect(() => connectDisplayColor('#usda 1.0\n')).toThrow(/no constant diffuseColor/);
  });
});
