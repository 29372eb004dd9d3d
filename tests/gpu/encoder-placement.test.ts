import * as ort from 'onnxruntime-web/webgpu';
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import ortMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { offProviderNodes, parsePlacements } from '../../src/lib/ort-placement';
import { writePlacementModel } from '../helpers/placement-models';
import { trackedDevice, type TrackedDevice } from './gpu-harness';
import { captureConsoleErrors } from './encoder-runner';

// The placement check itself, on onnxruntime-web's live log: it must pass a graph whose only CPU nodes
// are shape computation and fail one with a real op (Hardmax has no WebGPU kernel in 1.30) on the CPU.
describe('the node-placement check on onnxruntime-web 1.30', () => {
  let t: TrackedDevice;
  beforeAll(async () => {
    ort.env.wasm.wasmPaths = { wasm: ortWasmUrl, mjs: ortMjsUrl };
    ort.env.wasm.numThreads = 1;
    ort.env.logLevel = 'warning';
    t = await trackedDevice({ defaultLimits: true });
  });
  afterAll(() => t.device.destroy());

  async function placementOf(cpuOp: 'none' | 'Hardmax', level: 'disabled' | 'all') {
    const logId = `placement-${cpuOp}-${level}`;
    const log = captureConsoleErrors();
    try {
      const session = await ort.InferenceSession.create(writePlacementModel({ cpuOp }), {
        executionProviders: [{ name: 'webgpu', device: t.device } as never],
        graphOptimizationLevel: level,
        logSeverityLevel: 0,
        logId,
      });
      const { y } = await session.run({ x: new ort.Tensor('float32', Float32Array.from({ length: 16 }, (_, i) => i % 8), [2, 8]) });
      const out = Array.from(y!.data as Float32Array);
      await session.release();
      return { out, placement: parsePlacements(log.lines).find((p) => p.session === logId)! };
    } finally {
      log.stop();
    }
  }

  it('passes shape computation on the CPU', async () => {
    const { out, placement } = await placementOf('none', 'disabled');
    expect(out).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14].map((v) => v + 1));
    expect(placement.nodes.filter((n) => n.provider === 'CPUExecutionProvider').map((n) => n.op)).toEqual(['Gather', 'Unsqueeze', 'Concat']);
    expect(offProviderNodes(placement)).toEqual([]);
  });

  it('fails a real op on the CPU, with or without graph optimisation', async () => {
    for (const level of ['disabled', 'all'] as const) {
      const { out, placement } = await placementOf('Hardmax', level);
      expect(out).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1].map((v) => v + 1));
      expect(offProviderNodes(placement)).toEqual([{ op: 'Hardmax', name: 'hard', provider: 'CPUExecutionProvider' }]);
    }
  });
});
