// Every screen readable at 1280 and 390 px (issue 25): no button, link, field or select lies
// outside the viewport's width or is clipped by its card, on the dashboard (a versioned bucket
// with an apply on record, so Undo and History have rows), History and the overview.
// Screenshots of each are kept in the test's output for a person to look at.
import { test, expect, Page } from '@playwright/test';
import { bucketName, seed, serve, ready, cli, createVersioned, put, Server } from './harness';

let servers: Server[] = [];
test.afterEach(() => { servers.forEach((s) => s.stop()); servers = []; });

const DAY = 24 * 3600 * 1000;

/** The interactive elements whose box reaches past the viewport's right edge (or left of 0). */
async function offScreen(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const out: string[] = [];
    for (const el of Array.from(document.querySelectorAll('a, button, input, select, textarea, summary'))) {
      const r = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      if (r.width === 0 || r.height === 0 || style.visibility === 'hidden') continue;
      // Past a scrolling container's edge is off-screen too: nobody finds a button by
      // scrolling a table sideways.
      if (r.left < -1 || r.right > width + 1) {
        const name = (el.getAttribute('aria-label') || el.textContent || el.getAttribute('name') || el.id || '').trim().slice(0, 40);
        out.push(`${el.tagName.toLowerCase()} "${name}" at ${Math.round(r.left)}..${Math.round(r.right)} of ${width}`);
      }
    }
    return out;
  });
}

for (const width of [1280, 390]) {
  test(`no control lies off-screen at ${width} px: dashboard, History, overview`, async ({ page }, info) => {
    await page.setViewportSize({ width, height: 900 });
    const a = bucketName('screens-a');
    const b = bucketName('screens-b');
    createVersioned(a);
    for (const [id, days] of [['s1', 40], ['s2', 30], ['s3', 20], ['s4', 10]] as const) {
      put(a, `${id}/index.html`, new Date(Date.now() - days * DAY).toISOString());
    }
    cli(['apply', a, '3', '--yes', '--date-source', 'meta:deployed-at']);
    seed(b, 3);
    const s = await serve([a, b]);
    servers.push(s);
    const screens: [string, string][] = [
      ['dashboard', `/?bucket=${a}`],
      ['history', '/history'],
      ['overview', '/'],
    ];
    for (const [name, url] of screens) {
      await page.goto(s.at(url));
      if (name === 'dashboard') await ready(page); else await expect(page.locator('h1')).toBeVisible();
      await page.screenshot({ path: info.outputPath(`${name}-${width}.png`), fullPage: true });
      expect(await offScreen(page), `${name} at ${width} px`).toEqual([]);
    }
  });
}
