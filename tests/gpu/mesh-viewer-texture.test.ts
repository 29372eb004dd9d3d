import { afterEach, describe, expect, it } from 'vitest';
import type { TexturedMesh } from '../../src/texture/types';
import { MeshViewer } from '../../src/viewer/mesh-viewer';

const SIZE = 200;

/**
 * A UV sphere with red vertex colours and a 64 × 64 texture: green on its top half of rows (v < 0.5,
 * the upper hemisphere in glTF's v-down UVs), blue on the bottom half.
 */
function texturedSphere(): TexturedMesh {
  const rings = 24;
  const segments = 48;
  const positions: number[] = [];
  const normals: number[] = [];
  const colours: number[] = [];
  const uvs: number[] = [];
  const indices: number[] = [];
  for (let i = 0; i <= rings; i++) {
    const theta = (i / rings) * Math.PI;
    for (let j = 0; j <= segments; j++) {
      const phi = (j / segments) * 2 * Math.PI;
      const s = Math.sin(theta);
      const n = [s * Math.cos(phi), Math.cos(theta), -s * Math.sin(phi)];
      normals.push(...n);
      positions.push(...n.map((v) => 0.5 * v));
      colours.push(0.9, 0.1, 0.1);
      uvs.push(j / segments, i / rings);
    }
  }
  for (let i = 0; i < rings; i++) {
    for (let j = 0; j < segments; j++) {
      const a = i * (segments + 1) + j;
      const b = a + segments + 1;
      indices.push(a, b, a + 1, b, b + 1, a + 1);
    }
  }
  const width = 64;
  const height = 64;
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      rgba.set(y < height / 2 ? [20, 200, 40, 255] : [30, 60, 230, 255], (y * width + x) * 4);
    }
  }
  return {
    positions: new Float32Array(positions),
    normals: new Float32Array(normals),
    colours: new Float32Array(colours),
    indices: new Uint32Array(indices),
    uvs: new Float32Array(uvs),
    texture: { width, height, rgba },
  };
}

/** Fractions of red, green and blue pixels in the top and bottom halves of a fresh frame. */
function hues(viewer: MeshViewer, canvas: HTMLCanvasElement) {
  viewer.render(); // read in the same task: the drawing buffer is not preserved
  const gl = canvas.getContext('webgl2')!;
  const { drawingBufferWidth: w, drawingBufferHeight: h } = gl;
  const data = new Uint8Array(w * h * 4);
  gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, data);
  const counts = { top: { red: 0, green: 0, blue: 0 }, bottom: { red: 0, green: 0, blue: 0 } };
  for (let y = 0; y < h; y++) {
    // readPixels starts at the bottom row.
    const half = y >= h / 2 ? counts.top : counts.bottom;
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      const [r, g, b] = [data[i]!, data[i + 1]!, data[i + 2]!];
      if (r > g + 60 && r > b + 60) half.red++;
      if (g > r + 60 && g > b + 40) half.green++;
      if (b > r + 60 && b > g + 60) half.blue++;
    }
  }
  const total = (w * h) / 2;
  for (const half of [counts.top, counts.bottom]) for (const key of ['red', 'green', 'blue'] as const) half[key] /= total;
  return counts;
}

describe('MeshViewer with a baked texture (WebGL)', () => {
  let canvas: HTMLCanvasElement;
  let viewer: MeshViewer | undefined;

  afterEach(() => {
    viewer?.dispose();
    viewer = undefined;
    canvas?.remove();
  });

  it('draws the texture the right way up, toggles to the vertex colours, and frees the texture', () => {
    canvas = document.createElement('canvas');
    canvas.style.cssText = `display:block;width:${SIZE}px;height:${SIZE}px`;
    document.body.append(canvas);
    viewer = new MeshViewer(canvas);
    viewer.resize(SIZE, SIZE);
    // The same mesh without its texture: what the scene holds besides it (the shadow map).
    const { uvs: _uvs, texture: _texture, ...plain } = texturedSphere();
    viewer.setMesh(plain);
    viewer.render();
    const baseline = viewer.info.textures;

    viewer.setMesh(texturedSphere());
    const textured = hues(viewer, canvas);
    expect(viewer.info.textures, `baseline ${baseline}`).toBe(baseline + 1);
    // glTF's v = 0 is the image's top row: green above the equator, blue below, no vertex red. The
    // camera looks from a little above, so the frame's top half shows only the upper hemisphere
    // and its bottom half both (measured: top 20 % green, bottom 10 % green and 10 % blue).
    expect(textured.top.green).toBeGreaterThan(0.1);
    expect(textured.top.blue).toBeLessThan(0.005);
    expect(textured.bottom.blue).toBeGreaterThan(0.05);
    expect(textured.top.red + textured.bottom.red).toBeLessThan(0.005);

    viewer.setOptions({ texture: false });
    const vertex = hues(viewer, canvas);
    expect(vertex.top.red + vertex.bottom.red).toBeGreaterThan(0.1);
    expect(vertex.top.green + vertex.bottom.blue).toBeLessThan(0.005);

    viewer.setOptions({ texture: true });
    expect(hues(viewer, canvas).top.green).toBeCloseTo(textured.top.green, 3);

    viewer.setMesh(plain);
    viewer.render();
    expect(viewer.info.textures).toBe(baseline);
    viewer.setMesh(texturedSphere());
    viewer.render();
    viewer.dispose();
    expect(viewer.info.textures).toBe(0);
  });
});
