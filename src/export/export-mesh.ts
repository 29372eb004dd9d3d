/** The download menu's entry point: one mesh, any format. */
import type { ResultMesh } from '../shared/mesh';
import { exportDxf } from './dxf';
import { exportGlb } from './glb';
import { exportObj } from './obj';
import { exportTexturedObj } from './obj-textured';
import { MESH_EXPORT_DEFAULTS, type MeshExportOptions } from './options';
import { exportPly } from './ply';
import { exportStep } from './step';
import { exportStl } from './stl';
import { export3mf } from './three-mf';
import { isTextured } from './texture-file';
import type { ExportedFile, ExportFormat, ExportOptions } from './types';
import { exportUsdz } from './usdz';

/**
 * Writes `mesh`, whose coordinates are in `options.unit` (glTF frame, Y up), as `format`. Throws
 * AppError 'no-surface' (no triangles), 'export-invalid-mesh' (NaN coordinates) or, for STEP,
 * 'export-too-large' (more faces than `stepMaxFaces`, default 20,000). A `TexturedMesh` (a bake's
 * result) comes out textured in GLB, USDZ and OBJ (then a zip of OBJ, MTL and PNG); the other
 * formats write its geometry and vertex colours.
 *
 * @example
 * const file = await exportMesh('stl', processed.mesh, { unit: 'mm', name: 'coffee' });
 * const blob = new Blob([file.bytes], { type: file.mime });
 */
export async function exportMesh(
  format: ExportFormat,
  mesh: ResultMesh,
  options: ExportOptions & Partial<MeshExportOptions>,
): Promise<ExportedFile> {
  const settings: MeshExportOptions = { ...MESH_EXPORT_DEFAULTS, ...options };
  switch (format) {
    case 'glb':
      return exportGlb(mesh, settings);
    case 'obj':
      return isTextured(mesh) ? exportTexturedObj(mesh, settings) : exportObj(mesh, settings);
    case 'stl':
      return exportStl(mesh, settings);
    case 'ply':
      return exportPly(mesh, settings);
    case '3mf':
      return export3mf(mesh, settings);
    case 'usdz':
      return exportUsdz(mesh, settings);
    case 'step':
      return exportStep(mesh, settings);
    case 'dxf':
      return exportDxf(mesh, settings);
    default:
      // A format name from outside TypeScript (a stored setting, a message) that is not one of ours.
      throw new Error(`exportMesh: unknown format ${String(format satisfies never)}.`);
  }
}

export { EXPORT_EXTENSIONS, exportFileName } from './file-name';
