/** A framework-free three.js view of the result mesh: orbit, soft light, a ground shadow. */
import {
  BufferAttribute,
  BufferGeometry,
  Color,
  DataTexture,
  DirectionalLight,
  HemisphereLight,
  LinearFilter,
  LinearMipmapLinearFilter,
  LineBasicMaterial,
  LineSegments,
  Mesh,
  MeshStandardMaterial,
  PCFShadowMap,
  PerspectiveCamera,
  PlaneGeometry,
  RGBAFormat,
  Scene,
  ShadowMaterial,
  SRGBColorSpace,
  UnsignedByteType,
  Vector3,
  WebGLRenderer,
} from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import type { ResultMesh } from '../shared/mesh';
import type { TexturedMesh } from '../texture/types';
import { srgbToLinearArray } from '../lib/colour';
import { meshBounds, type MeshBounds } from '../lib/mesh-frame';

/** What the viewer shows and how. */
export interface ViewerOptions {
  /** Turn the model slowly around the vertical axis. */
  autoRotate: boolean;
  /** Draw triangle edges instead of filled faces. */
  wireframe: boolean;
  /** Show the decoded colours; off shows the shape alone in a neutral clay. */
  vertexColours: boolean;
  /** For a textured mesh (a bake's result): its texture; off: its vertex colours. */
  texture: boolean;
}

/** Defaults for `ViewerOptions`. */
export const VIEWER_DEFAULTS: ViewerOptions = {
  autoRotate: false,
  wireframe: false,
  vertexColours: true,
  texture: true,
};

/** What the viewer holds on the GPU, and the size of the model shown. */
export interface ViewerInfo {
  /** Geometries uploaded (renderer.info.memory): the model and the ground once drawn. */
  geometries: number;
  /** Textures uploaded (renderer.info.memory): the shadow map once a frame has been drawn. */
  textures: number;
  /**
   * Triangles of the model shown. Not renderer.info.render.triangles, which counts the shadow pass
   * and the ground too.
   */
  triangles: number;
}

const BACKGROUND = 0xe6e6e6;
const CLAY = 0xb8aa9a;
// glTF's front is +Z: look from the front, a little above and to the right.
const VIEW_DIRECTION = new Vector3(0.45, 0.5, 1).normalize();
// Key light from high up, front left: the shadow falls back right, beside the model rather than
// hidden behind it as with a light from the camera's side.
const LIGHT_DIRECTION = new Vector3(-0.5, 1.6, 0.5).normalize();
const FOV = 35;
// The shape TripoSR meshes spans about a unit box; stands in for the bounds when nothing is shown.
const DEFAULT_RADIUS = 0.87;

/** `mesh` as a TexturedMesh when it carries UVs and a texture. */
function texturedMesh(mesh: ResultMesh): TexturedMesh | null {
  const candidate = mesh as Partial<TexturedMesh>;
  return candidate.uvs instanceof Float32Array && candidate.texture ? (candidate as TexturedMesh) : null;
}

/**
 * The bake's RGBA as a three.js texture. Row 0 is v = 0 in glTF's convention, which is also what a
 * texture that is not flipped puts at uv.y = 0, so the glTF UVs are used as they are (as three's
 * GLTFLoader does).
 */
function colourTexture(mesh: TexturedMesh): DataTexture {
  const { width, height, rgba } = mesh.texture;
  const texture = new DataTexture(rgba, width, height, RGBAFormat, UnsignedByteType);
  texture.colorSpace = SRGBColorSpace;
  texture.flipY = false;
  texture.generateMipmaps = true;
  texture.minFilter = LinearMipmapLinearFilter;
  texture.magFilter = LinearFilter;
  texture.anisotropy = 4;
  texture.needsUpdate = true;
  return texture;
}

/**
 * Shows one `ResultMesh` on a canvas. Frames are drawn on demand (while the controls move, while
 * auto-rotating, after a change), not in a permanent loop, to spare laptop batteries.
 *
 * The canvas must take its size from CSS (e.g. `width: 100%; height: 60vh`): the viewer observes it
 * and follows its layout size, and never sets its style.
 *
 * Emits 'contextlost' and 'contextrestored' events (see `contextLost`). The constructor throws when
 * the browser cannot create a WebGL 2 context; the UI should then offer the download alone.
 *
 * @example
 * const viewer = new MeshViewer(canvas, { autoRotate: true });
 * viewer.setMesh(result);
 * viewer.addEventListener('contextlost', () => notice('3D view paused; downloads still work.'));
 * // later
 * viewer.dispose();
 */
export class MeshViewer extends EventTarget {
  readonly #canvas: HTMLCanvasElement;
  readonly #renderer: WebGLRenderer;
  readonly #scene = new Scene();
  readonly #camera = new PerspectiveCamera(FOV, 1, 0.01, 100);
  readonly #controls: OrbitControls;
  readonly #resizeObserver: ResizeObserver;
  readonly #hemisphere = new HemisphereLight(0xffffff, 0x8a8a8a, 1.8);
  readonly #sun = new DirectionalLight(0xffffff, 2.2);
  readonly #ground = new Mesh(new PlaneGeometry(1, 1), new ShadowMaterial({ opacity: 0.25 }));
  // One material for the viewer's lifetime, shared by every model it shows; options mutate it.
  readonly #material = new MeshStandardMaterial({ metalness: 0, roughness: 0.8 });
  #options: ViewerOptions;
  // A textured model's own material and texture; the model's geometry owns neither.
  readonly #texturedMaterial = new MeshStandardMaterial({ metalness: 0, roughness: 0.8 });
  #texture: DataTexture | null = null;
  #model: Mesh<BufferGeometry, MeshStandardMaterial> | null = null;
  // Open (boundary) edges of the model, drawn over it so holes are easy to find.
  readonly #edgeMaterial = new LineBasicMaterial({ color: 0xd0104c });
  #edges: LineSegments<BufferGeometry, LineBasicMaterial> | null = null;
  readonly #centre = new Vector3();
  #radius = DEFAULT_RADIUS;
  #frame = 0;
  #lastFrameTime = 0;
  #contextLost = false;
  #disposed = false;

  constructor(canvas: HTMLCanvasElement, options: Partial<ViewerOptions> = {}) {
    super();
    this.#options = { ...VIEWER_DEFAULTS, ...options };
    this.#canvas = canvas;

    const renderer = new WebGLRenderer({ canvas, antialias: true });
    renderer.outputColorSpace = SRGBColorSpace;
    // Above 2 the cost grows with the square and the eye sees no difference.
    renderer.setPixelRatio(Math.min(globalThis.devicePixelRatio || 1, 2));
    renderer.shadowMap.enabled = true;
    // three r180 removed PCFSoftShadowMap; PCF blurred by `shadow.radius` gives the soft edge.
    renderer.shadowMap.type = PCFShadowMap;
    this.#renderer = renderer;

    this.#scene.background = new Color(BACKGROUND);
    this.#sun.castShadow = true;
    this.#sun.shadow.mapSize.set(1024, 1024);
    this.#sun.shadow.radius = 4;
    this.#ground.rotation.x = -Math.PI / 2;
    this.#ground.receiveShadow = true;
    this.#ground.visible = false;
    this.#scene.add(this.#hemisphere, this.#sun, this.#sun.target, this.#ground);

    this.#controls = new OrbitControls(this.#camera, canvas);
    this.#controls.enableDamping = true;
    this.#controls.addEventListener('change', this.#invalidate);

    // three's own listener calls preventDefault, which lets the browser restore the context.
    canvas.addEventListener('webglcontextlost', this.#onContextLost);
    canvas.addEventListener('webglcontextrestored', this.#onContextRestored);

    this.#applyOptions();
    this.#placeScene(null);
    this.resize(canvas.clientWidth || canvas.width, canvas.clientHeight || canvas.height);
    // A CSS-sized canvas does not feed back: setSize(..., false) changes only its drawing buffer.
    this.#resizeObserver = new ResizeObserver(([entry]) => {
      if (entry) this.resize(entry.contentRect.width, entry.contentRect.height);
    });
    this.#resizeObserver.observe(canvas);
  }

  /**
   * Shows `mesh` (null: nothing), freeing the previous geometry and texture, and frames the camera
   * on it. A mesh with `uvs` and `texture` (a `TexturedMesh`) shows its texture, sRGB, mip-mapped.
   */
  setMesh(mesh: ResultMesh | null): void {
    if (this.#disposed) return;
    this.#removeModel();
    let bounds: MeshBounds | null = null;
    if (mesh && mesh.indices.length > 0) {
      // Positions, normals and indices are shared, not copied: result buffers are never mutated.
      const geometry = new BufferGeometry();
      geometry.setAttribute('position', new BufferAttribute(mesh.positions, 3));
      geometry.setAttribute('normal', new BufferAttribute(mesh.normals, 3));
      // three expects linear colour attributes; the result's colours are sRGB.
      geometry.setAttribute('color', new BufferAttribute(srgbToLinearArray(mesh.colours), 3));
      geometry.setIndex(new BufferAttribute(mesh.indices, 1));
      const textured = texturedMesh(mesh);
      if (textured) {
        geometry.setAttribute('uv', new BufferAttribute(textured.uvs, 2));
        this.#texture = colourTexture(textured);
        this.#texturedMaterial.map = this.#texture;
        this.#texturedMaterial.needsUpdate = true;
      }
      this.#model = new Mesh(geometry, this.#material);
      // The model casts onto the ground but not onto itself: self-shadowing a coarse
      // marching-cubes surface mostly shows acne.
      this.#model.castShadow = true;
      this.#scene.add(this.#model);
      bounds = meshBounds(mesh.positions);
    }
    this.#applyOptions();
    this.#placeScene(bounds);
    this.#invalidate();
  }

  #removeModel(): void {
    if (this.#model) {
      this.#scene.remove(this.#model);
      this.#model.geometry.dispose();
      this.#model = null;
    }
    this.#texturedMaterial.map = null;
    this.#texture?.dispose();
    this.#texture = null;
  }

  /** Highlights line segments (6 floats each: two endpoints), e.g. a mesh's open edges; null clears. */
  setEdges(segments: Float32Array | null): void {
    if (this.#disposed) return;
    this.#removeEdges();
    if (segments && segments.length >= 6) {
      const geometry = new BufferGeometry();
      geometry.setAttribute('position', new BufferAttribute(segments, 3));
      this.#edges = new LineSegments(geometry, this.#edgeMaterial);
      this.#scene.add(this.#edges);
    }
    this.#invalidate();
  }

  #removeEdges(): void {
    if (!this.#edges) return;
    this.#scene.remove(this.#edges);
    this.#edges.geometry.dispose();
    this.#edges = null;
  }

  /** Changes some options; the rest keep their values. */
  setOptions(options: Partial<ViewerOptions>): void {
    this.#options = { ...this.#options, ...options };
    this.#applyOptions();
    this.#invalidate();
  }

  /** The options in effect. */
  get options(): Readonly<ViewerOptions> {
    return this.#options;
  }

  /** Puts the camera back where `setMesh` framed it. */
  resetView(): void {
    this.#frameCamera();
    this.#invalidate();
  }

  /** Sets the drawing size in CSS pixels; the viewer calls it itself when the canvas resizes. */
  resize(width: number, height: number): void {
    if (this.#disposed || width <= 0 || height <= 0) return;
    this.#renderer.setSize(width, height, false);
    this.#camera.aspect = width / height;
    this.#camera.updateProjectionMatrix();
    this.#invalidate();
  }

  /** Draws a frame now, in this task (thumbnails, tests); otherwise frames come on demand. */
  render(): void {
    if (this.#disposed || this.#contextLost) return;
    this.#renderer.render(this.#scene, this.#camera);
  }

  /** GPU memory in use and the shown model's size. */
  get info(): ViewerInfo {
    const { memory } = this.#renderer.info;
    return {
      geometries: memory.geometries,
      textures: memory.textures,
      triangles: this.#model ? (this.#model.geometry.index?.count ?? 0) / 3 : 0,
    };
  }

  /** True while the browser has taken the WebGL context away: the UI should say the view paused. */
  get contextLost(): boolean {
    return this.#contextLost;
  }

  /** Frees everything: geometry, materials, shadow map, renderer, controls, listeners, frames. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    cancelAnimationFrame(this.#frame);
    this.#frame = 0;
    this.#resizeObserver.disconnect();
    this.#canvas.removeEventListener('webglcontextlost', this.#onContextLost);
    this.#canvas.removeEventListener('webglcontextrestored', this.#onContextRestored);
    this.#controls.removeEventListener('change', this.#invalidate);
    this.#controls.dispose();
    this.#removeModel();
    this.#texturedMaterial.dispose();
    this.#removeEdges();
    this.#edgeMaterial.dispose();
    this.#ground.geometry.dispose();
    this.#ground.material.dispose();
    this.#material.dispose();
    this.#sun.dispose(); // and its shadow map
    this.#hemisphere.dispose();
    this.#renderer.dispose();
  }

  #applyOptions(): void {
    const { autoRotate, wireframe, vertexColours, texture } = this.#options;
    this.#controls.autoRotate = autoRotate;
    this.#material.wireframe = wireframe;
    this.#texturedMaterial.wireframe = wireframe;
    // The texture replaces the vertex colours only while colours are on at all.
    if (this.#model) this.#model.material = this.#texture && texture && vertexColours ? this.#texturedMaterial : this.#material;
    if (this.#material.vertexColors !== vertexColours) {
      this.#material.vertexColors = vertexColours;
      this.#material.needsUpdate = true; // vertex colours are a shader define: recompile
    }
    // Vertex colours multiply the base colour, so white shows them as they are.
    this.#material.color.set(vertexColours ? 0xffffff : CLAY);
  }

  /** Fits the ground, the shadow camera and the view to the model's bounds (null: no model). */
  #placeScene(bounds: MeshBounds | null): void {
    let minY = -DEFAULT_RADIUS;
    if (bounds) {
      const { min, max } = bounds;
      const lo = new Vector3(...min);
      const hi = new Vector3(...max);
      this.#centre.addVectors(lo, hi).multiplyScalar(0.5);
      // Floor the radius so a degenerate (flat or one-point) model still gets a usable camera.
      this.#radius = Math.max(hi.distanceTo(lo) / 2, 1e-3);
      minY = min[1];
    } else {
      this.#centre.set(0, 0, 0);
      this.#radius = DEFAULT_RADIUS;
    }
    const r = this.#radius;
    this.#ground.visible = bounds !== null;
    this.#ground.position.set(this.#centre.x, minY, this.#centre.z);
    this.#ground.scale.setScalar(r * 12);

    this.#sun.position.copy(this.#centre).addScaledVector(LIGHT_DIRECTION, r * 4);
    this.#sun.target.position.copy(this.#centre);
    const shadowCamera = this.#sun.shadow.camera;
    shadowCamera.left = shadowCamera.bottom = -r * 1.5;
    shadowCamera.right = shadowCamera.top = r * 1.5;
    shadowCamera.near = r;
    shadowCamera.far = r * 8;
    shadowCamera.updateProjectionMatrix();
    // Depth precision scales with the shadow camera's range.
    this.#sun.shadow.normalBias = r * 0.01;

    this.#frameCamera();
  }

  #frameCamera(): void {
    const r = this.#radius;
    // The narrower of the two fields of view decides the distance that fits the bounding sphere.
    const vertical = (FOV * Math.PI) / 180;
    const horizontal = 2 * Math.atan(Math.tan(vertical / 2) * this.#camera.aspect);
    const distance = (r / Math.sin(Math.min(vertical, horizontal) / 2)) * 1.1;
    this.#camera.position.copy(this.#centre).addScaledVector(VIEW_DIRECTION, distance);
    this.#camera.near = distance / 100;
    this.#camera.far = distance + r * 20;
    this.#camera.updateProjectionMatrix();
    this.#controls.target.copy(this.#centre);
    this.#controls.minDistance = r * 0.5;
    this.#controls.maxDistance = distance * 5;
    this.#controls.update();
  }

  /** Asks for one frame; the frame asks for the next while the camera keeps moving. */
  readonly #invalidate = (): void => {
    if (this.#frame !== 0 || this.#disposed || this.#contextLost) return;
    this.#frame = requestAnimationFrame(this.#tick);
  };

  readonly #tick = (time: number): void => {
    this.#frame = 0;
    // Auto-rotation speed in real time, whatever the display's refresh rate; a long gap (tab in the
    // background) counts as one frame, not a jump.
    const dt = this.#lastFrameTime ? Math.min((time - this.#lastFrameTime) / 1000, 0.1) : 1 / 60;
    // Emits 'change', and so queues the next frame, while the camera moves (dragging, damping).
    this.#controls.update(dt);
    this.render();
    // Auto-rotation has to keep its own loop: damped, its first steps are below the controls'
    // change threshold, so 'change' alone would never start it.
    if (this.#options.autoRotate) this.#invalidate();
    this.#lastFrameTime = this.#frame !== 0 ? time : 0;
  };

  readonly #onContextLost = (): void => {
    this.#contextLost = true;
    cancelAnimationFrame(this.#frame);
    this.#frame = 0;
    this.dispatchEvent(new Event('contextlost'));
  };

  readonly #onContextRestored = (): void => {
    this.#contextLost = false;
    this.dispatchEvent(new Event('contextrestored'));
    this.#invalidate();
  };
}
