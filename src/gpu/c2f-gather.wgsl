// Lists the fine points the decoder must evaluate: every point in the closed box of a refined block
// widened by a one-point halo (the ±1 neighbours central-difference normals read), except coarse
// samples (already exact), each listed once by the first refined block (in x, y, z order) whose
// widened box holds it. Prepended: dispatch.wgsl, c2f-common.wgsl.
@group(0) @binding(1) var<storage, read> refinedBlocks: array<u32>;
@group(0) @binding(2) var<storage, read> blockFlags: array<u32>;
@group(0) @binding(3) var<storage, read_write> pointList: array<atomic<u32>>;  // [count, index...]

fn refined(b: vec3<u32>) -> bool {
  return blockFlags[(b.x * c2f.blocks.y + b.y) * c2f.blocks.z + b.z] != 0u;
}

// Blocks whose widened box holds fine index i, first and last: b·k − 1 ≤ i ≤ fineOf(b + 1) + 1, i.e.
// b in [ceil((i − 1) / k) − 1, floor((i + 1) / k)] within the grid: at most two for k ≥ 3, three for
// k = 2. The CPU walk (density-walk-cpu.ts) marks the same widened boxes.
fn haloBlocks(axis: u32, i: u32) -> vec2<u32> {
  let q = (i + c2f.blockSize - 2u) / c2f.blockSize;
  return vec2<u32>(select(q - 1u, 0u, q == 0u), min((i + 1u) / c2f.blockSize, c2f.blocks[axis] - 1u));
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
  let side = c2f.blockSize + 3u;
  let perBlock = side * side * side;
  let id = linearWorkgroup(wid, nwg) * 64u + lid;
  if (id >= c2f.count * perBlock) {
    return;
  }
  let block = unflatten(refinedBlocks[id / perBlock], c2f.blocks);
  let local = unflatten(id % perBlock, vec3<u32>(side));
  // p = block·k − 1 + local; the halo below the lattice (p = −1) is skipped.
  let start = block * c2f.blockSize;
  if (any(start + local < vec3<u32>(1u))) {
    return;
  }
  let p = start + local - vec3<u32>(1u);
  if (any(p >= c2f.dims) || p.x < c2f.xBegin || p.x >= c2f.xEnd) {
    return;
  }
  // The widened box ends one point past the block's far corner (shorter blocks at the lattice end).
  let far = vec3<u32>(fineOf(0u, block.x + 1u), fineOf(1u, block.y + 1u), fineOf(2u, block.z + 1u));
  if (any(p > far + vec3<u32>(1u))) {
    return;
  }
  if (isCoarse(0u, p.x) && isCoarse(1u, p.y) && isCoarse(2u, p.z)) {
    return;
  }
  let ax = haloBlocks(0u, p.x);
  let ay = haloBlocks(1u, p.y);
  let az = haloBlocks(2u, p.z);
  var owner = vec3<u32>(0xffffffffu);
  for (var i = ax.x; i <= ax.y && owner.x == 0xffffffffu; i++) {
    for (var j = ay.x; j <= ay.y && owner.x == 0xffffffffu; j++) {
      for (var k = az.x; k <= az.y && owner.x == 0xffffffffu; k++) {
        let cand = vec3<u32>(i, j, k);
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
