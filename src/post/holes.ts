/** Finding boundary loops and closing them. */
import { buildEdges, edgeUse, nextHalf, type EdgeTable } from './topology';
import { vertexCount, type WorkMesh } from './work-mesh';

/**
 * Closed loops of boundary edges, each as its vertices in the direction of the triangles that own
 * those edges (so a cap must run the other way). A chain that does not close (inconsistent
 * orientation next to it, or a non-manifold vertex that was not split) is counted in `open`.
 */
export function boundaryLoops(mesh: WorkMesh, edges: EdgeTable = buildEdges(mesh.indices, vertexCount(mesh))): { loops: Uint32Array[]; open: number } {
  const ix = mesh.indices;
  const n = vertexCount(mesh);
  const halfCount = edges.edgeOf.length;
  const start = new Int32Array(n + 1);
  for (let h = 0; h < halfCount; h++) if (edgeUse(edges, edges.edgeOf[h]!) === 1) start[ix[h]! + 1]!++;
  for (let v = 0; v < n; v++) start[v + 1]! += start[v]!;
  const out = new Int32Array(start[n]!);
  const cursor = start.slice(0, n);
  for (let h = 0; h < halfCount; h++) if (edgeUse(edges, edges.edgeOf[h]!) === 1) out[cursor[ix[h]!]!++] = h;
  const used = new Uint8Array(out.length);
  const slotOf = new Int32Array(halfCount).fill(-1);
  for (let i = 0; i < out.length; i++) slotOf[out[i]!] = i;
  const take = (h: number): number => {
    const slot = slotOf[h]!;
    if (slot < 0 || used[slot]) return -1;
    used[slot] = 1;
    return h;
  };
  const takeAny = (v: number): number => {
    for (let i = start[v]!; i < start[v + 1]!; i++) if (!used[i]) return take(out[i]!);
    return -1;
  };
  const loops: Uint32Array[] = [];
  let open = 0;
  for (let i = 0; i < out.length; i++) {
    if (used[i]) continue;
    used[i] = 1;
    const first = ix[out[i]!]!;
    const chain: number[] = [first];
    let h = out[i]!;
    let closed = false;
    for (;;) {
      const w = ix[nextHalf(h)]!;
      // Follow the fan around w to the next boundary edge, so that two holes meeting at a vertex
      // (or two surfaces touching there) are not joined into one loop.
      const next = nextBoundaryAround(ix, edges, h);
      h = next >= 0 ? take(next) : -1;
      if (h < 0) h = takeAny(w);
      if (w === first && (h < 0 || h === -1)) {
        closed = true;
        break;
      }
      if (h < 0) break;
      chain.push(w);
    }
    if (!closed) {
      open++;
      continue;
    }
    for (const loop of simpleLoops(chain)) loops.push(loop);
  }
  return { loops, open };
}

/** The boundary half-edge leaving the end of boundary half-edge h, reached by turning around that vertex through its triangles. */
function nextBoundaryAround(ix: Uint32Array, edges: EdgeTable, h: number): number {
  const w = ix[nextHalf(h)]!;
  let g = nextHalf(h);
  for (let guard = 0; guard < 256; guard++) {
    const e = edges.edgeOf[g]!;
    const use = edgeUse(edges, e);
    if (use === 1) return g;
    if (use !== 2) return -1;
    const first = edges.halfEdges[edges.offset[e]!]!;
    const other = first === g ? edges.halfEdges[edges.offset[e]! + 1]! : first;
    g = nextHalf(other);
    if (ix[g] !== w) return -1;
  }
  return -1;
}

/** Splits a closed chain that passes a vertex more than once into simple loops. */
function simpleLoops(chain: number[]): Uint32Array[] {
  const loops: Uint32Array[] = [];
  const stack: number[] = [];
  const at = new Map<number, number>();
  for (const v of chain) {
    const seen = at.get(v);
    if (seen !== undefined) {
      const sub = stack.splice(seen);
      for (const u of sub) at.delete(u);
      if (sub.length >= 3) loops.push(Uint32Array.from(sub));
    }
    at.set(v, stack.length);
    stack.push(v);
  }
  if (stack.length >= 3) loops.push(Uint32Array.from(stack));
  return loops;
}

/** What {@link fillHoles} did. */
export interface FillResult {
  mesh: WorkMesh;
  holes: number;
  trianglesAdded: number;
  /** Boundary chains that could not be closed. */
  unclosed: number;
}

/**
 * Closes every boundary loop: a loop of three gets one triangle, a longer one a fan around a new
 * vertex at the loop's centroid, which takes the loop's mean colour. Cap triangles run opposite
 * to the loop, so they match the orientation of the surface around the hole.
 */
export function fillHoles(mesh: WorkMesh, edges?: EdgeTable): FillResult {
  const { loops, open } = boundaryLoops(mesh, edges);
  if (loops.length === 0) return { mesh, holes: 0, trianglesAdded: 0, unclosed: open };
  let newVertices = 0;
  let newTriangles = 0;
  for (const loop of loops) {
    if (loop.length === 3) newTriangles += 1;
    else {
      newVertices += 1;
      newTriangles += loop.length;
    }
  }
  const n = vertexCount(mesh);
  const positions = new Float32Array((n + newVertices) * 3);
  const colours = new Float32Array((n + newVertices) * 3);
  positions.set(mesh.positions);
  colours.set(mesh.colours);
  const indices = new Uint32Array(mesh.indices.length + newTriangles * 3);
  indices.set(mesh.indices);
  let o = mesh.indices.length;
  let next = n;
  for (const loop of loops) {
    const k = loop.length;
    if (k === 3) {
      indices[o++] = loop[2]!;
      indices[o++] = loop[1]!;
      indices[o++] = loop[0]!;
      continue;
    }
    const centre = next++;
    for (let a = 0; a < 3; a++) {
      let p = 0;
      let c = 0;
      for (let i = 0; i < k; i++) {
        p += mesh.positions[loop[i]! * 3 + a]!;
        c += mesh.colours[loop[i]! * 3 + a]!;
      }
      positions[centre * 3 + a] = p / k;
      colours[centre * 3 + a] = c / k;
    }
    for (let i = 0; i < k; i++) {
      indices[o++] = centre;
      indices[o++] = loop[(i + 1) % k]!;
      indices[o++] = loop[i]!;
    }
  }
  return { mesh: { positions, colours, indices }, holes: loops.length, trianglesAdded: newTriangles, unclosed: open };
}
