// Which points a field evaluator visits and where it stores the results (see point-job.ts).
struct PointJob {
  dims: vec3<u32>,
  mode: u32,      // 0: lattice range, 1: lattice index list, 2: vertex positions
  lo: vec3<f32>,
  count: u32,     // points in the range, or capacity of the list
  step: vec3<f32>,
  first: u32,     // first lattice index of a range
  outBase: u32,   // lattice index stored at out[0]
  outMode: u32,   // 0: out[latticeIndex - outBase], 1: out[id]
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> job: PointJob;
// mode 1: [count, index...]; mode 2: vertex records of 6 f32 (position, normal) as bits.
@group(0) @binding(1) var<storage, read> points: array<u32>;
@group(0) @binding(2) var<storage, read_write> results: array<f32>;

fn jobCount() -> u32 {
  if (job.mode == 1u) {
    return min(job.count, points[0]);
  }
  return job.count;
}

fn jobLatticeIndex(id: u32) -> u32 {
  if (job.mode == 1u) {
    return points[1u + id];
  }
  return job.first + id;
}

fn jobPosition(id: u32) -> vec3<f32> {
  if (job.mode == 2u) {
    let b = 6u * id;
    return vec3<f32>(bitcast<f32>(points[b]), bitcast<f32>(points[b + 1u]), bitcast<f32>(points[b + 2u]));
  }
  let i = jobLatticeIndex(id);
  let ijk = vec3<u32>(i / (job.dims.y * job.dims.z), (i / job.dims.z) % job.dims.y, i % job.dims.z);
  return job.lo + vec3<f32>(ijk) * job.step;
}

fn jobStore(id: u32, value: f32) {
  if (job.outMode == 0u) {
    results[jobLatticeIndex(id) - job.outBase] = value;
  } else {
    results[id] = value;
  }
}
