// Shared by every kernel: dispatches larger than maxComputeWorkgroupsPerDimension are split into
// chunks; each chunk's first workgroup index arrives in group 1.
@group(1) @binding(0) var<uniform> dispatchBase: vec4<u32>;

fn linearWorkgroup(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return dispatchBase.x + (wid.z * nwg.y + wid.y) * nwg.x + wid.x;
}
