// Writes each cell's triangles as vertex indices. An index on the slab's last layer (owned by the
// next slab) is written relative to that layer with NEXT_SLAB_FLAG set; the host rebases it.
// Prepended: dispatch.wgsl, the generated constants (MC_CORNERS, MC_EDGES, NEXT_SLAB_FLAG), mc-common.wgsl.
@group(0) @binding(2) var<storage, read> caseTable: array<u32>;
@group(0) @binding(3) var<storage, read> offsets: array<vec2<u32>>;
@group(0) @binding(5) var<storage, read_write> indices: array<u32>;

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
  if (u32(c.x) >= slab.end || u32(c.y) + 1u >= slab.lattice.y || u32(c.z) + 1u >= slab.lattice.z) {
    return;
  }
  var cubeCase = 0u;
  for (var k = 0u; k < 8u; k++) {
    cubeCase |= u32(!inside(c + MC_CORNERS[k])) << k;
  }
  let count = 3u * caseTable[MC_COUNTS_OFFSET + cubeCase];
  let lastLayerFirst = offsets[(slab.end - slab.begin) * slab.lattice.y * slab.lattice.z].x;
  var out = 3u * offsets[s].y;
  for (var k = 0u; k < count; k++) {
    let edge = (caseTable[2u * cubeCase + k / 8u] >> (4u * (k % 8u))) & 0xfu;
    let e = MC_EDGES[edge];
    let corner = c + e.xyz;
    let a = u32(e.w);
    var v = offsets[cornerSlot(corner)].x + edgeRank(corner, a);
    if (u32(corner.x) == slab.end && slab.isLast == 0u) {
      v = (v - lastLayerFirst) | NEXT_SLAB_FLAG;
    }
    indices[out] = v;
    out++;
  }
}
