import { describe, expect, it } from 'vitest';
import { processMesh } from '../../src/post/process';
import type { PostSettings } from '../../src/post/types';
import { usedBounds } from '../../src/post/work-mesh';
import type { ResultMesh } from '../../src/shared/mesh';
import { icosphere } from '../helpers/post-meshes';

/** Largest distance from a mapped-back output vertex to the nearest input vertex, over `keep` vertices. */
function worstMatch(input: ResultMesh, output: Float32Array, keep: (index: number) => boolean): { worst: number; checked: number } {
  let worst = 0;
  let checked = 0;
  for (let v = 0; v < output.length / 3; v++) {
    if (!keep(v)) continue;
    checked++;
    let best = Infinity;
    for (let u = 0; u < input.positions.length / 3; u++) {
      const d = Math.hypot(output[3 * v]! - input.positions[3 * u]!, output[3 * v + 1]! - input.positions[3 * u + 1]!, output[3 * v + 2]! - input.positions[3 * u + 2]!);
      if (d < best) best = d;
    }
    worst = Math.max(worst, best);
  }
  return { worst, checked };
}

function mapBack(positions: Float32Array, toSource: { scale: number; offset: [number, number, number] }): Float32Array {
  return positions.map((x, i) => x * toSource.scale + toSource.offset[i % 3]!);
}

describe('PostResult.toSource', () => {
  // Off-centre, so that the placement really translates; radius 0.4 m like a generated model.
  const input = icosphere(4, 0.4, [0.1, -0.2, 0.05]);

  it('maps the scaled, re-pivoted mesh back onto the input vertices', async () => {
    const result = await processMesh(input, { smoothing: { iterations: 0, lambda: 0.5, mu: -0.53 }, targetTriangles: null });
    expect(result.toSource!.scale).toBeCloseTo(0.8 / 100, 9);
    const { worst, checked } = worstMatch(input, mapBack(result.mesh.positions, result.toSource!), () => true);
    expect(checked).toBe(input.positions.length / 3);
    // Float32 round trip through ×250 and back: micrometres on a 0.4 m sphere.
    expect(worst).toBeLessThan(1e-6);
  });

  it('composes the flat-bottom cut and the re-scale after it', async () => {
    const settings: Partial<PostSettings> = {
      smoothing: { iterations: 0, lambda: 0.5, mu: -0.53 },
      targetTriangles: null,
      flatBottom: 0.1,
      size: { dimension: 'height', value: 50, unit: 'mm' },
    };
    const result = await processMesh(input, settings);
    expect(result.steps.map((s) => s.step)).toContain('flatten');
    const back = mapBack(result.mesh.positions, result.toSource!);
    const bottom = usedBounds(input).min[1];
    const cut = bottom + 0.1 * 0.8;
    // Vertices above the cut (and its 0.1 % snap band) are input vertices moved only by placement.
    const { worst, checked } = worstMatch(input, back, (v) => back[3 * v + 1]! > cut + 2e-3);
    expect(checked).toBeGreaterThan(2000);
    expect(worst).toBeLessThan(1e-6);
    // The cap lies in the cut plane once mapped back.
    const capY = usedBounds({ positions: back, colours: back, indices: result.mesh.indices }).min[1];
    expect(capY).toBeCloseTo(cut, 5);
  });
});
