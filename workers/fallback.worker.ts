import { expose } from 'comlink';
import { installErrorTransfer } from '../src/shared/comlink-errors';
import { createPipelineApi } from './pipeline-core';

// The CPU path, in a fresh worker so ORT's WASM settings (threads) start clean: WASM EP + reference mesher.
installErrorTransfer();
const api = createPipelineApi('wasm');
export type FallbackWorkerApi = typeof api;
expose(api);
