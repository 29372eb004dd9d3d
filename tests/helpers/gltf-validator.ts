/// <reference types="node" />
import { createRequire } from 'node:module';

/** The part of gltf-validator's report the tests read (the package ships no types). */
export interface ValidationReport {
  issues: {
    numErrors: number;
    numWarnings: number;
    messages: { code: string; message: string; severity: number; pointer?: string }[];
  };
  info: { generator?: string; totalVertexCount: number; totalTriangleCount: number };
}

/** The Khronos glTF validator (npm gltf-validator), loaded through require as it is CommonJS. */
export const gltfValidator = createRequire(import.meta.url)('gltf-validator') as {
  validateBytes(data: Uint8Array): Promise<ValidationReport>;
};
