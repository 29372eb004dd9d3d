// Per corner slot: how many owned edges (+x, +y, +z) the surface crosses, and how many triangles the
// cell at that corner emits. Prepended: dispatch.wgsl, the generated constants, mc-common.wgsl.
@group(0) @binding(2) var<storage, read> caseTable: array<u32>;
@group(0) @binding(3) var<storage, read_write> counts: array<vec2<u32>>;

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let s = linearWorkgroup(wid, nwg) * 64u + lid;
  if (s >= slab.corners) {
    return;
  }
  let c = slotCorner(s);
  let vertices = u32(crossed(c, 0u)) + u32(crossed(c, 1u)) + u32(crossed(c, 2u));
  var triangles = 0u;
  if (u32(c.x) < slab.end && u32(c.y) + 1u < slab.lattice.y && u32(c.z) + 1u < slab.lattice.z) {
    var cubeCase = 0u;
    for (var k = 0u; k < 8u; k++) {
      cubeCase |= u32(!inside(c + MC_CORNERS[k])) << k;
    }
    triangles = caseTable[MC_COUNTS_OFFSET + cubeCase];
  }
  counts[s] = vec2<u32>(vertices, triangles);
}
