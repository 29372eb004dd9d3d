/**
 * A minimal reader for ONNX model files (protobuf): just the graph, its nodes, attributes and tensors.
 * Enough to read small graphs such as TripoSR's decoder and the names of external-data files, without
 * shipping a protobuf runtime. Field numbers follow onnx/onnx.proto.
 */

/** ONNX TensorProto.DataType values this reader decodes. */
export const ONNX_FLOAT = 1;
export const ONNX_INT32 = 6;
export const ONNX_INT64 = 7;
export const ONNX_FLOAT16 = 10;
export const ONNX_DOUBLE = 11;

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  /** Little-endian bytes of raw_data, when the tensor stores its data that way. */
  raw?: Uint8Array;
  floats: number[];
  ints: number[];
  doubles: number[];
  /** external_data key/value pairs (location, offset, length), when the data lives in another file. */
  external?: Record<string, string>;
}

export interface OnnxAttribute {
  name: string;
  f?: number;
  i?: number;
  s?: string;
  t?: OnnxTensor;
  floats: number[];
  ints: number[];
}

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, OnnxAttribute>;
}

export interface OnnxValueInfo {
  name: string;
  /** Dimensions; a symbolic dimension is its name. */
  shape?: (number | string)[];
}

export interface OnnxGraph {
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

class ProtoReader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    readonly end = bytes.length,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint as a signed 64-bit value converted to a JS number. */
  varint(): number {
    let lo = 0;
    let hi = 0;
    let shift = 0;
    let byte: number;
    do {
      if (this.pos >= this.end) throw new Error('truncated varint');
      byte = this.bytes[this.pos++]!;
      if (shift < 28) lo |= (byte & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (byte & 0x0f) << 28;
        hi |= (byte & 0x7f) >> 4;
      } else hi |= (byte & 0x7f) << (shift - 32);
      shift += 7;
    } while (byte & 0x80);
    return Number(BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)));
  }

  tag(): { field: number; wire: number } {
    const t = this.varint();
    return { field: Math.floor(t / 8), wire: t & 7 };
  }

  bytesField(): Uint8Array {
    const len = this.varint();
    if (len < 0 || this.pos + len > this.end) throw new Error('truncated length-delimited field');
    const out = this.bytes.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  sub(): ProtoReader {
    const b = this.bytesField();
    return new ProtoReader(this.bytes, b.byteOffset - this.bytes.byteOffset, b.byteOffset - this.bytes.byteOffset + b.length);
  }

  string(): string {
    return new TextDecoder().decode(this.bytesField());
  }

  float32(): number {
    if (this.pos + 4 > this.end) throw new Error('truncated float');
    const v = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  float64(): number {
    if (this.pos + 8 > this.end) throw new Error('truncated double');
    const v = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytesField();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported protobuf wire type ${wire}`);
    if (this.pos > this.end) throw new Error('truncated field');
  }

  /** A repeated numeric field, packed (wire 2) or not. */
  repeated(wire: number, into: number[], read: (r: ProtoReader) => number): void {
    if (wire === 2) {
      const r = this.sub();
      while (!r.done) into.push(read(r));
    } else into.push(read(this));
  }
}

function readTensor(r: ProtoReader): OnnxTensor {
  const t: OnnxTensor = { name: '', dims: [], dataType: 0, floats: [], ints: [], doubles: [] };
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1) r.repeated(wire, t.dims, (x) => x.varint());
    else if (field === 2) t.dataType = r.varint();
    else if (field === 4) r.repeated(wire, t.floats, (x) => x.float32());
    else if (field === 5 || field === 7) r.repeated(wire, t.ints, (x) => x.varint());
    else if (field === 8) t.name = r.string();
    else if (field === 9) t.raw = r.bytesField();
    else if (field === 10) r.repeated(wire, t.doubles, (x) => x.float64());
    else if (field === 13) {
      const e = r.sub();
      let key = '';
      let value = '';
      while (!e.done) {
        const f = e.tag();
        if (f.field === 1) key = e.string();
        else if (f.field === 2) value = e.string();
        else e.skip(f.wire);
      }
      (t.external ??= {})[key] = value;
    } else r.skip(wire);
  }
  return t;
}

function readAttribute(r: ProtoReader): OnnxAttribute {
  const a: OnnxAttribute = { name: '', floats: [], ints: [] };
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1) a.name = r.string();
    else if (field === 2) a.f = r.float32();
    else if (field === 3) a.i = r.varint();
    else if (field === 4) a.s = r.string();
    else if (field === 5) a.t = readTensor(r.sub());
    else if (field === 7) r.repeated(wire, a.floats, (x) => x.float32());
    else if (field === 8) r.repeated(wire, a.ints, (x) => x.varint());
    else r.skip(wire);
  }
  return a;
}

function readNode(r: ProtoReader): OnnxNode {
  const n: OnnxNode = { name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: new Map() };
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1) n.inputs.push(r.string());
    else if (field === 2) n.outputs.push(r.string());
    else if (field === 3) n.name = r.string();
    else if (field === 4) n.opType = r.string();
    else if (field === 5) {
      const a = readAttribute(r.sub());
      n.attributes.set(a.name, a);
    } else if (field === 7) n.domain = r.string();
    else r.skip(wire);
  }
  return n;
}

function readValueInfo(r: ProtoReader): OnnxValueInfo {
  const v: OnnxValueInfo = { name: '' };
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1) v.name = r.string();
    else if (field === 2) v.shape = readTensorShape(r.sub());
    else r.skip(wire);
  }
  return v;
}

/** TypeProto → tensor_type (1) → shape (2) → dim (1) → dim_value (1) | dim_param (2). */
function readTensorShape(r: ProtoReader): (number | string)[] | undefined {
  let shape: (number | string)[] | undefined;
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field !== 1) {
      r.skip(wire);
      continue;
    }
    const tt = r.sub();
    while (!tt.done) {
      const f = tt.tag();
      if (f.field !== 2) {
        tt.skip(f.wire);
        continue;
      }
      shape = [];
      const s = tt.sub();
      while (!s.done) {
        const d = s.tag();
        if (d.field !== 1) {
          s.skip(d.wire);
          continue;
        }
        const dim = s.sub();
        let value: number | string = '?';
        while (!dim.done) {
          const g = dim.tag();
          if (g.field === 1) value = dim.varint();
          else if (g.field === 2) value = dim.string();
          else dim.skip(g.wire);
        }
        shape.push(value);
      }
    }
  }
  return shape;
}

/** Parses an ONNX ModelProto and returns its main graph. Throws on malformed or truncated bytes. */
export function readOnnxGraph(bytes: Uint8Array): OnnxGraph {
  const graph: OnnxGraph = { nodes: [], initializers: new Map(), inputs: [], outputs: [] };
  let found = false;
  try {
    const model = new ProtoReader(bytes);
    while (!model.done) {
      const { field, wire } = model.tag();
      if (field !== 7) {
        model.skip(wire);
        continue;
      }
      found = true;
      const g = model.sub();
      while (!g.done) {
        const f = g.tag();
        if (f.field === 1) graph.nodes.push(readNode(g.sub()));
        else if (f.field === 5) {
          const t = readTensor(g.sub());
          graph.initializers.set(t.name, t);
        } else if (f.field === 11) graph.inputs.push(readValueInfo(g.sub()));
        else if (f.field === 12) graph.outputs.push(readValueInfo(g.sub()));
        else g.skip(f.wire);
      }
    }
  } catch (e) {
    throw new Error(`The ONNX file is truncated or corrupt (${(e as Error).message}).`);
  }
  if (!found) throw new Error('The file is not an ONNX model: it has no graph.');
  return graph;
}

/** A tensor's values as float32, from raw_data or the typed fields. Throws for external data. */
export function tensorToFloat32(t: OnnxTensor): Float32Array {
  if (t.external) throw new Error(`Tensor "${t.name}" keeps its data in an external file.`);
  const count = t.dims.reduce((a, b) => a * b, 1);
  let out: Float32Array;
  if (t.raw) {
    const view = new DataView(t.raw.buffer, t.raw.byteOffset, t.raw.byteLength);
    const size = { [ONNX_FLOAT]: 4, [ONNX_FLOAT16]: 2, [ONNX_DOUBLE]: 8, [ONNX_INT64]: 8, [ONNX_INT32]: 4 }[t.dataType];
    if (!size) throw new Error(`Tensor "${t.name}" has unsupported data type ${t.dataType}.`);
    if (t.raw.byteLength !== count * size) {
      throw new Error(`Tensor "${t.name}" holds ${t.raw.byteLength} bytes, expected ${count * size}.`);
    }
    out = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      if (t.dataType === ONNX_FLOAT) out[i] = view.getFloat32(4 * i, true);
      else if (t.dataType === ONNX_FLOAT16) out[i] = halfToFloat(view.getUint16(2 * i, true));
      else if (t.dataType === ONNX_DOUBLE) out[i] = view.getFloat64(8 * i, true);
      else if (t.dataType === ONNX_INT64) out[i] = Number(view.getBigInt64(8 * i, true));
      else out[i] = view.getInt32(4 * i, true);
    }
  } else {
    const src = t.dataType === ONNX_DOUBLE ? t.doubles : t.dataType === ONNX_FLOAT ? t.floats : t.ints;
    if (src.length !== count) throw new Error(`Tensor "${t.name}" holds ${src.length} values, expected ${count}.`);
    out = t.dataType === ONNX_FLOAT16 ? Float32Array.from(src, halfToFloat) : Float32Array.from(src);
  }
  return out;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}
