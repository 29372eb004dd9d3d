import { expose } from 'comlink';
import { installErrorTransfer } from '../src/shared/comlink-errors';
import { createPipelineApi } from './pipeline-core';

// The GPU path: this worker owns the GPUDevice shared by the ORT session and the WGSL mesher.
installErrorTransfer();
const api = createPipelineApi('webgpu');
export type PipelineWorkerApi = typeof api;
expose(api);
