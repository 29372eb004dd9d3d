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

test('an EXIF-free big photo (6000×4000, opaque) is framed with the background warning', async ({ page }) => {
  await openApp(page);
  await addPhoto(page, await makePhoto(page, { colour: '#d0a030', width: 6000, height: 4000, opaque: true }), 'big.png');
  await expect(page.getByRole('figure', { name: /big\.png · 6000×4000/ })).toBeVisible();
  await expect(page.getByTestId('alpha-warning')).toBeVisible();
  await waitForPreview(page);
});
