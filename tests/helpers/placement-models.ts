import { encodeModel, floatTensor, int64Tensor, onnxNode, valueInfo } from '../../scripts/lib/onnx-writer';

/** Options for `writePlacementModel`. */
export interface PlacementModelOptions {
  /** An op with no WebGPU kernel in onnxruntime-web 1.30, put on the data path (so it is a real op on the CPU). */
  cpuOp?: 'Hardmax' | 'none';
}

/**
 * Writes x [B,8] → y [B,8]: a Mul and Add on the data path, a Reshape whose target shape is computed
 * from Shape/Gather/Unsqueeze/Concat (the subgraph onnxruntime places on the CPU by design), and
 * optionally `cpuOp` between them.
 */
export function writePlacementModel(opts: PlacementModelOptions = {}): Uint8Array {
  const nodes = [
    onnxNode('Mul', ['x', 'two'], ['doubled']),
    onnxNode('Shape', ['doubled'], ['shape']),
    onnxNode('Gather', ['shape', 'zero'], ['batch'], { axis: 0 }),
    onnxNode('Unsqueeze', ['batch', 'axes0'], ['batch1']),
    onnxNode('Concat', ['batch1', 'minus1'], ['target'], { axis: 0 }),
    onnxNode('Reshape', ['doubled', 'target'], ['flat']),
  ];
  let last = 'flat';
  if (opts.cpuOp === 'Hardmax') {
    nodes.push(onnxNode('Hardmax', [last], ['hard'], { axis: 1 }));
    last = 'hard';
  }
  nodes.push(onnxNode('Add', [last, 'one'], ['y']));
  return encodeModel({
    name: 'placement',
    nodes,
    initializers: [
      floatTensor('two', [], new Float32Array([2])),
      floatTensor('one', [], new Float32Array([1])),
      int64Tensor('zero', [], [0]),
      int64Tensor('axes0', [1], [0]),
      int64Tensor('minus1', [1], [-1]),
    ],
    inputs: [valueInfo('x', ['B', 8])],
    outputs: [valueInfo('y', ['B', 8])],
  });
}
