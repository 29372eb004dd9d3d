/** The benchmark's cases, generated here (nothing downloaded): see BenchCase. */
import { meshTriplane } from '../../src/gpu/triplane-mesher';
import { blobDecoder, smoothTriplane } from '../../tests/helpers/synthetic-decoder';
import type { BenchCase } from './mesh-bench';

/** Every case of the benchmark. */
export function benchCases(): BenchCase[] {
  const triplane = smoothTriplane(11);
  const weights = blobDecoder(12, triplane);
  return [
    {
      name: 'blob',
      note: 'seeded triplane, TripoSR-shaped 10-layer decoder: a bumpy closed blob',
      mesh: (device, mode, resolution) => meshTriplane(device, triplane, weights, { resolution, threshold: 25, mode }),
    },
  ];
}
