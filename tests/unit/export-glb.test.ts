import { Accessor, WebIO } from '@gltf-transform/core';
import { Color, SRGBColorSpace } from 'three';
import { describe, expect, it } from 'vitest';
import { srgbToLinear, srgbToLinearArray } from '../../src/lib/colour';
import { AppError } from '../../src/lib/errors';
import { meshToGlb } from '../../src/lib/export-glb';
import { meshBounds, toGltfFrame } from '../../src/lib/mesh-frame';
import type { ResultMesh } from '../../src/shared/mesh';
import { gltfValidator, type ValidationReport } from '../helpers/gltf-validator';
import { areaAndVolume, isClosed } from '../helpers/mesh-metrics';


/**
 * A closed octahedron off the origin (so bounds are not symmetric), counter-clockwise from outside,
 * with distinct colours, one normal three times too long and one zero normal.
 */
function octahedron(): ResultMesh {
  const centre = [0.1, -0.2, 0.3];
  const radii = [0.5, 0.7, 0.9];
  const positions: number[] = [];
  const normals: number[] = [];
  for (let axis = 0; axis < 3; axis++) {
    for (const sign of [1, -1]) {
      const p = [...centre];
      const n = [0, 0, 0];
      p[axis]! += sign * radii[axis]!;
      n[axis] = sign;
      positions.push(...p);
      normals.push(...n);
    }
  }
  normals[0] = 3; // vertex 0: (3, 0, 0), must come out (1, 0, 0)
  normals.splice(3, 3, 0, 0, 0); // vertex 1: zero, must come out (0, 1, 0)
  const indices: number[] = [];
  for (const sx of [1, -1]) {
    for (const sy of [1, -1]) {
      for (const sz of [1, -1]) {
        const tri = [sx > 0 ? 0 : 1, sy > 0 ? 2 : 3, sz > 0 ? 4 : 5];
        // Flipping one axis mirrors the face, so its order flips to stay counter-clockwise outside.
        indices.push(...(sx * sy * sz > 0 ? tri : [tri[0]!, tri[2]!, tri[1]!]));
      }
    }
  }
  const colours = [1, 0, 0, 0, 1, 0, 0, 0, 1, 0.5, 0.5, 0.5, 0.04045, 0.2, 0.8, 0, 0, 0];
  return {
    positions: new Float32Array(positions),
    normals: new Float32Array(normals),
    colours: new Float32Array(colours),
    indices: new Uint32Array(indices),
  };
}

/** A strip of `n` separate triangles: enough vertices to need 32-bit indices. */
function triangleSoup(n: number): ResultMesh {
  const positions = new Float32Array(n * 9);
  const normals = new Float32Array(n * 9);
  for (let t = 0; t < n; t++) {
    positions.set([t, 0, 0, t + 1, 0, 0, t, 1, 0], t * 9);
    normals.set([0, 0, 1, 0, 0, 1, 0, 0, 1], t * 9);
  }
  return {
    positions,
    normals,
    colours: new Float32Array(n * 9).fill(0.5),
    indices: Uint32Array.from({ length: n * 3 }, (_, i) => i),
  };
}

async function validate(bytes: Uint8Array): Promise<ValidationReport> {
  const report = await gltfValidator.validateBytes(bytes);
  expect(report.issues.numErrors).toBe(0);
  expect(report.issues.numWarnings).toBe(0);
  // Not even infos or hints (unused objects, degenerate triangles, ...).
  expect(report.issues.messages).toEqual([]);
  return report;
}

function accessorArray(accessor: Accessor | null): Float32Array {
  expect(accessor).not.toBeNull();
  return accessor!.getArray() as Float32Array;
}

describe('srgbToLinear', () => {
  it('follows the IEC 61966-2-1 curve', () => {
    expect(srgbToLinear(0)).toBe(0);
    expect(srgbToLinear(0.04045)).toBeCloseTo(0.04045 / 12.92, 9);
    expect(srgbToLinear(0.5)).toBeCloseTo(0.21404114, 8);
    expect(srgbToLinear(1)).toBeCloseTo(1, 12);
  });

  it('agrees with three.js, so the viewer and the GLB show the same colours', () => {
    const colour = new Color();
    for (let i = 0; i <= 100; i++) {
      const c = i / 100;
      colour.setRGB(c, c, c, SRGBColorSpace); // three stores colours linear
      expect(Math.abs(srgbToLinear(c) - colour.r)).toBeLessThan(1e-8);
    }
  });

  it('converts an array into a new one', () => {
    const input = new Float32Array([0, 0.5, 1]);
    const out = srgbToLinearArray(input);
    expect(out).not.toBe(input);
    expect([...input]).toEqual([0, 0.5, 1]);
    expect(out[1]).toBeCloseTo(0.21404114, 6);
  });
});

describe('toGltfFrame', () => {
  it('maps TripoSR (x, y, z) to glTF (y, z, x) for positions and normals', () => {
    const positions = new Float32Array([1, 2, 3, -4, 5, -6]);
    const normals = new Float32Array([0, 0, 1, 1, 0, 0]);
    toGltfFrame(positions, normals);
    expect([...positions]).toEqual([2, 3, 1, 5, -6, -4]);
    // TripoSR's up (+z) becomes glTF's up (+Y); its +x, where the input camera is, becomes +Z.
    expect([...normals]).toEqual([0, 1, 0, 0, 0, 1]);
  });

  it("puts TripoSR's input camera where a glTF viewer's default camera is", () => {
    // View 0 of get_spherical_cameras (TripoSR tsr/utils.py): the camera at +x looks at the
    // origin with right = lookat × up = +y and up = +z. A glTF viewer's default camera sits on +Z
    // looking −Z with +X right and +Y up; the photo's side must face it, unmirrored.
    const basis = new Float32Array([2, 0, 0, 0, 1, 0, 0, 0, 1]); // position, right, up
    toGltfFrame(basis, new Float32Array(0));
    expect([...basis]).toEqual([0, 0, 2, 1, 0, 0, 0, 1, 0]);
  });

  it('is a rotation: a closed mesh keeps the sign and size of its volume', () => {
    const mesh = octahedron();
    expect(isClosed(mesh)).toBe(true);
    const before = areaAndVolume(mesh);
    expect(before.volume).toBeGreaterThan(0);
    toGltfFrame(mesh.positions, mesh.normals);
    const after = areaAndVolume(mesh);
    expect(after.volume).toBeCloseTo(before.volume, 6);
    expect(after.area).toBeCloseTo(before.area, 6);
  });

  it('gives bounds of a mesh, zeros when empty', () => {
    const { min, max } = meshBounds(octahedron().positions);
    [-0.4, -0.9, -0.6].forEach((v, i) => expect(min[i]).toBeCloseTo(v, 6));
    [0.6, 0.5, 1.2].forEach((v, i) => expect(max[i]).toBeCloseTo(v, 6));
    expect(meshBounds(new Float32Array(0))).toEqual({ min: [0, 0, 0], max: [0, 0, 0] });
  });
});

describe('meshToGlb', () => {
  it('writes a valid GLB that reads back with the same mesh', async () => {
    const mesh = octahedron();
    const bytes = await meshToGlb(mesh, { name: 'octahedron' });
    const report = await validate(bytes);
    expect(report.info.generator).toBe('CADLift');
    expect(report.info.totalVertexCount).toBe(6);
    expect(report.info.totalTriangleCount).toBe(8);

    const io = new WebIO();
    // The reader replaces asset.generator with its own, so read it from the JSON chunk.
    expect((await io.binaryToJSON(bytes)).json.asset.generator).toBe('CADLift');
    const doc = await io.readBinary(bytes);
    const meshes = doc.getRoot().listMeshes();
    expect(meshes.length).toBe(1);
    expect(meshes[0]!.getName()).toBe('octahedron');
    const primitives = meshes[0]!.listPrimitives();
    expect(primitives.length).toBe(1);
    const primitive = primitives[0]!;

    const position = primitive.getAttribute('POSITION')!;
    expect(position.getCount()).toBe(6);
    const bounds = meshBounds(mesh.positions);
    expect(position.getMin([])).toEqual(bounds.min.map(Math.fround));
    expect(position.getMax([])).toEqual(bounds.max.map(Math.fround));
    expect([...accessorArray(position)]).toEqual([...mesh.positions]);

    const indices = primitive.getIndices()!;
    expect(indices.getComponentType()).toBe(Accessor.ComponentType.UNSIGNED_SHORT);
    expect(indices.getCount() / 3).toBe(8);
    expect([...indices.getArray()!]).toEqual([...mesh.indices]);

    const normals = accessorArray(primitive.getAttribute('NORMAL'));
    for (let i = 0; i < normals.length; i += 3) {
      expect(Math.hypot(normals[i]!, normals[i + 1]!, normals[i + 2]!)).toBeCloseTo(1, 6);
    }
    expect([...normals.subarray(0, 6)]).toEqual([1, 0, 0, 0, 1, 0]);

    const colour = primitive.getAttribute('COLOR_0')!;
    expect(colour.getType()).toBe('VEC3');
    expect(colour.getComponentType()).toBe(Accessor.ComponentType.FLOAT);
    const colours = accessorArray(colour);
    mesh.colours.forEach((c, i) => {
      expect(Math.abs(colours[i]! - srgbToLinear(c))).toBeLessThan(1e-6);
    });

    const material = primitive.getMaterial()!;
    expect(material.getMetallicFactor()).toBe(0);
    expect(material.getRoughnessFactor()).toBeCloseTo(0.8, 6);
    expect(material.getDoubleSided()).toBe(false);
  });

  it('uses 32-bit indices from 65536 vertices on', async () => {
    const bytes = await meshToGlb(triangleSoup(21846)); // 65538 vertices
    await validate(bytes);
    const doc = await new WebIO().readBinary(bytes);
    const indices = doc.getRoot().listMeshes()[0]!.listPrimitives()[0]!.getIndices()!;
    expect(indices.getComponentType()).toBe(Accessor.ComponentType.UNSIGNED_INT);
    expect(indices.getCount()).toBe(65538);
  });

  it('does not change the mesh it is given', async () => {
    const mesh = octahedron();
    const copy = octahedron();
    await meshToGlb(mesh);
    expect(mesh).toEqual(copy);
  });

  it("rejects a mesh without triangles with AppError 'no-surface'", async () => {
    const empty: ResultMesh = {
      positions: new Float32Array(0),
      normals: new Float32Array(0),
      colours: new Float32Array(0),
      indices: new Uint32Array(0),
    };
    const error = await meshToGlb(empty).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('no-surface');
    expect((error as AppError).message).toMatch(/Lower the density threshold/);
  });

  it('rejects out-of-range indices as a bug', async () => {
    const mesh = octahedron();
    mesh.indices[0] = 6;
    await expect(meshToGlb(mesh)).rejects.toThrow(/out of range/);
  });
});
