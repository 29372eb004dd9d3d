// Shared by the marching-cubes kernels of one slab (see marching-cubes.ts). Corners are in padded
// lattice coordinates: with `pad`, a virtual outside layer surrounds the field. Prepended: dispatch.wgsl
// and the generated constants.
struct Slab {
  lattice: vec3<u32>,   // padded lattice dims
  pad: u32,             // 0 or 1
  dims: vec3<u32>,      // the field's dims
  iso: f32,
  origin: vec3<f32>,
  begin: u32,           // first corner layer (x) of the slab
  spacing: vec3<f32>,
  end: u32,             // last corner layer scanned; cells span [begin, end)
  fieldFirst: u32,      // first field layer held by the field binding
  fieldBase: u32,       // element offset of that layer in the binding
  isLast: u32,          // the slab owns the vertices of layer `end`
  corners: u32,         // corner slots in the slab: (end − begin + 1) · lattice.y · lattice.z
}

@group(0) @binding(0) var<uniform> slab: Slab;
@group(0) @binding(1) var<storage, read> field: array<f32>;

fn slotCorner(s: u32) -> vec3<i32> {
  let yz = slab.lattice.y * slab.lattice.z;
  return vec3<i32>(vec3<u32>(slab.begin + s / yz, (s / slab.lattice.z) % slab.lattice.y, s % slab.lattice.z));
}

fn cornerSlot(c: vec3<i32>) -> u32 {
  return ((u32(c.x) - slab.begin) * slab.lattice.y + u32(c.y)) * slab.lattice.z + u32(c.z);
}

fn isPad(c: vec3<i32>) -> bool {
  let r = c - vec3<i32>(i32(slab.pad));
  return any(r < vec3<i32>(0)) || any(r >= vec3<i32>(slab.dims));
}

// Field value at a real (unpadded) corner.
fn fieldAt(r: vec3<i32>) -> f32 {
  let d = vec3<i32>(slab.dims);
  return field[slab.fieldBase + u32(((r.x - i32(slab.fieldFirst)) * d.y + r.y) * d.z + r.z)];
}

fn inside(c: vec3<i32>) -> bool {
  return !isPad(c) && fieldAt(c - vec3<i32>(i32(slab.pad))) > slab.iso;
}

fn inLattice(c: vec3<i32>) -> bool {
  return all(c >= vec3<i32>(0)) && all(c < vec3<i32>(slab.lattice));
}

fn axisVec(a: u32) -> vec3<i32> {
  return vec3<i32>(i32(a == 0u), i32(a == 1u), i32(a == 2u));
}

fn crossed(c: vec3<i32>, a: u32) -> bool {
  let n = c + axisVec(a);
  return inLattice(n) && inside(c) != inside(n);
}

// Rank of edge (c, a) among corner c's crossed edges: the vertex's offset from the corner's first.
fn edgeRank(c: vec3<i32>, a: u32) -> u32 {
  var r = 0u;
  for (var b = 0u; b < a; b++) {
    r += u32(crossed(c, b));
  }
  return r;
}
