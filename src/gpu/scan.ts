import scanAddWgsl from './scan-add.wgsl?raw';
import scanBlocksWgsl from './scan-blocks.wgsl?raw';
import { SCAN_BLOCK } from './constants';
import { bindGroup, computePipeline, dispatchLinear, type GpuScope } from './gpu-kit';
import { packScanParams } from './wgsl-constants';

/**
 * Encodes an in-place exclusive prefix sum over `count` vec2<u32> elements (multi-level, SCAN_BLOCK
 * per block). Returns a buffer whose first vec2 is the total.
 */
export function encodeExclusiveScan(
  pass: GPUComputePassEncoder,
  scope: GpuScope,
  data: GPUBuffer,
  count: number,
  maxPerDim: number,
): GPUBuffer {
  const device = scope.device;
  const blocks = Math.max(1, Math.ceil(count / SCAN_BLOCK));
  const sums = scope.buffer(blocks * 8, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, 'scan sums');
  const params = scope.uniform(packScanParams({ count }), 'scan params');
  const scanBlocks = computePipeline(device, 'scan-blocks', scanBlocksWgsl);
  dispatchLinear(pass, scope, scanBlocks, [bindGroup(device, scanBlocks, { 0: params, 1: data, 2: sums })], blocks, maxPerDim);
  if (blocks === 1) return sums;
  const total = encodeExclusiveScan(pass, scope, sums, blocks, maxPerDim);
  const add = computePipeline(device, 'scan-add', scanAddWgsl);
  dispatchLinear(pass, scope, add, [bindGroup(device, add, { 0: params, 1: data, 2: sums })], blocks, maxPerDim);
  return total;
}
