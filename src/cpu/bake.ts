/** The texture bake's colour search on the CPU: the steps of src/texture/project.ts over a PointDecoder. */
import { throwIfAborted } from '../lib/errors';
import { crossing, type ProjectOptions, type TexelColourer } from '../texture/project';
import { RECORD_FLOATS } from '../texture/surface';
import type { PointDecoder } from './async-mesher';

export interface CpuBakeOptions {
  /** Texels searched between checks of the signal and progress reports. */
  chunkTexels: number;
}

export const CPU_BAKE_DEFAULTS: CpuBakeOptions = { chunkTexels: 1024 };

/** A TexelColourer over `decoder` (BatchDecoder in tests, the ORT WASM decoder in the CPU worker). */
export function cpuTexelColourer(decoder: PointDecoder, options: Partial<CpuBakeOptions> = {}): TexelColourer {
  const { chunkTexels } = { ...CPU_BAKE_DEFAULTS, ...options };
  return async (records, threshold, project, onProgress, signal) => {
    const n = records.length / RECORD_FLOATS;
    const colours = new Float32Array(3 * n);
    for (let first = 0; first < n; first += chunkTexels) {
      throwIfAborted(signal);
      const count = Math.min(chunkTexels, n - first);
      const chunk = records.subarray(RECORD_FLOATS * first, RECORD_FLOATS * (first + count));
      colours.set(await colourChunk(decoder, chunk, threshold, project), 3 * first);
      onProgress((first + count) / n);
      // Lets cancel and other messages reach the worker between chunks.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    return colours;
  };
}

async function colourChunk(decoder: PointDecoder, records: Float32Array, threshold: number, project: ProjectOptions): Promise<Float32Array> {
  const n = records.length / RECORD_FLOATS;
  const S = project.searchSteps;
  const K = 2 * S + 1;
  const h = project.searchRadius / S;
  const along = (i: number, t: number, out: Float32Array, at: number): void => {
    const o = RECORD_FLOATS * i;
    for (let a = 0; a < 3; a++) out[at + a] = records[o + a]! + t * records[o + 3 + a]!;
  };
  const samples = new Float32Array(3 * n * K);
  for (let i = 0; i < n; i++) for (let j = 0; j < K; j++) along(i, (j - S) * h, samples, 3 * (i * K + j));
  const density = new Float32Array(n * K);
  await decoder.decodeInto(samples, 0, n * K, density, null);
  // Bracket [lo, hi] in t, and whether the field is inside at lo; nearest sign change to t = 0.
  const lo = new Float32Array(n);
  const hi = new Float32Array(n);
  const insideLo = new Uint8Array(n);
  // With no bisections: the interpolated crossing of the chosen bracket (lo = hi = that t).
  const interpolate = project.bisections === 0;
  for (let i = 0; i < n; i++) {
    let best = Infinity;
    for (let j = 0; j + 1 < K; j++) {
      const a = density[i * K + j]! > threshold;
      const b = density[i * K + j + 1]! > threshold;
      const distance = Math.abs(2 * j + 1 - 2 * S);
      if (a !== b && distance < best) {
        best = distance;
        lo[i] = Math.fround((j - S) * h);
        hi[i] = Math.fround((j + 1 - S) * h);
        insideLo[i] = a ? 1 : 0;
        if (interpolate) lo[i] = hi[i] = Math.fround(crossing(lo[i]!, hi[i]!, density[i * K + j]!, density[i * K + j + 1]!, threshold));
      }
    }
  }
  const mids = new Float32Array(3 * n);
  const midDensity = new Float32Array(n);
  const writeMids = (): void => {
    for (let i = 0; i < n; i++) along(i, Math.fround((lo[i]! + hi[i]!) / 2), mids, 3 * i);
  };
  writeMids();
  for (let b = 0; b < project.bisections; b++) {
    await decoder.decodeInto(mids, 0, n, midDensity, null);
    for (let i = 0; i < n; i++) {
      if (lo[i] === hi[i]) continue;
      const mid = Math.fround((lo[i]! + hi[i]!) / 2);
      if (midDensity[i]! > threshold === (insideLo[i] === 1)) lo[i] = mid;
      else hi[i] = mid;
    }
    writeMids();
  }
  const colour = new Float32Array(3 * n);
  await decoder.decodeInto(mids, 0, n, null, colour);
  return colour;
}
