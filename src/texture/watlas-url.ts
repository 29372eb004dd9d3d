/** The URL of watlas's WASM as the app serves it (a separate module so Node code never imports `?url`). */
import wasmUrl from 'watlas/dist/watlas.wasm?url';

export const WATLAS_WASM_URL: string = wasmUrl;
