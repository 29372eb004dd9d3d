import { addPhoto, expect, makePhoto, openApp, setSlider, test, waitForResult } from './harness';
import { seriousViolations } from './axe';

test('axe-core finds no serious violations on the main screens', async ({ page }) => {
  await openApp(page);
  expect(await seriousViolations(page), 'start screen').toEqual([]);
  await addPhoto(page, await makePhoto(page, { colour: '#a05050' }));
  // The mesh itself is not under test here; the smallest grid keeps the one generation short.
  await setSlider(page, 'resolution', 32);
  expect(await seriousViolations(page), 'photo loaded').toEqual([]);
  await page.getByTestId('generate').click();
  await expect(page.getByTestId('consent')).toBeVisible();
  expect(await seriousViolations(page), 'consent dialog').toEqual([]);
  await page.getByTestId('consent-accept').click();
  await waitForResult(page);
  await page.getByRole('group').getByText('Model and storage').click();
  expect(await seriousViolations(page), 'result with stats and model panel').toEqual([]);
  // Tabs follow the WAI-ARIA keyboard pattern: arrows move between them.
  await page.getByRole('tab', { name: 'Photo' }).focus();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByRole('tab', { name: 'Text' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByRole('tab', { name: 'Text' })).toBeFocused();
  expect(await seriousViolations(page), 'text tab').toEqual([]);
});
