// The texture bake benchmark's work (loaded by scripts/bench-bake.ts through Vite, so WGSL `?raw`
// imports resolve): unwrap and GPU bake of noisy tori at several triangle counts and texture sizes.
import type { AdapterSummary } from '../../src/gpu/device';
import { gpuTexelColourer } from '../../src/gpu/bake';
import { dilate } from '../../src/texture/dilate';
import { evaluationsPerTexel, PROJECT_DEFAULTS } from '../../src/texture/project';
import { rasterizeUvs } from '../../src/texture/raster';
import { surfaceRecords } from '../../src/texture/surface';
import { unwrapMesh } from '../../src/texture/unwrap';
import { noisyTorus } from '../../tests/helpers/post-meshes';
import { blobDecoder, smoothTriplane } from '../../tests/helpers/synthetic-decoder';

export interface BakeBenchOptions {
  triangles: number[];
  sizes: number[];
  /** Bake on a fallback adapter anyway (slow; its times are still not reported). */
  bakeOnFallback: boolean;
}

export const BAKE_BENCH_DEFAULTS: BakeBenchOptions = { triangles: [10_000, 50_000, 200_000], sizes: [1024, 2048], bakeOnFallback: false };

/** One row of the table. GPU times are null on a fallback adapter. */
export interface BakeBenchRow {
  triangles: number;
  size: number;
  charts: number;
  /** Vertices after the seams split them. */
  vertices: number;
  /** Texels a triangle covers, and their share of the texture. */
  texels: number;
  coverage: number;
  unwrapMs: number;
  rasterMs: number;
  /** The GPU colour search: decoder evaluations and time. */
  evaluations: number;
  gpuMs: number | null;
  dilateMs: number | null;
}

export interface BakeBenchResult {
  date: string;
  adapter: AdapterSummary;
  absoluteTimes: boolean;
  rows: BakeBenchRow[];
}

const round = (ms: number): number => Math.round(ms);

/** Runs every (triangles, size) case; `onRow` sees each row as it finishes. */
export async function runBakeBench(device: GPUDevice, adapter: AdapterSummary, options: BakeBenchOptions, onRow: (row: BakeBenchRow) => void): Promise<BakeBenchResult> {
  const triplane = smoothTriplane(3);
  // TripoSR's shape (120 → 64 ×9 → 4): the real cost per evaluation.
  const weights = blobDecoder(3, triplane);
  const absoluteTimes = !adapter.isFallbackAdapter;
  const bake = absoluteTimes || options.bakeOnFallback;
  const rows: BakeBenchRow[] = [];
  for (const triangles of options.triangles) {
    const mesh = noisyTorus(triangles);
    for (const size of options.sizes) {
      let t = performance.now();
      const unwrapped = await unwrapMesh(mesh, { size });
      const unwrapMs = performance.now() - t;
      t = performance.now();
      const raster = rasterizeUvs(unwrapped.uvs, unwrapped.indices, size);
      const records = surfaceRecords(unwrapped, raster, { scale: 1, offset: [0, 0, 0] });
      const rasterMs = performance.now() - t;
      let gpuMs: number | null = null;
      let dilateMs: number | null = null;
      if (bake) {
        t = performance.now();
        const colours = await gpuTexelColourer(device, triplane, weights)(records, 25, PROJECT_DEFAULTS, () => undefined);
        gpuMs = performance.now() - t;
        const rgba = new Uint8Array(4 * size * size);
        raster.texels.forEach((texel, k) => {
          for (let c = 0; c < 3; c++) rgba[4 * texel + c] = Math.round(255 * colours[3 * k + c]!);
          rgba[4 * texel + 3] = 255;
        });
        t = performance.now();
        dilate(rgba, size, size);
        dilateMs = performance.now() - t;
      }
      const row: BakeBenchRow = {
        triangles: unwrapped.indices.length / 3,
        size,
        charts: unwrapped.chartCount,
        vertices: unwrapped.positions.length / 3,
        texels: raster.texels.length,
        coverage: raster.texels.length / (size * size),
        unwrapMs: round(unwrapMs),
        rasterMs: round(rasterMs),
        evaluations: raster.texels.length * evaluationsPerTexel(PROJECT_DEFAULTS),
        gpuMs: gpuMs === null || !absoluteTimes ? null : round(gpuMs),
        dilateMs: dilateMs === null ? null : round(dilateMs),
      };
      rows.push(row);
      onRow(row);
    }
  }
  return { date: new Date().toISOString(), adapter, absoluteTimes, rows };
}

/** The readable table. */
export function formatBakeTable(result: BakeBenchResult): string {
  const columns: [keyof BakeBenchRow, string][] = [
    ['triangles', 'triangles'],
    ['size', 'size'],
    ['charts', 'charts'],
    ['vertices', 'vertices'],
    ['coverage', 'coverage'],
    ['unwrapMs', 'unwrap ms'],
    ['rasterMs', 'raster ms'],
    ['evaluations', 'evaluations'],
    ['gpuMs', 'GPU bake ms'],
    ['dilateMs', 'dilate ms'],
  ];
  const cell = (row: BakeBenchRow, key: keyof BakeBenchRow): string => {
    const v = row[key];
    if (v === null) return '–';
    if (key === 'coverage') return `${(100 * (v as number)).toFixed(1)} %`;
    return String(v);
  };
  const table = [columns.map(([, h]) => h), ...result.rows.map((r) => columns.map(([k]) => cell(r, k)))];
  const widths = columns.map((_, i) => Math.max(...table.map((line) => line[i]!.length)));
  const head =
    `Adapter: ${[result.adapter.vendor, result.adapter.architecture, result.adapter.description].filter(Boolean).join(' / ') || 'unknown'}` +
    (result.absoluteTimes ? '' : ' (fallback adapter: no GPU times; unwrap, raster and dilate run on the CPU and are shown)');
  return [head, ...table.map((line) => line.map((c, i) => c.padStart(widths[i]!)).join('  '))].join('\n');
}
