// The coarse lattice and block grid shared by the coarse-to-fine kernels (see coarse-to-fine.ts).
struct Coarse {
  dims: vec3<u32>,     // fine lattice
  blockSize: u32,
  blocks: vec3<u32>,
  first: u32,          // first fine lattice index of the slab
  coarse: vec3<u32>,
  count: u32,          // fine points in the slab (fill) or refined blocks listed (gather)
  xBegin: u32,         // slab's first x layer
  xEnd: u32,           // one past its last x layer
  capacity: u32,       // gather: room in the point list
  _pad: u32,
}

@group(0) @binding(0) var<uniform> c2f: Coarse;

fn fineOf(axis: u32, j: u32) -> u32 {
  return min(j * c2f.blockSize, c2f.dims[axis] - 1u);
}

fn blockOf(axis: u32, i: u32) -> u32 {
  return min(i / c2f.blockSize, c2f.blocks[axis] - 1u);
}

fn unflatten(i: u32, d: vec3<u32>) -> vec3<u32> {
  return vec3<u32>(i / (d.y * d.z), (i / d.z) % d.y, i % d.z);
}
