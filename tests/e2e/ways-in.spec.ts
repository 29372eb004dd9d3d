import { addPhoto, expect, makePhoto, openApp, test, waitForPreview } from './harness';

test('every way in: file picker from the keyboard, paste, drag and drop, an image address, and a site that refuses CORS', async ({ page, network }) => {
  await openApp(page);
  const png = await makePhoto(page, { colour: '#3080d0' });

  // Keyboard: Tab to the drop zone, Enter opens the file picker.
  const zone = page.getByRole('button', { name: /Drop a photo here/ });
  const [chooser] = await Promise.all([page.waitForEvent('filechooser', { timeout: 30_000 }), zone.press('Enter')]);
  await chooser.setFiles({ name: 'keyboard.png', mimeType: 'image/png', buffer: png });
  await expect(page.getByRole('figure', { name: /keyboard\.png/ })).toBeVisible();

  // Paste from the clipboard and drop onto the zone: the same File path as the picker.
  const dispatch = async (kind: 'paste' | 'drop', name: string): Promise<void> => {
    await page.evaluate(
      ({ kind, name, base64 }) => {
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        const data = new DataTransfer();
        data.items.add(new File([bytes], name, { type: 'image/png' }));
        if (kind === 'paste') window.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data }));
        else document.querySelector('[data-testid="drop-zone"]')!.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true }));
      },
      { kind, name, base64: png.toString('base64') },
    );
  };
  await dispatch('paste', 'pasted.png');
  await expect(page.getByRole('figure', { name: /pasted\.png/ })).toBeVisible();
  await dispatch('drop', 'dropped.png');
  await expect(page.getByRole('figure', { name: /dropped\.png/ })).toBeVisible();

  // An image address that allows CORS loads; one whose site refuses gets its own message.
  network.images.set('from-url.png', new Uint8Array(png));
  await page.getByTestId('image-url').fill(`${new URL(page.url()).origin}/test-images/from-url.png`);
  await page.getByRole('button', { name: 'Load', exact: true }).click();
  await expect(page.getByRole('figure', { name: /from-url\.png/ })).toBeVisible();
  await waitForPreview(page);
  await page.getByTestId('image-url').fill(`${network.cdnOrigin}/no-cors/from-url.png`);
  await page.getByRole('button', { name: 'Load', exact: true }).click();
  await expect(page.getByTestId('error')).toHaveAttribute('data-code', 'image-url-refused');
  await expect(page.getByTestId('error')).toContainText('does not let other sites load its images');
  await expect(page.getByRole('figure', { name: /from-url\.png/ })).toBeVisible();
});

test('a 6000×4000 photo (24 MP, no alpha) is decoded, cut out and framed in the worker', async ({ page }) => {
  await openApp(page, '?segmenter=/test-models/segmenter-test.manifest.json');
  await addPhoto(page, await makePhoto(page, { colour: '#d0a030', width: 6000, height: 4000, background: '#7a8a99' }), 'big.png');
  await expect(page.getByRole('figure', { name: /big\.png · 6000×4000/ })).toBeVisible();
  await expect(page.getByTestId('alpha-warning')).toBeVisible();
  await waitForPreview(page);
  await page.getByTestId('remove-background').click();
  await expect(page.getByTestId('background')).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  await expect(page.getByTestId('error')).toHaveCount(0);
});

test('a JPEG with EXIF orientation 6 comes out upright', async ({ page }) => {
  await openApp(page);
  // Four quadrants (red, green / blue, white) drawn landscape, marked "rotate 90° clockwise" in EXIF.
  const jpeg = Buffer.from(
    await page.evaluate(async () => {
      const canvas = new OffscreenCanvas(64, 32);
      const ctx = canvas.getContext('2d')!;
      for (const [colour, x, y] of [['#f00', 0, 0], ['#0f0', 32, 0], ['#00f', 0, 16], ['#fff', 32, 16]] as const) {
        ctx.fillStyle = colour;
        ctx.fillRect(x, y, 32, 16);
      }
      const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.95 })).arrayBuffer());
      let s = '';
      for (const b of bytes) s += String.fromCharCode(b);
      return btoa(s);
    }),
    'base64',
  );
  const be32 = (n: number): number[] => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  const tiff = [0x4d, 0x4d, 0, 42, ...be32(8), 0, 1, 0x01, 0x12, 0, 3, ...be32(1), 0, 6, 0, 0, ...be32(0)];
  const payload = [...Buffer.from('Exif\0\0', 'latin1'), ...tiff];
  const app1 = [0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 255, ...payload];
  await addPhoto(page, Buffer.concat([Buffer.from([0xff, 0xd8, ...app1]), jpeg.subarray(2)]), 'rotated.jpg', 'image/jpeg');
  await expect(page.getByRole('figure', { name: /rotated\.jpg · 32×64/ })).toBeVisible();
  await waitForPreview(page);
  const at = (x: number, y: number): Promise<number[]> =>
    page.getByTestId('model-input').evaluate((c: HTMLCanvasElement, [px, py]) => [...c.getContext('2d')!.getImageData(px!, py!, 1, 1).data].slice(0, 3), [x, y]);
  // Upright, the old top-left (red) is top-right and the old bottom-left (blue) is top-left.
  const red = await at(310, 146);
  const blue = await at(201, 146);
  expect(red[0]).toBeGreaterThan(200);
  expect(red[2]).toBeLessThan(60);
  expect(blue[2]).toBeGreaterThan(200);
  expect(blue[0]).toBeLessThan(60);
});
