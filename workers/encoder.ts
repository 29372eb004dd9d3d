import * as ort from 'onnxruntime-web/webgpu';
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import ortMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import { AppError, throwIfAborted } from '../src/lib/errors';
import type { ModelContract } from '../src/shared/manifest';
import type { Backend } from '../src/shared/pipeline';

// One onnxruntime-web build (the native WebGPU EP, which also has the WASM EP), served by the app
// itself: no CDN is ever contacted.
ort.env.wasm.wasmPaths = { wasm: ortWasmUrl, mjs: ortMjsUrl };
// Threads need cross-origin isolation; the count is fixed once per worker, so decide it here.
ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency - 1)) : 1;

/** The model's encoder bytes and its external data, as the model cache returns them. */
export interface EncoderFiles {
  encoder: Uint8Array;
  externalData: { path: string; data: Uint8Array }[];
}

function sameShape(actual: ReadonlyArray<number | string>, expected: number[]): boolean {
  // Symbolic dimensions (strings) are accepted; fixed ones must match.
  return actual.length === expected.length && actual.every((d, i) => typeof d === 'string' || d === expected[i]);
}

/**
 * The TripoSR encoder (image → triplane) in one onnxruntime-web session. Tensor names come from the
 * session; calls are serialised on one chain because ORT sessions are not re-entrant.
 */
export class EncoderSession {
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly backend: Backend,
    readonly inputName: string,
    readonly outputName: string,
  ) {}

  /** Creates the session on WebGPU with `device` (outputs stay on that device) or on WASM. */
  static async create(files: EncoderFiles, contract: ModelContract, backend: Backend, device?: GPUDevice): Promise<EncoderSession> {
    const options: ort.InferenceSession.SessionOptions = {
      externalData: files.externalData.map(({ path, data }) => ({ path, data })),
      graphOptimizationLevel: 'all',
      executionProviders: backend === 'webgpu' ? [{ name: 'webgpu', device }] : ['wasm'],
      ...(backend === 'webgpu' ? { preferredOutputLocation: 'gpu-buffer' as const } : {}),
    };
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(files.encoder, options);
    } catch (cause) {
      // On WebGPU this moves the job to the CPU path; on WASM the model itself is at fault.
      throw new AppError(
        backend === 'webgpu' ? 'gpu-session-failed' : 'model-incompatible',
        `The model could not be loaded on ${backend === 'webgpu' ? 'WebGPU' : 'the CPU'}: ${(cause as Error).message}`,
        { cause },
      );
    }
    const [input] = session.inputMetadata;
    const [output] = session.outputMetadata;
    if (!input || !output || session.inputNames.length !== 1) {
      await session.release();
      throw new AppError('model-incompatible', 'This model does not have one image input and a triplane output; choose a TripoSR encoder.');
    }
    if ((input.isTensor && !sameShape(input.shape, contract.image)) || (output.isTensor && !sameShape(output.shape, contract.triplane))) {
      await session.release();
      throw new AppError(
        'model-incompatible',
        `This model's tensors do not match TripoSR (image ${contract.image.join('×')} → triplane ${contract.triplane.join('×')}); choose a TripoSR export.`,
      );
    }
    return new EncoderSession(session, backend, input.name, output.name);
  }

  /** Runs the encoder on a CHW 512² image; the caller owns (and must dispose) the returned tensor. */
  run(image: Float32Array, contract: ModelContract, signal?: AbortSignal): Promise<ort.Tensor> {
    const job = this.chain.then(async () => {
      throwIfAborted(signal);
      const feeds = { [this.inputName]: new ort.Tensor('float32', image, contract.image) };
      const outputs = await this.session.run(feeds);
      const triplane = outputs[this.outputName];
      if (!triplane) throw new AppError('model-incompatible', `The encoder produced no "${this.outputName}" output.`);
      if (signal?.aborted) {
        triplane.dispose();
        throwIfAborted(signal);
      }
      return triplane;
    });
    this.chain = job.catch(() => undefined);
    return job;
  }

  /** Frees the session (and its GPU buffers). */
  async release(): Promise<void> {
    await this.chain;
    await this.session.release();
  }
}
