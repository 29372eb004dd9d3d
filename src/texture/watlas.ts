/** Loads watlas (xatlas compiled to WASM) once per worker, in a browser worker under Vite or in Node. */
import * as watlasModule from 'watlas';

/** The embind mesh watlas returns after packing (xatlas::Mesh). */
export interface WatlasMesh {
  getChart(index: number): { getFaceArray(out: Uint32Array): boolean; readonly faceCount: number; readonly atlasIndex: number };
  getIndexArray(out: Uint32Array): boolean;
  getVertex(index: number): { atlasIndex: number; chartIndex: number; uv: [number, number]; xref: number };
  readonly chartCount: number;
  readonly indexCount: number;
  readonly vertexCount: number;
}

/** The embind atlas (xatlas::Atlas); addMesh returns xatlas's AddMeshError code (0 = success). */
export interface WatlasAtlas {
  addMesh(decl: { vertexPositionData: Float32Array; vertexCount: number; vertexPositionStride: number; vertexNormalData?: Float32Array; vertexNormalStride?: number; indexData: Uint32Array; indexCount: number }): number;
  computeCharts(options: watlasModule.ChartOptions): void;
  packCharts(options: watlasModule.PackOptions): void;
  getMesh(index: number): WatlasMesh;
  delete(): void;
  readonly width: number;
  readonly height: number;
  readonly atlasCount: number;
  readonly chartCount: number;
  readonly texelsPerUnit: number;
}

export interface WatlasRuntime {
  Atlas: new () => WatlasAtlas;
}

type Factory = (moduleArg: Record<string, never>) => Promise<WatlasRuntime>;

let runtime: Promise<WatlasRuntime> | null = null;

/**
 * The WASM runtime, from the package's Emscripten factory (its default export), which also gives the
 * embind classes directly. The factory finds watlas.wasm with `new URL('watlas.wasm', import.meta.url)`
 * (its build accepts no `locateFile`), which Vite rewrites to the emitted asset and Node reads from
 * node_modules.
 */
export function loadWatlas(): Promise<WatlasRuntime> {
  const factory = (watlasModule as unknown as { default: Factory }).default;
  runtime ??= factory({}).catch((error: unknown) => {
    runtime = null;
    throw error;
  });
  return runtime;
}
