// Accessibility: axe-core (WCAG 2.0/2.1 A and AA, and best practice) finds no violation on the
// dashboard, History and the bucket overview. axe is injected as a script, so this test's
// browser context (and only it) bypasses the page's Content-Security-Policy.
import { test, expect, Page } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bucketName, seed, serve, ready, Server } from './harness';

test.use({ bypassCSP: true });

const axeSource = fs.readFileSync(
  path.join(__dirname, '..', 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

let servers: Server[] = [];
test.afterEach(() => { servers.forEach((s) => s.stop()); servers = []; });

async function violations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: axeSource });
  const found = await page.evaluate(async () => {
    // @ts-ignore: injected above
    const r = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    });
    return r.violations.map((v: any) =>
      `${v.id} (${v.impact}): ${v.nodes.length} node(s): ` +
      v.nodes.slice(0, 6).map((n: any) => `${n.target.join(' ')}: ${n.failureSummary}`).join(' | '));
  });
  return found;
}

test('axe-core finds no violation on the dashboard, History and the overview', async ({ page }) => {
  const a = bucketName('a11y-a');
  const b = bucketName('a11y-b');
  seed(a, 12);
  seed(b, 3);
  const s = await serve([a, b]);
  servers.push(s);
  await page.goto(s.at(`/?bucket=${a}`));
  await ready(page);
  expect(await violations(page)).toEqual([]);
  await page.goto(s.at('/history'));
  await expect(page.locator('h1')).toBeVisible();
  expect(await violations(page)).toEqual([]);
  await page.goto(s.at('/'));
  await expect(page.locator('h1')).toBeVisible();
  expect(await violations(page)).toEqual([]);
});
