import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as C from '../../src/gpu/constants';
import { CASE_COUNTS_OFFSET, CUBE_CORNERS, EDGE_CORNER_AXIS, packCaseTable } from '../../src/gpu/mc-tables';
import { packScanParams, wgslConstants } from '../../src/gpu/wgsl-constants';

const GPU_DIR = join(import.meta.dirname, '../../src/gpu');
const wgslFiles = readdirSync(GPU_DIR).filter((f) => f.endsWith('.wgsl'));

/** The scalar `const NAME: type = value;` declarations of the generated header. */
function scalars(header: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of header.matchAll(/^const (\w+): (f32|u32|i32) = ([\d.]+)u?;$/gm)) out.set(m[1]!, Number(m[3]));
  return out;
}

/** The integer vectors of a generated `const NAME = array<...>(...)` table. */
function table(header: string, name: string): number[][] {
  const line = header.split('\n').find((l) => l.startsWith(`const ${name} =`));
  if (!line) throw new Error(`${name} is not declared`);
  return [...line.slice(line.indexOf('>(') + 2).matchAll(/vec[34]<i32>\(([^)]*)\)/g)].map((m) => m[1]!.split(', ').map(Number));
}

describe('WGSL constants generated from TypeScript', () => {
  const header = wgslConstants();

  it('declares every shared scalar with its TypeScript value', () => {
    expect(Object.fromEntries(scalars(header))).toEqual({
      TRIPLANE_RADIUS: C.TRIPLANE_RADIUS,
      MAX_DENSITY_LOGIT: C.MAX_DENSITY_LOGIT,
      TRIPLANE_PLANES: C.TRIPLANE_PLANES,
      TRIPLANE_CHANNELS: C.TRIPLANE_CHANNELS,
      TRIPLANE_SIZE: C.TRIPLANE_SIZE,
      DECODER_FEATURES: C.DECODER_FEATURES,
      DECODER_HIDDEN: C.DECODER_HIDDEN,
      DECODE_TILE: C.DECODE_TILE,
      NEXT_SLAB_FLAG: C.NEXT_SLAB_FLAG,
      SCAN_BLOCK: C.SCAN_BLOCK,
      MC_COUNTS_OFFSET: CASE_COUNTS_OFFSET,
    });
    // Float literals carry a decimal point, so WGSL does not read them as abstract integers.
    expect(header).toContain('const MAX_DENSITY_LOGIT: f32 = 80.0;');
    expect(header).toContain('const TRIPLANE_RADIUS: f32 = 0.87;');
  });

  it('emits the marching-cubes corner and edge tables of mc-tables.ts', () => {
    expect(table(header, 'MC_CORNERS')).toEqual(CUBE_CORNERS.map((c) => [...c]));
    expect(table(header, 'MC_EDGES')).toEqual(EDGE_CORNER_AXIS.map((e) => [...e]));
    // The counts really start at the offset the kernels read from.
    expect(packCaseTable()[CASE_COUNTS_OFFSET + 1]).toBe(1);
    expect(packCaseTable()).toHaveLength(CASE_COUNTS_OFFSET + 256);
  });

  it('declares ScanParams with the layout packScanParams writes', () => {
    expect(header).toMatch(/struct ScanParams \{\n {2}count: u32,\n {2}_pad0: u32,\n {2}_pad1: u32,\n {2}_pad2: u32,\n\}/);
    expect([...packScanParams({ count: 1234 })]).toEqual([1234, 0, 0, 0]);
  });

  it('leaves no duplicate of a shared constant in any .wgsl file', () => {
    expect(wgslFiles.length).toBeGreaterThan(10);
    const duplicates: Record<string, RegExp> = {
      radius: /0\.87/,
      'logit clamp': /\b80\.0\b/,
      'next-slab flag': /0x80000000|2147483648/,
      'scan block': /\b(512|256)u?\b/,
      'scan struct': /struct ScanParams/,
      'corner table': /array<vec3<i32>, ?8>\s*\(/,
      'edge table': /array<vec4<i32>, ?12>\s*\(/,
      'triplane size': /const S: i32 = 64/,
      'triplane channels': /\b40u\b/,
      'decoder features': /\b(120|60)u\b/,
    };
    const found: string[] = [];
    for (const file of wgslFiles) {
      const code = readFileSync(join(GPU_DIR, file), 'utf8').replace(/\/\/.*$/gm, '');
      for (const [what, pattern] of Object.entries(duplicates)) if (pattern.test(code)) found.push(`${file}: ${what}`);
    }
    expect(found).toEqual([]);
  });
});
