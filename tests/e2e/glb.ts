import { readFileSync } from 'node:fs';
import { NodeIO } from '@gltf-transform/core';
import type { Download, Page } from '@playwright/test';
import { gltfValidator } from '../helpers/gltf-validator';

/** What a downloaded GLB holds, read by glTF-Transform after the Khronos validator passed it. */
export interface GlbSummary {
  errors: number;
  warnings: number;
  vertices: number;
  triangles: number;
  min: number[];
  max: number[];
  meanColour: number[];
}

/** Clicks Download GLB, validates the file with the Khronos validator and reads it back. */
export async function downloadGlb(page: Page): Promise<GlbSummary> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-glb').click()]);
  return readGlb(download);
}

/** Validates and reads a downloaded GLB. */
export async function readGlb(download: Download): Promise<GlbSummary> {
  const bytes = new Uint8Array(readFileSync(await download.path()));
  const report = await gltfValidator.validateBytes(bytes);
  const document = await new NodeIO().readBinary(bytes);
  const primitive = document.getRoot().listMeshes()[0]!.listPrimitives()[0]!;
  const position = primitive.getAttribute('POSITION')!;
  const colour = primitive.getAttribute('COLOR_0')!;
  const meanColour = [0, 0, 0];
  for (let i = 0; i < colour.getCount(); i++) {
    const c = colour.getElement(i, []);
    for (let k = 0; k < 3; k++) meanColour[k]! += c[k]! / colour.getCount();
  }
  return {
    errors: report.issues.numErrors,
    warnings: report.issues.numWarnings,
    vertices: position.getCount(),
    triangles: primitive.getIndices()!.getCount() / 3,
    min: position.getMin([]),
    max: position.getMax([]),
    meanColour,
  };
}
