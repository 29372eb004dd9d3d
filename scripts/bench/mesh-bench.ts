/**
 * The meshing benchmark's core, free of Node so that the Node driver (scripts/bench-mesh.mjs, Dawn)
 * and the carry-anywhere page (scripts/bench/page.ts) run the same code: per case and resolution,
 * dense against coarse-to-fine, the evaluated fraction, milliseconds per stage, the mesher's peak
 * live GPU bytes, and whether the two meshes are identical.
 */
import type { AdapterSummary } from '../../src/gpu/device';
import type { GpuTriplaneMesh } from '../../src/gpu/triplane-mesher';
import { identicalMeshes, maxAbsDifference } from '../../tests/helpers/mesh-compare';

/** One benchmark case: how to mesh it in one mode at one resolution. */
export interface BenchCase {
  name: string;
  /** What the case exercises, for the table's reader. */
  note: string;
  mesh(device: GPUDevice, mode: 'dense' | 'coarse-to-fine', resolution: number): Promise<GpuTriplaneMesh>;
}

/** Options of runMeshBench. */
export interface MeshBenchOptions {
  sizes: number[];
  /** Largest resolution walked densely (dense 256³ of a triplane takes minutes on a software adapter). */
  denseMax: number;
  /** Case names to run (all when empty). */
  only: string[];
}

export const MESH_BENCH_DEFAULTS: MeshBenchOptions = { sizes: [64, 128], denseMax: 128, only: [] };

/** One row of the table. Times are null when the adapter is a software fallback. */
export interface MeshBenchRow {
  case: string;
  resolution: number;
  mode: 'dense' | 'coarse-to-fine';
  evaluations: number;
  evalFraction: number;
  peakMiB: number;
  vertices: number;
  triangles: number;
  decodeMs: number | null;
  marchMs: number | null;
  colourMs: number | null;
  readbackMs: number | null;
  totalMs: number | null;
  /** Coarse-to-fine time over dense time, measured in the same run (meaningful on any adapter). */
  timeRatio: number | null;
  /** Coarse-to-fine rows: same positions and indices bit for bit, normals within 1e-5, same colours. */
  identical: boolean | null;
  bound: string | null;
  /** Coarse-to-fine: the share of blocks refined (past COARSE_TO_FINE_DEFAULTS.denseShare every point is decoded). */
  refinedShare: number | null;
}

/** What a run returns. */
export interface MeshBenchResult {
  date: string;
  adapter: AdapterSummary;
  /** False on a fallback (software) adapter: then the table holds no absolute times, only ratios. */
  absoluteTimes: boolean;
  rows: MeshBenchRow[];
}

/** Whether two meshes are the same surface: identicalMeshes, and the same vertex colours bit for bit. */
export function sameMesh(a: GpuTriplaneMesh, b: GpuTriplaneMesh): boolean {
  return identicalMeshes(a, b) && maxAbsDifference(a.colours, b.colours) === 0;
}

const round = (v: number, digits = 1): number => Math.round(v * 10 ** digits) / 10 ** digits;

/** Runs every case at every size, densely (up to denseMax) and coarse-to-fine, after a warm-up mesh. */
export async function runMeshBench(
  device: GPUDevice,
  adapter: AdapterSummary,
  cases: BenchCase[],
  options: Partial<MeshBenchOptions> = {},
  log: (row: MeshBenchRow) => void = () => undefined,
): Promise<MeshBenchResult> {
  const opts = { ...MESH_BENCH_DEFAULTS, ...options };
  const absoluteTimes = !adapter.isFallbackAdapter;
  const rows: MeshBenchRow[] = [];
  for (const c of cases.filter((k) => !opts.only.length || opts.only.includes(k.name))) {
    await c.mesh(device, 'coarse-to-fine', 16); // compiles this case's kernels outside the timings
    for (const resolution of opts.sizes) {
      let dense: { mesh: GpuTriplaneMesh; ms: number } | undefined;
      for (const mode of ['dense', 'coarse-to-fine'] as const) {
        if (mode === 'dense' && resolution > opts.denseMax) continue;
        const t0 = performance.now();
        const mesh = await c.mesh(device, mode, resolution);
        const ms = performance.now() - t0;
        if (mode === 'dense') dense = { mesh, ms };
        const time = (v: number): number | null => (absoluteTimes ? round(v) : null);
        const stats = mesh.stats;
        const row: MeshBenchRow = {
          case: c.name,
          resolution,
          mode,
          evaluations: stats.evaluations,
          evalFraction: round(stats.evaluations / resolution ** 3, 4),
          peakMiB: round(stats.peakBytes / 2 ** 20),
          vertices: mesh.positions.length / 3,
          triangles: mesh.indices.length / 3,
          decodeMs: time(stats.ms.decode),
          marchMs: time(stats.ms.march),
          colourMs: time(stats.ms.colour),
          readbackMs: time(stats.ms.readback),
          totalMs: time(ms),
          timeRatio: mode === 'coarse-to-fine' && dense ? round(ms / dense.ms, 3) : null,
          identical: mode === 'coarse-to-fine' && dense ? sameMesh(mesh, dense.mesh) : null,
          bound: mode === 'coarse-to-fine' ? (stats.walk ?? null) : null,
          refinedShare: stats.refinedShare === undefined ? null : round(stats.refinedShare, 3),
        };
        rows.push(row);
        log(row);
      }
    }
  }
  return { date: new Date().toISOString(), adapter, absoluteTimes, rows };
}

/** The result as a fixed-width text table (what the page shows and the driver prints). */
export function formatTable(result: MeshBenchResult): string {
  const columns: [keyof MeshBenchRow, string][] = [
    ['case', 'case'],
    ['resolution', 'res'],
    ['mode', 'mode'],
    ['evalFraction', 'evaluated'],
    ['peakMiB', 'peak MiB'],
    ['triangles', 'triangles'],
    ['decodeMs', 'decode ms'],
    ['marchMs', 'march ms'],
    ['totalMs', 'total ms'],
    ['timeRatio', 'c2f/dense time'],
    ['identical', 'identical'],
    ['bound', 'bound'],
    ['refinedShare', 'refined blocks'],
  ];
  const cell = (row: MeshBenchRow, key: keyof MeshBenchRow): string => {
    const v = row[key];
    if (v === null) return '–';
    if (key === 'evalFraction') return `${(100 * (v as number)).toFixed(2)} %`;
    return String(v);
  };
  const table = [columns.map(([, h]) => h), ...result.rows.map((r) => columns.map(([k]) => cell(r, k)))];
  const widths = columns.map((_, i) => Math.max(...table.map((line) => line[i]!.length)));
  const head = `Adapter: ${[result.adapter.vendor, result.adapter.architecture, result.adapter.description].filter(Boolean).join(' / ') || 'unknown'}` +
    (result.absoluteTimes ? '' : ' (fallback adapter: no absolute times, ratios only)');
  return [head, ...table.map((line) => line.map((v, i) => v.padEnd(widths[i]!)).join('  '))].join('\n');
}
