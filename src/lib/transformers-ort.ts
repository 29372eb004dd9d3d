/**
 * Hands transformers.js the app's own onnxruntime-web (`onnxruntime-web/webgpu`, the build and WASM
 * files workers/encoder.ts uses) through the `Symbol.for('onnxruntime')` hook, which transformers.js
 * reads once, when its module is first evaluated. Import this module before '@huggingface/transformers'
 * (src/lib/segmentation.ts does, and checks that it worked).
 *
 * The hook is there for one reason: transformers.js 4.3.1 serialises every session creation and every
 * run in the browser on module-level promise chains that never catch, so after one failed creation
 * (WebGPU refusing the model) or one failed run (a lost device) every later creation or run of any
 * model rejects with that same error, and the WASM fallback could never load
 * (huggingface/transformers.js#1767 describes the Node variant). Sessions made here never reject:
 * a failure comes back as a marked placeholder session, or a marked output object, which
 * segmentation.ts turns back into the error.
 *
 * With the hook, transformers.js lists no supported devices: pass `device: 'auto'` (which then adds no
 * execution providers of its own) and the providers in `session_options.executionProviders`.
 */
import * as ort from 'onnxruntime-web/webgpu';
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import ortMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';

/** Key of the error on a placeholder session or on the outputs of a failed run. */
export const ORT_FAILURE = Symbol('cadlift.ort-failure');
/** Present on every session created through the hook. */
export const ORT_GUARDED = Symbol('cadlift.ort-guarded');

/** A session or a run result that may carry a failure. */
export type Guarded = { [ORT_FAILURE]?: unknown; [ORT_GUARDED]?: true };

// Set before transformers.js evaluates, so it never points ORT at its jsDelivr default.
ort.env.wasm.wasmPaths = { wasm: ortWasmUrl, mjs: ortMjsUrl };

function guarded(session: ort.InferenceSession): ort.InferenceSession {
  return new Proxy(session, {
    get(target, key) {
      if (key === ORT_GUARDED) return true;
      if (key === 'run') {
        return (...args: Parameters<ort.InferenceSession['run']>) =>
          target.run(...args).catch((error: unknown) => ({ [ORT_FAILURE]: error }));
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function placeholder(error: unknown): Guarded & Record<string, unknown> {
  return {
    [ORT_FAILURE]: error,
    [ORT_GUARDED]: true,
    inputNames: [],
    outputNames: [],
    inputMetadata: [],
    outputMetadata: [],
    run: () => Promise.resolve({ [ORT_FAILURE]: error }),
    release: () => Promise.resolve(),
  };
}

const create = ort.InferenceSession.create.bind(ort.InferenceSession) as (
  ...args: unknown[]
) => Promise<ort.InferenceSession>;

(globalThis as Record<symbol, unknown>)[Symbol.for('onnxruntime')] = {
  ...ort,
  InferenceSession: {
    create: (...args: unknown[]) => create(...args).then(guarded, placeholder),
  },
};

/** Throws the error a guarded session or run result carries; an unguarded session is a wiring bug. */
export function throwIfFailed(value: unknown): void {
  const marked = value as Guarded | undefined;
  if (marked && ORT_FAILURE in marked) throw marked[ORT_FAILURE];
}

/** True when `session` came through the hook (transformers.js was imported after this module). */
export function isGuarded(session: unknown): boolean {
  return !!session && (session as Guarded)[ORT_GUARDED] === true;
}
