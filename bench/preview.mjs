// Times the dashboard's in-browser re-plan + render after a control change, in Debian's
// Chromium: median of 20 changes, for the bucket the URL names. With rules in the URL, the
// change is the second rule's retain (1 ↔ 2), and a figure counts only if the delete count
// on screen already changed.
// usage: node bench/preview.mjs URL_WITH_TOKEN_AND_BUCKET
import { createRequire } from 'node:module';
const require = createRequire(process.env.S3P_NODE_MODULES + '/');
const { chromium } = require('playwright-core');

const url = process.argv[2];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
await page.goto(url);
await page.waitForSelector('[data-ready="true"]', { timeout: 60000 });
const rows = await page.locator('[data-rows]').getAttribute('data-rows');
// Each change is made at the start of a frame (inside requestAnimationFrame), so the time to
// the task after that frame's paint is the work the change costs: the input handler, Leptos's
// effects (microtasks), style, layout and paint, with no idle wait for the next vsync in it.
// ≤ 16.7 ms means the new preview is on screen in the frame the change happened in.
const ruled = url.includes('rules=');
if (process.env.DEBUG) console.log(await page.locator('[data-testid="delete-count"]').textContent(), await page.locator('li.rule').count(), await page.locator('.error').allTextContents());
const times = await page.evaluate(async (ruled) => {
  const input = ruled
    ? document.querySelectorAll('li.rule input[data-field="retain"]')[1]
    : document.querySelector('#retain');
  const count = () => document.querySelector('[data-testid="delete-count"]').textContent;
  const frame = () => new Promise((r) => requestAnimationFrame(r));
  const out = [];
  for (let i = 0; i < 20; i++) {
    await frame();
    const t = await new Promise((resolve) => {
      requestAnimationFrame(() => {
        const t0 = performance.now();
        const before = count();
        input.value = ruled ? String(i % 2 ? 1 : 2) : String(5 + (i % 2 ? 40 : 10) + i);
        input.dispatchEvent(new Event('input', { bubbles: true }));
        setTimeout(() => {
          const dt = performance.now() - t0;
          // the figure counts only if the page already shows the new plan
          const n = Number(document.querySelector('[data-rows]').getAttribute('data-rows'));
          const shown = count();
          const ok = ruled
            ? shown !== before
            : shown.replace(/,/g, '').startsWith(String(Math.max(0, n - Number(input.value))));
          resolve(ok ? dt : NaN);
        }, 0);
      });
    });
    out.push(t);
  }
  return out;
}, ruled);
if (times.some(Number.isNaN)) throw new Error('the page did not show the new plan in the frame of the change');
times.sort((a, b) => a - b);
console.log(`preview re-plan + render of ${rows} deployments${ruled ? ' (3 rules, 200 groups)' : ''}: median ${times[10].toFixed(1)} ms (min ${times[0].toFixed(1)}, max ${times[19].toFixed(1)})`);
await browser.close();
