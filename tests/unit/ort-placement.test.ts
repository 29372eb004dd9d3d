import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { offProviderNodes, parsePlacements, SHAPE_OPS } from '../../src/lib/ort-placement';

// Captured from onnxruntime-web 1.30 in Chromium (console.error of a session created with
// logSeverityLevel 0 and a logId per session): tests/helpers/placement-models.ts with and without a
// Hardmax (no WebGPU kernel), optimisation 'disabled' and 'all', and the committed test-matmul encoder.
const LOG = readFileSync(new URL('../fixtures/ort-logs/placement-webgpu-1.30.log', import.meta.url), 'utf8');

describe('the onnxruntime node-placement log', () => {
  const sessions = parsePlacements(LOG);
  const byId = Object.fromEntries(sessions.map((s) => [s.session, s]));

  it('yields one placement per session, in log order', () => {
    expect(sessions.map((s) => s.session)).toEqual(['placement-none-disabled', 'placement-Hardmax-disabled', 'placement-Hardmax-all', 'test-matmul']);
  });

  it('maps every listed node to its provider, with the counts the log states', () => {
    const s = byId['placement-none-disabled']!;
    expect(s.counts).toEqual({ CPUExecutionProvider: 3, WebGpuExecutionProvider: 4 });
    expect(s.nodes).toEqual([
      { op: 'Gather', name: 'batch', provider: 'CPUExecutionProvider' },
      { op: 'Unsqueeze', name: 'batch1', provider: 'CPUExecutionProvider' },
      { op: 'Concat', name: 'target', provider: 'CPUExecutionProvider' },
      { op: 'Mul', name: 'doubled', provider: 'WebGpuExecutionProvider' },
      { op: 'Shape', name: 'shape', provider: 'WebGpuExecutionProvider' },
      { op: 'Reshape', name: 'flat', provider: 'WebGpuExecutionProvider' },
      { op: 'Add', name: 'y', provider: 'WebGpuExecutionProvider' },
    ]);
    expect(byId['test-matmul']).toEqual({ session: 'test-matmul', counts: { WebGpuExecutionProvider: 68 }, nodes: [] });
  });

  it('lets shape computation sit on the CPU and nothing else', () => {
    expect(offProviderNodes(byId['placement-none-disabled']!)).toEqual([]);
    expect(offProviderNodes(byId['test-matmul']!)).toEqual([]);
    expect(offProviderNodes(byId['placement-Hardmax-disabled']!)).toEqual([{ op: 'Hardmax', name: 'hard', provider: 'CPUExecutionProvider' }]);
    expect(offProviderNodes(byId['placement-Hardmax-all']!)).toEqual([{ op: 'Hardmax', name: 'hard', provider: 'CPUExecutionProvider' }]);
  });

  it('fails a session whose nodes all went to another provider, and honours a wider allow-list', () => {
    const wasm = { session: 'x', counts: { CPUExecutionProvider: 5 }, nodes: [] };
    expect(offProviderNodes(wasm)).toEqual([{ op: '*', name: '5 nodes', provider: 'CPUExecutionProvider' }]);
    expect(offProviderNodes(wasm, { provider: 'CPUExecutionProvider' })).toEqual([]);
    expect(offProviderNodes(byId['placement-Hardmax-all']!, { allowedOnCpu: new Set([...SHAPE_OPS, 'Hardmax']) })).toEqual([]);
    expect(() => offProviderNodes({ session: 'y', counts: {}, nodes: [] })).toThrow(/placed no nodes/);
  });

  it('refuses a block cut short, and ignores other loggers and noise', () => {
    const lines = LOG.split('\n');
    const cut = lines.filter((l) => !l.includes('Hardmax (hard)'));
    expect(() => parsePlacements(cut)).toThrow(/"placement-Hardmax-disabled" lists 9 nodes but states 10/);
    expect(parsePlacements(['[error] hello', 'Node placements', '[V:onnxruntime:Default, foo.cc:1 Other] Node placements'])).toEqual([]);
  });
});
