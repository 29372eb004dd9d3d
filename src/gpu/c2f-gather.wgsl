// Lists the fine points the decoder must evaluate: every point in the closed box of a refined block,
// except coarse samples (already exact), each listed once by the first refined block (in x, y, z
// order) whose box holds it. Prepended: dispatch.wgsl, c2f-common.wgsl.
@group(0) @binding(1) var<storage, read> refinedBlocks: array<u32>;
@group(0) @binding(2) var<storage, read> blockFlags: array<u32>;
@group(0) @binding(3) var<storage, read_write> pointList: array<atomic<u32>>;  // [count, index...]

fn refined(b: vec3<u32>) -> bool {
  return blockFlags[(b.x * c2f.blocks.y + b.y) * c2f.blocks.z + b.z] != 0u;
}

// Blocks whose closed box holds fine index i: (lower, upper), equal when only one does.
fn around(axis: u32, i: u32) -> vec2<u32> {
  let b = blockOf(axis, i);
  if (i % c2f.blockSize == 0u && i > 0u) {
    return vec2<u32>(i / c2f.blockSize - 1u, b);
  }
  return vec2<u32>(b, b);
}

fn isCoarse(axis: u32, i: u32) -> bool {
  return i % c2f.blockSize == 0u || i == c2f.dims[axis] - 1u;
}

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let side = c2f.blockSize + 1u;
  let perBlock = side * side * side;
  let id = linearWorkgroup(wid, nwg) * 64u + lid;
  if (id >= c2f.count * perBlock) {
    return;
  }
  let block = unflatten(refinedBlocks[id / perBlock], c2f.blocks);
  let local = unflatten(id % perBlock, vec3<u32>(side));
  let p = block * c2f.blockSize + local;
  if (any(p >= c2f.dims) || p.x < c2f.xBegin || p.x >= c2f.xEnd) {
    return;
  }
  // The block's closed box ends at its far corner (shorter blocks at the lattice end).
  if (any(local > vec3<u32>(fineOf(0u, block.x + 1u), fineOf(1u, block.y + 1u), fineOf(2u, block.z + 1u)) - block * c2f.blockSize)) {
    return;
  }
  if (isCoarse(0u, p.x) && isCoarse(1u, p.y) && isCoarse(2u, p.z)) {
    return;
  }
  let ax = around(0u, p.x);
  let ay = around(1u, p.y);
  let az = around(2u, p.z);
  var owner = vec3<u32>(0xffffffffu);
  for (var i = 0u; i < 2u && owner.x == 0xffffffffu; i++) {
    for (var j = 0u; j < 2u && owner.x == 0xffffffffu; j++) {
      for (var k = 0u; k < 2u && owner.x == 0xffffffffu; k++) {
        let cand = vec3<u32>(ax[i], ay[j], az[k]);
        if (refined(cand)) {
          owner = cand;
        }
      }
    }
  }
  if (any(owner != block)) {
    return;
  }
  let slot = atomicAdd(&pointList[0], 1u);
  if (slot < c2f.capacity) {
    atomicStore(&pointList[1u + slot], (p.x * c2f.dims.y + p.y) * c2f.dims.z + p.z);
  }
}
