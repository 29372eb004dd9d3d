// Texture bake benchmark (not part of CI): UV unwrap (watlas, one thread) and the GPU bake of the
// colour field at 10 k, 50 k and 200 k triangles, textures of 1024² and 2048². Runs on WebGPU through
// Dawn (npm `webgpu`); without a GPU driver on SwiftShader, where it reports no GPU times (and skips
// the bake unless --bake-on-fallback). The 200 k unwrap takes minutes on one core.
//   npm run bench:bake -- --triangles 10000,50000 --sizes 1024
// Writes bench-results/bake-<time>.json and prints the table.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'vite';
import { create, globals } from 'webgpu';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const numbers = (v: string): number[] => v.split(',').filter(Boolean).map(Number);

// The Vulkan loader path must be set before the process starts, hence the re-run.
if (!process.env.VK_ICD_FILENAMES && process.platform === 'linux' && existsSync('/usr/lib/chromium/vk_swiftshader_icd.json') && !existsSync('/dev/nvidia0')) {
  const env = {
    ...process.env,
    VK_ICD_FILENAMES: '/usr/lib/chromium/vk_swiftshader_icd.json',
    LD_LIBRARY_PATH: ['/usr/lib/chromium', process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
  };
  // execArgv carries tsx's loader, so the re-run reads TypeScript too.
  const child = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { env, stdio: 'inherit' });
  process.exit(child.status ?? 1);
}
Object.assign(globalThis, globals);
const gpu = create([]);
const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
if (!adapter) throw new Error('No WebGPU adapter (is VK_ICD_FILENAMES set?).');
const requiredLimits: Record<string, number> = {};
for (const k of ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupsPerDimension'] as const) requiredLimits[k] = adapter.limits[k];
const device = await adapter.requestDevice({ requiredLimits });

const server = await createServer({ server: { middlewareMode: true, hmr: false }, appType: 'custom', logLevel: 'error' });
const { runBakeBench, formatBakeTable, BAKE_BENCH_DEFAULTS } = await server.ssrLoadModule('/scripts/bench/bake-bench.ts');
const { summarizeAdapter } = await server.ssrLoadModule('/src/gpu/device.ts');

const options = {
  triangles: numbers(arg('triangles', BAKE_BENCH_DEFAULTS.triangles.join(','))),
  sizes: numbers(arg('sizes', BAKE_BENCH_DEFAULTS.sizes.join(','))),
  bakeOnFallback: process.argv.includes('--bake-on-fallback'),
};
const result = await runBakeBench(device, summarizeAdapter(adapter), options, (row: unknown) => console.error(JSON.stringify(row)));
const full = { ...result, node: process.version, options };
mkdirSync('bench-results', { recursive: true });
const file = `bench-results/bake-${result.date.replace(/[:.]/g, '-')}.json`;
writeFileSync(file, JSON.stringify(full, null, 2));
console.log(formatBakeTable(result));
console.log(`Wrote ${file}`);
await server.close();
device.destroy();
process.exit(0);
