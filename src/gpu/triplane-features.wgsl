// The decoder's 120 input features per point (grid_sample, bilinear, align_corners=False, zero
// padding; planeTaps from triplane-sample.wgsl, as triplane-decode.wgsl), written [point][feature] for onnxruntime.
// Prepended: dispatch.wgsl, the generated constants, point-job.wgsl; appended: triplane-sample.wgsl.
// results holds count × DECODER_FEATURES floats (id-relative).

@group(2) @binding(0) var<storage, read> triplane: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let id = linearWorkgroup(wid, nwg) * 64u + lid;
  if (id >= jobCount()) {
    return;
  }
  let q = jobPosition(id) / TRIPLANE_RADIUS;
  for (var plane = 0u; plane < TRIPLANE_PLANES; plane++) {
    let taps = planeTaps(q, plane);
    for (var c = 0u; c < TRIPLANE_CHANNELS; c++) {
      let base = i32((plane * TRIPLANE_CHANNELS + c) * u32(TRIPLANE_SIZE * TRIPLANE_SIZE));
      let i = taps.index + base;
      results[id * DECODER_FEATURES + plane * TRIPLANE_CHANNELS + c] =
          dot(taps.weight, vec4<f32>(triplane[i.x], triplane[i.y], triplane[i.z], triplane[i.w]));
    }
  }
}
