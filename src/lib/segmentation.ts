/**
 * On-device background removal with transformers.js (AutoModel + AutoImageProcessor) on the app's own
 * onnxruntime-web: WebGPU first, WASM when WebGPU cannot build or run the model, and the one that ran
 * is recorded. Nothing is fetched from a hub or a CDN:
 *
 * - transformers.js runs on the app's `onnxruntime-web/webgpu` (package.json `overrides` pin its
 *   dependency to the app's version, and ./transformers-ort hands it the very module instance), with
 *   the app's own WASM files, never the jsDelivr default;
 * - remote models are off, and every model file transformers.js asks for goes through `env.fetch`,
 *   which answers from the bytes the model cache returned (a `Map`) or from a local folder URL.
 *
 * transformers.js keeps one global `env`; this module owns it (the app has no other use of the library).
 */
// First: transformers.js reads the ORT hook when it is evaluated.
import { isGuarded, throwIfFailed } from './transformers-ort';
import {
  AutoImageProcessor,
  AutoModel,
  RawImage,
  env,
  type ImageProcessor,
  type PreTrainedModel,
  type Tensor,
} from '@huggingface/transformers';
import { maskFromOutput, resizeRgb, type MaskActivation } from './alpha-mask';
import { AppError, abortError, isAbortError, throwIfAborted } from './errors';
import type { RgbaImage } from './prepare-image';

export { removeBackground, type AlphaMask, type MaskActivation } from './alpha-mask';

/** Where a segmenter ran. */
export type SegmenterBackend = 'webgpu' | 'wasm';

/** The model's files by their path inside the model folder ('config.json', 'onnx/model.onnx', ...). */
export type SegmenterFiles = Map<string, Uint8Array>;

/** A model folder served over HTTP (absolute, or relative to the page), laid out as on the Hub. */
export interface SegmenterFolder {
  localPath: string;
}

/** Options for {@link createSegmenter}. */
export interface SegmenterOptions {
  /** Backends to try in order; WebGPU is skipped where the browser has none. */
  backends: SegmenterBackend[];
  /** Precision: 'fp32' loads onnx/model.onnx, 'fp16' onnx/model_fp16.onnx; 'auto' picks what `files` holds. */
  dtype: 'auto' | 'fp32' | 'fp16';
  /** What the model outputs: BiRefNet exports logits ('sigmoid' applies one here). */
  activation: MaskActivation;
  /** The GPUDevice the WebGPU session runs on (the pipeline worker's); default ORT's own. */
  gpuDevice?: GPUDevice;
  /** The fetch used for a {@link SegmenterFolder}; default the global one. */
  fetch?: typeof fetch;
  /** Cancels the load between backends (a session being built finishes first and is released). */
  signal?: AbortSignal;
}

/** Defaults for {@link SegmenterOptions}. */
export const SEGMENTER_DEFAULTS = {
  backends: ['webgpu', 'wasm'],
  dtype: 'auto',
  activation: 'sigmoid',
} satisfies Partial<SegmenterOptions>;

/** A loaded background-removal model. */
export interface Segmenter {
  /** Where the model runs now; becomes 'wasm' if WebGPU failed on the first image. */
  readonly backend: SegmenterBackend;
  /** Why an earlier backend was not used (for the stats and the "Running on CPU" notice). */
  readonly fallbackReason: string | undefined;
  /** The model's input size, from its preprocessor config. */
  readonly inputSize: { width: number; height: number };
  /**
   * The alpha mask (0..255, one byte per pixel, the image's size) of `image`'s foreground. A run in
   * progress cannot be interrupted; `signal` discards its result.
   */
  segment(image: RgbaImage, signal?: AbortSignal): Promise<Uint8ClampedArray>;
  /** Releases the sessions; the segmenter cannot be used afterwards. */
  dispose(): Promise<void>;
}

/**
 * Loads a segmentation model (transformers.js layout: config.json, preprocessor_config.json,
 * onnx/model[_fp16].onnx) from the bytes the model cache returned or from a folder URL, on the first
 * backend that builds it.
 * @example
 * const segmenter = await createSegmenter(files, { gpuDevice: device });
 * const cutout = removeBackground(image, await segmenter.segment(image), threshold);
 */
export async function createSegmenter(
  files: SegmenterFiles | SegmenterFolder,
  options: Partial<SegmenterOptions> = {},
): Promise<Segmenter> {
  const opts = { ...SEGMENTER_DEFAULTS, ...options };
  const { signal } = opts;
  throwIfAborted(signal);
  configureTransformers();
  const dtype = opts.dtype === 'auto' ? dtypeOf(files) : opts.dtype;
  const backends = opts.backends.filter((b) => b !== 'webgpu' || hasWebGpu());
  const id = `segmenter-${++lastId}`;
  SOURCES.set(id, files instanceof Map ? files : folderSource(files.localPath, opts.fetch));
  let keepSource = false;
  try {
    const processor = await loadStep(
      () => AutoImageProcessor.from_pretrained(id),
      'its preprocessor',
    );
    throwIfAborted(signal);
    const failures: string[] = [];
    for (const [i, backend] of backends.entries()) {
      let model: PreTrainedModel;
      try {
        model = await loadModel(id, backend, dtype, opts.gpuDevice);
      } catch (error) {
        if (signal?.aborted || isAbortError(error)) throw abortError();
        failures.push(`${backendName(backend)}: ${messageOf(error)}`);
        continue;
      }
      if (signal?.aborted) {
        await model.dispose();
        throw abortError();
      }
      const later = backends.slice(i + 1);
      // The files stay reachable only while a later backend may still need them.
      keepSource = later.length > 0;
      return new TransformersSegmenter(id, processor, model, backend, later, {
        dtype,
        gpuDevice: opts.gpuDevice,
        activation: opts.activation,
        fallbackReason: failures.join('; ') || undefined,
      });
    }
    throw new AppError(
      'model-incompatible',
      backends.length === 0
        ? 'Background removal has no backend to run on in this browser; turn background removal off or use a cut-out PNG.'
        : `The background-removal model could not be loaded (${failures.join('; ')}); turn background removal off or use a cut-out PNG.`,
    );
  } finally {
    if (!keepSource) SOURCES.delete(id);
  }
}

// ------------------------------------------------------------------------------------------------

/** Model ids handed to transformers.js resolve under this path, which only `env.fetch` ever sees. */
const VIRTUAL_ROOT = '/cadlift-segmenter/';

type Source = SegmenterFiles | ((file: string, init?: RequestInit) => Promise<Response>);

const SOURCES = new Map<string, Source>();
let lastId = 0;
let configured = false;

/** Local files only, no second cache (the app's model cache has the bytes), model files via SOURCES. */
function configureTransformers(): void {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = VIRTUAL_ROOT;
  env.useFS = false;
  env.useFSCache = false;
  env.useBrowserCache = false;
  env.useCustomCache = false;
  // The WASM binary is the app's own asset; transformers.js would copy it into its own cache.
  env.useWasmCache = false;
  if (configured) return;
  configured = true;
  const next = env.fetch;
  env.fetch = (input: string | URL, init?: RequestInit): Promise<Response> => {
    const path = typeof input === 'string' ? input : input.href;
    if (!path.startsWith(VIRTUAL_ROOT)) return next(input, init);
    const rest = path.slice(VIRTUAL_ROOT.length);
    const slash = rest.indexOf('/');
    const source = SOURCES.get(rest.slice(0, slash));
    const file = rest.slice(slash + 1);
    if (!source) return Promise.resolve(new Response(null, { status: 404 }));
    if (!(source instanceof Map)) return source(file, init);
    const bytes = source.get(file);
    return Promise.resolve(
      bytes
        ? // The model cache's bytes live in plain ArrayBuffers.
          new Response(bytes as Uint8Array<ArrayBuffer>, {
            headers: { 'content-length': String(bytes.length) },
          })
        : new Response(null, { status: 404 }),
    );
  };
}

function folderSource(localPath: string, fetchFn: typeof fetch | undefined): Source {
  const base = new URL(
    localPath.endsWith('/') ? localPath : `${localPath}/`,
    globalThis.location?.href,
  );
  return (file, init) => (fetchFn ?? globalThis.fetch)(new URL(file, base), init);
}

function dtypeOf(files: SegmenterFiles | SegmenterFolder): 'fp32' | 'fp16' {
  return files instanceof Map && !files.has('onnx/model.onnx') && files.has('onnx/model_fp16.onnx')
    ? 'fp16'
    : 'fp32';
}

function hasWebGpu(): boolean {
  return typeof navigator !== 'undefined' && 'gpu' in navigator && !!navigator.gpu;
}

function backendName(backend: SegmenterBackend): string {
  return backend === 'webgpu' ? 'WebGPU' : 'WASM';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function loadStep<T>(load: () => Promise<T>, what: string): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (error instanceof AppError || isAbortError(error)) throw error;
    throw new AppError(
      'model-incompatible',
      `The background-removal model's files are incomplete (${what}: ${messageOf(error)}); delete the downloaded model in Model and storage and retry.`,
      { cause: error },
    );
  }
}

/** Builds the model's session on one backend; a session that failed to build is released and thrown. */
async function loadModel(
  id: string,
  backend: SegmenterBackend,
  dtype: 'fp32' | 'fp16',
  gpuDevice: GPUDevice | undefined,
): Promise<PreTrainedModel> {
  const provider =
    backend === 'wasm'
      ? 'wasm'
      : // The pipeline worker's device, so the segmenter and TripoSR share one GPUDevice.
        gpuDevice
        ? { name: 'webgpu', device: gpuDevice }
        : 'webgpu';
  const model = await AutoModel.from_pretrained(id, {
    // With the ORT hook transformers.js knows no devices; 'auto' leaves the providers to us.
    device: 'auto',
    dtype,
    session_options: { executionProviders: [provider] },
  } as Parameters<typeof AutoModel.from_pretrained>[1]);
  const session: unknown = model.sessions.model;
  if (!isGuarded(session)) {
    await model.dispose();
    throw new Error(
      'transformers.js was loaded before src/lib/transformers-ort.ts, so failed sessions would break it; import segmentation.ts first.',
    );
  }
  try {
    throwIfFailed(session);
  } catch (error) {
    await model.dispose();
    throw error;
  }
  return model;
}

interface SegmenterSettings {
  dtype: 'fp32' | 'fp16';
  gpuDevice: GPUDevice | undefined;
  activation: MaskActivation;
  fallbackReason: string | undefined;
}

class TransformersSegmenter implements Segmenter {
  readonly inputSize: { width: number; height: number };
  private chain: Promise<unknown> = Promise.resolve();
  private disposed = false;
  private ranOnce = false;

  constructor(
    private readonly id: string,
    private readonly processor: ImageProcessor,
    private model: PreTrainedModel | undefined,
    private current: SegmenterBackend,
    private readonly later: SegmenterBackend[],
    private readonly settings: SegmenterSettings,
  ) {
    const size = processor.size as { width?: unknown; height?: unknown } | undefined;
    // BiRefNet's processor resizes to a fixed {height, width}; others keep the image's size here.
    this.inputSize =
      typeof size?.width === 'number' && typeof size.height === 'number'
        ? { width: size.width, height: size.height }
        : { width: 0, height: 0 };
  }

  get backend(): SegmenterBackend {
    return this.current;
  }

  get fallbackReason(): string | undefined {
    return this.settings.fallbackReason;
  }

  segment(image: RgbaImage, signal?: AbortSignal): Promise<Uint8ClampedArray> {
    const job = this.chain.then(async () => {
      if (this.disposed) throw new Error('This segmenter has been disposed.');
      if (!this.model)
        throw new AppError(
          'model-incompatible',
          'Background removal failed to load; reload the page and retry.',
        );
      throwIfAborted(signal);
      const pixels = await this.inputFor(image);
      throwIfAborted(signal);
      let output: { data: Float32Array; width: number; height: number };
      for (;;) {
        try {
          output = await this.run(pixels);
          break;
        } catch (error) {
          if (isAbortError(error)) throw error;
          await this.fallBack(error);
        }
      }
      this.ranOnce = true;
      SOURCES.delete(this.id);
      throwIfAborted(signal);
      const { width, height, data } = output;
      return maskFromOutput(
        data,
        width,
        height,
        image.width,
        image.height,
        this.settings.activation,
      ).data;
    });
    this.chain = job.catch(() => undefined);
    return job;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    SOURCES.delete(this.id);
    await this.chain;
    const model = this.model;
    this.model = undefined;
    await model?.dispose();
  }

  /** The processor's normalised tensor, after our own resize to its fixed size (see alpha-mask.ts). */
  private async inputFor(image: RgbaImage): Promise<Tensor> {
    const { width, height } = this.inputSize;
    const raw =
      width > 0
        ? new RawImage(resizeRgb(image, width, height), width, height, 3)
        : new RawImage(new Uint8ClampedArray(image.data), image.width, image.height, 4);
    const { pixel_values } = (await this.processor(raw)) as { pixel_values: Tensor };
    return pixel_values;
  }

  private async run(
    pixels: Tensor,
  ): Promise<{ data: Float32Array; width: number; height: number }> {
    const model = this.model;
    if (!model)
      throw new AppError(
        'model-incompatible',
        'Background removal failed to load; reload the page and retry.',
      );
    const session = model.sessions.model as { inputNames: string[]; outputNames: string[] };
    const [input] = session.inputNames;
    const [outputName] = session.outputNames;
    if (session.inputNames.length !== 1 || !input || !outputName) {
      throw new AppError(
        'model-incompatible',
        'This background-removal model does not take one image and return a mask; choose a BiRefNet-style export.',
      );
    }
    const outputs = (await model({ [input]: pixels })) as Record<string, Tensor | undefined>;
    throwIfFailed(outputs);
    const mask = outputs[outputName];
    const dims = mask?.dims ?? [];
    const height = dims[dims.length - 2];
    const width = dims[dims.length - 1];
    if (
      !mask ||
      mask.type !== 'float32' ||
      width === undefined ||
      height === undefined ||
      mask.size !== width * height
    ) {
      throw new AppError(
        'model-incompatible',
        `This background-removal model returned ${mask?.type ?? 'no'} ${dims.join('×')} instead of one float mask; choose a BiRefNet-style export.`,
      );
    }
    return { data: mask.data as Float32Array, width, height };
  }

  /** After a failed run: the next backend, once, while nothing has run yet; else the error. */
  private async fallBack(error: unknown): Promise<void> {
    const next = this.later.shift();
    if (error instanceof AppError || this.ranOnce || !next || !SOURCES.has(this.id)) {
      if (error instanceof AppError) throw error;
      throw new AppError(
        'model-incompatible',
        `Background removal failed on ${backendName(this.current)} (${messageOf(error)}); turn background removal off or use a cut-out PNG.`,
        { cause: error },
      );
    }
    const reason = `${backendName(this.current)} failed on the first image: ${messageOf(error)}`;
    const failed = this.model;
    this.model = undefined;
    await failed?.dispose();
    try {
      this.model = await loadModel(this.id, next, this.settings.dtype, this.settings.gpuDevice);
    } catch (cause) {
      throw new AppError(
        'model-incompatible',
        `Background removal failed (${reason}; ${backendName(next)}: ${messageOf(cause)}); turn background removal off or use a cut-out PNG.`,
        { cause },
      );
    }
    this.current = next;
    this.settings.fallbackReason = [this.settings.fallbackReason, reason]
      .filter(Boolean)
      .join('; ');
  }
}
