/** The quality report and its 0–10 score. */
import type { ResultMesh } from '../shared/mesh';
import type { QualityIssue, QualityReport, Unit } from './types';
import { buildEdges, edgeStats, triangleComponents } from './topology';
import { weldVertices } from './weld';
import { usedBounds, volumeAndArea, type WorkMesh } from './work-mesh';

/** A triangle with aspect quality below this is a sliver. */
export const SLIVER_ASPECT = 0.1;
/** More triangles than this is heavy for slicers, CAD tools and the web. */
export const HEAVY_TRIANGLES = 500_000;

/**
 * Triangle aspect quality q = 4√3·A / (a² + b² + c²): 1 for an equilateral triangle, 0 for a
 * degenerate one (needle or flat cap).
 */
export function aspectQuality(a2: number, b2: number, c2: number, area: number): number {
  const sum = a2 + b2 + c2;
  return sum > 0 ? Math.min(1, (4 * Math.sqrt(3) * area) / sum) : 0;
}

/** The numbers a score is made from. */
export interface ScoreInputs {
  triangles: number;
  edges: number;
  boundaryEdges: number;
  nonManifoldEdges: number;
  components: number;
  /** Share of triangles with aspect quality below {@link SLIVER_ASPECT} (0..1). */
  sliverShare: number;
}

/**
 * Overall score, 0–10, rounded to one decimal:
 * 10 − P_open − P_nonmanifold − P_components − P_slivers − P_heavy, clamped to [0, 10], where
 * - P_open = 3.5 + min(1.5, 50·b/E) when there are b > 0 boundary edges among E edges;
 * - P_nonmanifold = 3.5 + min(1.5, 50·n/E) when there are n > 0 non-manifold edges;
 * - P_components = min(2, 0.5·(components − 1));
 * - P_slivers = min(2, 10·s), s = share of triangles with aspect quality below 0.1;
 * - P_heavy = 1 above 500,000 triangles.
 * A mesh that is open or non-manifold therefore scores at most 6.5 (below the default minimum of
 * 7); an empty mesh scores 0.
 */
export function qualityScore(inputs: ScoreInputs): number {
  if (inputs.triangles === 0) return 0;
  const edges = Math.max(1, inputs.edges);
  let score = 10;
  if (inputs.boundaryEdges > 0) score -= 3.5 + Math.min(1.5, (50 * inputs.boundaryEdges) / edges);
  if (inputs.nonManifoldEdges > 0) score -= 3.5 + Math.min(1.5, (50 * inputs.nonManifoldEdges) / edges);
  score -= Math.min(2, 0.5 * Math.max(0, inputs.components - 1));
  score -= Math.min(2, 10 * inputs.sliverShare);
  if (inputs.triangles > HEAVY_TRIANGLES) score -= 1;
  return Math.round(Math.min(10, Math.max(0, score)) * 10) / 10;
}

/**
 * The quality report of a mesh whose coordinates are in `unit` (the pipeline's raw mesh: 'm').
 * Vertices and triangles are counted as stored; edges and components are counted after welding
 * vertices at exactly equal positions, so a mesh split at seams (as file formats store them) is
 * judged by its shape.
 */
export function qualityReport(mesh: ResultMesh | WorkMesh, unit: Unit = 'm'): QualityReport {
  const vertices = Math.floor(mesh.positions.length / 3);
  const triangles = Math.floor(mesh.indices.length / 3);
  const work: WorkMesh = { positions: mesh.positions, colours: mesh.colours, indices: mesh.indices };
  const welded = weldVertices(work, { tolerance: 0 }).mesh;
  const edges = buildEdges(welded.indices, welded.positions.length / 3);
  const { boundary, nonManifold } = edgeStats(edges);
  const components = triangleComponents(welded.indices, welded.positions.length / 3).count;
  const { volume, area } = volumeAndArea(work);
  const { min, max } = usedBounds(work);
  const aspect = aspectStats(work);
  const watertight = triangles > 0 && welded.indices.length === mesh.indices.length && boundary === 0 && nonManifold === 0;
  const score = qualityScore({
    triangles,
    edges: edges.edgeCount,
    boundaryEdges: boundary,
    nonManifoldEdges: nonManifold,
    components,
    sliverShare: triangles > 0 ? aspect.slivers / triangles : 0,
  });
  const report: QualityReport = {
    vertices, triangles, components, boundaryEdges: boundary, nonManifoldEdges: nonManifold, watertight,
    volume, surfaceArea: area,
    size: [max[0] - min[0], max[1] - min[1], max[2] - min[2]],
    unit,
    aspect: { min: aspect.min, mean: aspect.mean },
    score,
    verdict: '',
    issues: [],
  };
  report.issues = qualityIssues(report, aspect.slivers, triangles - welded.indices.length / 3);
  report.verdict = verdict(report);
  return report;
}

function aspectStats(mesh: WorkMesh): { min: number; mean: number; slivers: number } {
  const p = mesh.positions;
  const ix = mesh.indices;
  const triangles = Math.floor(ix.length / 3);
  if (triangles === 0) return { min: 0, mean: 0, slivers: 0 };
  let min = 1;
  let sum = 0;
  let slivers = 0;
  for (let t = 0; t < triangles; t++) {
    const a = ix[t * 3]! * 3, b = ix[t * 3 + 1]! * 3, c = ix[t * 3 + 2]! * 3;
    const ux = p[b]! - p[a]!, uy = p[b + 1]! - p[a + 1]!, uz = p[b + 2]! - p[a + 2]!;
    const vx = p[c]! - p[a]!, vy = p[c + 1]! - p[a + 1]!, vz = p[c + 2]! - p[a + 2]!;
    const wx = vx - ux, wy = vy - uy, wz = vz - uz;
    const area = Math.hypot(uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx) / 2;
    let q = aspectQuality(ux * ux + uy * uy + uz * uz, vx * vx + vy * vy + vz * vz, wx * wx + wy * wy + wz * wz, area);
    if (!Number.isFinite(q)) q = 0;
    if (q < min) min = q;
    if (q < SLIVER_ASPECT) slivers++;
    sum += q;
  }
  return { min, mean: sum / triangles, slivers };
}

function qualityIssues(report: QualityReport, slivers: number, degenerate: number): QualityIssue[] {
  const issues: QualityIssue[] = [];
  const n = (x: number) => x.toLocaleString('en-US');
  if (report.triangles === 0) {
    issues.push({ code: 'empty', message: 'The mesh has no triangles.' });
    return issues;
  }
  if (report.boundaryEdges > 0)
    issues.push({ code: 'open', message: `The mesh is open: ${n(report.boundaryEdges)} edges border a hole.`, fix: 'printable' });
  if (report.nonManifoldEdges > 0)
    issues.push({
      code: 'non-manifold',
      message: `${n(report.nonManifoldEdges)} edges are shared by more than two triangles.`,
      fix: 'printable',
    });
  if (report.components > 1)
    issues.push({ code: 'components', message: `The mesh has ${n(report.components)} separate pieces.`, fix: 'cleanup' });
  if (degenerate > 0)
    issues.push({ code: 'degenerate', message: `${n(degenerate)} triangles have collapsed corners.`, fix: 'cleanup' });
  if (slivers > 0)
    issues.push({ code: 'slivers', message: `${n(slivers)} triangles are thin slivers.`, fix: 'decimate' });
  if (report.triangles > HEAVY_TRIANGLES)
    issues.push({ code: 'too-many-triangles', message: `${n(report.triangles)} triangles is heavy for slicers and CAD tools.`, fix: 'decimate' });
  return issues;
}

function verdict(report: QualityReport): string {
  if (report.triangles === 0) return 'Empty: there is nothing to print.';
  if (!report.watertight) {
    const why = report.boundaryEdges > 0 ? 'it has holes' : 'some edges join more than two faces';
    return `Not ready to print: ${why}; use Make printable.`;
  }
  if (report.score >= 9) return 'Ready to print: a closed, clean solid.';
  if (report.score >= 7) return 'Printable: a closed solid with minor issues.';
  return 'Closed, but poor: see the issues below.';
}
