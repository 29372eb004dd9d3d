/** Download names: light, so the page can name a file without loading the exporters. */
import type { ExportFormat } from './types';

/** File extension of each format, without the dot. */
export const EXPORT_EXTENSIONS: Record<ExportFormat, string> = {
  glb: 'glb',
  obj: 'obj',
  stl: 'stl',
  ply: 'ply',
  '3mf': '3mf',
  usdz: 'usdz',
  step: 'step',
  dxf: 'dxf',
};

/**
 * A download name from the object, the processing and the format, safe on every file system:
 * `exportFileName('Coffee mug', 'printable 50k', 'stl')` gives `coffee-mug-printable-50k.stl`.
 */
export function exportFileName(object: string, processing: string, format: ExportFormat): string {
  const base = [slug(object) || 'model', slug(processing)].filter(Boolean).join('-');
  return `${base.slice(0, 80).replace(/-+$/, '')}.${EXPORT_EXTENSIONS[format]}`;
}

/** Lower-case ASCII letters and digits joined by single dashes (accents dropped, not the letters). */
function slug(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}
