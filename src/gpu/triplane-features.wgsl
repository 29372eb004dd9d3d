// The decoder's 120 input features per point (grid_sample, bilinear, align_corners=False, zero
// padding; same sampling as triplane-decode.wgsl), written [point][feature] for onnxruntime.
// Prepended: dispatch.wgsl, point-job.wgsl. results holds count × 120 floats (id-relative).

const S: i32 = 64;
const CHANNELS: u32 = 40u;
const RADIUS: f32 = 0.87;

@group(2) @binding(0) var<storage, read> triplane: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let id = linearWorkgroup(wid, nwg) * 64u + lid;
  if (id >= jobCount()) {
    return;
  }
  let q = jobPosition(id) / RADIUS;
  for (var plane = 0u; plane < 3u; plane++) {
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
    let w = vec4<f32>((1.0 - fr.x) * (1.0 - fr.y) * inX0 * inY0, fr.x * (1.0 - fr.y) * inX1 * inY0,
                      (1.0 - fr.x) * fr.y * inX0 * inY1, fr.x * fr.y * inX1 * inY1);
    let cx0 = clamp(x0, 0, S - 1);
    let cx1 = clamp(x0 + 1, 0, S - 1);
    let cy0 = clamp(y0, 0, S - 1);
    let cy1 = clamp(y0 + 1, 0, S - 1);
    for (var c = 0u; c < CHANNELS; c++) {
      let base = i32((plane * CHANNELS + c) * u32(S * S));
      results[id * 120u + plane * CHANNELS + c] =
          w.x * triplane[base + cy0 * S + cx0] + w.y * triplane[base + cy0 * S + cx1]
        + w.z * triplane[base + cy1 * S + cx0] + w.w * triplane[base + cy1 * S + cx1];
    }
  }
}
