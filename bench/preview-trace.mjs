// Where a preview change's time goes (TRACE=1 bench/preview.sh …): 30 changes made as in
// preview.mjs under a Chromium trace, main-thread time per trace event, per change.
import { createRequire } from 'node:module';
const require = createRequire(process.env.S3P_NODE_MODULES + '/');
const { chromium } = require('playwright-core');
const url = process.argv[2];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-dev-shm-usage', ...(process.env.TRACE_GPU ? [] : ['--disable-gpu'])] });
const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, bypassCSP: !!process.env.TRACE_HIDE });
await page.goto(url);
await page.waitForSelector('[data-ready="true"]', { timeout: 60000 });
const ruled = url.includes('rules=');
// TRACE_HIDE='.table-wrap' hides part of the page, to see what its share of a change is.
if (process.env.TRACE_HIDE) await page.addStyleTag({ content: `${process.env.TRACE_HIDE} { display: none !important; }` });
const cdp = await page.context().newCDPSession(page);
const events = [];
cdp.on('Tracing.dataCollected', (d) => events.push(...d.value));
await cdp.send('Profiler.enable');
await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
await cdp.send('Profiler.start');
await cdp.send('Tracing.start', { categories: 'devtools.timeline,disabled-by-default-devtools.timeline', transferMode: 'ReportEvents' });
await page.evaluate(async (ruled) => {
  const input = ruled ? document.querySelectorAll('li.rule input[data-field="retain"]')[1] : document.querySelector('#retain');
  for (let i = 0; i < 30; i++) {
    await new Promise((r) => requestAnimationFrame(r));
    input.value = ruled ? String(i % 2 ? 1 : 2) : String(5 + (i % 2 ? 40 : 10) + i);
    input.dispatchEvent(new Event('input', { bubbles: true }));
    await new Promise((r) => setTimeout(r, 60));
  }
}, ruled);
const { profile } = await cdp.send('Profiler.stop');
const done = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
await cdp.send('Tracing.end');
await done;
const sum = {};
for (const e of events) {
  if (e.ph !== 'X' || !e.dur) continue;
  const k = e.name;
  sum[k] = (sum[k] || 0) + e.dur / 1000;
}
if (process.env.TRACE_PAINTS) {
  for (const e of events.filter((e) => ['Paint', 'Commit', 'Layout'].includes(e.name) && e.dur).slice(-12)) {
    console.log(e.name, (e.dur / 1000).toFixed(2), JSON.stringify(e.args).slice(0, 300));
  }
}
const top = Object.entries(sum).sort((a, b) => b[1] - a[1]).slice(0, 40);
for (const [k, v] of top) console.log(`${k.padEnd(36)} ${(v / 30).toFixed(2)} ms/change`);
// The CPU profile: self time per function (wasm functions carry their names only in a build
// made with `wasm-opt -g`).
const self = {};
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const dt = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i++) {
  const n = byId.get(profile.samples[i]);
  const k = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}`;
  self[k] = (self[k] || 0) + (dt[i] || 0) / 1000;
}
console.log('--- CPU profile, self time per change');
for (const [k, v] of Object.entries(self).sort((a, b) => b[1] - a[1]).slice(0, 25)) {
  console.log(`${k.slice(0, 70).padEnd(72)} ${(v / 30).toFixed(2)} ms`);
}
await browser.close();
