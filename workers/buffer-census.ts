/** Live GPU buffers of one device, counted in test builds to prove that jobs leak nothing. */
export interface BufferCensus {
  live: Set<GPUBuffer>;
  /** Buffers created while the mesher ran; none may outlive the job. */
  mesher: Set<GPUBuffer>;
  inMesher: boolean;
}

/** Wraps `device.createBuffer` so every buffer is counted until it is destroyed. */
export function takeCensus(device: GPUDevice): BufferCensus {
  const census: BufferCensus = { live: new Set(), mesher: new Set(), inMesher: false };
  const create = device.createBuffer.bind(device);
  device.createBuffer = (descriptor: GPUBufferDescriptor): GPUBuffer => {
    const buffer = create(descriptor);
    census.live.add(buffer);
    if (census.inMesher) census.mesher.add(buffer);
    const destroy = buffer.destroy.bind(buffer);
    buffer.destroy = () => {
      census.live.delete(buffer);
      census.mesher.delete(buffer);
      destroy();
    };
    return buffer;
  };
  return census;
}
