/**
 * DXF for CAD tools: one 3DFACE per triangle (its fourth corner repeats the third, which is how
 * DXF writes a triangle), Z up on z = 0, in the chosen unit recorded in $INSUNITS. The file is
 * the minimal R12 layout (HEADER, ENTITIES, EOF) that every DXF reader accepts without handles.
 */
import type { Unit } from '../post/types';
import type { ResultMesh } from '../shared/mesh';
import { checkExportable } from './check';
import { zUpOnBed } from './frame';
import type { MeshExportOptions } from './options';
import { TextWriter } from './text-writer';
import type { ExportedFile } from './types';

/** $INSUNITS codes (AutoCAD DXF reference, HEADER section). */
export const DXF_INSUNITS: Record<Unit, number> = { in: 1, mm: 4, cm: 5, m: 6 };

/** Writes `mesh` (in `options.unit`) as DXF 3DFACE entities, Z up, on z = 0. */
export function exportDxf(
  mesh: ResultMesh,
  options: Pick<MeshExportOptions, 'unit' | 'name'>,
): ExportedFile {
  checkExportable(mesh, 'dxf');
  const p = zUpOnBed(mesh.positions);
  const min = [Infinity, Infinity, Infinity];
  const max = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < p.length; i++) {
    min[i % 3] = Math.min(min[i % 3]!, p[i]!);
    max[i % 3] = Math.max(max[i % 3]!, p[i]!);
  }
  const out = new TextWriter();
  const group = (code: number, value: string | number) => out.line(`${code}\n${value}`);
  const point = (code: number, xyz: number[]) => xyz.forEach((v, k) => group(code + k * 10, num(v)));

  group(0, 'SECTION');
  group(2, 'HEADER');
  group(9, '$ACADVER');
  group(1, 'AC1009');
  group(9, '$INSUNITS');
  group(70, DXF_INSUNITS[options.unit]);
  group(9, '$MEASUREMENT');
  group(70, options.unit === 'in' ? 0 : 1);
  group(9, '$EXTMIN');
  point(10, min);
  group(9, '$EXTMAX');
  point(10, max);
  group(0, 'ENDSEC');

  group(0, 'SECTION');
  group(2, 'ENTITIES');
  const ix = mesh.indices;
  // Each point's coordinates once, then one string per face: 500k faces in seconds, not tens.
  const coords: string[] = Array.from({ length: p.length }, (_, i) => num(p[i]!));
  for (let t = 0; t < ix.length; t += 3) {
    const [a, b, c] = [ix[t]! * 3, ix[t + 1]! * 3, ix[t + 2]! * 3];
    out.line(
      `0\n3DFACE\n8\nCADLift\n10\n${coords[a]}\n20\n${coords[a + 1]}\n30\n${coords[a + 2]}\n11\n${coords[b]}\n21\n${coords[b + 1]}\n31\n${coords[b + 2]}\n12\n${coords[c]}\n22\n${coords[c + 1]}\n32\n${coords[c + 2]}\n13\n${coords[c]}\n23\n${coords[c + 1]}\n33\n${coords[c + 2]}`,
    );
  }
  group(0, 'ENDSEC');
  group(0, 'EOF');
  return {
    bytes: out.bytes(),
    mime: 'image/vnd.dxf',
    extension: 'dxf',
    warnings: [],
  };
}

function num(value: number): string {
  return String(Number(value.toPrecision(9)) + 0);
}
