import { marchingCubes } from './gpu/marching-cubes';
import { marchingCubesCpu } from './gpu/reference/marching-cubes-cpu';

/** Meshes a sphere on this browser's GPU (or the CPU reference) and reports what ran. */
async function checkMeshingCore(out: HTMLElement): Promise<void> {
  const n = 128;
  const c = (n - 1) / 2;
  const field = new Float32Array(n ** 3);
  for (let x = 0; x < n; x++) for (let y = 0; y < n; y++) for (let z = 0; z < n; z++) {
    field[(x * n + y) * n + z] = 48 - Math.hypot(x - c, y - c, z - c);
  }
  const adapter = await navigator.gpu?.requestAdapter();
  const t0 = performance.now();
  let backend = 'CPU reference (WebGPU unavailable, slower)';
  let mesh;
  if (adapter) {
    const device = await adapter.requestDevice();
    mesh = await marchingCubes(device, field, [n, n, n], 0);
    device.destroy();
    backend = `WebGPU (${adapter.info.vendor || 'unknown'} ${adapter.info.architecture || ''})`;
  } else {
    mesh = marchingCubesCpu(field, [n, n, n], 0);
  }
  out.textContent = `${backend}: ${n}³ sphere → ${mesh.positions.length / 3} vertices, ${mesh.indices.length / 3} triangles in ${(performance.now() - t0).toFixed(0)} ms.`;
}

const out = document.getElementById('out')!;
checkMeshingCore(out).catch((e: unknown) => (out.textContent = `Meshing check failed: ${(e as Error).message}`));
