/// <reference types="node" />
// Mesh-processing benchmark (not part of CI): clean-up (weld + floaters), decimation to 50,000
// triangles and make-printable (fill holes, repair, manifold-3d) on generated noisy tori with two
// holes and a floater, at 100 k, 500 k and 1 M triangles. Each step at each size runs in its own
// child process, so the peak resident memory reported (process.resourceUsage().maxRSS, which counts
// WASM memory too) belongs to that step alone (plus Node's own ~50 MB and the input mesh).
//   npm run bench:post -- --sizes 100000,500000,1000000
// Writes bench-results/post-<time>.json and prints a table.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { removeFloaters } from '../src/post/cleanup.ts';
import { decimate } from '../src/post/decimate.ts';
import { makePrintable } from '../src/post/printable.ts';
import { weldVertices } from '../src/post/weld.ts';
import { noisyTorus } from '../tests/helpers/post-meshes.ts';

const STEPS = ['cleanup', 'decimate', 'printable'] as const;
type BenchStep = (typeof STEPS)[number];

interface Row {
  triangles: number;
  step: BenchStep;
  ms: number;
  peakRssMB: number;
  heapUsedMB: number;
  resultTriangles: number;
  note: string;
}

async function runStep(triangles: number, step: BenchStep): Promise<Row> {
  const input = noisyTorus(triangles);
  const prepared = step === 'cleanup' ? input : removeFloaters(weldVertices(input).mesh, 0.05).mesh;
  const t0 = performance.now();
  let resultTriangles = 0;
  let note = '';
  if (step === 'cleanup') {
    const welded = weldVertices(prepared);
    const result = removeFloaters(welded.mesh, 0.05);
    resultTriangles = result.mesh.indices.length / 3;
    note = `${result.removedComponents} floater removed`;
  } else if (step === 'decimate') {
    const result = await decimate(prepared, { targetTriangles: 50_000 });
    resultTriangles = result.after;
    note = `error ${result.error.toExponential(1)}`;
  } else {
    const result = await makePrintable(prepared);
    resultTriangles = result.mesh.indices.length / 3;
    note = result.ok ? result.fillMessage : `FAILED: ${result.message}`;
  }
  const ms = performance.now() - t0;
  return {
    triangles: input.indices.length / 3,
    step,
    ms: Math.round(ms),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    heapUsedMB: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
    resultTriangles,
    note,
  };
}

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

if (arg('child')) {
  const [size, step] = arg('child')!.split(':');
  process.stdout.write(JSON.stringify(await runStep(Number(size), step as BenchStep)));
} else {
  const sizes = (arg('sizes') ?? '100000,500000,1000000').split(',').map(Number);
  const script = fileURLToPath(import.meta.url);
  const rows: Row[] = [];
  for (const size of sizes) {
    for (const step of STEPS) {
      const out = execFileSync(process.execPath, [...process.execArgv, script, '--child', `${size}:${step}`], {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      });
      const row = JSON.parse(out) as Row;
      rows.push(row);
      console.error(`${row.triangles} ${row.step}: ${row.ms} ms`);
    }
  }
  mkdirSync('bench-results', { recursive: true });
  const file = `bench-results/post-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, JSON.stringify({ node: process.version, cpus: (await import('node:os')).cpus().length, rows }, null, 2));
  console.log(`| triangles | step | ms | peak RSS MB | heap MB | result triangles | note |\n|---:|---|---:|---:|---:|---:|---|`);
  for (const r of rows) {
    console.log(`| ${r.triangles.toLocaleString('en-US')} | ${r.step} | ${r.ms.toLocaleString('en-US')} | ${r.peakRssMB} | ${r.heapUsedMB} | ${r.resultTriangles.toLocaleString('en-US')} | ${r.note} |`);
  }
  console.log(`\nWrote ${file}`);
}
