/** Runs every exporter inside a module Worker (no DOM) and posts back sizes or the error. */
import { exportMesh } from '../../src/export/export-mesh';
import { EXPORT_FORMATS } from '../../src/export/types';
import { icosphere } from '../helpers/export-fixtures';

self.onmessage = async () => {
  try {
    const sizes: Record<string, number> = {};
    const hasDocument = typeof (self as unknown as { document?: unknown }).document !== 'undefined';
    for (const format of EXPORT_FORMATS) {
      const file = await exportMesh(format, icosphere(2, 10), { unit: 'mm', name: 'ball' });
      sizes[format] = file.bytes.length;
    }
    self.postMessage({ sizes, hasDocument });
  } catch (error) {
    self.postMessage({ error: String(error) });
  }
};
