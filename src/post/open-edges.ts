/** The open (boundary) edges of a mesh as line segments, for the viewer's highlight. */
import type { ResultMesh } from '../shared/mesh';
import { buildEdges, edgeUse } from './topology';
import { weldVertices } from './weld';
import { toWorkMesh, vertexCount } from './work-mesh';

/**
 * Every edge that only one triangle uses, after merging vertices at identical positions (as the
 * quality report counts them), as 6 floats per edge: its two endpoints.
 */
export function openEdgeSegments(mesh: ResultMesh): Float32Array {
  const welded = weldVertices(toWorkMesh(mesh), { tolerance: 0 }).mesh;
  const edges = buildEdges(welded.indices, vertexCount(welded));
  let open = 0;
  for (let e = 0; e < edges.edgeCount; e++) if (edgeUse(edges, e) === 1) open++;
  const out = new Float32Array(open * 6);
  const p = welded.positions;
  let k = 0;
  for (let e = 0; e < edges.edgeCount; e++) {
    if (edgeUse(edges, e) !== 1) continue;
    for (const v of [edges.from[e]!, edges.to[e]!]) out.set(p.subarray(v * 3, v * 3 + 3), (k++) * 3);
  }
  return out;
}
