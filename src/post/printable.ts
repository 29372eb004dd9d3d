/** "Make printable": close holes, resolve non-manifold parts, orient outward, prove it with manifold-3d. */
import { fillHoles } from './holes';
import { loadManifold, fromManifold, toManifold } from './manifold';
import { dropDuplicateTriangles, dropNonManifoldEdges, orientOutward, splitNonManifoldVertices } from './repair';
import { buildEdges, edgeStats } from './topology';
import { weldVertices } from './weld';
import { throwIfAborted } from '../lib/errors';
import { triangleCount, vertexCount, yieldToEventLoop, type WorkMesh } from './work-mesh';

/** What {@link makePrintable} did; on failure `mesh` is the input, unchanged. */
export interface PrintableResult {
  mesh: WorkMesh;
  ok: boolean;
  holes: number;
  trianglesAdded: number;
  /** Triangles removed because they sat on an edge shared by three or more triangles. */
  droppedTriangles: number;
  splitVertices: number;
  flipped: number;
  /** manifold-3d's verdict or the reason repair stopped, in plain words. */
  message: string;
  /** Plain words for the fill-holes step ("Closed 3 holes (42 triangles added)"). */
  fillMessage: string;
  /** Milliseconds spent in manifold-3d (building and reading back the solid). */
  manifoldMs: number;
}

const ROUNDS = 4;

/** Cancellation and progress (0..1) for {@link makePrintable}. */
export interface PrintableOptions {
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

/**
 * Weld → (drop triangles on non-manifold edges → orient → fill holes → split vertices where
 * closed surfaces touch) until every edge has exactly two triangles, or four rounds → orient outward → build a
 * manifold-3d Manifold, which throws unless the mesh is a closed oriented 2-manifold, and return
 * its mesh (degenerate triangles collapsed). Colours survive: new vertices take their loop's mean.
 */
export async function makePrintable(input: WorkMesh, { signal, onProgress }: PrintableOptions = {}): Promise<PrintableResult> {
  const pause = async (fraction: number) => {
    onProgress?.(fraction);
    await yieldToEventLoop();
    throwIfAborted(signal);
  };
  let mesh = weldVertices(input, { tolerance: 0 }).mesh;
  let holes = 0, trianglesAdded = 0, droppedTriangles = 0, splitVertices = 0, flipped = 0;
  let closed = false;
  for (let round = 0; round < ROUNDS && !closed; round++) {
    const unique = dropDuplicateTriangles(mesh);
    const dropped = dropNonManifoldEdges(unique.mesh, buildEdges(unique.mesh.indices, vertexCount(unique.mesh)));
    droppedTriangles += unique.dropped + dropped.dropped;
    await pause(0.05 + 0.1 * round);
    const oriented = orientOutward(dropped.mesh);
    flipped += oriented.flipped;
    const filled = fillHoles(oriented.mesh);
    holes += filled.holes;
    trianglesAdded += filled.trianglesAdded;
    // Surfaces that still touch at a single vertex (closed fans around it) get a copy each.
    const split = splitNonManifoldVertices(filled.mesh, buildEdges(filled.mesh.indices, vertexCount(filled.mesh)));
    splitVertices += split.split;
    mesh = split.mesh;
    await pause(0.1 + 0.1 * round);
    const stats = edgeStats(buildEdges(mesh.indices, vertexCount(mesh)));
    closed = stats.boundary === 0 && stats.nonManifold === 0 && triangleCount(mesh) > 0;
  }
  const fillMessage =
    holes === 0 ? 'No holes to close.' : `Closed ${plural(holes, 'hole')} (${plural(trianglesAdded, 'triangle')} added).`;
  const fail = (message: string): PrintableResult => ({
    mesh: input, ok: false, holes, trianglesAdded, droppedTriangles, splitVertices, flipped, message, fillMessage, manifoldMs: 0,
  });
  if (triangleCount(mesh) === 0) return fail('Repair left no triangles: the mesh has no surface that can be closed.');
  if (!closed) return fail('Repair could not close the mesh: edges are still open or shared by more than two triangles.');
  const oriented = orientOutward(mesh);
  if (oriented.conflicts > 0) return fail('The surface cannot be oriented (it is one-sided, like a Möbius strip).');
  const wasm = await loadManifold();
  await pause(0.5);
  const manifoldStart = performance.now();
  let solid;
  try {
    solid = toManifold(wasm, oriented.mesh);
  } catch (error) {
    return fail(`manifold-3d refused the repaired mesh (${error instanceof Error ? error.message : String(error)}).`);
  }
  try {
    const status = solid.status();
    if (status !== 'NoError') return fail(`manifold-3d refused the repaired mesh (${status}).`);
    if (solid.isEmpty() || solid.volume() <= 0) return fail('The repaired mesh encloses no volume, so there is no solid to print.');
    const result = fromManifold(solid);
    flipped += oriented.flipped;
    const parts = [
      droppedTriangles > 0 ? `removed ${plural(droppedTriangles, 'duplicate or non-manifold triangle')}` : '',
      splitVertices > 0 ? `split ${plural(splitVertices, 'non-manifold vertex', 'non-manifold vertices')}` : '',
      flipped > 0 ? `turned ${plural(flipped, 'triangle')} outward` : '',
    ].filter(Boolean);
    const changes = parts.length > 0 ? `${capitalise(parts.join(', '))}. ` : '';
    return {
      mesh: result, ok: true, holes, trianglesAdded, droppedTriangles, splitVertices, flipped, fillMessage,
      manifoldMs: Math.round(performance.now() - manifoldStart),
      message: `${changes}Closed manifold solid of ${plural(triangleCount(result), 'triangle')} (checked by manifold-3d).`,
    };
  } finally {
    solid.delete();
  }
}

/** "3 holes", "1 hole", with thousands separators. */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? one : many}`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
