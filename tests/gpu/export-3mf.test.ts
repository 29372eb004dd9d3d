/**
 * 3MF read back by three.js's 3MFLoader, which parses XML with DOMParser: hence the browser. Also
 * proves every exporter runs in a module Worker, where the app runs them and there is no DOM.
 */
import { BufferGeometry, Group, Mesh } from 'three';
import { ThreeMFLoader } from 'three/examples/jsm/loaders/3MFLoader.js';
import { describe, expect, it } from 'vitest';
import { exportMesh } from '../../src/export/export-mesh';
import { EXPORT_FORMATS } from '../../src/export/types';
import { srgbToLinear } from '../../src/lib/colour';
import { bounds, colouredCube, icosphere, sideColour, zUpBounds } from '../helpers/export-fixtures';

function read(bytes: Uint8Array): BufferGeometry[] {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const group: Group = new ThreeMFLoader().parse(buffer);
  const geometries: BufferGeometry[] = [];
  group.traverse((object) => {
    if ((object as Mesh).isMesh) geometries.push((object as Mesh).geometry);
  });
  return geometries;
}

describe('3MF read back by ThreeMFLoader', () => {
  it('gives the cube in millimetres, Z up on z = 0, with its side colours', async () => {
    const mesh = colouredCube();
    const file = await exportMesh('3mf', mesh, { unit: 'cm', name: 'cube' });
    const geometries = read(file.bytes);
    expect(geometries.length).toBe(1);
    const geometry = geometries[0]!;
    const position = geometry.getAttribute('position');
    expect(position.count).toBe(36); // the loader unrolls coloured triangles
    const expected = zUpBounds(mesh, 10);
    const actual = bounds(position.array);
    actual.min.forEach((v, k) => expect(v).toBeCloseTo(expected.min[k]!, 4));
    actual.max.forEach((v, k) => expect(v).toBeCloseTo(expected.max[k]!, 4));
    // Triangles 0 and 1 are the +X side, 2 and 3 the −X side, and so on: corners keep their colour.
    const colour = geometry.getAttribute('color');
    for (let corner = 0; corner < 36; corner++) {
      const triangle = Math.floor(corner / 3);
      const side = Math.floor(triangle / 2);
      const want = sideColour(Math.floor(side / 2), side % 2 === 0 ? 1 : -1).map(srgbToLinear);
      for (let k = 0; k < 3; k++) expect(colour.getComponent(corner, k)).toBeCloseTo(want[k]!, 5);
    }
  });

  it('gives every triangle of a sphere and the open box', async () => {
    const sphere = icosphere(3, 20, [0, 20, 0]);
    const geometry = read((await exportMesh('3mf', sphere, { unit: 'mm', name: 'ball' })).bytes)[0]!;
    expect(geometry.getAttribute('position').count).toBe(1280 * 3);
    const { min, max } = bounds(geometry.getAttribute('position').array);
    expect(min[2]).toBeCloseTo(0, 4);
    expect(max[2]).toBeCloseTo(40, 3);
    const box = read((await exportMesh('3mf', colouredCube(true), { unit: 'mm', name: 'box' })).bytes);
    expect(box[0]!.getAttribute('position').count).toBe(30);
  });
});

describe('exporters in a Web Worker', () => {
  it('write every format without a DOM', async () => {
    const worker = new Worker(new URL('./export-worker.ts', import.meta.url), { type: 'module' });
    try {
      const reply = await new Promise<{ sizes?: Record<string, number>; hasDocument?: boolean; error?: string }>(
        (resolve, reject) => {
          worker.onmessage = (event) => resolve(event.data);
          worker.onerror = (event) => reject(new Error(event.message));
          worker.postMessage('go');
        },
      );
      expect(reply.error).toBeUndefined();
      expect(reply.hasDocument).toBe(false);
      expect(Object.keys(reply.sizes!)).toEqual([...EXPORT_FORMATS]);
      for (const size of Object.values(reply.sizes!)) expect(size).toBeGreaterThan(1000);
    } finally {
      worker.terminate();
    }
  });
});
