/// <reference types="node" />
// CPU decoder benchmark (not part of CI): points per second of the reference decoder
// (`decodePointsCpu`, the CPU path before issue 9) and of the batched decoder (`BatchDecoder`), on
// the test model's triplane and weights (the real TripoSR MLP shape: 120 → 64, 8 × 64 → 64, → 4),
// single-threaded, in one run. Checks that both agree before timing. Writes
// bench-results/cpu-decoder-<time>.json and prints a table.
//   npm run bench:cpu -- --points 200000 --runs 3
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { BatchDecoder } from '../src/cpu/batch-decoder.ts';
import { DEFAULT_BOUNDS } from '../src/gpu/constants.ts';
import { decodePointsCpu } from '../src/gpu/reference/triplane-decoder-cpu.ts';
import { mulberry32 } from './lib/rng.ts';
import { expectedTriplane, testDecoderWeights } from './make-test-models.ts';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const points = Number(arg('points', '200000'));
const runs = Number(arg('runs', '3'));
// The reference runs at a few thousand points per second: time it on a slice, not the whole set.
const referencePoints = Math.min(points, Number(arg('reference-points', '20000')));
if (!(points >= 1000) || !(runs >= 1)) throw new Error('Use --points 1000 or more and --runs 1 or more.');

const triplane = expectedTriplane([0.55, 0.45, 0.35]);
const weights = testDecoderWeights();
const rand = mulberry32(9);
const xyz = new Float32Array(3 * points);
for (let i = 0; i < xyz.length; i++) {
  const a = i % 3;
  const [lo, hi] = [DEFAULT_BOUNDS[0][a]!, DEFAULT_BOUNDS[1][a]!];
  xyz[i] = lo + (hi - lo) * rand();
}

/** Median points per second over `runs` timed runs of `decode` on `n` points (after one warm-up). */
function pointsPerSecond(n: number, decode: (p: Float32Array) => void): { pointsPerSecond: number; msPerRun: number[] } {
  const slice = xyz.subarray(0, 3 * n);
  decode(slice.subarray(0, 3 * Math.min(n, 2000)));
  const msPerRun: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    decode(slice);
    msPerRun.push(performance.now() - t);
  }
  const sorted = [...msPerRun].sort((a, b) => a - b);
  return { pointsPerSecond: Math.round(n / (sorted[sorted.length >> 1]! / 1000)), msPerRun: msPerRun.map((ms) => +ms.toFixed(1)) };
}

const decoder = new BatchDecoder(triplane, weights);
const check = Math.min(points, 5000);
const ref = decodePointsCpu(triplane, weights, xyz.subarray(0, 3 * check));
const fast = decoder.decode(xyz.subarray(0, 3 * check));
let densityRel = 0;
let colourAbs = 0;
for (let i = 0; i < check; i++) {
  densityRel = Math.max(densityRel, Math.abs(fast.density[i]! - ref.density[i]!) / Math.max(Math.abs(ref.density[i]!), 1e-30));
  for (let k = 0; k < 3; k++) colourAbs = Math.max(colourAbs, Math.abs(fast.colour[3 * i + k]! - ref.colour[3 * i + k]!));
}
if (densityRel > 1e-4 || colourAbs > 1e-5) throw new Error(`The batched decoder disagrees with the reference (density ${densityRel}, colour ${colourAbs}).`);

const before = pointsPerSecond(referencePoints, (p) => decodePointsCpu(triplane, weights, p));
const afterDensity = pointsPerSecond(points, (p) => decoder.decode(p, { density: true }));
const afterBoth = pointsPerSecond(points, (p) => decoder.decode(p));
const date = new Date().toISOString();
const result = {
  date,
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  threads: 1,
  model: 'tests/fixtures/models/triposr-test (testDecoderWeights, expectedTriplane)',
  agreement: { points: check, maxDensityRelative: densityRel, maxColourAbsolute: colourAbs },
  rows: [
    { decoder: 'reference decodePointsCpu (before)', want: 'density+colour', points: referencePoints, ...before },
    { decoder: 'BatchDecoder (after)', want: 'density', points, ...afterDensity },
    { decoder: 'BatchDecoder (after)', want: 'density+colour', points, ...afterBoth },
  ],
  speedup: +(afterDensity.pointsPerSecond / before.pointsPerSecond).toFixed(1),
};
mkdirSync('bench-results', { recursive: true });
const file = `bench-results/cpu-decoder-${date.replace(/[:.]/g, '-')}.json`;
writeFileSync(file, JSON.stringify(result, null, 2));
console.log(JSON.stringify(result));
console.table(result.rows.map((r) => ({ decoder: r.decoder, want: r.want, points: r.points, 'points/s': r.pointsPerSecond, 'ms/run': r.msPerRun.join(' ') })));
console.log(`Speed-up (density, one thread): ${result.speedup}×; agreement: density ${densityRel.toExponential(1)} rel, colour ${colourAbs.toExponential(1)} abs. Wrote ${file}.`);
