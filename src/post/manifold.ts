/** Loading manifold-3d (WASM) in Node and in the browser, and moving meshes in and out of it. */
import type { Manifold, ManifoldToplevel } from 'manifold-3d';
import type { WorkMesh } from './work-mesh';

let memo: Promise<ManifoldToplevel> | undefined;

/**
 * manifold-3d, loaded once. In Node its own `new URL('manifold.wasm', import.meta.url)` finds the
 * file next to manifold.js; in a browser the module may be pre-bundled by Vite away from its
 * .wasm, so the URL comes from a `?url` import (imported only there, so tsx and Node never see it).
 */
export function loadManifold(): Promise<ManifoldToplevel> {
  memo ??= (async () => {
    const { default: Module } = await import('manifold-3d');
    const node = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node;
    let wasm: string | undefined;
    if (!node) wasm = (await import('manifold-3d/manifold.wasm?url')).default;
    const toplevel = await Module(wasm ? { locateFile: () => wasm } : undefined);
    toplevel.setup();
    return toplevel;
  })().catch((error: unknown) => {
    memo = undefined;
    throw error;
  });
  return memo;
}

/**
 * A manifold-3d Manifold from the mesh, with colours as vertex properties 3..5; throws (manifold-3d's
 * own error) when the mesh is not a closed, oriented 2-manifold. The caller deletes it.
 */
export function toManifold(wasm: ManifoldToplevel, mesh: WorkMesh): Manifold {
  const n = mesh.positions.length / 3;
  const vertProperties = new Float32Array(n * 6);
  for (let v = 0; v < n; v++) {
    vertProperties.set(mesh.positions.subarray(v * 3, v * 3 + 3), v * 6);
    vertProperties.set(mesh.colours.subarray(v * 3, v * 3 + 3), v * 6 + 3);
  }
  const input = new wasm.Mesh({ numProp: 6, vertProperties, triVerts: mesh.indices });
  return new wasm.Manifold(input);
}

/** The mesh of a Manifold built by {@link toManifold} (positions and colours back out). */
export function fromManifold(manifold: Manifold): WorkMesh {
  const out = manifold.getMesh();
  const n = out.numVert;
  const stride = out.numProp;
  const positions = new Float32Array(n * 3);
  const colours = new Float32Array(n * 3);
  for (let v = 0; v < n; v++) {
    positions.set(out.vertProperties.subarray(v * stride, v * stride + 3), v * 3);
    if (stride >= 6) colours.set(out.vertProperties.subarray(v * stride + 3, v * stride + 6), v * 3);
    else colours.fill(0.8, v * 3, v * 3 + 3);
  }
  return { positions, colours, indices: Uint32Array.from(out.triVerts) };
}
