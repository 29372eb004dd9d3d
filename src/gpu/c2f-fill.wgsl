// Every fine point of a slab takes the trilinear interpolation of its block's coarse corners; the
// decoder then overwrites the points of refined blocks. Prepended: dispatch.wgsl, c2f-common.wgsl.
@group(0) @binding(1) var<storage, read> coarseValues: array<f32>;
@group(0) @binding(2) var<storage, read_write> field: array<f32>;

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let id = linearWorkgroup(wid, nwg) * 64u + lid;
  if (id >= c2f.count) {
    return;
  }
  let p = unflatten(c2f.first + id, c2f.dims);
  let b = vec3<u32>(blockOf(0u, p.x), blockOf(1u, p.y), blockOf(2u, p.z));
  let lo = vec3<u32>(fineOf(0u, b.x), fineOf(1u, b.y), fineOf(2u, b.z));
  let hi = vec3<u32>(fineOf(0u, b.x + 1u), fineOf(1u, b.y + 1u), fineOf(2u, b.z + 1u));
  let t = vec3<f32>(p - lo) / vec3<f32>(hi - lo);
  var v = 0.0;
  for (var c = 0u; c < 8u; c++) {
    let o = vec3<u32>(c & 1u, (c >> 1u) & 1u, c >> 2u);
    let wt = select(1.0 - t, t, o == vec3<u32>(1u));
    let w = wt.x * wt.y * wt.z;
    let j = b + o;
    if (w != 0.0) {
      v += w * coarseValues[(j.x * c2f.coarse.y + j.y) * c2f.coarse.z + j.z];
    }
  }
  field[id] = v;
}
