/** UV unwrap of a processed mesh with xatlas (watlas): one atlas, padded for the texture size. */
import { throwIfAborted } from '../lib/errors';
import type { ResultMesh } from '../shared/mesh';
import { loadWatlas, type WatlasAtlas } from './watlas';

/** A mesh split along UV seams, with one UV per vertex (0..1, v down) and what it came from. */
export interface UnwrappedMesh extends ResultMesh {
  uvs: Float32Array;
  /** The input vertex each output vertex copies. */
  xref: Uint32Array;
  /** The chart (island) of each triangle. */
  charts: Uint32Array;
  chartCount: number;
  /** The atlas size xatlas packed into, in texels, by which the UVs were normalised. */
  atlas: { width: number; height: number };
}

export interface UnwrapOptions {
  /** The texture edge the atlas is packed for (the app offers TEXTURE_SIZES). */
  size: number;
  /** Texels between islands; by default `size` / 256, at least 2 (dilation fills them). */
  padding?: number;
  /**
   * Largest chart as a share of the surface area; by default the area of `chartTriangles` average
   * triangles. xatlas's time grows steeply with chart size: a smooth 50 k-triangle torus took 119 s in
   * 26 charts and 5 s with charts of 1/256 of its area; at 200 k triangles, charts of 1/256 took
   * 327 s, of 256 triangles 119 s, of 64 triangles 282 s. A small mesh keeps large charts.
   */
  maxChartShare?: number;
  /** The phase being run: 0 before chart computation, 0.8 before packing, 1 when done. */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

export const UNWRAP_DEFAULTS = {
  /** Average triangles' worth of area a chart may span (see UnwrapOptions.maxChartShare). */
  chartTriangles: 256,
} as const;

/**
 * Unwraps `mesh` into one atlas for a texture of `size`² texels. xatlas reports no progress inside its
 * phases (watlas exposes no callback), so progress is per phase; the work runs synchronously in the
 * calling worker. Throws when xatlas cannot fit every chart in one atlas.
 */
export async function unwrapMesh(mesh: ResultMesh, options: UnwrapOptions): Promise<UnwrappedMesh> {
  const { size, onProgress, signal } = options;
  const padding = options.padding ?? Math.max(2, Math.round(size / 256));
  const { Atlas } = await loadWatlas();
  throwIfAborted(signal);
  const vertexCount = mesh.positions.length / 3;
  const atlas = new Atlas();
  try {
    const error = atlas.addMesh({
      vertexPositionData: mesh.positions,
      vertexCount,
      vertexPositionStride: 12,
      vertexNormalData: mesh.normals.length === mesh.positions.length ? mesh.normals : undefined,
      vertexNormalStride: 12,
      indexData: mesh.indices,
      indexCount: mesh.indices.length,
    });
    if (error !== 0) throw new Error(`xatlas refused the mesh (error ${error}).`);
    onProgress?.(0);
    const share = options.maxChartShare ?? Math.min(1, UNWRAP_DEFAULTS.chartTriangles / (mesh.indices.length / 3));
    atlas.computeCharts({ maxChartArea: surfaceArea(mesh) * share });
    onProgress?.(0.8);
    throwIfAborted(signal);
    pack(atlas, size, padding);
    const result = readAtlas(atlas, mesh);
    onProgress?.(1);
    return result;
  } finally {
    atlas.delete();
  }
}

/**
 * Packs for a `size` texture. xatlas estimates the texel density from `resolution` and returns one atlas
 * of about that size (a 1024 request gave 1215×1149), which the UVs are normalised by; should it
 * spill into several pages, the charts are repacked at the density it chose without a page limit,
 * which always gives one atlas.
 */
function pack(atlas: WatlasAtlas, size: number, padding: number): void {
  atlas.packCharts({ padding, bilinear: true, resolution: size });
  if (atlas.atlasCount !== 1) atlas.packCharts({ padding, bilinear: true, texelsPerUnit: atlas.texelsPerUnit });
  if (atlas.atlasCount !== 1) throw new Error(`xatlas packed the charts into ${atlas.atlasCount} atlases, not one.`);
}

function readAtlas(atlas: WatlasAtlas, source: ResultMesh): UnwrappedMesh {
  const out = atlas.getMesh(0);
  const n = out.vertexCount;
  const indices = new Uint32Array(out.indexCount);
  out.getIndexArray(indices);
  const xref = new Uint32Array(n);
  const uvs = new Float32Array(2 * n);
  const { width, height } = atlas;
  for (let v = 0; v < n; v++) {
    const vertex = out.getVertex(v);
    xref[v] = vertex.xref;
    uvs[2 * v] = vertex.uv[0] / width;
    uvs[2 * v + 1] = vertex.uv[1] / height;
  }
  const charts = new Uint32Array(indices.length / 3);
  for (let c = 0; c < out.chartCount; c++) {
    const chart = out.getChart(c);
    const faces = new Uint32Array(chart.faceCount);
    chart.getFaceArray(faces);
    for (const f of faces) charts[f] = c;
  }
  return {
    positions: gather(source.positions, xref, 3),
    normals: gather(source.normals, xref, 3),
    colours: gather(source.colours, xref, 3),
    indices,
    uvs,
    xref,
    charts,
    chartCount: out.chartCount,
    atlas: { width, height },
  };
}

function surfaceArea(mesh: ResultMesh): number {
  const p = mesh.positions;
  const ix = mesh.indices;
  let area = 0;
  for (let t = 0; t < ix.length; t += 3) {
    const a = 3 * ix[t]!, b = 3 * ix[t + 1]!, c = 3 * ix[t + 2]!;
    const u = [p[b]! - p[a]!, p[b + 1]! - p[a + 1]!, p[b + 2]! - p[a + 2]!];
    const v = [p[c]! - p[a]!, p[c + 1]! - p[a + 1]!, p[c + 2]! - p[a + 2]!];
    area += Math.hypot(u[1]! * v[2]! - u[2]! * v[1]!, u[2]! * v[0]! - u[0]! * v[2]!, u[0]! * v[1]! - u[1]! * v[0]!) / 2;
  }
  return area;
}

/** Per output vertex, the `width` values of its source vertex. */
function gather(values: Float32Array, xref: Uint32Array, width: number): Float32Array {
  const out = new Float32Array(xref.length * width);
  if (values.length === 0) return out;
  for (let v = 0; v < xref.length; v++) {
    for (let k = 0; k < width; k++) out[width * v + k] = values[width * xref[v]! + k]!;
  }
  return out;
}
