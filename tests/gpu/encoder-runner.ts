/** Loads a model manifest's encoder and runs it once in onnxruntime-web, recording placement and GPU buffers. */
import type * as Ort from 'onnxruntime-web/webgpu';
import onnxProto from 'onnx-proto';
import type { ModelManifest } from '../../src/shared/manifest';
import { parsePlacements, type SessionPlacement } from '../../src/lib/ort-placement';

const { onnx } = onnxProto;

/** A manifest and its encoder's bytes. */
export interface EncoderModel {
  manifest: ModelManifest;
  encoder: Uint8Array;
  externalData: { path: string; data: Uint8Array }[];
}

/** Fetches a manifest and its encoder + external data (URLs relative to the manifest, as the app reads them). */
export async function fetchEncoderModel(manifestUrl: string): Promise<EncoderModel> {
  const response = await fetch(manifestUrl);
  if (!response.ok) throw new Error(`${manifestUrl}: HTTP ${response.status}`);
  const manifest = (await response.json()) as ModelManifest;
  const base = new URL(manifestUrl, location.href);
  const get = async (url: string): Promise<Uint8Array> => new Uint8Array(await (await fetch(new URL(url, base))).arrayBuffer());
  const encoderFile = manifest.files.find((f) => f.role === 'encoder')!;
  const data = manifest.files.filter((f) => f.role === 'encoder-data');
  return {
    manifest,
    encoder: await get(encoderFile.url),
    externalData: await Promise.all(data.map(async (f) => ({ path: f.name, data: await get(f.url) }))),
  };
}

const listeners = new Set<string[]>();
const VERBOSE_LINE = /\[[VI]:onnxruntime:/;

/**
 * Collects what onnxruntime writes through console.error (its log sink in the browser) until `stop()`.
 * Emscripten binds console.error once, when the WASM module starts, so the hook is installed once and
 * stays: call this before the first session of the page or worker.
 */
export function captureConsoleErrors(): { lines: string[]; stop: () => void } {
  const hooked = console.error as typeof console.error & { ortCapture?: true };
  if (!hooked.ortCapture) {
    const original = console.error.bind(console);
    const hook = (...args: unknown[]): void => {
      const line = args.map(String).join(' ');
      // A session built with logSeverityLevel 0 keeps logging every kernel it runs; outside a capture
      // those verbose and info lines are dropped, warnings and errors still reach the console.
      if (listeners.size === 0) return VERBOSE_LINE.test(line) ? undefined : original(...args);
      for (const lines of listeners) lines.push(line);
    };
    console.error = Object.assign(hook, { ortCapture: true as const });
  }
  const lines: string[] = [];
  listeners.add(lines);
  return { lines, stop: () => void listeners.delete(lines) };
}

/** One encoder run. */
export interface EncoderRun {
  triplane: Float32Array;
  /** Where onnxruntime placed each node (parsed from its verbose log). */
  placement: SessionPlacement;
  /** Size in bytes of the largest GPUBuffer created while the session was built and run (0 on WASM). */
  largestBuffer: number;
  /** Session build and run wall times in the page. */
  createMs: number;
  runMs: number;
}

/** Options for `runEncoder`. */
export interface RunEncoderOptions {
  backend: 'webgpu' | 'wasm';
  device?: GPUDevice;
  /** The session's log id, which tags its placement block. */
  logId: string;
}

/**
 * Builds a session for `model` (verbose session log, so the placement is logged), runs it on `image`
 * (CHW 512²) and releases it. `ort.env.logLevel` should be 'warning' or quieter, or the shader dumps
 * of the default logger drown the console.
 */
export async function runEncoder(ort: typeof Ort, model: EncoderModel, image: Float32Array, opts: RunEncoderOptions): Promise<EncoderRun> {
  const { device } = opts;
  let largestBuffer = 0;
  const createBuffer = device?.createBuffer;
  if (device) {
    device.createBuffer = (desc: GPUBufferDescriptor): GPUBuffer => {
      largestBuffer = Math.max(largestBuffer, desc.size);
      return createBuffer!.call(device, desc);
    };
  }
  const log = captureConsoleErrors();
  let session: Ort.InferenceSession | undefined;
  try {
    const t0 = performance.now();
    session = await ort.InferenceSession.create(model.encoder, {
      externalData: model.externalData,
      executionProviders: opts.backend === 'webgpu' ? [{ name: 'webgpu', device } as never] : ['wasm'],
      graphOptimizationLevel: 'all',
      logSeverityLevel: 0,
      logId: opts.logId,
    });
    log.stop();
    const t1 = performance.now();
    const input = new ort.Tensor('float32', image, model.manifest.contract.image);
    const outputs = await session.run({ [session.inputNames[0]!]: input });
    const triplane = outputs[session.outputNames[0]!]!;
    const data = (await triplane.getData()) as Float32Array;
    const t2 = performance.now();
    triplane.dispose();
    const placement = parsePlacements(log.lines).find((p) => p.session === opts.logId);
    if (!placement) throw new Error(`onnxruntime logged no node placement for "${opts.logId}".`);
    return { triplane: data.slice(), placement, largestBuffer, createMs: t1 - t0, runMs: t2 - t1 };
  } finally {
    log.stop();
    await session?.release();
    if (device) device.createBuffer = createBuffer!;
  }
}

/**
 * A copy of `model` whose largest float32 external initializer is multiplied by `factor`: a wrong model
 * the golden comparison must reject.
 */
export function perturbLargestWeight(model: EncoderModel, factor: number): { model: EncoderModel; tensor: string } {
  const proto = onnx.ModelProto.decode(model.encoder);
  let best: { name: string; file: string; offset: number; length: number } | undefined;
  for (const t of proto.graph!.initializer!) {
    if (t.dataType !== onnx.TensorProto.DataType.FLOAT || t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) continue;
    const kv = Object.fromEntries(t.externalData!.map((e) => [e.key, e.value]));
    const length = Number(kv.length);
    if (!best || length > best.length) best = { name: t.name!, file: kv.location!, offset: Number(kv.offset ?? 0), length };
  }
  if (!best) throw new Error('The model has no float32 external initializer to perturb.');
  const externalData = model.externalData.map(({ path, data }) => {
    if (path !== best!.file) return { path, data };
    const copy = data.slice();
    // DataView: external data need not be 4-byte aligned.
    const view = new DataView(copy.buffer, best!.offset, best!.length);
    for (let i = 0; i < best!.length; i += 4) view.setFloat32(i, view.getFloat32(i, true) * factor, true);
    return { path, data: copy };
  });
  return { model: { ...model, externalData }, tensor: best.name };
}
