// Meshing benchmark (not part of CI), Node driver: dense against coarse-to-fine per case and
// resolution: evaluated fraction, milliseconds per stage, the mesher's peak live GPU bytes, and
// whether the meshes are identical (scripts/bench/mesh-bench.ts). Runs on WebGPU through Dawn (npm
// `webgpu`); without a GPU driver it uses the SwiftShader Vulkan that Debian's Chromium ships.
//   npm run bench:mesh -- --sizes 64,128,256 --dense-max 128 --only blob,rods
// Writes bench-results/mesh-<time>.json and prints the table. On a fallback adapter (SwiftShader) it
// prints no absolute times, only ratios measured in the same run. For a machine without Node, build
// the one-file page with `npm run bench:mesh:page` and open it in a browser with WebGPU.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'vite';
import { create, globals } from 'webgpu';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const list = (v) => (v ? v.split(',').filter(Boolean) : []);

// The loader path must be set before the process starts, hence the re-run.
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

const server = await createServer({ server: { middlewareMode: true, hmr: false }, appType: 'custom', logLevel: 'error' });
const { runMeshBench, formatTable } = await server.ssrLoadModule('/scripts/bench/mesh-bench.ts');
const { benchCases } = await server.ssrLoadModule('/scripts/bench/mesh-cases.ts');
const { summarizeAdapter } = await server.ssrLoadModule('/src/gpu/device.ts');

const options = {
  sizes: list(arg('sizes', '64,128')).map(Number),
  denseMax: Number(arg('dense-max', '128')),
  only: list(arg('only', '')),
};
const result = await runMeshBench(device, summarizeAdapter(adapter), benchCases(), options, (row) => console.error(JSON.stringify(row)));
const full = { ...result, node: process.version, options };
mkdirSync('bench-results', { recursive: true });
const file = `bench-results/mesh-${result.date.replace(/[:.]/g, '-')}.json`;
writeFileSync(file, JSON.stringify(full, null, 2));
console.log(formatTable(result));
console.log(`Wrote ${file}`);
await server.close();
device.destroy();
process.exit(0);
