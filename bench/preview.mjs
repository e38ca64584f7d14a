// Times the dashboard's in-browser re-plan + render after a control change, in Debian's
// Chromium: median of 20 changes, for a bucket with N deployments (default 2,000).
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
const rows = await page.locator('tbody tr.row').count();
const times = await page.evaluate(async () => {
  const input = document.querySelector('#retain');
  const out = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    input.value = String(5 + (i % 2 ? 40 : 10) + i);
    input.dispatchEvent(new Event('input', { bubbles: true }));
    // the update is synchronous; the next frame includes style, layout and paint
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    out.push(performance.now() - t0);
  }
  return out;
});
times.sort((a, b) => a - b);
console.log(`preview re-plan + render of ${rows} deployments: median ${times[10].toFixed(1)} ms (min ${times[0].toFixed(1)}, max ${times[19].toFixed(1)})`);
await browser.close();
