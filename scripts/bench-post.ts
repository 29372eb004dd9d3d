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
import type { WorkMesh } from '../src/post/work-mesh.ts';

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

/** A torus (major radius 0.5, minor 0.2) of about `triangles` triangles, ±0.5 % radial noise, two holes and a floater. */
export function benchTorus(triangles: number): WorkMesh {
  const nv = Math.max(8, Math.round(Math.sqrt(triangles / 4)));
  const nu = Math.max(8, Math.round(triangles / (2 * nv)));
  const positions = new Float32Array((nu * nv + 8) * 3);
  const colours = new Float32Array(positions.length);
  let seed = 12345;
  const random = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296);
  for (let i = 0; i < nu; i++) {
    for (let j = 0; j < nv; j++) {
      const u = (2 * Math.PI * i) / nu, v = (2 * Math.PI * j) / nv;
      const r = 0.2 * (1 + 0.005 * (2 * random() - 1));
      const k = (i * nv + j) * 3;
      positions[k] = (0.5 + r * Math.cos(v)) * Math.cos(u);
      positions[k + 1] = r * Math.sin(v);
      positions[k + 2] = (0.5 + r * Math.cos(v)) * Math.sin(u);
      colours[k] = 0.5 + 0.5 * Math.cos(u);
      colours[k + 1] = 0.5 + 0.5 * Math.sin(v);
      colours[k + 2] = 0.5;
    }
  }
  const holes = new Set([nv * 3 + 2, nv * Math.floor(nu / 2) + 5].map((q) => q * 2));
  const indices: number[] = [];
  for (let i = 0; i < nu; i++) {
    for (let j = 0; j < nv; j++) {
      const a = i * nv + j, b = ((i + 1) % nu) * nv + j, c = ((i + 1) % nu) * nv + ((j + 1) % nv), d = i * nv + ((j + 1) % nv);
      const t = (i * nv + j) * 2;
      if (!holes.has(t)) indices.push(a, d, c);
      if (!holes.has(t + 1)) indices.push(a, c, b);
    }
  }
  const base = nu * nv;
  for (let c = 0; c < 8; c++) {
    positions.set([0.8 + (c & 1 ? 0.01 : 0), 0.8 + (c & 2 ? 0.01 : 0), 0.8 + (c & 4 ? 0.01 : 0)], (base + c) * 3);
  }
  const box = [0, 2, 3, 0, 3, 1, 4, 5, 7, 4, 7, 6, 0, 1, 5, 0, 5, 4, 2, 6, 7, 2, 7, 3, 0, 4, 6, 0, 6, 2, 1, 3, 7, 1, 7, 5];
  for (const i of box) indices.push(base + i);
  return { positions, colours, indices: Uint32Array.from(indices) };
}

async function runStep(triangles: number, step: BenchStep): Promise<Row> {
  const input = benchTorus(triangles);
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
