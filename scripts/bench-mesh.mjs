// Meshing benchmark (not part of CI): dense vs coarse-to-fine evaluations and milliseconds, WGSL vs
// the CPU reference, on a seeded synthetic triplane. Runs in Node on WebGPU through Dawn (npm
// `webgpu`); on this project's machines set VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json.
//   npm run bench:mesh -- --sizes 64,128,256 --cpu-max 64
// Writes bench-results/mesh-<time>.json and prints a table. Absolute times mean something only on a
// hardware adapter; on SwiftShader compare ratios within one run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'vite';
import { create, globals } from 'webgpu';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const sizes = arg('sizes', '64,128').split(',').map(Number);
const cpuMax = Number(arg('cpu-max', '64'));

// Without a GPU driver, use the SwiftShader Vulkan (and loader) that Debian's Chromium ships; the
// loader path must be set before the process starts, hence the re-run.
if (!process.env.VK_ICD_FILENAMES && process.platform === 'linux' && existsSync('/usr/lib/chromium/vk_swiftshader_icd.json')) {
  const env = {
    ...process.env,
    VK_ICD_FILENAMES: '/usr/lib/chromium/vk_swiftshader_icd.json',
    LD_LIBRARY_PATH: ['/usr/lib/chromium', process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
  };
  const child = spawnSync(process.execPath, process.argv.slice(1), { env, stdio: 'inherit' });
  process.exit(child.status ?? 1);
}
Object.assign(globalThis, globals);
const gpu = create([]);
const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
if (!adapter) throw new Error('No WebGPU adapter (is VK_ICD_FILENAMES set?).');
const requiredLimits = {};
for (const k of ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupsPerDimension']) requiredLimits[k] = adapter.limits[k];
const device = await adapter.requestDevice({ requiredLimits });
const info = adapter.info ?? {};

const server = await createServer({ server: { middlewareMode: true }, appType: 'custom', logLevel: 'error' });
const load = (path) => server.ssrLoadModule(path);
const { meshTriplane } = await load('/src/gpu/triplane-mesher.ts');
const { meshTriplaneCpu } = await load('/src/gpu/reference/triplane-mesher-cpu.ts');
const { smoothTriplane, blobDecoder } = await load('/tests/helpers/synthetic-decoder.ts');

/** One table row: evaluations, sizes and milliseconds per stage of one mesher run. */
function benchRow(impl, options, mesh, totalMs) {
  const { resolution, mode } = options;
  return {
    impl,
    resolution,
    mode,
    evaluations: mesh.stats.evaluations,
    evalFraction: +(mesh.stats.evaluations / resolution ** 3).toFixed(4),
    vertices: mesh.positions.length / 3,
    triangles: mesh.indices.length / 3,
    ...Object.fromEntries(Object.entries(mesh.stats.ms).map(([k, v]) => [`${k}Ms`, +v.toFixed(1)])),
    totalMs: +totalMs.toFixed(1),
  };
}

const triplane = smoothTriplane(11);
const weights = blobDecoder(12, triplane);
const rows = [];
for (const resolution of sizes) {
  for (const mode of ['dense', 'coarse-to-fine']) {
    const options = { resolution, threshold: 25, mode };
    await meshTriplane(device, triplane, weights, { ...options, resolution: 16 }); // warm pipelines
    const t0 = performance.now();
    const mesh = await meshTriplane(device, triplane, weights, options);
    const row = benchRow('wgsl', options, mesh, performance.now() - t0);
    rows.push(row);
    console.error(JSON.stringify(row));
    if (resolution <= cpuMax) {
      const c0 = performance.now();
      const cpu = meshTriplaneCpu(triplane, weights, options);
      const cpuRow = benchRow('cpu', options, cpu, performance.now() - c0);
      rows.push(cpuRow);
      console.error(JSON.stringify(cpuRow));
    }
  }
}
const adapterInfo = { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description, isFallbackAdapter: info.isFallbackAdapter };
const result = { date: new Date().toISOString(), adapter: adapterInfo, node: process.version, rows };
mkdirSync('bench-results', { recursive: true });
const file = `bench-results/mesh-${result.date.replace(/[:.]/g, '-')}.json`;
writeFileSync(file, JSON.stringify(result, null, 2));
console.log(`Adapter: ${JSON.stringify(adapterInfo)}`);
console.table(rows);
console.log(`Wrote ${file}`);
await server.close();
device.destroy();
process.exit(0);
