import { test, expect } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  bucketName, seed, serve, keys, put, deploymentsOf, watchConsole, ready, createEmpty, screenshotDir, Server,
} from './harness';

// Demo data: deployment i (0 = newest) is about i*6 days old (+0..6 h), 30 of them by default.

let servers: Server[] = [];
test.afterEach(() => { servers.forEach((s) => s.stop()); servers = []; });
async function start(buckets: string[], env: Record<string, string> = {}, extra: string[] = []) {
  const s = await serve(buckets, env, extra);
  servers.push(s);
  return s;
}

test('hydrates and shows every deployment of the bucket', async ({ page }) => {
  const bucket = bucketName('hydrate');
  seed(bucket, 30);
  const s = await start([bucket]);
  const errors = watchConsole(page);
  await page.goto(s.at(`/?bucket=${bucket}`));
  await ready(page);
  await expect(page.locator('tbody tr.row')).toHaveCount(30);
  await expect(page.locator('svg.marks')).toHaveAttribute('data-keep', '5');
  await expect(page.locator('svg.marks')).toHaveAttribute('data-delete', '25');
  await expect(page.getByTestId('bucket-name')).toHaveText(bucket);
  await expect(page.getByTestId('delete-count')).toHaveText('25 deployments');
  // The marks are drawn as paths per verdict (in chunks of 100), one circle each: the newest (kept) one at the
  // right of the first row of lane 0 (viewBox x 976, y 18), the oldest (deleted) one at the
  // left (x 24, y 18 + 2 * 10).
  const marks = page.locator('svg.marks');
  const d = async (verdict: string) => (await marks.locator(`path.mark.${verdict}`).evaluateAll(
    (ps) => ps.map((p) => p.getAttribute('d') ?? '').join('')));
  expect((await d('keep')).match(/M/g)?.length).toBe(5);
  expect((await d('delete')).match(/M/g)?.length).toBe(25);
  expect(await d('pinned')).toBe('');
  expect(await d('keep')).toMatch(/M9[67]\d\.\d 18\.0a/);
  expect(await d('delete')).toMatch(/M(1\d|2[0-2])\.\d 38\.0a/);
  // the pointer and the keys find marks
  const ids = await page.locator('tbody tr.row').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-id')));
  const box = (await marks.boundingBox())!;
  const k = box.width / 1000;
  await page.mouse.move(box.x + 976 * k, box.y + 18 * k);
  await expect(page.getByTestId('mark-detail')).toContainText(`${ids[0]} · `);
  await expect(page.getByTestId('mark-detail')).toContainText('keep: newest 1 of 5');
  await marks.focus();
  await page.keyboard.press('Home');
  await expect(page.getByTestId('mark-detail')).toContainText(`${ids[29]} · `);
  await expect(page.getByTestId('mark-detail')).toContainText('delete: rank 30 > 5');
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('mark-detail')).toContainText(`${ids[28]} · `);
  // hovering a row shows its mark's details too
  await page.locator('tbody tr.row').nth(3).hover();
  await expect(page.getByTestId('mark-detail')).toContainText(`${ids[3]} · `);
  await page.mouse.move(0, 0);
  await marks.blur();
  fs.mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, 'main-1280.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  // let the resized page repaint: a capture right away showed the table box half blank
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(screenshotDir, 'main-390.png'), fullPage: true });
  expect(errors).toEqual([]);
});

test('the binary alone serves a dashboard that hydrates and previews, its wasm compressed and cached', async ({ page }) => {
  const bucket = bucketName('lone');
  seed(bucket, 12);
  const s = await start([bucket]);
  const errors = watchConsole(page);
  const wasm = page.waitForResponse((r) => r.url().endsWith('.wasm'));
  await page.goto(s.at(`/?bucket=${bucket}`));
  const response = await wasm;
  expect(response.url()).toMatch(/\/pkg\/s3-prune-[0-9a-f]{12}_bg\.wasm$/);
  const headers = response.headers();
  expect(['br', 'gzip']).toContain(headers['content-encoding']);
  expect(headers['cache-control']).toBe('public, max-age=31536000, immutable');
  const sizes = await response.request().sizes();
  // the same guard as server/tests/it/serve/setup.rs (286,786 B brotli; issue 25's goal is 350 KB)
  expect(sizes.responseBodySize).toBeLessThan(300_000);
  expect((await response.body()).length).toBeGreaterThan(sizes.responseBodySize);
  await ready(page);
  await expect(page.locator('tbody tr.row')).toHaveCount(12);
  await page.fill('#retain', '4');
  await expect(page.getByTestId('delete-count')).toHaveText('8 deployments');
  // Visits while the scan is cached get the stored page (server/src/pages.rs): its policy
  // allows its inline scripts by hash instead of a nonce, and it still hydrates and previews.
  for (const visit of [1, 2]) {
    const r = await page.goto(s.at(`/?bucket=${bucket}&retain=3`));
    const csp = r!.headers()['content-security-policy'];
    expect(csp, `visit ${visit}`).toMatch(/script-src 'self' 'sha256-[^']+'/);
    expect(csp).not.toContain("'nonce-");
    await ready(page);
    await expect(page.getByTestId('delete-count')).toHaveText('9 deployments');
    await page.fill('#retain', '4');
    await expect(page.getByTestId('delete-count')).toHaveText('8 deployments');
  }
  expect(errors).toEqual([]);
});

test('controls re-plan in the browser without a request, and the URL carries the policy', async ({ page }) => {
  const bucket = bucketName('preview');
  seed(bucket, 30);
  const s = await start([bucket]);
  const errors = watchConsole(page);
  await page.goto(s.at(`/?bucket=${bucket}`));
  await ready(page);
  await expect(page.getByTestId('delete-count')).toHaveText('25 deployments');

  const requests: string[] = [];
  page.on('request', (r) => requests.push(`${r.method()} ${r.url()}`));

  await page.fill('#retain', '10');
  await expect(page.getByTestId('delete-count')).toHaveText('20 deployments');
  await expect(page.locator('tbody tr.row.delete')).toHaveCount(20);
  await expect(page.locator('svg.marks')).toHaveAttribute('data-delete', '20');
  await expect(page.locator('tbody tr.row').nth(9).locator('td.reason')).toHaveText('keep: newest 10 of 10');
  await expect(page.locator('tbody tr.row').nth(10).locator('td.reason')).toHaveText(/^delete: rank 11 > 10$/);

  await page.fill('#days', '63');
  await expect(page.getByTestId('delete-count')).toHaveText('19 deployments');
  await expect(page.locator('svg.marks')).toHaveAttribute('data-delete', '19');
  await expect(page.locator('svg.marks')).toHaveAttribute('data-keep', '11');
  await expect(page.locator('tbody tr.row').nth(10).locator('td.reason')).toHaveText(/^keep: 6\d d old, younger than 63 d$|^keep: 60(\.\d)? d old, younger than 63 d$/);
  await expect(page.locator('tbody tr.row').nth(11).locator('td.reason')).toHaveText(/^delete: rank 12 > 10 and 66(\.\d)? d > 63 d$/);

  // the stepper buttons work too
  await page.getByRole('button', { name: 'Keep one more' }).click();
  await expect(page.locator('#retain')).toHaveValue('11');
  await page.getByRole('button', { name: 'Keep one fewer' }).click();
  await expect(page.locator('#retain')).toHaveValue('10');

  // bad input: clear error, apply disabled
  await page.fill('#retain', '0');
  await expect(page.getByTestId('policy-error')).toContainText('RETAIN must be at least 1');
  await expect(page.getByTestId('open-apply')).toBeDisabled();
  await page.fill('#retain', '10');

  expect(requests).toEqual([]);
  await expect(page).toHaveURL(/retain=10/);
  await expect(page).toHaveURL(/days=63/);

  // the link restores the same preview
  await page.reload();
  await ready(page);
  await expect(page.locator('#retain')).toHaveValue('10');
  await expect(page.locator('#days')).toHaveValue('63');
  await expect(page.getByTestId('delete-count')).toHaveText('19 deployments');
  await expect(page.locator('svg.marks')).toHaveAttribute('data-delete', '19');
  expect(errors).toEqual([]);
});

test('the table sorts by size and by date', async ({ page }) => {
  const bucket = bucketName('sort');
  seed(bucket, 8);
  const s = await start([bucket]);
  await page.goto(s.at(`/?bucket=${bucket}`));
  await ready(page);
  const sizes = async () => page.locator('tbody tr.row td:nth-child(5)').allTextContents();
  const toBytes = (t: string) => { const [v, u] = t.split(' '); return parseFloat(v) * ({ B: 1, KiB: 1024, MiB: 1048576 } as Record<string, number>)[u]; };
  await page.getByRole('button', { name: 'Size' }).click();
  const desc = (await sizes()).map(toBytes);
  expect(desc).toEqual([...desc].sort((a, b) => b - a));
  await page.getByRole('button', { name: 'Size' }).click();
  const asc = (await sizes()).map(toBytes);
  expect(asc).toEqual([...asc].sort((a, b) => a - b));
  await page.getByRole('button', { name: 'Date (UTC)' }).click();
  const dates = await page.locator('tbody tr.row td:nth-child(2)').allTextContents();
  expect(dates).toEqual([...dates].sort().reverse());
});

test('a large bucket renders only the rows in view, and scrolling reaches every one with the current plan', async ({ page }) => {
  const bucket = bucketName('window');
  seed(bucket, 300);
  const s = await start([bucket], {}, ['--max-delete', '1000']);
  const errors = watchConsole(page);
  await page.goto(s.at(`/?bucket=${bucket}&retain=250`));
  await ready(page);
  const table = page.getByRole('region', { name: 'Deployments' });
  await expect(table).toHaveAttribute('data-rows', '300');
  await expect(page.locator('table.deployments')).toHaveAttribute('aria-rowcount', '301');
  await expect(page.locator('svg.marks')).toHaveAttribute('data-keep', '250');
  const rendered = await page.locator('tbody tr.row').count();
  expect(rendered).toBeGreaterThan(10);
  expect(rendered).toBeLessThanOrEqual(80);
  await expect(page.locator('svg.marks')).toHaveAttribute('data-delete', '50');

  const requests: string[] = [];
  page.on('request', (r) => requests.push(`${r.method()} ${r.url()}`));
  // the oldest deployment is not in the DOM until the table is scrolled to it
  await expect(page.locator('tbody tr.row[aria-rowindex="301"]')).toHaveCount(0);
  await table.scrollIntoViewIfNeeded();
  await table.evaluate((el) => { el.scrollTop = el.scrollHeight; });
  const last = page.locator('tbody tr.row[aria-rowindex="301"]');
  await expect(last).toBeInViewport();
  await expect(last.locator('td.reason')).toHaveText('delete: rank 300 > 250');
  // a change while scrolled repaints the rows in view
  await page.fill('#retain', '299');
  await expect(page.getByTestId('delete-count')).toHaveText('1 deployment');
  await expect(last.locator('td.reason')).toHaveText('delete: rank 300 > 299');
  await expect(page.locator('tbody tr.row[aria-rowindex="300"] td.reason')).toHaveText('keep: newest 299 of 299');
  await expect(page.locator('svg.marks')).toHaveAttribute('data-delete', '1');
  // the middle of the table, rendered after the change, shows the new plan too
  await table.evaluate((el) => { el.scrollTop = el.scrollHeight / 2; });
  await expect(page.locator('tbody tr.row[aria-rowindex="151"] td.reason')).toHaveText('keep: newest 150 of 299');
  await expect(page.locator('tbody tr.row[aria-rowindex="151"]')).toBeInViewport();
  // sorting starts again at the top
  await page.getByRole('button', { name: 'Size' }).click();
  await expect(page.locator('tbody tr.row[aria-rowindex="2"]')).toBeInViewport();
  // Tab walks the Pin buttons past the rows first rendered: the window follows the focus
  await page.locator('tbody tr.row[aria-rowindex="2"] td.pin button').focus();
  for (let i = 0; i < 70; i++) {
    await page.keyboard.press('Tab');
    // each Tab lands on the next row's Pin (waited for: a loaded machine renders late)
    await page.waitForFunction((want) => document.activeElement?.closest('tr')?.getAttribute('aria-rowindex') === want, String(i + 3));
  }
  const at = await page.evaluate(() => document.activeElement?.closest('tr')?.getAttribute('aria-rowindex'));
  expect(at).toBe('72');
  await expect(page.locator('tbody tr.row[aria-rowindex="72"]')).toBeInViewport();
  expect(requests).toEqual([]);
  expect(errors).toEqual([]);
});

test('the confirm button stays disabled until the bucket name is typed', async ({ page }) => {
  const bucket = bucketName('dialog');
  seed(bucket, 30);
  const s = await start([bucket]);
  const errors = watchConsole(page);
  await page.goto(s.at(`/?bucket=${bucket}&retain=20`));
  await ready(page);
  await page.getByTestId('open-apply').click();
  const dialog = page.getByRole('dialog');
  await expect(dialog).toBeVisible();
  await expect(dialog.getByTestId('doomed').locator('li')).toHaveCount(10);
  // an unversioned bucket: no undo, as its Undo line says
  await expect(dialog.locator('#confirm-desc')).toContainText('This cannot be undone.');
  await expect(dialog.locator('#confirm-title')).toHaveText(`Delete 10 deployments from ${bucket}?`);
  const confirm = dialog.getByTestId('confirm-apply');
  await expect(confirm).toBeDisabled();
  await dialog.getByLabel(/Type the bucket name/).fill(bucket.slice(0, -1));
  await expect(confirm).toBeDisabled();
  await dialog.getByLabel(/Type the bucket name/).fill(bucket);
  await expect(confirm).toBeEnabled();
  await page.screenshot({ path: path.join(screenshotDir, 'dialog-1280.png') });
  // keyboard: Escape closes it, nothing deleted
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  expect(keys(bucket).length).toBeGreaterThan(30);
  expect(deploymentsOf(keys(bucket)).size).toBe(30);
  expect(errors).toEqual([]);
});

test('the dialog names the prefix served with the bucket, and the bucket name confirms', async ({ page }) => {
  const bucket = bucketName('prefixdlg');
  createEmpty(bucket);
  for (const [id, days] of [['p1', 30], ['p2', 20], ['p3', 10]] as const) {
    put(bucket, `web/${id}/index.html`, new Date(Date.now() - days * 86_400_000).toISOString());
  }
  put(bucket, 'other/index.html');
  const s = await start([`${bucket}/web`]);
  await page.goto(s.at(`/?bucket=${encodeURIComponent(`${bucket}/web/`)}&retain=1`));
  await ready(page);
  await page.getByTestId('open-apply').click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.locator('#confirm-title')).toHaveText(new RegExp(`^Delete 2 deployments from ${bucket}/web/?\\?$`));
  await dialog.getByLabel(/Type the bucket name/).fill(bucket);
  await dialog.getByTestId('confirm-apply').click();
  await expect(page.getByTestId('report')).toContainText('from 2 deployments');
  expect(keys(bucket)).toEqual(['other/index.html', 'web/p3/index.html']);
});

test('apply deletes exactly the previewed deployments and leaves the rest intact', async ({ page }) => {
  const bucket = bucketName('apply');
  seed(bucket, 12);
  const before = deploymentsOf(keys(bucket));
  const s = await start([bucket]);
  const errors = watchConsole(page);
  await page.goto(s.at(`/?bucket=${bucket}&retain=4`));
  await ready(page);
  await expect(page.getByTestId('delete-count')).toHaveText('8 deployments');
  const doomed = await page.locator('tbody tr.row.delete').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')!));
  expect(doomed.length).toBe(8);

  await page.getByTestId('open-apply').click();
  await page.getByLabel(/Type the bucket name/).fill(bucket);
  await page.getByTestId('confirm-apply').click();
  await expect(page.getByTestId('report')).toContainText('from 8 deployments');
  // the view rescans: 4 deployments left
  await expect(page.locator('tbody tr.row')).toHaveCount(4);

  const after = deploymentsOf(keys(bucket));
  for (const id of doomed) expect(after.has(id)).toBe(false);
  for (const [id, n] of before) if (!doomed.includes(id)) expect(after.get(id)).toBe(n);
  expect(after.size).toBe(4);
  expect(keys(bucket)).toContain('robots.txt');
  // the run is on record, on the History page
  await page.goto(`${s.url}/history`);
  const run = page.getByTestId('history').locator('tbody tr').first();
  await expect(run).toContainText(bucket);
  await expect(run).toContainText('8 deployments');
  await expect(run).toContainText('dashboard');
  expect(errors).toEqual([]);
});

test('an apply whose start reply is lost is never called refused: the page says it may have started and where to look', async ({ page }) => {
  const bucket = bucketName('lostreply');
  seed(bucket, 8);
  const s = await start([bucket]);
  await page.goto(s.at(`/?bucket=${bucket}&retain=3`));
  await ready(page);
  await expect(page.getByTestId('delete-count')).toHaveText('5 deployments');
  const doomed = await page.locator('tbody tr.row.delete').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')!));
  // The request reaches the server (which starts the apply); its reply never reaches the page.
  await page.route('**/api/start_apply', async (route) => {
    await route.fetch();
    await route.abort('connectionreset');
  });
  await page.getByTestId('open-apply').click();
  await page.getByLabel(/Type the bucket name/).fill(bucket);
  await page.getByTestId('confirm-apply').click();
  const notice = page.getByRole('alert');
  await expect(notice).toContainText('may have started');
  await expect(notice).toContainText('History');
  await expect(notice).not.toContainText(/refused/i);
  // and it did: the previewed deployments go
  await expect.poll(() => doomed.filter((id) => deploymentsOf(keys(bucket)).has(id)).length, { timeout: 20_000 }).toBe(0);
  expect(deploymentsOf(keys(bucket)).size).toBe(3);
});

test('one lost progress poll does not lose the apply: the page follows it to its report', async ({ page }) => {
  const bucket = bucketName('lostpoll');
  seed(bucket, 8);
  const s = await start([bucket]);
  await page.goto(s.at(`/?bucket=${bucket}&retain=3`));
  await ready(page);
  let aborted = 0;
  await page.route('**/api/apply_status', async (route) => {
    if (aborted++ === 0) return route.abort('connectionreset');
    return route.continue();
  });
  await page.getByTestId('open-apply').click();
  await page.getByLabel(/Type the bucket name/).fill(bucket);
  await page.getByTestId('confirm-apply').click();
  await expect(page.getByTestId('report')).toContainText('from 5 deployments');
  expect(aborted).toBeGreaterThan(1);
  await expect(page.getByRole('alert')).toHaveCount(0);
  await expect(page.locator('tbody tr.row')).toHaveCount(3);
});

test('a deployment uploaded between preview and apply makes apply refuse and delete nothing', async ({ page }) => {
  const bucket = bucketName('race');
  seed(bucket, 8);
  const s = await start([bucket]);
  await page.goto(s.at(`/?bucket=${bucket}&retain=3`));
  await ready(page);
  await expect(page.getByTestId('delete-count')).toHaveText('5 deployments');
  const before = keys(bucket);
  await page.getByTestId('open-apply').click();
  await page.getByLabel(/Type the bucket name/).fill(bucket);
  put(bucket, 'late-deploy/index.html', new Date().toISOString());
  await page.getByTestId('confirm-apply').click();
  await expect(page.getByRole('alert').filter({ hasText: 'changed since it was confirmed' })).toBeVisible();
  await expect(page.getByRole('alert').filter({ hasText: 'nothing was deleted' })).toBeVisible();
  // nothing deleted: every earlier key is still there
  expect(keys(bucket)).toEqual([...before, 'late-deploy/index.html'].sort());
  // and the new preview includes the new deployment
  await expect(page.locator('tbody tr.row')).toHaveCount(9);
  await expect(page.getByTestId('delete-count')).toHaveText('6 deployments');
});

test('an unreachable endpoint shows an error in the page', async ({ page }) => {
  const s = await start(['any-bucket'], { AWS_ENDPOINT_URL: 'http://127.0.0.1:9' });
  await page.goto(s.at(`/`));
  await expect(page.getByTestId('scan-error')).toContainText('cannot reach the S3 endpoint http://127.0.0.1:9');
});

test('a missing bucket, an empty one and one with only loose objects are explained', async ({ page }) => {
  const missing = bucketName('missing');
  const empty = bucketName('empty');
  const loose = bucketName('loose');
  createEmpty(empty);
  createEmpty(loose);
  put(loose, 'robots.txt');
  const s = await start([missing, empty, loose]);
  await page.goto(s.at(`/?bucket=${missing}`));
  await expect(page.getByTestId('scan-error')).toContainText('does not exist');
  await page.goto(s.at(`/?bucket=${empty}`));
  await ready(page);
  await expect(page.getByTestId('empty')).toContainText('No deployments');
  // the picker lists all three
  await expect(page.locator('select option')).toHaveCount(3);
  await page.goto(s.at(`/?bucket=${loose}`));
  await ready(page);
  await expect(page.getByTestId('empty')).toContainText('Only 1 loose object');
});

test('the scheduled job is forecast with the same plan, and can be previewed', async ({ page }) => {
  const bucket = bucketName('forecast');
  seed(bucket, 12);
  const s = await start([bucket], {}, ['--schedule', 'cron(0 3 * * ? *)', '--schedule-retain', '4']);
  await page.goto(s.at(`/?bucket=${bucket}&retain=10`));
  await ready(page);
  await expect(page.getByTestId('forecast')).toContainText('cron(0 3 * * ? *), keep newest 4) would now delete 8 deployments');
  // Seeded over months and never cleaned: behind the scheduled policy (issue 28).
  await expect(page.getByTestId('forecast').getByTestId('overdue')).toContainText('overdue (deletable for more than 2 d): cleanup is behind');
  await expect(page.getByTestId('delete-count')).toHaveText('2 deployments');
  await page.getByRole('button', { name: 'Preview the scheduled policy' }).click();
  await expect(page.locator('#retain')).toHaveValue('4');
  await expect(page.getByTestId('delete-count')).toHaveText('8 deployments');
});

test('an apply answered by the sign-in page is refused, not said to have maybe started', async ({ page, context }) => {
  const bucket = bucketName('signedout');
  seed(bucket, 8);
  const s = await start([bucket]);
  await page.goto(s.at(`/?bucket=${bucket}&retain=3`));
  await ready(page);
  const before = keys(bucket);
  // The session is gone (expired, or the server restarted): the server answers its sign-in page.
  await context.clearCookies();
  await page.getByTestId('open-apply').click();
  await page.getByLabel(/Type the bucket name/).fill(bucket);
  await page.getByTestId('confirm-apply').click();
  // (the page's rescan says the same of the bucket, in an alert of its own)
  const notice = page.getByRole('alert').filter({ hasText: 'Apply' });
  await expect(notice).toContainText('not signed in');
  await expect(notice).toContainText('refused');
  await expect(notice).not.toContainText('may have started');
  await expect(notice).not.toContainText('DOCTYPE');
  expect(keys(bucket)).toEqual(before);
});

test('with --via-lifecycle the dialog names the deployments S3 expiration will take', async ({ page }) => {
  const bucket = bucketName('vialc');
  createEmpty(bucket);
  const day = 86_400_000;
  const folders: [string, number, number][] = [['old-big', 30, 3], ['old-small', 20, 1], ['new', 1, 1]];
  for (const [id, days, files] of folders) {
    for (let k = 0; k < files; k++) put(bucket, `${id}/f${k}.html`, new Date(Date.now() - days * day).toISOString());
  }
  const s = await start([bucket], {}, ['--via-lifecycle', '--lifecycle-threshold', '2']);
  const errors = watchConsole(page);
  await page.goto(s.at(`/?bucket=${bucket}&retain=1`));
  await ready(page);
  await expect(page.getByTestId('delete-count')).toHaveText('2 deployments');
  await page.getByTestId('open-apply').click();
  const doomed = page.getByTestId('doomed').locator('li');
  await expect(doomed.filter({ hasText: 'old-big' })).toContainText('3 objects');
  await expect(doomed.filter({ hasText: 'old-big' })).toContainText('handed to S3 lifecycle expiration');
  await expect(doomed.filter({ hasText: 'old-small' })).not.toContainText('lifecycle');
  expect(errors).toEqual([]);
});

test('a preview left open for hours says so in the Apply dialog', async ({ page }) => {
  const bucket = bucketName('stale');
  seed(bucket, 8);
  const s = await start([bucket]);
  await page.clock.install();
  await page.goto(s.at(`/?bucket=${bucket}&retain=3`));
  await ready(page);
  await page.getByTestId('open-apply').click();
  await expect(page.getByTestId('stale-preview')).toHaveCount(0);
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.clock.fastForward('03:00:00');
  await page.getByTestId('open-apply').click();
  await expect(page.getByTestId('stale-preview')).toContainText('This preview is 3 h old');
});
