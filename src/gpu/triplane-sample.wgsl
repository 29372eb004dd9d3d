// One plane's bilinear taps at q ∈ [-1, 1]³, with grid_sample(bilinear, align_corners=False,
// padding_mode='zeros') semantics: texel i has its centre at u = (2i + 1) / S − 1 (S = TRIPLANE_SIZE),
// and taps outside the plane read zero, folded into the weights. Needs the generated constants.
// Plane 0 is xy, 1 is xz, 2 is yz (column, row).

struct PlaneTaps {
  /** Texel offsets within one channel: (x0,y0), (x1,y0), (x0,y1), (x1,y1). */
  index: vec4<i32>,
  weight: vec4<f32>,
}

fn planeTaps(q: vec3<f32>, plane: u32) -> PlaneTaps {
  const S = TRIPLANE_SIZE;
  var uv: vec2<f32>;
  if (plane == 0u) { uv = q.xy; } else if (plane == 1u) { uv = q.xz; } else { uv = q.yz; }
  let t = ((uv + 1.0) * f32(S) - 1.0) * 0.5;
  let t0 = floor(t);
  let fr = t - t0;
  let x0 = i32(t0.x);
  let y0 = i32(t0.y);
  let inX0 = f32(x0 >= 0 && x0 < S);
  let inX1 = f32(x0 + 1 >= 0 && x0 + 1 < S);
  let inY0 = f32(y0 >= 0 && y0 < S);
  let inY1 = f32(y0 + 1 >= 0 && y0 + 1 < S);
  let weight = vec4<f32>((1.0 - fr.x) * (1.0 - fr.y) * inX0 * inY0, fr.x * (1.0 - fr.y) * inX1 * inY0,
                         (1.0 - fr.x) * fr.y * inX0 * inY1, fr.x * fr.y * inX1 * inY1);
  let cx0 = clamp(x0, 0, S - 1);
  let cx1 = clamp(x0 + 1, 0, S - 1);
  let cy0 = clamp(y0, 0, S - 1);
  let cy1 = clamp(y0 + 1, 0, S - 1);
  return PlaneTaps(vec4<i32>(cy0 * S + cx0, cy0 * S + cx1, cy1 * S + cx0, cy1 * S + cx1), weight);
}
