// Exclusive prefix sum of vec2<u32> within blocks of SCAN_BLOCK (Blelloch), block totals to `sums`.
// Prepended: dispatch.wgsl and the generated constants (ScanParams, SCAN_BLOCK).
@group(0) @binding(0) var<uniform> params: ScanParams;
@group(0) @binding(1) var<storage, read_write> data: array<vec2<u32>>;
@group(0) @binding(2) var<storage, read_write> sums: array<vec2<u32>>;

const BLOCK: u32 = SCAN_BLOCK;
var<workgroup> tmp: array<vec2<u32>, SCAN_BLOCK>;

@compute @workgroup_size(SCAN_BLOCK / 2u)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let block = linearWorkgroup(wid, nwg);
  let base = block * BLOCK;
  if (base >= params.count) {
    return;
  }
  let a = base + 2u * lid;
  tmp[2u * lid] = select(vec2<u32>(0u), data[a], a < params.count);
  tmp[2u * lid + 1u] = select(vec2<u32>(0u), data[a + 1u], a + 1u < params.count);
  var offset = 1u;
  for (var d = BLOCK >> 1u; d > 0u; d >>= 1u) {
    workgroupBarrier();
    if (lid < d) {
      let i = offset * (2u * lid + 1u) - 1u;
      let j = offset * (2u * lid + 2u) - 1u;
      tmp[j] += tmp[i];
    }
    offset <<= 1u;
  }
  workgroupBarrier();
  if (lid == 0u) {
    sums[block] = tmp[BLOCK - 1u];
    tmp[BLOCK - 1u] = vec2<u32>(0u);
  }
  for (var d = 1u; d < BLOCK; d <<= 1u) {
    offset >>= 1u;
    workgroupBarrier();
    if (lid < d) {
      let i = offset * (2u * lid + 1u) - 1u;
      let j = offset * (2u * lid + 2u) - 1u;
      let t = tmp[i];
      tmp[i] = tmp[j];
      tmp[j] += t;
    }
  }
  workgroupBarrier();
  if (a < params.count) {
    data[a] = tmp[2u * lid];
  }
  if (a + 1u < params.count) {
    data[a + 1u] = tmp[2u * lid + 1u];
  }
}
