// TripoSR's triplane decoder for a tile of DECODE_TILE (32) points per workgroup: features by manual bilinear
// sampling (grid_sample, align_corners=False, zero padding), then the MLP as small GEMMs on
// workgroup memory. Output: density clamp(act(o0 + bias)) (or colour clamp(sigmoid(o1..3)) when
// colourOut), with the activations the decoder graph uses (see DecoderWeights).
// Prepended: dispatch.wgsl, the generated constants, point-job.wgsl; appended: triplane-sample.wgsl.

override colourOut: bool = false;
override hiddenRelu: bool = false;     // hidden activation: ReLU, else SiLU
override densityAct: u32 = 0u;         // 0 exp, 1 softplus, 2 relu
override densityLo: f32 = -3.0e38;     // density clamp after its activation
override densityHi: f32 = 3.0e38;
override colourLo: f32 = -3.0e38;      // colour clamp after the sigmoid
override colourHi: f32 = 3.0e38;

const TILE: u32 = DECODE_TILE;
const FEATURES4: u32 = DECODER_FEATURES / 4u;
const HIDDEN4: u32 = DECODER_HIDDEN / 4u;
const ROW4: u32 = 32u;        // vec4 slots per point in the activation tile: 128 floats ≥ the widest layer input
const_assert ROW4 >= FEATURES4 && ROW4 >= HIDDEN4;
// The 64 threads split each point's features in two halves (see main).
const FEATURES_PER_THREAD: u32 = DECODER_FEATURES / 2u;
const_assert TILE * 2u == 64u;

struct Decoder {
  hiddenLayers: u32,  // 64→64 layers between the input and output layers
  densityBias: f32,
  _pad0: u32,
  _pad1: u32,
}

@group(2) @binding(0) var<storage, read> triplane: array<f32>;
// Per layer: weights [out][in] as vec4 rows, then the bias as vec4s (see packDecoderWeights).
@group(2) @binding(1) var<storage, read> weights: array<vec4<f32>>;
@group(2) @binding(2) var<uniform> decoder: Decoder;

var<workgroup> act: array<vec4<f32>, TILE * ROW4>;  // 32 points × 128 floats = 16 KiB

fn hiddenAct(x: vec4<f32>) -> vec4<f32> {
  if (hiddenRelu) {
    return max(x, vec4<f32>(0.0));
  }
  return x / (vec4<f32>(1.0) + exp(-x));
}

fn densityOf(x: f32) -> f32 {
  var d: f32;
  if (densityAct == 1u) {
    d = select(log(1.0 + exp(x)), x, x > 30.0);
  } else if (densityAct == 2u) {
    d = max(x, 0.0);
  } else {
    d = exp(min(x, MAX_DENSITY_LOGIT));
  }
  return clamp(d, densityLo, densityHi);
}

// One layer: thread t computes outputs 4·(t % 16)..+3 for points 8·(t / 16)..+7, in place.
fn dense(lid: u32, inputs4: u32, offset: u32) {
  let col = lid % HIDDEN4;
  let p0 = (lid / HIDDEN4) * 8u;
  var acc: array<vec4<f32>, 8>;
  let rows = offset + col * 4u * inputs4;
  for (var i = 0u; i < inputs4; i++) {
    let w0 = weights[rows + i];
    let w1 = weights[rows + inputs4 + i];
    let w2 = weights[rows + 2u * inputs4 + i];
    let w3 = weights[rows + 3u * inputs4 + i];
    for (var p = 0u; p < 8u; p++) {
      let a = act[(p0 + p) * ROW4 + i];
      acc[p] += vec4<f32>(dot(w0, a), dot(w1, a), dot(w2, a), dot(w3, a));
    }
  }
  let bias = weights[offset + DECODER_HIDDEN * inputs4 + col];
  workgroupBarrier();
  for (var p = 0u; p < 8u; p++) {
    act[(p0 + p) * ROW4 + col] = hiddenAct(acc[p] + bias);
  }
  workgroupBarrier();
}

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let tile = linearWorkgroup(wid, nwg);
  let count = jobCount();
  if (tile * TILE >= count) {
    return;
  }

  // Features: thread t samples point t % 32, features 60·(t / 32)..+59.
  let p = lid % TILE;
  let id = tile * TILE + p;
  let valid = id < count;
  var pos = vec3<f32>(0.0);
  if (valid) {
    pos = jobPosition(id);
  }
  let q = pos / TRIPLANE_RADIUS;
  let firstFeature = (lid / TILE) * FEATURES_PER_THREAD;
  var plane = 99u;
  var taps = PlaneTaps(vec4<i32>(0), vec4<f32>(0.0));
  for (var f = firstFeature; f < firstFeature + FEATURES_PER_THREAD; f++) {
    let fp = f / TRIPLANE_CHANNELS;
    if (fp != plane) {
      plane = fp;
      taps = planeTaps(q, plane);
    }
    let base = i32(f * u32(TRIPLANE_SIZE * TRIPLANE_SIZE));
    let i = taps.index + base;
    let v = dot(taps.weight, vec4<f32>(triplane[i.x], triplane[i.y], triplane[i.z], triplane[i.w]));
    act[p * ROW4 + f / 4u][f % 4u] = v;
  }
  workgroupBarrier();

  var offset = 0u;
  dense(lid, FEATURES4, offset);
  offset += DECODER_HIDDEN * FEATURES4 + HIDDEN4;
  for (var l = 0u; l < decoder.hiddenLayers; l++) {
    dense(lid, HIDDEN4, offset);
    offset += DECODER_HIDDEN * HIDDEN4 + HIDDEN4;
  }

  // Output layer (64 → 4): one thread per point.
  if (lid < TILE && valid) {
    var o = weights[offset + 4u * HIDDEN4];
    for (var i = 0u; i < HIDDEN4; i++) {
      let a = act[lid * ROW4 + i];
      o += vec4<f32>(dot(weights[offset + i], a), dot(weights[offset + HIDDEN4 + i], a),
                     dot(weights[offset + 2u * HIDDEN4 + i], a), dot(weights[offset + 3u * HIDDEN4 + i], a));
    }
    if (colourOut) {
      let c = clamp(1.0 / (1.0 + exp(-o.yzw)), vec3<f32>(colourLo), vec3<f32>(colourHi));
      results[3u * id] = c.x;
      results[3u * id + 1u] = c.y;
      results[3u * id + 2u] = c.z;
    } else {
      jobStore(id, densityOf(o.x + decoder.densityBias));
    }
  }
}
