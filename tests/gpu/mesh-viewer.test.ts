import { afterEach, describe, expect, it } from 'vitest';
import type { ResultMesh } from '../../src/shared/mesh';
import { MeshViewer } from '../../src/viewer/mesh-viewer';

const SIZE = 200;

type Vec3 = [number, number, number];

/** A closed UV sphere of the given sRGB colour, centred at `centre`, counter-clockwise outside. */
function sphere(radius: number, centre: Vec3, rgb: Vec3): ResultMesh {
  const rings = 16;
  const segments = 32;
  const positions: number[] = [];
  const normals: number[] = [];
  const colours: number[] = [];
  const indices: number[] = [];
  for (let i = 0; i <= rings; i++) {
    const theta = (i / rings) * Math.PI;
    for (let j = 0; j <= segments; j++) {
      const phi = (j / segments) * 2 * Math.PI;
      const s = Math.sin(theta);
      const n = [s * Math.cos(phi), Math.cos(theta), -s * Math.sin(phi)];
      normals.push(...n);
      positions.push(...n.map((v, a) => centre[a]! + radius * v));
      colours.push(...rgb);
    }
  }
  for (let i = 0; i < rings; i++) {
    for (let j = 0; j < segments; j++) {
      const a = i * (segments + 1) + j;
      const b = a + segments + 1;
      indices.push(a, b, a + 1, b, b + 1, a + 1);
    }
  }
  return {
    positions: new Float32Array(positions),
    normals: new Float32Array(normals),
    colours: new Float32Array(colours),
    indices: new Uint32Array(indices),
  };
}

const RED = sphere(0.5, [0.1, 0.2, -0.1], [0.9, 0.1, 0.1]);

function makeCanvas(): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.style.cssText = `display:block;width:${SIZE}px;height:${SIZE}px`;
  document.body.append(canvas);
  return canvas;
}

/** Fractions of the frame's pixels. */
interface PixelCounts {
  /** Clearly red: the test model with its colours. */
  red: number;
  /** Anything that is not background (model, clay, shadow). */
  nonBackground: number;
}

/** Draws a frame and counts its pixels. */
function pixels(viewer: MeshViewer, canvas: HTMLCanvasElement): PixelCounts {
  viewer.render(); // read in the same task: the drawing buffer is not preserved
  const gl = canvas.getContext('webgl2')!;
  const { drawingBufferWidth: w, drawingBufferHeight: h } = gl;
  const data = new Uint8Array(w * h * 4);
  gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, data);
  const bg = [data[0]!, data[1]!, data[2]!]; // a corner: background or ground, unshadowed
  let red = 0;
  let nonBackground = 0;
  for (let i = 0; i < data.length; i += 4) {
    const [r, g, b] = [data[i]!, data[i + 1]!, data[i + 2]!];
    if (r > g + 60 && r > b + 60) red++;
    if (Math.abs(r - bg[0]!) + Math.abs(g - bg[1]!) + Math.abs(b - bg[2]!) > 30) nonBackground++;
  }
  const total = w * h;
  return { red: red / total, nonBackground: nonBackground / total };
}

const frames = (n: number): Promise<void> =>
  new Promise((resolve) => {
    const step = (): void => {
      if (--n <= 0) resolve();
      else requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  });

describe('MeshViewer in real Chromium (WebGL)', () => {
  let canvas: HTMLCanvasElement;
  let viewer: MeshViewer | undefined;

  afterEach(() => {
    viewer?.dispose();
    viewer = undefined;
    canvas?.remove();
  });

  it('keeps GPU memory constant over repeated setMesh and frees it all on dispose', () => {
    canvas = makeCanvas();
    viewer = new MeshViewer(canvas);
    viewer.resize(SIZE, SIZE);
    const counts: number[] = [];
    for (let k = 0; k < 5; k++) {
      viewer.setMesh(sphere(0.3 + 0.1 * k, [0, 0, 0], [0.2, 0.6, 0.3]));
      viewer.render();
      counts.push(viewer.info.geometries);
    }
    expect(counts[0]).toBeGreaterThan(0);
    expect(new Set(counts).size).toBe(1);
    expect(viewer.info.triangles).toBe(RED.indices.length / 3);
    expect(viewer.info.textures).toBeGreaterThan(0); // the shadow map

    viewer.setMesh(null);
    viewer.render();
    expect(viewer.info.triangles).toBe(0);

    viewer.setMesh(RED);
    viewer.render();
    viewer.dispose();
    expect(viewer.info.geometries).toBe(0);
    expect(viewer.info.textures).toBe(0);
  });

  it('highlights open edges over the model and frees them when cleared', () => {
    canvas = makeCanvas();
    viewer = new MeshViewer(canvas);
    viewer.resize(SIZE, SIZE);
    viewer.setMesh(sphere(0.5, [0, 0, 0], [0.6, 0.6, 0.6]));
    const plain = pixels(viewer, canvas);
    const geometries = viewer.info.geometries;
    expect(plain.red).toBe(0);
    // A ring of 64 segments just outside the equator, as a hole's rim would be.
    const ring = new Float32Array(64 * 6);
    for (let i = 0; i < 64; i++) {
      for (const [k, j] of [[0, i], [1, i + 1]] as const) {
        const phi = (j / 64) * 2 * Math.PI;
        ring.set([0.51 * Math.cos(phi), 0, 0.51 * Math.sin(phi)], i * 6 + k * 3);
      }
    }
    viewer.setEdges(ring);
    const highlighted = pixels(viewer, canvas);
    expect(highlighted.red).toBeGreaterThan(0.002);
    expect(viewer.info.geometries).toBe(geometries + 1);
    viewer.setEdges(null);
    expect(pixels(viewer, canvas).red).toBe(0);
    expect(viewer.info.geometries).toBe(geometries);
  });

  it('draws the model with its colours, and the options change what is drawn', () => {
    canvas = makeCanvas();
    viewer = new MeshViewer(canvas);
    viewer.resize(SIZE, SIZE);
    const empty = pixels(viewer, canvas);
    expect(empty.nonBackground).toBe(0);

    viewer.setMesh(RED);
    const shown = pixels(viewer, canvas);
    // The sphere fills a good part of the view, and its sRGB red arrives as red.
    expect(shown.red).toBeGreaterThan(0.1);

    viewer.setOptions({ vertexColours: false });
    const clay = pixels(viewer, canvas);
    expect(clay.red).toBe(0);
    expect(clay.nonBackground).toBeGreaterThan(0.1);

    viewer.setOptions({ vertexColours: true, wireframe: true });
    const wire = pixels(viewer, canvas);
    expect(wire.red).toBeGreaterThan(0);
    expect(wire.red).toBeLessThan(shown.red * 0.8);

    viewer.setOptions({ wireframe: false, autoRotate: true });
    expect(viewer.options).toEqual({ autoRotate: true, wireframe: false, vertexColours: true, texture: true });
    expect(pixels(viewer, canvas).red).toBeGreaterThan(0.1);
    viewer.resetView();
  });

  it('frames any mesh size in view', () => {
    canvas = makeCanvas();
    viewer = new MeshViewer(canvas);
    viewer.resize(SIZE, SIZE);
    for (const scale of [0.01, 1, 100]) {
      viewer.setMesh(sphere(scale, [scale * 3, 0, 0], [0.9, 0.1, 0.1]));
      const { red } = pixels(viewer, canvas);
      expect(red, `radius ${scale}`).toBeGreaterThan(0.1);
      expect(red, `radius ${scale}`).toBeLessThan(0.9);
    }
  });

  it('follows the canvas size set by CSS', async () => {
    canvas = makeCanvas();
    viewer = new MeshViewer(canvas);
    const ratio = canvas.width / SIZE;
    canvas.style.width = `${SIZE * 2}px`;
    canvas.style.height = `${SIZE / 2}px`;
    await frames(3);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(canvas.width).toBe(Math.floor(SIZE * 2 * ratio));
    expect(canvas.height).toBe(Math.floor((SIZE / 2) * ratio));
    // The style stays the page's: the viewer only sizes the drawing buffer.
    expect(canvas.style.width).toBe(`${SIZE * 2}px`);
    expect(pixels(viewer, canvas).red).toBe(0);
    viewer.setMesh(RED);
    const { red } = pixels(viewer, canvas);
    expect(red).toBeGreaterThan(0.05); // framed to fit the short side
  });

  it('draws on demand: no frames while idle, a frame loop while auto-rotating', async () => {
    const original = window.requestAnimationFrame;
    let requested = 0;
    window.requestAnimationFrame = (callback) => {
      requested++;
      return original.call(window, callback);
    };
    try {
      canvas = makeCanvas();
      viewer = new MeshViewer(canvas);
      viewer.resize(SIZE, SIZE);
      viewer.setMesh(RED);
      await frames(10);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const idle = requested;
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(requested).toBe(idle);

      viewer.setOptions({ autoRotate: true });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(requested).toBeGreaterThan(idle + 3);

      viewer.setOptions({ autoRotate: false });
      await new Promise((resolve) => setTimeout(resolve, 1500)); // damping settles
      const stopped = requested;
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(requested).toBe(stopped);
    } finally {
      window.requestAnimationFrame = original;
    }
  });

  it('reports a lost WebGL context and pauses drawing', async () => {
    canvas = makeCanvas();
    viewer = new MeshViewer(canvas);
    viewer.resize(SIZE, SIZE);
    viewer.setMesh(RED);
    viewer.render();
    const events: string[] = [];
    viewer.addEventListener('contextlost', () => events.push('lost'));
    viewer.addEventListener('contextrestored', () => events.push('restored'));
    const lose = canvas.getContext('webgl2')!.getExtension('WEBGL_lose_context')!;
    lose.loseContext();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(viewer.contextLost).toBe(true);
    expect(() => viewer!.render()).not.toThrow();
    lose.restoreContext();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(events).toEqual(['lost', 'restored']);
    expect(viewer.contextLost).toBe(false);
    // three re-uploads everything into the new context: the model shows again.
    expect(pixels(viewer, canvas).red).toBeGreaterThan(0.1);
  });
});
