import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { addPhoto, expect, makePhoto, openApp, setSlider, test, waitForResult } from './harness';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Runs axe-core on the page as it is and returns the serious and critical violations. */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: AXE });
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: Violation[] }> } }).axe;
    return (await axe.run()).violations;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

test('axe-core finds no serious violations on the main screens', async ({ page }) => {
  await openApp(page);
  expect(await seriousViolations(page), 'start screen').toEqual([]);
  await addPhoto(page, await makePhoto(page, { colour: '#a05050' }));
  await setSlider(page, 'resolution', 64);
  expect(await seriousViolations(page), 'photo loaded').toEqual([]);
  await page.getByTestId('generate').click();
  await expect(page.getByTestId('consent')).toBeVisible();
  expect(await seriousViolations(page), 'consent dialog').toEqual([]);
  await page.getByTestId('consent-accept').click();
  await waitForResult(page);
  await page.getByRole('group').getByText('Model and storage').click();
  expect(await seriousViolations(page), 'result with stats and model panel').toEqual([]);
  await page.getByTestId('tab-text').click();
  expect(await seriousViolations(page), 'text tab').toEqual([]);
});
