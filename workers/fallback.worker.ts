import { expose } from 'comlink';
import { installErrorTransfer } from '../src/shared/comlink-errors';
import { createCpuBackend } from './cpu-backend';
import { createPipelineApi } from './pipeline-core';

// The CPU path, in a fresh worker so ORT's WASM settings (threads) start clean. It imports nothing
// that needs WebGPU, so it loads in browsers and on pages that have none.
installErrorTransfer();
const api = createPipelineApi(createCpuBackend());
export type FallbackWorkerApi = typeof api;
expose(api);
