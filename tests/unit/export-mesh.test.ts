import { WebIO } from '@gltf-transform/core';
import { BufferGeometry, Mesh } from 'three';
import { OBJLoader } from 'three/examples/jsm/loaders/OBJLoader.js';
import { PLYLoader } from 'three/examples/jsm/loaders/PLYLoader.js';
import { STLLoader } from 'three/examples/jsm/loaders/STLLoader.js';
import { describe, expect, it } from 'vitest';
import { srgbToLinear } from '../../src/lib/colour';
import { AppError } from '../../src/lib/errors';
import { exportFileName, exportMesh } from '../../src/export/export-mesh';
import { EXPORT_FORMATS } from '../../src/export/types';
import { zUpOnBed } from '../../src/export/frame';
import { isClosed, openEdgeCount, weldByPosition } from '../../src/export/weld';
import type { ResultMesh } from '../../src/shared/mesh';
import {
  bounds,
  colouredCube,
  CUBE_CENTRE,
  CUBE_HALF,
  icosphere,
  sideColour,
  zUpBounds,
} from '../helpers/export-fixtures';
import { gltfValidator } from '../helpers/gltf-validator';
import { areaAndVolume } from '../helpers/mesh-metrics';

const buffer = (bytes: Uint8Array): ArrayBuffer =>
  bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;

function expectBounds(actual: { min: number[]; max: number[] }, expected: { min: number[]; max: number[] }, digits = 4) {
  actual.min.forEach((v, k) => expect(v).toBeCloseTo(expected.min[k]!, digits));
  actual.max.forEach((v, k) => expect(v).toBeCloseTo(expected.max[k]!, digits));
}

/** Every read-back colour (linear, from a three.js loader) is one of the cube's six side colours. */
function expectSideColours(colours: ArrayLike<number>, tolerance = 1e-3) {
  const sides = [0, 1, 2].flatMap((axis) => [1, -1].map((sign) => sideColour(axis, sign).map(srgbToLinear)));
  const seen = new Set<number>();
  for (let i = 0; i < colours.length; i += 3) {
    const match = sides.findIndex((s) => s.every((c, k) => Math.abs(c - colours[i + k]!) < tolerance));
    expect(match).toBeGreaterThanOrEqual(0);
    seen.add(match);
  }
  expect(seen.size).toBe(6);
}

describe('Z-up frame', () => {
  it('is a rotation that keeps volume and winding, and stands the model on z = 0', () => {
    const mesh = icosphere(2, 3, [1, 2, 3]);
    const before = areaAndVolume(mesh);
    expect(before.volume).toBeGreaterThan(0);
    const zUp = { ...mesh, positions: new Float32Array(zUpOnBed(mesh.positions)) };
    const after = areaAndVolume(zUp);
    expect(after.volume).toBeCloseTo(before.volume, 3);
    expect(bounds(zUp.positions).min[2]).toBe(0);
    // The glTF top (+Y) is now the top (+Z).
    const top = mesh.positions.indexOf(Math.max(...mesh.positions.filter((_, i) => i % 3 === 1)));
    expect(zUp.positions[top + 1]).toBeCloseTo(6, 5);
  });
});

describe('weldByPosition', () => {
  it('welds a flat-shaded cube into 8 vertices and finds it closed, the open box open', () => {
    const cube = weldByPosition(colouredCube().positions, colouredCube().indices);
    expect(cube.positions.length / 3).toBe(8);
    expect(cube.indices.length / 3).toBe(12);
    expect(isClosed(cube)).toBe(true);
    const box = weldByPosition(colouredCube(true).positions, colouredCube(true).indices);
    expect(isClosed(box)).toBe(false);
    expect(openEdgeCount(box.indices, box.positions.length / 3)).toBe(4);
  });

  it('drops triangles that collapse', () => {
    const welded = weldByPosition(new Float32Array([0, 0, 0, 1, 0, 0, 0, 1, 0, -0, 0, 0]), new Uint32Array([0, 1, 2, 0, 1, 3]));
    expect(welded.collapsed).toBe(1);
    expect([...welded.sourceTriangle]).toEqual([0]);
  });
});

describe('GLB', () => {
  it('is valid, in metres, Y up, with vertex colours', async () => {
    const mesh = colouredCube();
    const file = await exportMesh('glb', mesh, { unit: 'mm', name: 'cube' });
    expect(file.extension).toBe('glb');
    const report = await gltfValidator.validateBytes(file.bytes);
    expect(report.issues.numErrors).toBe(0);
    expect(report.info.totalTriangleCount).toBe(12);
    expect(report.info.totalVertexCount).toBe(24);
    const primitive = (await new WebIO().readBinary(file.bytes)).getRoot().listMeshes()[0]!.listPrimitives()[0]!;
    const position = primitive.getAttribute('POSITION')!;
    const expected = bounds(mesh.positions);
    expectBounds(
      { min: position.getMin([]), max: position.getMax([]) },
      { min: expected.min.map((v) => v / 1000), max: expected.max.map((v) => v / 1000) },
      6,
    );
    expectSideColours(primitive.getAttribute('COLOR_0')!.getArray()!, 1e-5);
  });
});

describe('OBJ', () => {
  it('reads back with positions, normals and vertex colours, Y up, in the unit', async () => {
    const mesh = colouredCube();
    const file = await exportMesh('obj', mesh, { unit: 'cm', name: 'my cube' });
    const text = new TextDecoder().decode(file.bytes);
    expect(text).toMatch(/^# units: cm, Y up/m);
    const group = new OBJLoader().parse(text);
    const geometry = (group.children[0] as Mesh).geometry as BufferGeometry;
    expect(geometry.getAttribute('position').count).toBe(36);
    expectBounds(bounds(geometry.getAttribute('position').array), bounds(mesh.positions));
    expectSideColours(geometry.getAttribute('color').array);
    const normals = geometry.getAttribute('normal').array;
    // Triangle 0 is the +X side.
    expect([normals[0], normals[1], normals[2]]).toEqual([1, 0, 0]);
  });
});

describe('STL', () => {
  it('is binary, Z up on z = 0, in millimetres, with outward facet normals', async () => {
    const mesh = colouredCube();
    const file = await exportMesh('stl', mesh, { unit: 'cm', name: 'cube' });
    expect(file.bytes.length).toBe(84 + 12 * 50);
    expect(new TextDecoder().decode(file.bytes.subarray(0, 5))).not.toBe('solid');
    const geometry = new STLLoader().parse(buffer(file.bytes));
    const position = geometry.getAttribute('position');
    expect(position.count).toBe(36);
    expectBounds(bounds(position.array), zUpBounds(mesh, 10));
    // Every facet normal points away from the cube's centre, now at (50, 30, 100) mm.
    const centre = [CUBE_CENTRE[0] * 10, -CUBE_CENTRE[2] * 10, CUBE_HALF * 10];
    const normal = geometry.getAttribute('normal');
    for (let t = 0; t < 12; t++) {
      const n = [normal.getX(t * 3), normal.getY(t * 3), normal.getZ(t * 3)];
      expect(Math.hypot(...n)).toBeCloseTo(1, 6);
      let dot = 0;
      for (let k = 0; k < 3; k++) {
        const c = (position.getComponent(t * 3, k) + position.getComponent(t * 3 + 1, k) + position.getComponent(t * 3 + 2, k)) / 3;
        dot += n[k]! * (c - centre[k]!);
      }
      // The centroid of a side sits half the cube's size out along its normal.
      expect(dot).toBeCloseTo(CUBE_HALF * 10, 3);
    }
    // Outward normals and a positive volume: the rotation kept the winding.
    const read: ResultMesh = { ...mesh, positions: position.array as Float32Array, indices: Uint32Array.from({ length: 36 }, (_, i) => i) };
    expect(areaAndVolume(read).volume).toBeCloseTo(200 ** 3, -2);
  });
});

describe('PLY', () => {
  it('reads back with indices, normals and 8-bit colours, Y up, in the unit', async () => {
    const mesh = icosphere(2, 30, [0, 40, 0]);
    const file = await exportMesh('ply', mesh, { unit: 'mm', name: 'ball' });
    const geometry = new PLYLoader().parse(buffer(file.bytes));
    expect(geometry.getIndex()!.count).toBe(mesh.indices.length);
    expect([...geometry.getIndex()!.array]).toEqual([...mesh.indices]);
    expect(geometry.getAttribute('position').count).toBe(mesh.positions.length / 3);
    expectBounds(bounds(geometry.getAttribute('position').array), bounds(mesh.positions));
    expect(bounds(geometry.getAttribute('position').array).min[1]).toBeCloseTo(10, 4);
    // The loader turns the file's sRGB bytes linear and stores them as normalised bytes again:
    // two 8-bit roundings, each under 1.2/255 on the linear scale.
    const colour = geometry.getAttribute('color');
    expect(colour.count).toBe(mesh.colours.length / 3);
    for (let v = 0; v < colour.count; v++) {
      for (let k = 0; k < 3; k++) {
        expect(Math.abs(colour.getComponent(v, k) - srgbToLinear(mesh.colours[v * 3 + k]!))).toBeLessThan(2 / 255);
      }
    }
    const normals = geometry.getAttribute('normal').array;
    expect(normals[0]).toBeCloseTo(mesh.normals[0]!, 6);
  });
});

describe('exportMesh', () => {
  it('offers every format and rejects a mesh without triangles or with NaN', async () => {
    const empty: ResultMesh = {
      positions: new Float32Array(0),
      normals: new Float32Array(0),
      colours: new Float32Array(0),
      indices: new Uint32Array(0),
    };
    const broken = colouredCube();
    broken.positions[4] = NaN;
    for (const format of EXPORT_FORMATS) {
      const error = await exportMesh(format, empty, { unit: 'mm', name: 'x' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('no-surface');
      const nan = await exportMesh(format, broken, { unit: 'mm', name: 'x' }).catch((e: unknown) => e);
      expect((nan as AppError).code).toBe('export-invalid-mesh');
    }
  });

  it('rejects a format it does not know', async () => {
    await expect(exportMesh('fbx' as never, colouredCube(), { unit: 'mm', name: 'x' })).rejects.toThrow(/unknown format fbx/);
  });

  it('does not change the mesh it is given', async () => {
    const mesh = colouredCube();
    for (const format of EXPORT_FORMATS) await exportMesh(format, mesh, { unit: 'cm', name: 'x' });
    expect(mesh).toEqual(colouredCube());
  });
});

describe('exportFileName', () => {
  it('names the object, the processing and the format', () => {
    expect(exportFileName('coffee', 'printable-50k', 'stl')).toBe('coffee-printable-50k.stl');
    expect(exportFileName('Café Crème / mug?', 'printable 50k', '3mf')).toBe('cafe-creme-mug-printable-50k.3mf');
    expect(exportFileName('', '', 'step')).toBe('model.step');
    expect(exportFileName('../../etc', 'raw', 'usdz')).toBe('etc-raw.usdz');
    expect(exportFileName('x'.repeat(200), '', 'dxf')).toBe(`${'x'.repeat(80)}.dxf`);
  });
});
