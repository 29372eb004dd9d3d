/** Taubin λ/μ smoothing: removes noise without the shrinking plain Laplacian smoothing causes. */
import { throwIfAborted } from '../lib/errors';
import { buildEdges, edgeUse } from './topology';
import { vertexCount, yieldToEventLoop, type WorkMesh } from './work-mesh';

/** Options for {@link taubinSmooth}. */
export interface SmoothOptions {
  iterations: number;
  /** The shrinking step (0 < λ < 1). */
  lambda: number;
  /** The inflating step (μ < −λ). */
  mu: number;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

/** Taubin's classic pass band (k_PB = 1/λ + 1/μ ≈ 0.11). */
export const SMOOTH_DEFAULTS: SmoothOptions = { iterations: 0, lambda: 0.5, mu: -0.53 };

/**
 * Taubin smoothing (G. Taubin, "A signal processing approach to fair surface design", SIGGRAPH
 * 1995) with the uniform umbrella Laplacian over mesh edges: each iteration moves every vertex by
 * λ·L then by μ·L. Vertices on a boundary or non-manifold edge stay where they are, so holes and
 * borders keep their outline. Returns a new mesh; the input is not changed.
 */
export async function taubinSmooth(mesh: WorkMesh, options: Partial<SmoothOptions> = {}): Promise<WorkMesh> {
  const { iterations, lambda, mu, signal, onProgress } = { ...SMOOTH_DEFAULTS, ...options };
  if (iterations <= 0) return mesh;
  const n = vertexCount(mesh);
  const edges = buildEdges(mesh.indices, n);
  const fixed = new Uint8Array(n);
  for (let e = 0; e < edges.edgeCount; e++) {
    if (edgeUse(edges, e) !== 2) {
      fixed[edges.from[e]!] = 1;
      fixed[edges.to[e]!] = 1;
    }
  }
  const degree = new Float64Array(n);
  for (let e = 0; e < edges.edgeCount; e++) {
    degree[edges.from[e]!]!++;
    degree[edges.to[e]!]!++;
  }
  const current = Float64Array.from(mesh.positions);
  const sum = new Float64Array(n * 3);
  for (let i = 0; i < iterations; i++) {
    step(current, sum, edges.from, edges.to, degree, fixed, lambda);
    step(current, sum, edges.from, edges.to, degree, fixed, mu);
    onProgress?.((i + 1) / iterations);
    if (i % 4 === 3) {
      await yieldToEventLoop();
      throwIfAborted(signal);
    }
  }
  return { ...mesh, positions: Float32Array.from(current) };
}

/** One umbrella step p ← p + factor · (mean of neighbours − p). */
function step(
  p: Float64Array,
  sum: Float64Array,
  from: Uint32Array,
  to: Uint32Array,
  degree: Float64Array,
  fixed: Uint8Array,
  factor: number,
): void {
  sum.fill(0);
  for (let e = 0; e < from.length; e++) {
    const a = from[e]! * 3, b = to[e]! * 3;
    sum[a] = sum[a]! + p[b]!;
    sum[a + 1] = sum[a + 1]! + p[b + 1]!;
    sum[a + 2] = sum[a + 2]! + p[b + 2]!;
    sum[b] = sum[b]! + p[a]!;
    sum[b + 1] = sum[b + 1]! + p[a + 1]!;
    sum[b + 2] = sum[b + 2]! + p[a + 2]!;
  }
  const n = degree.length;
  for (let v = 0; v < n; v++) {
    const d = degree[v]!;
    if (fixed[v] || d === 0) continue;
    for (let a = 0; a < 3; a++) {
      const i = v * 3 + a;
      p[i] = p[i]! + factor * (sum[i]! / d - p[i]!);
    }
  }
}
