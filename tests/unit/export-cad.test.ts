/// <reference types="node" />
import { createRequire } from 'node:module';
import DxfParser from 'dxf-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportMesh } from '../../src/export/export-mesh';
import { real } from '../../src/export/step';
import { isClosed, weldByPosition } from '../../src/export/weld';
import { AppError } from '../../src/lib/errors';
import type { Unit } from '../../src/post/types';
import type { ResultMesh } from '../../src/shared/mesh';
import { bounds, colouredCube, icosphere, zUpBounds } from '../helpers/export-fixtures';

/** The part of occt-import-js's result the tests read (the package ships no types). */
interface OcctResult {
  success: boolean;
  root: { name: string; children: { name: string }[] };
  meshes: {
    attributes: { position: { array: number[] } };
    index: { array: number[] };
    brep_faces: { first: number; last: number }[];
  }[];
}
interface Occt {
  ReadStepFile(content: Uint8Array, params: { linearUnit: string } | null): OcctResult;
}

let occt: Occt;
beforeAll(async () => {
  // OpenCascade in WASM: an independent STEP reader, loaded once (a few seconds).
  occt = await (createRequire(import.meta.url)('occt-import-js') as () => Promise<Occt>)();
}, 60_000);

function readStep(bytes: Uint8Array) {
  const result = occt.ReadStepFile(bytes, { linearUnit: 'millimeter' });
  expect(result.success).toBe(true);
  const positions = result.meshes.flatMap((m) => m.attributes.position.array);
  let offset = 0;
  const indices: number[] = [];
  for (const m of result.meshes) {
    indices.push(...m.index.array.map((i) => i + offset));
    offset += m.attributes.position.array.length / 3;
  }
  return { result, positions: new Float32Array(positions), indices: new Uint32Array(indices) };
}

function count(text: string, entity: string): number {
  return text.match(new RegExp(`=${entity}\\(`, 'g'))?.length ?? 0;
}

function expectBounds(actual: { min: number[]; max: number[] }, expected: { min: number[]; max: number[] }, digits = 3) {
  actual.min.forEach((v, k) => expect(v).toBeCloseTo(expected.min[k]!, digits));
  actual.max.forEach((v, k) => expect(v).toBeCloseTo(expected.max[k]!, digits));
}

describe('STEP', () => {
  it('writes a closed cube as a FACETED_BREP solid that OpenCascade reads back closed, Z up on z = 0', async () => {
    const mesh = colouredCube();
    const file = await exportMesh('step', mesh, { unit: 'mm', name: "Bob's cube" });
    expect(file.extension).toBe('step');
    expect(file.warnings).toEqual([]);
    const text = new TextDecoder().decode(file.bytes);
    expect(text.startsWith('ISO-10303-21;')).toBe(true);
    expect(text.trimEnd().endsWith('END-ISO-10303-21;')).toBe(true);
    expect(text).toContain("FILE_SCHEMA(('AUTOMOTIVE_DESIGN");
    expect(text).toContain('SI_UNIT(.MILLI.,.METRE.)');
    expect(count(text, 'CLOSED_SHELL')).toBe(1);
    expect(count(text, 'FACETED_BREP')).toBe(1);
    expect(count(text, 'FACETED_BREP_SHAPE_REPRESENTATION')).toBe(1);
    expect(count(text, 'OPEN_SHELL')).toBe(0);
    expect(count(text, 'FACE_SURFACE')).toBe(12);
    expect(count(text, 'CARTESIAN_POINT')).toBe(8 + 1); // welded corners + the placement's origin

    const { result, positions, indices } = readStep(file.bytes);
    expect(result.root.children[0]!.name).toBe("Bob's cube");
    expect(indices.length / 3).toBe(12);
    expect(result.meshes[0]!.brep_faces.length).toBe(12);
    expectBounds(bounds(positions), zUpBounds(mesh));
    expect(isClosed(weldByPosition(positions, indices))).toBe(true);
  });

  it('writes an open box as an OPEN_SHELL surface model, with a warning', async () => {
    const mesh = colouredCube(true);
    const file = await exportMesh('step', mesh, { unit: 'mm', name: 'box' });
    const text = new TextDecoder().decode(file.bytes);
    expect(count(text, 'OPEN_SHELL')).toBe(1);
    expect(count(text, 'SHELL_BASED_SURFACE_MODEL')).toBe(1);
    expect(count(text, 'SHAPE_REPRESENTATION')).toBe(1);
    expect(count(text, 'CLOSED_SHELL')).toBe(0);
    expect(file.warnings.join(' ')).toMatch(/open/);
    const { positions, indices } = readStep(file.bytes);
    expect(indices.length / 3).toBe(10);
    expectBounds(bounds(positions), zUpBounds(mesh));
    expect(isClosed(weldByPosition(positions, indices))).toBe(false);
  });

  it('reads back every face of a 320-face sphere, in inches converted to millimetres', async () => {
    const mesh = icosphere(2, 2, [0.5, 3, 0]);
    const file = await exportMesh('step', mesh, { unit: 'in', name: 'ball' });
    const text = new TextDecoder().decode(file.bytes);
    expect(text).toContain("CONVERSION_BASED_UNIT('INCH'");
    expect(count(text, 'FACE_SURFACE')).toBe(320);
    const { positions, indices } = readStep(file.bytes);
    expect(indices.length / 3).toBe(320);
    expectBounds(bounds(positions), zUpBounds(mesh, 25.4), 2);
    expect(isClosed(weldByPosition(positions, indices))).toBe(true);
  });

  it('records the chosen unit', async () => {
    const units: [Unit, string][] = [['cm', 'SI_UNIT(.CENTI.,.METRE.)'], ['m', 'SI_UNIT($,.METRE.)']];
    for (const [unit, entity] of units) {
      const file = await exportMesh('step', colouredCube(), { unit, name: 'cube' });
      expect(new TextDecoder().decode(file.bytes)).toContain(entity);
      const { positions } = readStep(file.bytes);
      expectBounds(bounds(positions), zUpBounds(colouredCube(), unit === 'cm' ? 10 : 1000), 2);
    }
  });

  it('refuses more faces than stepMaxFaces, and warns past 20,000 when the limit is raised', async () => {
    const error = await exportMesh('step', icosphere(2), { unit: 'mm', name: 'x', stepMaxFaces: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('export-too-large');
    expect((error as AppError).message).toMatch(/at most 100 faces.*has 320/);

    const big = icosphere(5); // 20,480 faces: over the default limit
    const refused = await exportMesh('step', big, { unit: 'mm', name: 'x' }).catch((e: unknown) => e);
    expect((refused as AppError).code).toBe('export-too-large');
    const file = await exportMesh('step', big, { unit: 'mm', name: 'x', stepMaxFaces: 30_000 });
    expect(file.warnings.join(' ')).toMatch(/20,480 faces/);
  });

  it('writes REALs with a decimal point', () => {
    expect(real(1)).toBe('1.');
    expect(real(-0)).toBe('0.');
    expect(real(0.5)).toBe('0.5');
    expect(real(1e-7)).toBe('1.E-7');
    expect(real(-2.5e21)).toBe('-2.5E+21');
    expect(real(Math.fround(0.1))).toBe('0.100000001');
  });
});

describe('DXF', () => {
  const parse = (bytes: Uint8Array) => new DxfParser().parseSync(new TextDecoder().decode(bytes))!;

  it('writes one 3DFACE per triangle, Z up on z = 0, in the unit recorded in $INSUNITS', async () => {
    const mesh = colouredCube();
    const file = await exportMesh('dxf', mesh, { unit: 'mm', name: 'cube' });
    expect(file.extension).toBe('dxf');
    const dxf = parse(file.bytes);
    expect(dxf.header['$INSUNITS']).toBe(4);
    const faces = dxf.entities.filter((e) => e.type === '3DFACE') as unknown as { vertices: { x: number; y: number; z: number }[] }[];
    expect(dxf.entities.length).toBe(12);
    expect(faces.length).toBe(12);
    const corners: number[] = [];
    for (const face of faces) {
      // dxf-parser pads the list with an empty vertex; four carry coordinates.
      expect(face.vertices.filter((v) => v.x !== undefined).length).toBe(4);
      expect(face.vertices[3]).toEqual(face.vertices[2]);
      for (const v of face.vertices.slice(0, 3)) corners.push(v.x, v.y, v.z);
    }
    expectBounds(bounds(corners), zUpBounds(mesh), 6);
    // The rotation keeps the winding: the first face (+X side) still turns counter-clockwise seen from +X.
    const [a, b, c] = faces[0]!.vertices;
    const normalX = (b!.y - a!.y) * (c!.z - a!.z) - (b!.z - a!.z) * (c!.y - a!.y);
    expect(normalX).toBeGreaterThan(0);
  });

  it('maps each unit to its $INSUNITS code', async () => {
    const codes: [Unit, number][] = [['in', 1], ['mm', 4], ['cm', 5], ['m', 6]];
    const sphere: ResultMesh = icosphere(1);
    for (const [unit, code] of codes) {
      const dxf = parse((await exportMesh('dxf', sphere, { unit, name: 'x' })).bytes);
      expect(dxf.header['$INSUNITS']).toBe(code);
      expect(dxf.entities.length).toBe(80);
    }
  });
});
