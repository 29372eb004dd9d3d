/** GLB: Y up, metres (glTF's unit), linear vertex colours; the writer is src/lib/export-glb.ts. */
import { meshToGlb } from '../lib/export-glb';
import { METRES_PER_UNIT } from '../post/types';
import type { ResultMesh } from '../shared/mesh';
import { checkExportable } from './check';
import { scaled } from './frame';
import type { MeshExportOptions } from './options';
import type { ExportedFile } from './types';

/** Writes `mesh` (in `options.unit`) as a binary glTF in metres. */
export async function exportGlb(
  mesh: ResultMesh,
  options: Pick<MeshExportOptions, 'unit' | 'name'>,
): Promise<ExportedFile> {
  checkExportable(mesh, 'glb');
  const scale = METRES_PER_UNIT[options.unit];
  const inMetres = scale === 1 ? mesh : { ...mesh, positions: scaled(mesh.positions, scale) };
  const bytes = await meshToGlb(inMetres, { name: options.name || 'CADLift model' });
  return { bytes, mime: 'model/gltf-binary', extension: 'glb', warnings: [] };
}
