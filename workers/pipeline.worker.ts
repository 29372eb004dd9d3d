import { expose } from 'comlink';
import { installErrorTransfer } from '../src/shared/comlink-errors';
import { createGpuBackend } from './gpu-backend';
import { createPipelineApi } from './pipeline-core';

// The GPU path: this worker owns the GPUDevice shared by the ORT session and the WGSL mesher.
installErrorTransfer();
const api = createPipelineApi(createGpuBackend());
export type PipelineWorkerApi = typeof api;
expose(api);
