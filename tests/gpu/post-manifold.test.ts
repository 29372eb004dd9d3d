import { describe, expect, it } from 'vitest';
import { loadManifold, toManifold } from '../../src/post/manifold';
import { processMesh } from '../../src/post/process';
import { box, icosphere, withoutTriangles } from '../helpers/post-meshes';

// manifold-3d's WASM must load through Vite in a real browser (the post worker's path); no GPU used.

describe('manifold-3d in the browser', () => {
  it('loads its WASM and builds a cube', async () => {
    const wasm = await loadManifold();
    const cube = wasm.Manifold.cube([1, 2, 3]);
    expect(cube.volume()).toBeCloseTo(6, 6);
    cube.delete();
    const mesh = box([0, 0, 0], [1, 1, 1]);
    const solid = toManifold(wasm, { positions: mesh.positions, colours: mesh.colours, indices: mesh.indices });
    expect(solid.status()).toBe('NoError');
    expect(solid.volume()).toBeCloseTo(1, 6);
    solid.delete();
  });

  it('makes an open sphere printable there', async () => {
    const result = await processMesh(withoutTriangles(icosphere(3, 0.5), [0, 100]), { printable: true });
    expect(result.steps.some((s) => s.failed)).toBe(false);
    expect(result.report.watertight).toBe(true);
  });
});
