// The processing panel's Texture choice and its bake state, mounted in real Chromium with a fake
// pipeline host: the reason when no triplane was kept, progress, Cancel, errors, and the result the
// viewer and downloads then use.
import { describe, expect, it } from 'vitest';
import { flushSync, mount, unmount } from 'svelte';
import axe from 'axe-core';
import '../../src/app.css';
import TextureChoice from '../../src/components/TextureChoice.svelte';
import { AppError, abortError } from '../../src/lib/errors';
import type { PostResult } from '../../src/post/types';
import { PostState } from '../../src/state/post.svelte';
import type { BakeStep, TextureHost } from '../../src/state/texture.svelte';
import type { BakeRequest, TexturedMesh } from '../../src/texture/types';
import { colouredCube } from '../helpers/export-fixtures';
import { texturedCube } from '../helpers/textured-fixtures';

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** A host whose bakes wait until the test settles them; records what each was asked. */
function fakeHost(triplane: Float32Array | null) {
  const bakes: { request: BakeRequest; progress: (step: BakeStep, f: number) => void; signal: AbortSignal; resolve: (m: TexturedMesh) => void; reject: (e: unknown) => void }[] = [];
  const host: TextureHost = {
    source: async () => (triplane ? { triplane, threshold: 25 } : null),
    bake: (request, progress, signal) =>
      new Promise<TexturedMesh>((resolve, reject) => {
        bakes.push({ request, progress, signal, resolve, reject });
        signal.addEventListener('abort', () => reject(abortError()));
      }),
  };
  return { host, bakes };
}

function processed(toSource = true): PostResult {
  return {
    mesh: colouredCube(),
    report: { unit: 'mm' } as never,
    steps: [],
    settings: {} as never,
    ...(toSource ? { toSource: { scale: 0.001, offset: [0, 0, 0] as [number, number, number] } } : {}),
  } as PostResult;
}

async function setUp(triplane: Float32Array | null, result = processed()) {
  const post = new PostState();
  const { host, bakes } = fakeHost(triplane);
  post.texture.host = host;
  post.after = result;
  post.view = 'after';
  post.texture.reset();
  const target = document.createElement('div');
  target.style.display = 'grid';
  document.body.append(target);
  const component = mount(TextureChoice, { target, props: { post } });
  await tick();
  flushSync();
  const q = (id: string) => target.querySelector(`[data-testid=${id}]`) as HTMLElement | null;
  const choose = (mode: string) => {
    const select = q('texture-mode') as HTMLSelectElement;
    select.value = mode;
    select.dispatchEvent(new Event('change', { bubbles: true }));
    flushSync();
  };
  return { post, bakes, target, q, choose, done: () => (unmount(component), target.remove(), post.dispose()) };
}

describe('TextureChoice', () => {
  it('disables the texture with the reason when the model kept no triplane', async () => {
    const { q, done } = await setUp(null);
    const texture = [...(q('texture-mode') as HTMLSelectElement).options].find((o) => o.value === 'texture')!;
    expect(texture.disabled).toBe(true);
    expect(q('texture-unavailable')?.textContent).toContain('Generate it again');
    done();
  });

  it('disables it for a result kept without its frame, with the reason', async () => {
    const { q, done } = await setUp(new Float32Array(4), processed(false));
    expect(q('texture-unavailable')?.textContent).toContain('Prepare the model again');
    done();
  });

  it('bakes with progress, cancels, bakes again and shows the textured mesh', async () => {
    const triplane = new Float32Array([1, 2, 3]);
    const { post, bakes, q, choose, target, done } = await setUp(triplane);
    expect(q('texture-size')?.hasAttribute('disabled')).toBe(true);
    choose('texture');
    expect(q('texture-size')?.hasAttribute('disabled')).toBe(false);
    const size = q('texture-size') as HTMLSelectElement;
    size.value = '512';
    size.dispatchEvent(new Event('change', { bubbles: true }));
    flushSync();
    (q('texture-run') as HTMLButtonElement).click();
    await tick();
    flushSync();
    expect(bakes.length).toBe(1);
    expect(bakes[0]!.request).toMatchObject({ triplane, size: 512, threshold: 25, toSource: { scale: 0.001 } });
    expect(bakes[0]!.request.mesh).toBe(post.after!.mesh);
    bakes[0]!.progress('unwrap', 1);
    bakes[0]!.progress('bake', 0.5);
    flushSync();
    expect(q('texture-progress')?.textContent).toBe('Baking the texture… 50 %');

    (q('texture-cancel') as HTMLButtonElement).click();
    flushSync();
    expect(bakes[0]!.signal.aborted).toBe(true);
    await tick();
    flushSync();
    expect(q('texture-error')).toBeNull();
    expect(q('texture-run')).not.toBeNull();
    expect(post.shown).toBe(post.after!.mesh);

    (q('texture-run') as HTMLButtonElement).click();
    await tick();
    const textured = { ...texturedCube(), texture: { width: 512, height: 512, rgba: new Uint8Array(512 * 512 * 4) } };
    bakes[1]!.resolve(textured);
    await tick();
    flushSync();
    expect(q('texture-done')?.textContent).toContain('512 × 512');
    expect(post.shown).toBe(textured);
    // Another size is another bake: until then the viewer keeps the plain mesh.
    size.value = '1024';
    size.dispatchEvent(new Event('change', { bubbles: true }));
    flushSync();
    expect(post.shown).toBe(post.after!.mesh);
    expect(q('texture-run')).not.toBeNull();

    const result = await axe.run(target);
    expect(result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)).toEqual([]);
    done();
  });

  it('warns that 2048² takes minutes on the CPU path', async () => {
    const { post, q, choose, done } = await setUp(new Float32Array(4));
    let cpu = false;
    post.texture.host = { ...post.texture.host!, onCpu: () => cpu };
    choose('texture');
    const size = q('texture-size') as HTMLSelectElement;
    size.value = '2048';
    size.dispatchEvent(new Event('change', { bubbles: true }));
    flushSync();
    expect(q('texture-slow')).toBeNull();
    cpu = true;
    size.value = '1024';
    size.dispatchEvent(new Event('change', { bubbles: true }));
    flushSync();
    expect(q('texture-slow')).toBeNull();
    size.value = '2048';
    size.dispatchEvent(new Event('change', { bubbles: true }));
    flushSync();
    expect(q('texture-slow')?.textContent).toContain('1024 is much quicker');
    done();
  });

  it('shows a failed bake as its AppError message', async () => {
    const { bakes, q, choose, done } = await setUp(new Float32Array(4));
    choose('texture');
    (q('texture-run') as HTMLButtonElement).click();
    await tick();
    bakes[0]!.reject(new AppError('model-incompatible', 'This decoder cannot bake textures; keep vertex colours.'));
    await tick();
    flushSync();
    expect(q('texture-error')?.dataset.code).toBe('model-incompatible');
    expect(q('texture-error')?.textContent).toBe('This decoder cannot bake textures; keep vertex colours.');
    done();
  });
});
