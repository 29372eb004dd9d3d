/** Decimation to a target triangle count with meshoptimizer, keeping vertex colours and borders. */
import { MeshoptSimplifier, type SimplifierFlags } from 'meshoptimizer';
import { dropDuplicateTriangles } from './repair';
import { compactVertices, triangleCount, type WorkMesh } from './work-mesh';

/** Options for {@link decimate}. */
export interface DecimateOptions {
  targetTriangles: number;
  /** Weight of each colour channel against position error (meshoptimizer's attribute_weights). */
  colourWeight: number;
}

/** The app's default budget; colours weigh about as much as positions, as meshoptimizer suggests for 0..1 attributes. */
export const DECIMATE_DEFAULTS: DecimateOptions = { targetTriangles: 50_000, colourWeight: 1 };

/** What {@link decimate} did. */
export interface DecimateResult {
  mesh: WorkMesh;
  before: number;
  /** Triangles reached; within 5 % of the target unless the mesh's topology stopped the simplifier. */
  after: number;
  /** meshoptimizer's relative error of the result (share of the mesh's extent). */
  error: number;
}

/**
 * Simplifies with `MeshoptSimplifier.simplifyWithAttributes`, colours as attributes, border
 * vertices locked ('LockBorder') so holes and open edges keep their outline, and no error limit so
 * the target decides. When topology stops it more than 5 % above the target, a second pass adds
 * 'Prune' (lets small isolated pieces go). Collapses can fold a flap flat onto the surface (two
 * triangles over the same vertices), which makes its edges non-manifold, so such pairs are removed.
 * A mesh already at or under the target is returned as is.
 */
export async function decimate(mesh: WorkMesh, options: Partial<DecimateOptions> = {}): Promise<DecimateResult> {
  const { targetTriangles, colourWeight } = { ...DECIMATE_DEFAULTS, ...options };
  const before = triangleCount(mesh);
  if (before <= targetTriangles) return { mesh, before, after: before, error: 0 };
  await MeshoptSimplifier.ready;
  const weights = [colourWeight, colourWeight, colourWeight];
  const run = (flags: SimplifierFlags[]) =>
    MeshoptSimplifier.simplifyWithAttributes(mesh.indices, mesh.positions, 3, mesh.colours, 3, weights, null, targetTriangles * 3, 1, flags);
  let [indices, error] = run(['LockBorder']);
  if (indices.length / 3 > targetTriangles * 1.05) [indices, error] = run(['LockBorder', 'Prune']);
  const { mesh: simplified } = dropDuplicateTriangles(compactVertices({ ...mesh, indices }));
  return { mesh: simplified, before, after: simplified.indices.length / 3, error };
}
