import { bodyBounds, principalAngle } from '../../scripts/lib/test-body';
import { downloadGlbPositions, glbShape, modelInputBody } from './body';
import { addPhoto, expect, generate, makeScenePhoto, openApp, setSlider, test, waitForPreview, waitForResult, type SceneObject } from './harness';

/**
 * TripoSR's input view is view 0 of `get_spherical_cameras` (VAST-AI-Research/TripoSR,
 * tsr/utils.py: "right hand coordinate system, x back, y right, z up"; azimuth 0 puts the camera
 * on +x, right = lookat × up = +y, up = +z), and `get_ray_directions` sends image columns to
 * +right and rows (top to bottom) to −up. So an object right of centre in the photo is at +y and
 * one above centre at +z, and the side the photo shows faces +x.
 *
 * A glTF viewer's default front camera (three.js, <model-viewer>) sits on +Z looking −Z with +X
 * right and +Y up. Seen from there the mesh must look like the photo: right is +X, up is +Y, and
 * the photo's side (the test model's fuller half, scripts/lib/test-body.ts) toward +Z.
 */

/** One marching-cubes cell at resolution 64 over the ±0.87 box. */
const CELL_64 = 1.74 / 63;
/** How far off centre a placed object must come out (it is ~0.26 for these photos). */
const OFF_CENTRE = 0.15;

/**
 * Left and up alone, then a long object tilted and placed down-right: a mirror, a transpose (which
 * swaps left and up) or a wrong frame each move one of them to another side or turn the tilt.
 */
const SCENES: { name: string; object: SceneObject; side: [number, number] }[] = [
  { name: 'left', object: { colour: '#d04020', cx: 0.28, cy: 0.5, rx: 0.12, ry: 0.2 }, side: [-1, 0] },
  { name: 'up', object: { colour: '#2040d0', cx: 0.5, cy: 0.28, rx: 0.2, ry: 0.12 }, side: [0, 1] },
  // Long axis turned 0.5 rad clockwise from vertical on screen: its top leans right.
  { name: 'down-right, tilted', object: { colour: '#c03090', cx: 0.7, cy: 0.68, rx: 0.07, ry: 0.24, angle: 0.5 }, side: [1, -1] },
];

test('an object left, right, up or down in the photo comes out on that side, facing a glTF viewer\'s front camera, and keeps its tilt', async ({ page }) => {
  test.setTimeout(400_000);
  await openApp(page, '?segmenter=/test-models/segmenter-test.manifest.json');
  for (const [k, scene] of SCENES.entries()) {
    await addPhoto(page, await makeScenePhoto(page, scene.object), `${scene.name}.png`);
    // An opaque photo on the framing's own grey: with removal off, the model sees it as drawn.
    if (k === 0) await page.getByRole('radio', { name: 'Off' }).click();
    await waitForPreview(page);
    await setSlider(page, 'resolution', 64);
    const body = await modelInputBody(page);
    await generate(page, { accept: k === 0 });
    await waitForResult(page);
    const shape = glbShape(await downloadGlbPositions(page));

    // The side TripoSR's convention gives, seen from +Z: image right → +X, image up → +Y.
    for (const a of [0, 1]) {
      const side = scene.side[a]!;
      if (side === 0) expect(Math.abs(shape.centre[a]!), `${scene.name}: axis ${a} centred`).toBeLessThan(CELL_64);
      else expect(shape.centre[a]! * side, `${scene.name}: axis ${a} on the photo's side`).toBeGreaterThan(OFF_CENTRE);
    }
    // And where the test model puts it, from the exact model input: glTF (X, Y, Z) = TripoSR (y, z, x).
    expect(Math.abs(shape.centre[0]! - body.centre[1])).toBeLessThan(CELL_64);
    expect(Math.abs(shape.centre[1]! - body.centre[2])).toBeLessThan(CELL_64);
    // The photo's side, the body's fuller half, faces the front camera (+Z).
    const bounds = bodyBounds(body);
    expect(Math.abs(shape.max[2]! - Math.min(0.87, bounds.max[0])), `${scene.name}: front`).toBeLessThan(CELL_64);
    expect(Math.abs(shape.min[2]! - bounds.min[0]), `${scene.name}: back`).toBeLessThan(CELL_64);
    expect(shape.max[2]!).toBeGreaterThan(-shape.min[2]! * 1.3);
    if (scene.object.angle) {
      // Seen from +Z (X right, Y up) the long axis runs at π/2 − 0.5 from +X toward +Y; a mirrored
      // mesh would give π/2 + 0.5, a transposed image 0.5.
      expect(principalAngle(body)).toBeCloseTo(Math.PI / 2 - 0.5, 1);
      expect(Math.abs(shape.angleXY - (Math.PI / 2 - 0.5))).toBeLessThan(0.1);
      expect(shape.max[1]! - shape.min[1]!).toBeGreaterThan(1.3 * (shape.max[0]! - shape.min[0]!));
    }
  }
});
