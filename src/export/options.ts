/** Options of the exporters beyond the shared contract (src/export/types.ts). */
import type { ExportOptions } from './types';

/** What every exporter takes: the contract's unit and name, plus format-specific settings. */
export interface MeshExportOptions extends ExportOptions {
  /**
   * Whether the mesh is closed (watertight), when processing already knows it. Without it, 3MF and
   * STEP weld by position and count open edges themselves.
   */
  closed?: boolean;
  /**
   * The most faces a STEP file may have. Above it STEP export refuses with AppError
   * 'export-too-large'; raising it past `STEP_SAFE_FACES` writes the file with a warning. OpenCascade
   * read 19,320 faces in 19 s and returned nothing for 39,600, so the worker decimates to this first.
   */
  stepMaxFaces: number;
}

/** Faces OpenCascade (occt-import-js) reliably opens; the default `stepMaxFaces`. */
export const STEP_SAFE_FACES = 20_000;

/** Defaults for the optional settings. */
export const MESH_EXPORT_DEFAULTS: Omit<MeshExportOptions, 'unit' | 'name'> = {
  stepMaxFaces: STEP_SAFE_FACES,
};

/** A name made safe for a one-line ASCII text field (OBJ, PLY, STL header, STEP, DXF). */
export function asciiName(name: string, fallback = 'CADLift model'): string {
  const clean = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/g, '')
    .trim();
  return clean || fallback;
}
