/**
 * The texture-bake fixture: a triplane and decoder whose surface is (nearly) the sphere of radius
 * BAND_RADIUS and whose colour is horizontal bands, a known function of height, plus the checks that
 * sample a baked texture and compare it with the field. Shared by the unit (CPU) and GPU bake tests.
 */
import type { DecoderWeights, DenseLayer } from '../../src/gpu/decoder-weights';
import { TRIPLANE_CHANNELS, TRIPLANE_RADIUS } from '../../src/gpu/constants';
import { decodePointsCpu } from '../../src/gpu/reference/triplane-decoder-cpu';
import type { ResultMesh } from '../../src/shared/mesh';
import type { MeshToSource, TexturedMesh } from '../../src/texture/types';
import { icosphere } from './post-meshes';
import { rng, smoothTriplane } from './synthetic-decoder';

export const BAND_THRESHOLD = 25;
/** The isosurface's radius (TripoSR units) where density == BAND_THRESHOLD. */
export const BAND_RADIUS = 0.5;
/** Band period along TripoSR's z (glTF's Y, up), in the triplane's normalised coordinate p / 0.87. */
export const BAND_PERIOD = 1;

/**
 * How much the colour can change across one texel of a bake that covered `texels` texels: the band's
 * steepest slope (0.25 · 2 · 2π / period per unit of q = p / 0.87) times the texel's edge on the
 * sphere. Dilated texels copy neighbours about one texel away, so seams are held to this.
 */
export function colourChangePerTexel(texels: number): number {
  const slope = (0.25 * 2 * (2 * Math.PI)) / BAND_PERIOD / TRIPLANE_RADIUS;
  return slope * Math.sqrt((4 * Math.PI * BAND_RADIUS ** 2) / texels);
}

/** The channel of plane 1 (xz) that holds sin(2π z / period), constant in x. */
const BAND_CHANNEL = 2;

/** smoothTriplane without noise (channels 0, 1: 1 − u², 1 − v²) plus the band channel. */
export function bandTriplane(): Float32Array {
  const t = smoothTriplane(1, 0);
  const S = 64;
  for (let row = 0; row < S; row++) {
    const v = (2 * row + 1) / S - 1;
    for (let col = 0; col < S; col++) t[((1 * TRIPLANE_CHANNELS + BAND_CHANNEL) * S + row) * S + col] = Math.sin((2 * Math.PI * v) / BAND_PERIOD);
  }
  return t;
}

function zeros(inF: number, outF: number): DenseLayer {
  return { inFeatures: inF, outFeatures: outF, weight: new Float32Array(inF * outF), bias: new Float32Array(outF) };
}

/**
 * A ReLU MLP (120 → 64 → 64 → 4) that carries two units exactly: h0 = 4(3 − |q|²) + 2 (the
 * insideness, q = p / 0.87) and h1 = band + 4. Density exp(3·h0 + c − 1) crosses the threshold at
 * radius BAND_RADIUS; colour = sigmoid(±2·band, 0): red and green bands.
 */
export function bandDecoder(): DecoderWeights {
  const first = zeros(120, 64);
  for (const f of [0, 1, 2 * TRIPLANE_CHANNELS + 1]) first.weight[f] = 4;
  first.bias[0] = 2;
  first.weight[120 + TRIPLANE_CHANNELS + BAND_CHANNEL] = 1;
  first.bias[1] = 4;
  const hidden = zeros(64, 64);
  hidden.weight[0] = 1;
  hidden.weight[64 + 1] = 1;
  const last = zeros(64, 4);
  // The triplane's coordinates are p / TRIPLANE_RADIUS.
  const h0AtSurface = 4 * (3 - (BAND_RADIUS / TRIPLANE_RADIUS) ** 2) + 2;
  last.weight[0] = 3;
  last.bias[0] = 1 + Math.log(BAND_THRESHOLD) - 3 * h0AtSurface;
  last.weight[64 + 1] = 2;
  last.bias[1] = -8;
  last.weight[128 + 1] = -2;
  last.bias[2] = 8;
  return { layers: [first, hidden, last], densityBias: -1, hidden: 'relu', graphApplies: { densityExp: false, colourSigmoid: false } };
}

/** glTF (X, Y, Z) → TripoSR (x, y, z) = (Z, X, Y). */
export function toTripoSR(p: ArrayLike<number>): [number, number, number] {
  return [p[2]!, p[0]!, p[1]!];
}

/**
 * The test mesh: an icosphere of radius `radius` (not on the isosurface, so the bake must project),
 * "processed" into millimetres with an offset, and the toSource that maps it back.
 */
export function bandMesh(subdivisions: number, radius = 0.48): { mesh: ResultMesh; toSource: MeshToSource } {
  const sphere = icosphere(subdivisions, radius);
  const toSource: MeshToSource = { scale: 0.001, offset: [0.01, -0.02, 0.015] };
  const positions = sphere.positions.map((x, i) => (x - toSource.offset[i % 3]!) / toSource.scale);
  return { mesh: { ...sphere, positions }, toSource };
}

/** The field's colour on the isosurface, found by bisection along the ray from the centre through `p` (TripoSR frame). */
export function fieldColourRadial(triplane: Float32Array, weights: DecoderWeights, p: [number, number, number]): Float32Array {
  const length = Math.hypot(...p);
  const at = (r: number): Float32Array => Float32Array.from(p, (x) => (x / length) * r);
  let lo = 0.3, hi = 0.7;
  for (let i = 0; i < 30; i++) {
    const mid = (lo + hi) / 2;
    if (decodePointsCpu(triplane, weights, at(mid), { density: true }).density[0]! > BAND_THRESHOLD) lo = mid;
    else hi = mid;
  }
  return decodePointsCpu(triplane, weights, at((lo + hi) / 2), { colour: true }).colour;
}

/** Bilinear sample of an RGBA8 texture at (u, v), v down, clamped at the border; 0..1. */
export function sampleTexture(rgba: Uint8Array, size: number, u: number, v: number): [number, number, number] {
  const x = u * size - 0.5, y = v * size - 0.5;
  const x0 = Math.floor(x), y0 = Math.floor(y);
  const fx = x - x0, fy = y - y0;
  const out: [number, number, number] = [0, 0, 0];
  const texel = (xx: number, yy: number, c: number): number => {
    const cx = Math.min(size - 1, Math.max(0, xx)), cy = Math.min(size - 1, Math.max(0, yy));
    return rgba[4 * (cy * size + cx) + c]! / 255;
  };
  for (let c = 0; c < 3; c++) {
    out[c] = (1 - fx) * (1 - fy) * texel(x0, y0, c) + fx * (1 - fy) * texel(x0 + 1, y0, c) + (1 - fx) * fy * texel(x0, y0 + 1, c) + fx * fy * texel(x0 + 1, y0 + 1, c);
  }
  return out;
}

/** A point on triangle `t` of a textured mesh at barycentrics (a, b, c): its UV and its source-frame position. */
export function pointOn(mesh: TexturedMesh, toSource: MeshToSource, t: number, w: [number, number, number]): { uv: [number, number]; source: [number, number, number] } {
  const v = [0, 1, 2].map((k) => mesh.indices[3 * t + k]!);
  const uv: [number, number] = [0, 1].map((k) => v.reduce((s, vi, j) => s + w[j]! * mesh.uvs[2 * vi + k]!, 0)) as [number, number];
  const source = [0, 1, 2].map((k) => v.reduce((s, vi, j) => s + w[j]! * mesh.positions[3 * vi + k]!, 0) * toSource.scale + toSource.offset[k]!) as [number, number, number];
  return { uv, source };
}

/** Largest and mean colour error of the texture at `count` random surface points, against the field. */
export function textureError(
  mesh: TexturedMesh,
  toSource: MeshToSource,
  triplane: Float32Array,
  weights: DecoderWeights,
  points: { t: number; w: [number, number, number] }[],
): { max: number; mean: number } {
  let max = 0, sum = 0;
  for (const { t, w } of points) {
    const { uv, source } = pointOn(mesh, toSource, t, w);
    const got = sampleTexture(mesh.texture.rgba, mesh.texture.width, uv[0], uv[1]);
    const want = fieldColourRadial(triplane, weights, toTripoSR(source));
    for (let c = 0; c < 3; c++) {
      const e = Math.abs(got[c]! - want[c]!);
      max = Math.max(max, e);
      sum += e / 3;
    }
  }
  return { max, mean: sum / points.length };
}

/** `count` seeded random points: a triangle and barycentrics. */
export function randomPoints(triangles: number, count: number, seed = 7): { t: number; w: [number, number, number] }[] {
  const rand = rng(seed);
  return Array.from({ length: count }, () => {
    let a = rand(), b = rand();
    if (a + b > 1) [a, b] = [1 - a, 1 - b];
    return { t: Math.floor(rand() * triangles), w: [1 - a - b, a, b] as [number, number, number] };
  });
}

/**
 * Points on seam edges: for each of up to `count` edges whose two triangles lie in different charts,
 * the edge's midpoint seen from each side (each with its own UV).
 */
export function seamPoints(mesh: TexturedMesh, charts: Uint32Array, count: number): { t: number; w: [number, number, number] }[] {
  // Edges keyed by their source positions, since the unwrap split the seam's vertices.
  const key = (v: number): string => Array.from(mesh.positions.subarray(3 * v, 3 * v + 3)).join(',');
  const sides = new Map<string, { t: number; w: [number, number, number] }[]>();
  for (let t = 0; t < mesh.indices.length / 3; t++) {
    for (let k = 0; k < 3; k++) {
      const a = key(mesh.indices[3 * t + k]!), b = key(mesh.indices[3 * t + ((k + 1) % 3)]!);
      const edge = a < b ? `${a}|${b}` : `${b}|${a}`;
      const w: [number, number, number] = [0, 0, 0];
      w[k] = 0.5;
      w[(k + 1) % 3] = 0.5;
      const list = sides.get(edge) ?? [];
      list.push({ t, w });
      sides.set(edge, list);
    }
  }
  const out: { t: number; w: [number, number, number] }[] = [];
  for (const list of sides.values()) {
    if (list.length === 2 && charts[list[0]!.t] !== charts[list[1]!.t]) out.push(...list);
    if (out.length >= 2 * count) break;
  }
  return out;
}

/**
 * Texels whose centre lies strictly inside two UV triangles: `islands` counts those of two different
 * charts (overlapping islands), `folds` those of one chart (a fold inside an island), `covered` all.
 */
export function uvOverlaps(uvs: Float32Array, indices: Uint32Array, size: number, charts?: Uint32Array): { islands: number; folds: number; covered: number } {
  const owner = new Int32Array(size * size).fill(-1);
  let islands = 0, folds = 0, covered = 0;
  for (let t = 0; t < indices.length / 3; t++) {
    const [a, b, c] = [0, 1, 2].map((k) => indices[3 * t + k]!) as [number, number, number];
    const [ax, ay, bx, by, cx, cy] = [a, b, c].flatMap((v) => [uvs[2 * v]! * size, uvs[2 * v + 1]! * size]) as number[];
    const area = (bx! - ax!) * (cy! - ay!) - (cx! - ax!) * (by! - ay!);
    for (let y = Math.max(0, Math.floor(Math.min(ay!, by!, cy!))); y <= Math.min(size - 1, Math.ceil(Math.max(ay!, by!, cy!))); y++) {
      for (let x = Math.max(0, Math.floor(Math.min(ax!, bx!, cx!))); x <= Math.min(size - 1, Math.ceil(Math.max(ax!, bx!, cx!))); x++) {
        const px = x + 0.5, py = y + 0.5;
        const wb = ((px - ax!) * (cy! - ay!) - (cx! - ax!) * (py - ay!)) / area;
        const wc = ((bx! - ax!) * (py - ay!) - (px - ax!) * (by! - ay!)) / area;
        if (wb <= 1e-4 || wc <= 1e-4 || wb + wc >= 1 - 1e-4) continue;
        const o = owner[y * size + x]!;
        if (o < 0) covered++;
        else if (!charts || charts[o] !== charts[t]) islands++;
        else folds++;
        owner[y * size + x] = t;
      }
    }
  }
  return { islands, folds, covered };
}
