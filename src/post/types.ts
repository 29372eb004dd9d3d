/**
 * The contract of mesh processing ("Prepare for printing / CAD"): settings, the quality report and
 * what each step changed. Implemented in src/post/, run in workers/post.worker.ts, shown in the UI.
 * Meshes are ResultMesh (src/shared/mesh.ts): glTF frame, Y up, sRGB vertex colours.
 */
import type { ResultMesh } from '../shared/mesh';
import type { MeshToSource } from '../texture/types';

/** Real-world length units the user can choose. */
export const UNITS = ['mm', 'cm', 'm', 'in'] as const;
export type Unit = (typeof UNITS)[number];

/** Metres per unit. */
export const METRES_PER_UNIT: Record<Unit, number> = { mm: 0.001, cm: 0.01, m: 1, in: 0.0254 };

/** Processing settings; every step can be switched off. */
export interface PostSettings {
  cleanup: {
    enabled: boolean;
    /** Keep the largest component and every component with at least this share of its volume (0..1). */
    keepShare: number;
  };
  smoothing: {
    /** Taubin λ/μ iterations; 0 switches smoothing off. */
    iterations: number;
    lambda: number;
    mu: number;
  };
  /** Target triangle count (1,000..500,000), or null to keep every triangle. */
  targetTriangles: number | null;
  /** Close holes and return a closed manifold solid (manifold-3d checks it). */
  printable: boolean;
  /** Real-world size: the model is scaled so that `dimension` measures `value` `unit`. */
  size: { dimension: 'height' | 'longest'; value: number; unit: Unit };
  /** Cut the bottom flat by a horizontal plane at this share of the height (0 = off, e.g. 0.02). */
  flatBottom: number;
  /** Minimum acceptable quality score (0..10). */
  minQuality: number;
}

/** A long step reports its progress as (step, fraction 0..1). */
export type PostProgress = (step: PostStep, fraction: number) => void;

/** Every step processing can run, in this order. */
export const POST_STEPS = ['weld', 'cleanup', 'smooth', 'decimate', 'fill-holes', 'manifold', 'scale', 'flatten', 'report'] as const;
export type PostStep = (typeof POST_STEPS)[number];

/** What one step did, in plain words for the UI ("Welded 1,204 duplicate vertices"). */
export interface StepLog {
  step: PostStep;
  message: string;
  ms: number;
  /** True when the step failed and processing kept its input (e.g. a repair that could not close the mesh). */
  failed?: boolean;
}

/** Why a mesh scored lower, and which step fixes it. */
export interface QualityIssue {
  code: 'open' | 'non-manifold' | 'components' | 'degenerate' | 'slivers' | 'too-many-triangles' | 'empty';
  message: string;
  fix?: 'printable' | 'cleanup' | 'decimate' | 'smooth';
}

/** The quality report; lengths are in `unit`. */
export interface QualityReport {
  vertices: number;
  triangles: number;
  components: number;
  boundaryEdges: number;
  nonManifoldEdges: number;
  watertight: boolean;
  /** Enclosed volume in unit³ (signed-volume sum; meaningful when watertight). */
  volume: number;
  surfaceArea: number;
  /** Bounding-box size (x, y, z) in unit, Y up. */
  size: [number, number, number];
  unit: Unit;
  /** Triangle aspect ratio quality in 0..1 (1 = equilateral): minimum and mean. */
  aspect: { min: number; mean: number };
  /** Overall score 0..10 (formula in src/post/quality.ts and the README). */
  score: number;
  /** One plain-words sentence. */
  verdict: string;
  issues: QualityIssue[];
}

/** What processing returns. */
export interface PostResult {
  mesh: ResultMesh;
  report: QualityReport;
  steps: StepLog[];
  /** The settings it ran with (defaults filled in). */
  settings: PostSettings;
  /**
   * Maps `mesh` back to the input's frame (every placement step composed), for the texture bake.
   * processMesh always sets it; a result restored from a history entry that did not keep it has none.
   */
  toSource?: MeshToSource;
}
