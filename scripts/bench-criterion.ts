// Coarse-to-fine criterion benchmark (not part of CI), on the CPU reference: per fixture and
// resolution, the evaluated fraction (evaluations / r³) of the coarse-to-fine walk and whether its mesh
// is identical to the dense one. With OLD_SRC pointing at an older checkout's src/ (e.g.
// `git archive <commit> src | tar -x -C /tmp/old`), the old criterion runs too, for before/after rows.
//
//   npx tsx --import ./scripts/lib/raw-import.mjs scripts/bench-criterion.ts [--triplane] [--sizes 128,256]
//   OLD_SRC=/tmp/old/src npx tsx --import ./scripts/lib/raw-import.mjs scripts/bench-criterion.ts
//   npx tsx --import ./scripts/lib/raw-import.mjs scripts/bench-criterion.ts --safety   (the measured bound's safety factor)
//
// Prints one JSON object per row, then a table.
import { DEFAULT_BOUNDS, type Dims } from '../src/gpu/constants.ts';
import type { DecoderWeights } from '../src/gpu/decoder-weights.ts';
import { densityWalkCpu, type CpuEvaluator } from '../src/gpu/reference/density-walk-cpu.ts';
import { marchingCubesCpu } from '../src/gpu/reference/marching-cubes-cpu.ts';
import { decodePointsCpu } from '../src/gpu/reference/triplane-decoder-cpu.ts';
import { withTriplaneBound } from '../src/gpu/reference/triplane-mesher-cpu.ts';
import { declaredWalkBound, type RawScale } from '../src/gpu/walk-bound.ts';
import { identicalMeshes } from '../tests/helpers/mesh-compare.ts';
import { deepThinFixture, THIN_SLOPE, THIN_THRESHOLD, thinDecoder, thinEvaluator, thinTriplane } from '../tests/helpers/thin-fixtures.ts';

type OldWalk = (evaluate: CpuEvaluator, dims: Dims, bounds: typeof DEFAULT_BOUNDS, iso: number, mode: 'dense' | 'coarse-to-fine') => { field: Float32Array; evaluations: number };

interface Fixture {
  name: string;
  sizes: number[];
  iso: number;
  evaluate: (r: number) => CpuEvaluator;
  /** The walk's bound options for resolution r. */
  bound: (r: number) => ReturnType<typeof withTriplaneBound>;
}

const args = process.argv.slice(2);
const sizesArg = args.includes('--sizes') ? args[args.indexOf('--sizes') + 1]!.split(',').map(Number) : [128, 256];
const triplaneSizes = args.includes('--triplane-sizes') ? args[args.indexOf('--triplane-sizes') + 1]!.split(',').map(Number) : [64];

/** A closed-form field as a CPU evaluator. */
function analytic(f: (x: number, y: number, z: number) => number): CpuEvaluator {
  return (p) => Float32Array.from({ length: p.length / 3 }, (_, i) => f(p[3 * i]!, p[3 * i + 1]!, p[3 * i + 2]!));
}

function declared(slope: number, scale?: RawScale) {
  return () => ({ bound: declaredWalkBound(slope, scale) });
}

function triplaneFixture(name: string, make: (r: number) => { triplane: Float32Array; weights: DecoderWeights }): Fixture {
  return {
    name,
    sizes: triplaneSizes,
    iso: THIN_THRESHOLD,
    evaluate: (r) => {
      const { triplane, weights } = make(r);
      return (p) => decodePointsCpu(triplane, weights, p, { density: true }).density;
    },
    bound: (r) => {
      const { triplane, weights } = make(r);
      return withTriplaneBound(triplane, weights, { mode: 'coarse-to-fine' });
    },
  };
}

const fixtures: Fixture[] = [
  { name: 'thin parts 25·exp(60·sdf)', sizes: sizesArg, iso: THIN_THRESHOLD, evaluate: (r) => thinEvaluator(r), bound: declared(THIN_SLOPE, { activation: 'exp' }) },
  {
    name: 'sphere 0.5 − |p·(1, 1.3, 0.8)|',
    sizes: sizesArg,
    iso: 0,
    evaluate: () => analytic((x, y, z) => 0.5 - Math.hypot(x, 1.3 * y, 0.8 * z)),
    bound: declared(1.3),
  },
  {
    name: 'sphere 25·exp(60·(0.4 − |p|))',
    sizes: sizesArg,
    iso: THIN_THRESHOLD,
    evaluate: () => analytic((x, y, z) => 25 * Math.exp(60 * (0.4 - Math.hypot(x, y, z)))),
    bound: declared(60, { activation: 'exp' }),
  },
];
if (args.includes('--triplane')) {
  fixtures.push(triplaneFixture('triplane shallow (rods, plate)', (r) => ({ triplane: thinTriplane(r), weights: thinDecoder() })));
  fixtures.push(triplaneFixture('triplane deep (10 layers)', () => deepThinFixture()));
}

const oldWalk: OldWalk | undefined = process.env.OLD_SRC
  ? (await import(`${process.env.OLD_SRC}/gpu/reference/density-walk-cpu.ts`)).densityWalkCpu
  : undefined;

const rows: Record<string, unknown>[] = [];
for (const fixture of args.includes('--safety') ? [] : fixtures) {
  for (const r of fixture.sizes) {
    const dims: Dims = [r, r, r];
    const evaluate = fixture.evaluate(r);
    const t0 = performance.now();
    const dense = densityWalkCpu(evaluate, dims, DEFAULT_BOUNDS, fixture.iso, 'dense');
    const denseMesh = marchingCubesCpu(dense.field, dims, fixture.iso);
    const t1 = performance.now();
    const next = densityWalkCpu(evaluate, dims, DEFAULT_BOUNDS, fixture.iso, 'coarse-to-fine', fixture.bound(r));
    const nextMesh = marchingCubesCpu(next.field, dims, fixture.iso);
    const t2 = performance.now();
    const row: Record<string, unknown> = {
      fixture: fixture.name,
      resolution: r,
      triangles: denseMesh.indices.length / 3,
      newKind: next.kind,
      newFraction: +(next.evaluations / r ** 3).toFixed(4),
      newIdentical: identicalMeshes(nextMesh, denseMesh),
      denseMs: Math.round(t1 - t0),
      newMs: Math.round(t2 - t1),
    };
    if (oldWalk) {
      const old = oldWalk(evaluate, dims, DEFAULT_BOUNDS, fixture.iso, 'coarse-to-fine');
      const oldMesh = marchingCubesCpu(old.field, dims, fixture.iso);
      Object.assign(row, {
        oldFraction: +(old.evaluations / r ** 3).toFixed(4),
        oldIdentical: identicalMeshes(oldMesh, denseMesh),
        oldTriangles: oldMesh.indices.length / 3,
      });
    }
    console.log(JSON.stringify(row));
    rows.push(row);
  }
}
if (rows.length) console.table(rows);

// Safety factor check for the measured bound: per channel, the largest |∂raw/∂f_i| over every fine
// point of a 48³ lattice within 8 raw units of iso, against the largest at the probes the walk uses
// (coarse samples, k = 4). The walk's safety factor must exceed the worst ratio.
if (args.includes('--safety')) {
  const { CoarseLattice } = await import('../src/gpu/coarse-to-fine.ts');
  const { latticePoints } = await import('../src/gpu/reference/density-walk-cpu.ts');
  const { sampleTriplane } = await import('../src/gpu/reference/triplane-decoder-cpu.ts');
  const { measuredGradient, rawGradient } = await import('../src/gpu/triplane-walk-bound.ts');
  const { blobDecoder, smoothTriplane } = await import('../tests/helpers/synthetic-decoder.ts');
  const cases: [string, Float32Array, DecoderWeights][] = [];
  for (const seed of [3, 11, 21]) {
    const tp = smoothTriplane(seed);
    cases.push([`blobDecoder(${seed + 1})`, tp, blobDecoder(seed + 1, tp)]);
  }
  const deep = deepThinFixture();
  cases.push(['deepThinFixture', deep.triplane, deep.weights]);
  for (const [name, triplane, weights] of cases) {
    const r = 48;
    const lattice = new CoarseLattice([r, r, r], 4);
    const coarsePts = latticePoints(lattice.dims, DEFAULT_BOUNDS, lattice.coarsePointIndices());
    const coarseRaw = Array.from({ length: coarsePts.length / 3 }, (_, i) => rawGradient(weights, sampleTriplane(triplane, coarsePts.subarray(3 * i, 3 * i + 3))).raw);
    const isoRaw = Math.log(THIN_THRESHOLD);
    const probe = measuredGradient(triplane, weights, coarsePts, (i) => coarseRaw[i]!, isoRaw, 1024);
    const all = latticePoints([r, r, r], DEFAULT_BOUNDS, Uint32Array.from({ length: r ** 3 }, (_, i) => i));
    const truth = new Float64Array(120);
    for (let i = 0; i < r ** 3; i++) {
      const { raw, gradient } = rawGradient(weights, sampleTriplane(triplane, all.subarray(3 * i, 3 * i + 3)));
      if (Math.abs(raw - isoRaw) > 8) continue;
      gradient.forEach((g, f) => (truth[f] = Math.max(truth[f]!, Math.abs(g))));
    }
    let worst = 0;
    truth.forEach((g, f) => g > 1e-9 && (worst = Math.max(worst, g / probe[f]!)));
    console.log(JSON.stringify({ safetyCheck: name, worstTrueOverProbe: +worst.toFixed(3) }));
  }
}
