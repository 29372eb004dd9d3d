/** The contract of the exporters (src/export/): every format the download menu offers. */
import type { Unit } from '../post/types';

/** Download formats, in menu order. */
export const EXPORT_FORMATS = ['glb', 'obj', 'stl', 'ply', '3mf', 'usdz', 'step', 'dxf'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Options every exporter takes. */
export interface ExportOptions {
  /**
   * The unit the mesh's coordinates are in (the processing's chosen unit; an unprocessed mesh is in
   * metres). Formats with a unit field record it; 3MF converts to millimetres.
   */
  unit: Unit;
  /** Object name written into the file where the format has one. */
  name: string;
}

/** One exported file. */
export interface ExportedFile {
  bytes: Uint8Array;
  mime: string;
  /** File extension without the dot ('stl', 'zip', ...). */
  extension: string;
  /** Notes for the user (e.g. "STEP decimated to 20,000 faces"). */
  warnings: string[];
}
