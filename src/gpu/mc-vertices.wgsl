// Writes one vertex per crossed owned edge: position and normalize(−∇f), 6 floats, at the index the
// scan gave the corner. Prepended: dispatch.wgsl, the generated constants, mc-common.wgsl.
@group(0) @binding(3) var<storage, read> offsets: array<vec2<u32>>;
@group(0) @binding(4) var<storage, read_write> vertices: array<f32>;

// Central differences in grid units, one-sided at the field's boundary (numpy.gradient).
fn gradient(r: vec3<i32>) -> vec3<f32> {
  var g: vec3<f32>;
  let d = vec3<i32>(slab.dims);
  for (var a = 0u; a < 3u; a++) {
    let e = axisVec(a);
    let lo = select(r, r - e, r[a] > 0);
    let hi = select(r, r + e, r[a] < d[a] - 1);
    g[a] = select(0.0, (fieldAt(hi) - fieldAt(lo)) / f32(hi[a] - lo[a]), hi[a] > lo[a]);
  }
  return g;
}

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
  // Vertices on the slab's last layer belong to the next slab unless this is the last one.
  if (u32(c.x) == slab.end && slab.isLast == 0u) {
    return;
  }
  var index = offsets[s].x;
  let pad = vec3<i32>(i32(slab.pad));
  for (var a = 0u; a < 3u; a++) {
    if (!crossed(c, a)) {
      continue;
    }
    let n = c + axisVec(a);
    var t: f32;
    var normal = vec3<f32>(0.0);
    if (isPad(c)) {
      t = 1.0;
      normal = -vec3<f32>(axisVec(a));
    } else if (isPad(n)) {
      t = 0.0;
      normal = vec3<f32>(axisVec(a));
    } else {
      let v0 = fieldAt(c - pad);
      let v1 = fieldAt(n - pad);
      t = (slab.iso - v0) / (v1 - v0);
      let g = -mix(gradient(c - pad), gradient(n - pad), t) / slab.spacing;
      let len = length(g);
      if (len > 0.0) {
        normal = g / len;
      }
    }
    var grid = vec3<f32>(c - pad);
    grid[a] += t;
    let p = slab.origin + grid * slab.spacing;
    let o = 6u * index;
    vertices[o] = p.x;
    vertices[o + 1u] = p.y;
    vertices[o + 2u] = p.z;
    vertices[o + 3u] = normal.x;
    vertices[o + 4u] = normal.y;
    vertices[o + 5u] = normal.z;
    index++;
  }
}
