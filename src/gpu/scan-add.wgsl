// Adds each block's scanned offset to its elements. Prepended: dispatch.wgsl and the generated
// constants (ScanParams, SCAN_BLOCK).
@group(0) @binding(0) var<uniform> params: ScanParams;
@group(0) @binding(1) var<storage, read_write> data: array<vec2<u32>>;
@group(0) @binding(2) var<storage, read> sums: array<vec2<u32>>;

@compute @workgroup_size(SCAN_BLOCK / 2u)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let block = linearWorkgroup(wid, nwg);
  if (block * SCAN_BLOCK >= params.count) {
    return;
  }
  let a = block * SCAN_BLOCK + 2u * lid;
  let s = sums[block];
  if (a < params.count) {
    data[a] += s;
  }
  if (a + 1u < params.count) {
    data[a + 1u] += s;
  }
}
