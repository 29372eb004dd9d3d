// The texture bake's search for the isosurface along each texel's normal (src/texture/project.ts):
// phase 0 writes the search samples, phase 1 picks the sign change of density − threshold nearest
// the surface point, phase 2 halves that bracket; phases 1 and 2 then write the bracket's middle as
// the next point to evaluate. Points are point-job.wgsl vertex records (6 floats), which the triplane
// decoder reads. Prepended: dispatch.wgsl and the generated constants.

override phase: u32 = 0u;
// 1: phase 1 writes the interpolated crossing of ln(density) in its bracket (no bisections follow).
override interpolate: u32 = 0u;
const DENSITY_FLOOR = 1e-30;

struct Bake {
  count: u32,      // texels in this batch
  steps: u32,      // search samples each side of the surface point
  step: f32,       // distance between search samples
  threshold: f32,
}

@group(0) @binding(0) var<uniform> bake: Bake;
// Per texel: surface point and unit normal (TripoSR frame).
@group(0) @binding(1) var<storage, read> surface: array<f32>;
@group(0) @binding(2) var<storage, read_write> samples: array<f32>;
@group(0) @binding(3) var<storage, read> density: array<f32>;
// Per texel: bracket (lo, hi) along the normal, inside at lo (1/0), found (1/0).
@group(0) @binding(4) var<storage, read_write> state: array<vec4<f32>>;

fn writeSample(slot: u32, texel: u32, t: f32) {
  let b = 6u * texel;
  let p = vec3<f32>(surface[b], surface[b + 1u], surface[b + 2u]) + t * vec3<f32>(surface[b + 3u], surface[b + 4u], surface[b + 5u]);
  let o = 6u * slot;
  samples[o] = p.x;
  samples[o + 1u] = p.y;
  samples[o + 2u] = p.z;
  samples[o + 3u] = 0.0;
  samples[o + 4u] = 0.0;
  samples[o + 5u] = 0.0;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let id = linearWorkgroup(wid, nwg) * 64u + lid;
  let k = 2u * bake.steps + 1u;
  let s0 = f32(bake.steps);
  if (phase == 0u) {
    if (id < bake.count * k) {
      writeSample(id, id / k, (f32(id % k) - s0) * bake.step);
    }
    return;
  }
  if (id >= bake.count) {
    return;
  }
  var s = state[id];
  if (phase == 1u) {
    s = vec4<f32>(0.0);
    var best = 3.0e38;
    for (var j = 0u; j + 1u < k; j++) {
      let a = density[id * k + j] > bake.threshold;
      let b = density[id * k + j + 1u] > bake.threshold;
      let distance = abs(f32(2u * j + 1u) - 2.0 * s0);
      if (a != b && distance < best) {
        best = distance;
        s = vec4<f32>((f32(j) - s0) * bake.step, (f32(j + 1u) - s0) * bake.step, select(0.0, 1.0, a), 1.0);
        if (interpolate == 1u) {
          // src/texture/project.ts crossing(): linear in the raw logit between the two samples.
          let la = log(max(density[id * k + j], DENSITY_FLOOR));
          let lb = log(max(density[id * k + j + 1u], DENSITY_FLOOR));
          let f = select(clamp((log(bake.threshold) - la) / (lb - la), 0.0, 1.0), 0.5, la == lb);
          let t = s.x + (s.y - s.x) * f;
          s.x = t;
          s.y = t;
        }
      }
    }
  } else if (s.x != s.y) {
    let mid = (s.x + s.y) * 0.5;
    if ((density[id] > bake.threshold) == (s.z > 0.5)) {
      s.x = mid;
    } else {
      s.y = mid;
    }
  }
  state[id] = s;
  writeSample(id, id, (s.x + s.y) * 0.5);
}
