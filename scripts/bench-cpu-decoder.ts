/// <reference types="node" />
// CPU decoder benchmark (not part of CI): points per second of the reference decoder
// (`decodePointsCpu`, the CPU path before issue 9), of the batched TypeScript decoder (`BatchDecoder`)
// and of the MLP on onnxruntime-web's WASM backend (`OrtDecoder`, the one the CPU path uses), on the
// test model's triplane and weights (the real TripoSR MLP shape: 120 → 64, 8 × 64 → 64, → 4), in one
// run. Checks that each agrees with the reference before timing. --threads sets ORT's WASM threads
// (fixed once per process, as in a worker; the app uses several only when cross-origin isolated).
// Writes bench-results/cpu-decoder-<time>.json and prints a table.
//   npm run bench:cpu -- --points 200000 --runs 3 --threads 1
import * as ort from 'onnxruntime-web';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { BatchDecoder } from '../src/cpu/batch-decoder.ts';
import { OrtDecoder } from '../src/cpu/ort-decoder.ts';
import { DEFAULT_BOUNDS } from '../src/gpu/constants.ts';
import { decodePointsCpu } from '../src/gpu/reference/triplane-decoder-cpu.ts';
import { mulberry32 } from './lib/rng.ts';
import { expectedTriplane, syntheticImage, testDecoderWeights } from './make-test-models.ts';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const points = Number(arg('points', '200000'));
const runs = Number(arg('runs', '3'));
// The reference runs at a few thousand points per second: time it on a slice, not the whole set.
const referencePoints = Math.min(points, Number(arg('reference-points', '20000')));
const threads = Number(arg('threads', '1'));
if (!(points >= 1000) || !(runs >= 1) || !(threads >= 1)) throw new Error('Use --points 1000 or more, --runs 1 or more and --threads 1 or more.');
ort.env.wasm.numThreads = threads;

const triplane = expectedTriplane(syntheticImage({ colour: [0.55, 0.45, 0.35], cx: 0.5, cy: 0.5, rx: 0.25, ry: 0.32 }, 1));
const weights = testDecoderWeights();
const rand = mulberry32(9);
const xyz = new Float32Array(3 * points);
for (let i = 0; i < xyz.length; i++) {
  const a = i % 3;
  const [lo, hi] = [DEFAULT_BOUNDS[0][a]!, DEFAULT_BOUNDS[1][a]!];
  xyz[i] = lo + (hi - lo) * rand();
}

/** Median points per second over `runs` timed runs of `decode` on `n` points (after one warm-up). */
async function pointsPerSecond(n: number, decode: (p: Float32Array) => unknown): Promise<{ pointsPerSecond: number; msPerRun: number[] }> {
  const slice = xyz.subarray(0, 3 * n);
  await decode(slice.subarray(0, 3 * Math.min(n, 2000)));
  const msPerRun: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    await decode(slice);
    msPerRun.push(performance.now() - t);
  }
  const sorted = [...msPerRun].sort((a, b) => a - b);
  return { pointsPerSecond: Math.round(n / (sorted[sorted.length >> 1]! / 1000)), msPerRun: msPerRun.map((ms) => +ms.toFixed(1)) };
}

type Decoded = { density: Float32Array; colour: Float32Array };
/** Worst disagreement with the reference: density relative, colour absolute; throws past the contract. */
function agreement(name: string, ours: Decoded, ref: Decoded): { maxDensityRelative: number; maxColourAbsolute: number } {
  let densityRel = 0;
  let colourAbs = 0;
  for (let i = 0; i < ref.density.length; i++) {
    const err = Math.abs(ours.density[i]! - ref.density[i]!);
    densityRel = Math.max(densityRel, Math.abs(ref.density[i]!) < 0.1 ? err / 0.1 : err / Math.abs(ref.density[i]!));
  }
  for (let i = 0; i < ref.colour.length; i++) colourAbs = Math.max(colourAbs, Math.abs(ours.colour[i]! - ref.colour[i]!));
  if (densityRel > 1e-4 || colourAbs > 1e-5) throw new Error(`${name} disagrees with the reference (density ${densityRel}, colour ${colourAbs}).`);
  return { maxDensityRelative: densityRel, maxColourAbsolute: colourAbs };
}

const batch = new BatchDecoder(triplane, weights);
const onnx = await OrtDecoder.create(ort, triplane, weights);
const check = Math.min(points, 5000);
const checkPoints = xyz.subarray(0, 3 * check);
const ref = decodePointsCpu(triplane, weights, checkPoints);
const agreements = {
  BatchDecoder: agreement('BatchDecoder', batch.decode(checkPoints), ref),
  OrtDecoder: agreement('OrtDecoder', await onnx.decode(checkPoints), ref),
};

const density = new Float32Array(points);
const before = await pointsPerSecond(referencePoints, (p) => decodePointsCpu(triplane, weights, p));
const rows = [
  { decoder: 'reference decodePointsCpu (before)', threads: 1, want: 'density+colour', points: referencePoints, ...before },
  { decoder: 'BatchDecoder (TypeScript GEMM)', threads: 1, want: 'density', points, ...(await pointsPerSecond(points, (p) => batch.decode(p, { density: true }))) },
  { decoder: 'OrtDecoder (ORT WASM, the CPU path)', threads, want: 'density', points, ...(await pointsPerSecond(points, (p) => onnx.decodeInto(p, 0, p.length / 3, density, null))) },
  { decoder: 'OrtDecoder (ORT WASM, the CPU path)', threads, want: 'density+colour', points, ...(await pointsPerSecond(points, (p) => onnx.decode(p))) },
];
await onnx.release();
const date = new Date().toISOString();
const result = {
  date,
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  model: 'tests/fixtures/models/triposr-test (testDecoderWeights, expectedTriplane)',
  agreement: { points: check, ...agreements },
  rows,
  speedup: {
    BatchDecoder: +(rows[1]!.pointsPerSecond / before.pointsPerSecond).toFixed(1),
    OrtDecoder: +(rows[2]!.pointsPerSecond / before.pointsPerSecond).toFixed(1),
  },
};
mkdirSync('bench-results', { recursive: true });
const file = `bench-results/cpu-decoder-${date.replace(/[:.]/g, '-')}.json`;
writeFileSync(file, JSON.stringify(result, null, 2));
console.log(JSON.stringify(result));
console.table(rows.map((r) => ({ decoder: r.decoder, threads: r.threads, want: r.want, points: r.points, 'points/s': r.pointsPerSecond, 'ms/run': r.msPerRun.join(' ') })));
console.log(`Speed-up over the reference (density): BatchDecoder ${result.speedup.BatchDecoder}×, OrtDecoder ${result.speedup.OrtDecoder}× on ${threads} thread(s). Wrote ${file}.`);
