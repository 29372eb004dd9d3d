/// <reference types="node" />
// Whole-pipeline benchmark (not part of CI): photo → mesh in headless Chromium on the committed test
// model, milliseconds per stage as the app itself reports them (PipelineStats) plus the wall time of
// each job measured in the page, at each resolution. The first job downloads the model, creates the
// session and compiles the shaders, so it is a warm-up and left out of the medians.
//   npm run bench:pipeline -- --runs 3 --resolutions 64,128 --cpu
// --cpu also runs the WASM fallback (a Chromium without WebGPU) and prints GPU ÷ CPU time ratios;
// --no-build reuses the last dist-e2e build. Writes bench-results/pipeline-<time>.json and prints a
// table. The test model's encoder is tiny, and on SwiftShader only ratios within one run mean anything.
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { STAGES, type Backend, type PipelineStats, type Stage } from '../src/shared/pipeline.ts';
import { addPhoto, generate, makePhoto, openApp, setSlider, waitForPreview } from '../tests/e2e/harness.ts';
import { serveApp, waitForJob, type AppHandle } from './lib/serve-app.ts';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const runs = Number(arg('runs', '3'));
const resolutions = arg('resolutions', '64,128').split(',').map(Number);
const backends: Backend[] = process.argv.includes('--cpu') ? ['webgpu', 'wasm'] : ['webgpu'];
const rebuild = !process.argv.includes('--no-build');
if (!(runs >= 1) || resolutions.some((r) => !(r >= 64))) {
  throw new Error('Use --runs 1 or more, and --resolutions of 64 (the slider minimum) or more.');
}
// A CPU job at 128³ can take minutes on two cores; still, no job should hang the benchmark.
const JOB_TIMEOUT_MS = 15 * 60_000;

/** One measured job: the page's wall time from the Generate click to the result, and the app's stats. */
interface Run {
  wallMs: number;
  stats: PipelineStats;
}

/** One backend at one resolution: every measured run, and their medians. */
interface BenchRow {
  backend: Backend;
  mesher: PipelineStats['mesher'];
  adapter: PipelineStats['adapter'];
  resolution: number;
  vertices: number;
  triangles: number;
  evaluations: number;
  warmup: { wallMs: number; ms: PipelineStats['ms'] };
  runs: { wallMs: number; ms: PipelineStats['ms']; vertices: number; triangles: number }[];
  median: Record<Stage | 'stages' | 'wall', number>;
}

/** Clicks Generate in the page and polls the app state until a new result (or an error) lands. */
async function timedJob(page: Page): Promise<Run> {
  return page.evaluate(async (timeoutMs) => {
    const app = (globalThis as unknown as { __cadlift: AppHandle }).__cadlift;
    const before = app.result;
    const button = document.querySelector<HTMLButtonElement>('[data-testid=generate]');
    if (!button || button.disabled) throw new Error('The Generate button is not ready.');
    const t0 = performance.now();
    button.click();
    while (app.result === before) {
      if (app.phase === 'error') throw new Error(`The job failed: ${app.error?.code}: ${app.error?.message}`);
      if (performance.now() - t0 > timeoutMs) throw new Error(`The job took over ${timeoutMs} ms.`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const wallMs = performance.now() - t0;
    return { wallMs, stats: JSON.parse(JSON.stringify(app.result!.stats)) as PipelineStats };
  }, JOB_TIMEOUT_MS);
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const round = (ms: number): number => +ms.toFixed(1);
const stageSum = (stats: PipelineStats): number =>
  STAGES.reduce((sum, s) => sum + (stats.ms[s] ?? 0), 0);
const medianOf = (list: Run[], pick: (run: Run) => number): number => round(median(list.map(pick)));

/** Per-stage medians of a set of runs, with the stage sum and the page's wall time. */
function medians(list: Run[]): Record<Stage | 'stages' | 'wall', number> {
  const stages = STAGES.map((s) => [s, medianOf(list, (r) => r.stats.ms[s] ?? 0)]);
  return {
    ...(Object.fromEntries(stages) as Record<Stage, number>),
    stages: medianOf(list, (r) => stageSum(r.stats)),
    wall: medianOf(list, (r) => r.wallMs),
  };
}

const date = new Date().toISOString();
const app = await serveApp({ build: rebuild });
const results: BenchRow[] = [];
let chromiumVersion = '';
try {
  for (const backend of backends) {
    const { browser, page } = await app.open({ webgpu: backend === 'webgpu' });
    chromiumVersion = browser.version();
    await openApp(page);
    await addPhoto(page, await makePhoto(page, { colour: '#d08040' }));
    await waitForPreview(page);
    await setSlider(page, 'resolution', resolutions[0]!);
    const w0 = Date.now();
    await generate(page);
    const warmup = await waitForJob(page, JOB_TIMEOUT_MS);
    const warmupWallMs = Date.now() - w0;
    const { resolution: r0, ms } = warmup;
    console.error(JSON.stringify({ backend, warmup: true, resolution: r0, wallMs: warmupWallMs, ms }));
    if (warmup.backend !== backend) {
      throw new Error(`Expected the ${backend} backend, the app ran on ${warmup.backend}.`);
    }

    for (const resolution of resolutions) {
      await setSlider(page, 'resolution', resolution);
      const list: Run[] = [];
      for (let i = 0; i < runs; i++) {
        const run = await timedJob(page);
        const { resolution: ran, ms } = run.stats;
        if (ran !== resolution) throw new Error(`Asked for resolution ${resolution}, the job ran at ${ran}.`);
        list.push(run);
        console.error(JSON.stringify({ backend, resolution, run: i + 1, wallMs: round(run.wallMs), ms }));
      }
      const last = list[list.length - 1]!.stats;
      results.push({
        backend,
        mesher: last.mesher,
        adapter: last.adapter,
        resolution,
        vertices: last.vertices,
        triangles: last.triangles,
        evaluations: last.evaluations,
        warmup: { wallMs: warmupWallMs, ms: warmup.ms },
        runs: list.map(({ wallMs, stats }) => ({
          wallMs: round(wallMs),
          ms: stats.ms,
          vertices: stats.vertices,
          triangles: stats.triangles,
        })),
        median: medians(list),
      });
    }
    await browser.close();
  }
} finally {
  await app.close();
}

const node = process.version;
const result = { date, chromium: chromiumVersion, node, runs, warmupExcluded: true, results };
mkdirSync('bench-results', { recursive: true });
const file = `bench-results/pipeline-${date.replace(/[:.]/g, '-')}.json`;
writeFileSync(file, JSON.stringify(result, null, 2));

const a = results.find((r) => r.backend === 'webgpu')?.adapter;
const adapterName = a && [a.vendor, a.architecture, a.description].filter(Boolean).join(' ');
const adapterLine = a ? `${adapterName}${a.isFallbackAdapter ? ' (fallback adapter)' : ''}` : 'none';
console.log(`Chromium ${chromiumVersion}; WebGPU adapter: ${adapterLine}`);
// 'prepare' happens when the photo is added, before the click: it is in 'stages' but not in 'wall'.
console.log(`Median ms of ${runs} run(s) per row after one warm-up job.`);
console.log('stages: sum of the stage times; wall: Generate click to result, timed in the page.');
console.table(
  results.map((r) => ({
    backend: r.backend,
    resolution: r.resolution,
    ...r.median,
    vertices: r.vertices,
    triangles: r.triangles,
  })),
);
if (backends.length > 1) {
  console.log('GPU ÷ CPU time (below 1: the WebGPU path is faster)');
  console.table(
    resolutions.map((resolution) => {
      const row = (b: Backend): BenchRow['median'] =>
        results.find((r) => r.backend === b && r.resolution === resolution)!.median;
      const [g, c] = [row('webgpu'), row('wasm')];
      const keys = ['encoder', 'decode', 'mesh', 'stages', 'wall'] as const;
      const ratios = keys.map((k) => [k, c[k] > 0 ? +(g[k] / c[k]).toFixed(3) : null]);
      return { resolution, ...Object.fromEntries(ratios) };
    }),
  );
}
console.log(`Wrote ${file}`);
