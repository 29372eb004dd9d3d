import { describe, expect, it } from 'vitest';
import { meshToGlb } from '../../../src/lib/export-glb';
import { srgbToLinear } from '../../../src/lib/colour';
import { linearToSrgb, readGlbMesh } from '../../../src/history/glb-mesh';
import type { ResultMesh } from '../../../src/shared/mesh';

describe('readGlbMesh', () => {
  it('reads back what meshToGlb wrote: positions, normals, indices exactly, colours within float error', async () => {
    const mesh: ResultMesh = {
      positions: new Float32Array([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]),
      normals: new Float32Array([0, 0, 1, 0, 0, 1, 0, 1, 0, 1, 0, 0]),
      colours: new Float32Array([0, 0.02, 0.5, 1, 0.25, 0.75, 0.1, 0.9, 0.3, 0.6, 0.004, 0.8]),
      indices: new Uint32Array([0, 1, 2, 0, 2, 3, 0, 3, 1]),
    };
    const back = await readGlbMesh(await meshToGlb(mesh));
    expect(back.positions).toEqual(mesh.positions);
    expect(back.normals).toEqual(mesh.normals);
    expect(back.indices).toEqual(mesh.indices);
    expect(back.indices).toBeInstanceOf(Uint32Array);
    for (let i = 0; i < mesh.colours.length; i++) expect(back.colours[i]).toBeCloseTo(mesh.colours[i]!, 5);
  });

  it('inverts srgbToLinear on both sides of the knee', () => {
    for (const c of [0, 0.001, 0.04045, 0.05, 0.5, 1]) expect(linearToSrgb(srgbToLinear(c))).toBeCloseTo(c, 6);
  });

  it('refuses bytes that are not a GLB', async () => {
    await expect(readGlbMesh(new Uint8Array([1, 2, 3, 4]))).rejects.toMatchObject({ code: 'history-corrupt' });
  });
});
