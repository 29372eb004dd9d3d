/// <reference types="node" />
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Writes generated fixtures (relative path → bytes) under `root`, and lists them. */
export function writeFixtures(root: string, files: Map<string, Uint8Array>): void {
  let total = 0;
  for (const [path, bytes] of files) {
    const target = join(root, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, bytes);
    total += bytes.length;
    console.log(`${path}  ${bytes.length} bytes`);
  }
  console.log(`${total} bytes in ${root}`);
}
