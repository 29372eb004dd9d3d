/**
 * The body the TripoSR test model puts in the triplane for an image, in float64: what the ONNX
 * encoder computes in float32 (scripts/make-test-models.ts), so tests can predict the mesh.
 *
 * TripoSR's input view (view 0 of `get_spherical_cameras`, tsr/utils.py; `TSR.render` defaults
 * camera_distance 1.9, fovy 40°, tsr/system.py): the camera sits on +x looking at the origin,
 * "x back, y right, z up"; `get_ray_directions` sends column u to +right = +y and row v (top to
 * bottom) to −up = −z. At the origin the 512² image spans ±1.9·tan 20° in y and z, so pixel
 * (row i, column j) lies at world y = S·((2j + 1)/512 − 1), z = −S·((2i + 1)/512 − 1).
 *
 *   foreground w = clamp(10·Σ_c |p_c − 0.5| − 0.25, 0, 1)   (the framing composites onto grey 0.5)
 *   A = Σ w,  centre (ȳ, z̄) = Σ w·(y, z) / (A + 1)
 *   C = Σ w·(y, z)(y, z)ᵀ / (A + 1) − (ȳ, z̄)(ȳ, z̄)ᵀ + 0.05²·I        (the silhouette's spread)
 *   P = (4C)⁻¹: for a uniform ellipse C = diag(a², b²)/4, so the body's outline is the silhouette's
 *   depth: σx² = √det C, so Pxx = 1 / (4√det C); the half toward the camera (x > 0) is 1.25× deeper
 *   and the back 0.75× (an egg), so front and back differ.
 *   Q(p) = Pxx·egg(x) + (p_yz − c)ᵀ P (p_yz − c),  egg(x) = x² / (x ≥ 0 ? 1.25 : 0.75)²
 *   density = 25·exp(s·(1 − Q)), so the surface at threshold 25 is Q = 1.
 *   colour = foreground-weighted mean colour Σ w·p / (A + 1), clamped to [0.01, 0.99].
 */

/** TripoSR's input camera: distance and vertical field of view (tsr/system.py, TSR.render). */
export const CAMERA_DISTANCE = 1.9;
export const CAMERA_FOVY_DEG = 40;
/** Half the width of the input view at the origin, in world units (≈ 0.6916). */
export const VIEW_HALF_WIDTH = CAMERA_DISTANCE * Math.tan(((CAMERA_FOVY_DEG / 2) * Math.PI) / 180);
/** Side of the encoder's input image. */
export const IMAGE_SIZE = 512;
/** The grey the framing composites onto. */
export const BACKGROUND = 0.5;
/** w = clamp(FOREGROUND_GAIN·Σ|p − 0.5| − FOREGROUND_OFFSET, 0, 1). */
export const FOREGROUND_GAIN = 10;
export const FOREGROUND_OFFSET = 0.25;
/** Added to the silhouette's variances so a line or an empty image still gives a body. */
export const VARIANCE_FLOOR = 0.05 ** 2;
/** Depth of the half toward the camera (x ≥ 0) and of the back, relative to √(semi-axes). */
export const FRONT_DEPTH = 1.25;
export const BACK_DEPTH = 0.75;
/** s in density = 25·exp(s·(1 − Q)). */
export const DENSITY_GAIN = 2;
/** The spec's isosurface threshold on density. */
export const DENSITY_THRESHOLD = 25;
/** Colours are clamped to this range before the logit. */
export const COLOUR_MIN = 0.01;
export const COLOUR_MAX = 0.99;

/** The body of the test model, in TripoSR's frame. */
export interface TestBody {
  /** Foreground weight sum (pixels). */
  area: number;
  /** Centre (0, ȳ, z̄). */
  centre: [number, number, number];
  /** Silhouette covariance [Cyy, Czz, Cyz], floor included. */
  covariance: [number, number, number];
  /** P = (4C)⁻¹ as [Pyy, Pzz, Pyz]. */
  precision: [number, number, number];
  /** 1 / (4√det C). */
  depthPrecision: number;
  /** Foreground-weighted mean colour (not clamped). */
  meanColour: [number, number, number];
}

/** World y of image column j (TripoSR: image right is +y). */
export function columnToWorldY(j: number): number {
  return VIEW_HALF_WIDTH * ((2 * j + 1) / IMAGE_SIZE - 1);
}

/** World z of image row i (TripoSR: image up is +z, rows run top to bottom). */
export function rowToWorldZ(i: number): number {
  return -VIEW_HALF_WIDTH * ((2 * i + 1) / IMAGE_SIZE - 1);
}

/** The foreground weight of one pixel. */
export function foregroundWeight(r: number, g: number, b: number): number {
  const d = Math.abs(r - BACKGROUND) + Math.abs(g - BACKGROUND) + Math.abs(b - BACKGROUND);
  return Math.min(1, Math.max(0, FOREGROUND_GAIN * d - FOREGROUND_OFFSET));
}

/** The body for an image f32[1,3,512,512] (CHW, RGB in [0, 1]). */
export function testBody(image: Float32Array): TestBody {
  const plane = IMAGE_SIZE * IMAGE_SIZE;
  let a = 0;
  let sy = 0;
  let sz = 0;
  let syy = 0;
  let szz = 0;
  let syz = 0;
  const rgb = [0, 0, 0];
  for (let i = 0; i < IMAGE_SIZE; i++) {
    const z = rowToWorldZ(i);
    for (let j = 0; j < IMAGE_SIZE; j++) {
      const k = i * IMAGE_SIZE + j;
      const p = [image[k]!, image[plane + k]!, image[2 * plane + k]!];
      const w = foregroundWeight(p[0]!, p[1]!, p[2]!);
      if (w === 0) continue;
      const y = columnToWorldY(j);
      a += w;
      sy += w * y;
      sz += w * z;
      syy += w * y * y;
      szz += w * z * z;
      syz += w * y * z;
      for (let c = 0; c < 3; c++) rgb[c]! += w * p[c]!;
    }
  }
  const n = a + 1;
  const my = sy / n;
  const mz = sz / n;
  const cyy = syy / n - my * my + VARIANCE_FLOOR;
  const czz = szz / n - mz * mz + VARIANCE_FLOOR;
  const cyz = syz / n - my * mz;
  const det = cyy * czz - cyz * cyz;
  return {
    area: a,
    centre: [0, my, mz],
    covariance: [cyy, czz, cyz],
    precision: [czz / (4 * det), cyy / (4 * det), -cyz / (4 * det)],
    depthPrecision: 1 / (4 * Math.sqrt(det)),
    meanColour: rgb.map((v) => v / n) as [number, number, number],
  };
}

/** egg(x) = x² / (x ≥ 0 ? FRONT_DEPTH : BACK_DEPTH)². */
export function egg(x: number): number {
  return (x * x) / (x >= 0 ? FRONT_DEPTH : BACK_DEPTH) ** 2;
}

/** Q(p): 1 on the body's surface, below 1 inside. */
export function bodyQuadric(body: TestBody, p: ArrayLike<number>): number {
  const [pyy, pzz, pyz] = body.precision;
  const dy = p[1]! - body.centre[1];
  const dz = p[2]! - body.centre[2];
  return body.depthPrecision * egg(p[0]!) + pyy * dy * dy + 2 * pyz * dy * dz + pzz * dz * dz;
}

/** density = 25·exp(s·(1 − Q(p))), before bilinear and float32 error. */
export function expectedDensity(body: TestBody, p: ArrayLike<number>): number {
  return DENSITY_THRESHOLD * Math.exp(DENSITY_GAIN * (1 - bodyQuadric(body, p)));
}

/** The mesh colour: the foreground's mean colour, each channel clamped. */
export function expectedColour(body: TestBody): [number, number, number] {
  return body.meanColour.map((v) => Math.min(COLOUR_MAX, Math.max(COLOUR_MIN, v))) as [
    number,
    number,
    number,
  ];
}

/** Axis-aligned bounds of the body {Q ≤ 1} in TripoSR's frame (before the ±0.87 box clips it). */
export function bodyBounds(body: TestBody): { min: [number, number, number]; max: [number, number, number] } {
  const [cyy, czz] = body.covariance;
  const depth = 1 / Math.sqrt(body.depthPrecision);
  // The ellipse dᵀ(4C)⁻¹d ≤ 1 reaches ±2√C_aa along axis a.
  const hy = 2 * Math.sqrt(cyy);
  const hz = 2 * Math.sqrt(czz);
  const [, y, z] = body.centre;
  return {
    min: [-BACK_DEPTH * depth, y - hy, z - hz],
    max: [FRONT_DEPTH * depth, y + hy, z + hz],
  };
}

/** Angle of the silhouette's long axis from world +y toward +z (image right toward image up), radians in (−π/2, π/2]. */
export function principalAngle(body: TestBody): number {
  const [cyy, czz, cyz] = body.covariance;
  return 0.5 * Math.atan2(2 * cyz, cyy - czz);
}

/** An RGBA8 image (e.g. a canvas's ImageData) as the encoder's CHW float input. */
export function rgbaToChw(data: ArrayLike<number>): Float32Array {
  const plane = IMAGE_SIZE * IMAGE_SIZE;
  const out = new Float32Array(3 * plane);
  for (let k = 0; k < plane; k++) {
    for (let c = 0; c < 3; c++) out[c * plane + k] = data[4 * k + c]! / 255;
  }
  return out;
}
