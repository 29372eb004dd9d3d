/// <reference types="node" />
// Full-size encoder benchmark (not part of CI): our own TripoSR export at full size, seeded weights, one
// row per precision. Each build is generated on demand by the exporter and cached in a temp folder:
//   /usr/bin/python3 scripts/export-triposr/export.py --config full --variants <tags> --out <cache> --golden <cache>/golden
// then served by a stand-in CDN (Range, CORS) and measured twice in headless Chromium:
//   app:   the app's real loader (?model=, Cache Storage, external data) on one photo: download bytes,
//          the app's stage times, peak JS heap of the page;
//   probe: onnxruntime-web alone on a device with DEFAULT limits: session build and run time, the
//          largest GPU buffer, every node on WebGPU (the verbose placement log, src/lib/ort-placement.ts),
//          and the triplane's cosine against fp32 on the same weights (torch's fp32 triplane of the
//          formula image, and ORT's fp32 run when it ran).
//   npm run bench:encoder -- --variants int4,int8,fp32 [--timeout-min 120] [--no-app] [--no-probe] [--no-build]
// On SwiftShader the times are a fallback adapter's: compare them with each other, not with a GPU.
// Full size is ~1.5 T multiply-adds per image; a variant that runs out of time or memory says so in its row.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelManifest } from '../src/shared/manifest.ts';
import { startEncoderCdn } from './lib/encoder-cdn.ts';
import { appJob, probeEncoder, type AppJobResult, type ProbeResult } from './lib/encoder-probe.ts';
import { serveApp, type AppServer } from './lib/serve-app.ts';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const variants = arg('variants', 'int4,fp32').split(',');
const config = arg('config', 'full');
const seed = Number(arg('seed', '0'));
const timeoutMs = Number(arg('timeout-min', '120')) * 60_000;
const cacheRoot = arg('cache', join(tmpdir(), 'cadlift-bench-encoder'));
const runApp = !process.argv.includes('--no-app');
const runProbe = !process.argv.includes('--no-probe');
const rebuild = !process.argv.includes('--no-build');
const PYTHON = '/usr/bin/python3';
const EXPORTER = 'scripts/export-triposr/export.py';

/** The build folder of this config and seed; every variant's files and manifest-<tag>.json live in it. */
const buildDir = join(cacheRoot, `${config}-seed${seed}`);
const manifestPath = (tag: string): string => join(buildDir, `manifest-${tag}.json`);
const goldenPath = (tag: string): string => join(buildDir, 'golden', `${tag}.bin`);

/** Exports the variants not in the cache yet (with their torch goldens); fp32's golden is always made. */
function ensureBuilds(): void {
  const missing = variants.filter((tag) => !existsSync(manifestPath(tag)) || !existsSync(goldenPath(tag)));
  if (!existsSync(goldenPath('fp32')) && !missing.includes('fp32')) missing.push('fp32');
  if (missing.length === 0) return;
  mkdirSync(buildDir, { recursive: true });
  const tags = missing;
  // Two or more tags write manifest-<tag>.json themselves; name a single tag's manifest the same way.
  const single = tags.length === 1 ? ['--manifest', manifestPath(tags[0]!)] : [];
  console.error(`Exporting ${tags.join(', ')} (${config}, seed ${seed}) into ${buildDir}; this takes a while.`);
  const result = spawnSync(
    PYTHON,
    [EXPORTER, '--config', config, '--seed', String(seed), '--variants', tags.join(','), '--out', buildDir, '--golden', join(buildDir, 'golden'), ...single],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (result.status !== 0) throw new Error(`The exporter failed (exit ${result.status}); see its output above.`);
}

/** Bytes of a variant's files as its manifest lists them (the download). */
function manifestBytes(tag: string): { total: number; encoder: number } {
  const manifest = JSON.parse(readFileSync(manifestPath(tag), 'utf8')) as ModelManifest;
  const total = manifest.files.reduce((sum, f) => sum + (f.bytes ?? 0), 0);
  const encoder = manifest.files.filter((f) => f.role === 'encoder' || f.role === 'encoder-data').reduce((sum, f) => sum + (f.bytes ?? 0), 0);
  return { total, encoder };
}

function readGolden(tag: string): Float32Array | undefined {
  if (!existsSync(goldenPath(tag))) return undefined;
  const bytes = readFileSync(goldenPath(tag));
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(aa * bb);
}

/** One precision's row. */
interface Row {
  variant: string;
  downloadBytes: number;
  encoderBytes: number;
  app?: Omit<AppJobResult, 'stats'> & { servedBytes: number; ms?: Record<string, number | undefined>; backend?: string; fromCache?: boolean };
  probe?: Omit<ProbeResult, 'triplane'> & { allOnWebGpu?: boolean; cosineVsTorchFp32?: number; cosineVsOrtFp32?: number; cosineVsOwnGolden?: number };
}

ensureBuilds();
const date = new Date().toISOString();
const cdn = await startEncoderCdn(cacheRoot, 'node_modules/onnxruntime-web/dist');
let app: AppServer | undefined;
const rows: Row[] = [];
const triplanes = new Map<string, Float32Array>();
try {
  if (runApp) app = await serveApp({ build: rebuild });
  const urlPath = (tag: string): string => `/models/${config}-seed${seed}/manifest-${tag}.json`;
  // fp32 first, so the others can be compared with ORT's own fp32 triplane.
  const order = [...variants].sort((a, b) => Number(b === 'fp32') - Number(a === 'fp32'));
  for (const tag of order) {
    const { total, encoder } = manifestBytes(tag);
    const row: Row = { variant: tag, downloadBytes: total, encoderBytes: encoder };
    if (app) {
      cdn.sent.clear();
      const job = await appJob(app, `${cdn.origin}${urlPath(tag)}`, timeoutMs);
      const servedBytes = [...cdn.sent.values()].reduce((a, b) => a + b, 0);
      const { stats, ...rest } = job;
      row.app = { ...rest, servedBytes, ms: stats?.ms ?? rest.stagesDone, backend: stats?.backend, fromCache: stats?.fromCache };
      console.error(JSON.stringify({ variant: tag, app: row.app }));
    }
    if (runProbe) {
      const probe = await probeEncoder(cdn.origin, urlPath(tag), `bench-${tag}`, timeoutMs);
      const { triplane, ...rest } = probe;
      const torchFp32 = readGolden('fp32');
      const own = readGolden(tag);
      row.probe = {
        ...rest,
        allOnWebGpu: probe.offGpu ? probe.offGpu.length === 0 : undefined,
        cosineVsTorchFp32: triplane && torchFp32 ? cosine(triplane, torchFp32) : undefined,
        cosineVsOrtFp32: triplane && triplanes.has('fp32') && tag !== 'fp32' ? cosine(triplane, triplanes.get('fp32')!) : undefined,
        cosineVsOwnGolden: triplane && own ? cosine(triplane, own) : undefined,
      };
      if (triplane) triplanes.set(tag, triplane);
      console.error(JSON.stringify({ variant: tag, probe: row.probe }));
    }
    rows.push(row);
  }
} finally {
  await app?.close();
  await cdn.close();
}

const result = { date, config, seed, weights: `seeded (seed ${seed})`, node: process.version, timeoutMin: timeoutMs / 60_000, rows };
mkdirSync('bench-results', { recursive: true });
const file = `bench-results/encoder-${date.replace(/[:.]/g, '-')}.json`;
writeFileSync(file, JSON.stringify(result, null, 2));
console.log(JSON.stringify(result));

const mb = (bytes?: number): string => (bytes === undefined ? '—' : (bytes / 1e6).toFixed(1));
const sec = (ms?: number): string => (ms === undefined ? '—' : (ms / 1000).toFixed(1));
const adapter = rows.find((r) => r.probe?.adapter)?.probe?.adapter ?? 'unknown';
console.log(`${config} build, seeded weights (seed ${seed}); WebGPU adapter: ${adapter}`);
if (adapter.includes('fallback')) console.log('Fallback adapter (SwiftShader, CPU): times are for ratios between rows only.');
console.table(
  rows.map((r) => ({
    variant: r.variant,
    'download MB': mb(r.downloadBytes),
    'app served MB': mb(r.app?.servedBytes),
    'app download s': sec(r.app?.ms?.download),
    'app encoder s': sec(r.app?.ms?.encoder),
    'app JS heap MB': mb(r.app?.peakHeapBytes),
    'app error': r.app?.error ?? '',
    'build s': sec(r.probe?.createMs),
    'run s': sec(r.probe?.runMs),
    'JS heap MB': mb(r.probe?.peakHeapBytes),
    'browser RSS MB': mb(r.probe?.peakBrowserRss),
    'largest buf MB': mb(r.probe?.largestBuffer),
    'all on WebGPU': r.probe?.allOnWebGpu ?? '—',
    'cos vs fp32 (torch)': r.probe?.cosineVsTorchFp32?.toFixed(6) ?? '—',
    'cos vs fp32 (ORT)': r.probe?.cosineVsOrtFp32?.toFixed(6) ?? '—',
    'probe error': r.probe?.error ?? '',
  })),
);
for (const r of rows) {
  if (r.probe?.offGpu?.length) console.log(`${r.variant}: off the GPU: ${r.probe.offGpu.map((n) => `${n.op} (${n.name})`).join(', ')}`);
}
console.log(`Wrote ${file}`);
