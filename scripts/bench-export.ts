/// <reference types="node" />
// Exporter benchmark (not part of CI): file size and write time of every download format for a
// closed, coloured torus of a given triangle count, and the time OpenCascade (occt-import-js, what
// the tests read STEP back with) takes to open the STEP file.
//   npx tsx scripts/bench-export.ts -- --triangles 50000 --step-faces 5000
// Prints JSON, then a table. STEP is written at --step-faces (its limit is 20,000 faces).
import { createRequire } from 'node:module';
import { exportMesh } from '../src/export/export-mesh.ts';
import { EXPORT_FORMATS } from '../src/export/types.ts';
import { torus } from '../tests/helpers/export-fixtures.ts';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const triangles = Number(arg('triangles', '50000'));
const stepFaces = Number(arg('step-faces', '5000'));
const runs = Number(arg('runs', '3'));

/** A torus with about `count` triangles (2·rings·segments, rings = 2·segments). */
function torusOf(count: number) {
  const segments = Math.max(3, Math.round(Math.sqrt(count / 4)));
  return torus(2 * segments, segments);
}

interface Row {
  format: string;
  triangles: number;
  bytes: number;
  writeMs: number;
}

const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const rows: Row[] = [];
for (const format of EXPORT_FORMATS) {
  const mesh = torusOf(format === 'step' ? stepFaces : triangles);
  const times: number[] = [];
  let bytes = 0;
  for (let run = 0; run < runs; run++) {
    const start = performance.now();
    const file = await exportMesh(format, mesh, { unit: 'mm', name: 'bench', stepMaxFaces: 1e9 });
    times.push(performance.now() - start);
    bytes = file.bytes.length;
  }
  rows.push({ format, triangles: mesh.indices.length / 3, bytes, writeMs: Math.round(median(times)) });
}

type Occt = { ReadStepFile(c: Uint8Array, p: object | null): { success: boolean; meshes: { index: { array: number[] } }[] } };
const initStart = performance.now();
const occt = await (createRequire(import.meta.url)('occt-import-js') as () => Promise<Occt>)();
const initMs = Math.round(performance.now() - initStart);
const step = await exportMesh('step', torusOf(stepFaces), { unit: 'mm', name: 'bench', stepMaxFaces: 1e9 });
const readStart = performance.now();
const read = occt.ReadStepFile(step.bytes, null);
const stepRead = {
  faces: torusOf(stepFaces).indices.length / 3,
  initMs,
  readMs: Math.round(performance.now() - readStart),
  success: read.success,
  trianglesRead: read.meshes.reduce((n, m) => n + m.index.array.length / 3, 0),
};

console.log(JSON.stringify({ rows, stepRead }, null, 2));
console.log('\nformat  triangles       bytes  write ms');
for (const r of rows) {
  console.log(`${r.format.padEnd(6)} ${String(r.triangles).padStart(10)} ${String(r.bytes).padStart(11)} ${String(r.writeMs).padStart(9)}`);
}
console.log(
  `\nSTEP read by occt-import-js: ${stepRead.faces} faces in ${stepRead.readMs} ms (init ${stepRead.initMs} ms), ${stepRead.trianglesRead} triangles back`,
);
