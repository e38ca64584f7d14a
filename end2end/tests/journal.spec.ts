// One history for every front end: a run of the CLI (another audit log, another process), a run
// of the scheduled job (the binary under a Lambda Runtime API) and a run of the dashboard on one
// bucket all show on the History page, read from the bucket's journal; the CLI's run is
// restored from the dashboard.
import { test, expect } from '@playwright/test';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  bucketName, cli, createVersioned, journalRuns, lambdaRun, put, putBody, remove, keys, seed, serve, watchConsole, ready, Server,
} from './harness';

let servers: Server[] = [];
test.afterEach(() => { servers.forEach((s) => s.stop()); servers = []; });

const DAY = 86_400_000;

test('History lists the CLI, scheduled-job and dashboard runs of a bucket, and restores the CLI run', async ({ page }) => {
  const bucket = bucketName('journal');
  createVersioned(bucket);
  for (const [id, days] of [['j1', 40], ['j2', 30], ['j3', 20], ['j4', 10], ['j5', 1]] as const) {
    const at = new Date(Date.now() - days * DAY).toISOString();
    put(bucket, `${id}/index.html`, at);
    put(bucket, `${id}/app.js`, at);
  }
  const before = keys(bucket);
  // The CLI deletes j1 (dated by meta:deployed-at, as the dashboard is).
  const applied = JSON.parse(cli(['apply', bucket, '4', '--yes', '--json', '--date-source', 'meta:deployed-at']));
  const cliRun: string = applied.audit.run;
  expect(cliRun).toMatch(/^\d{8}T\d{9}Z-[0-9a-f]{8}$/);
  expect(keys(bucket).some((k) => k.startsWith('j1/'))).toBe(false);
  // The scheduled job keeps 3: it deletes j2.
  const scheduled = await lambdaRun(bucket, { S3_PRUNE_RETAIN: '3', S3_PRUNE_DATE_SOURCE: 'meta:deployed-at' });
  const lambdaRunId: string = scheduled.audit.run;
  expect(keys(bucket).some((k) => k.startsWith('j2/'))).toBe(false);

  const s = await serve([bucket]);
  servers.push(s);
  const errors = watchConsole(page);
  await page.goto(s.at(`/?bucket=${bucket}&retain=2`));
  await ready(page);
  // The bucket page names each front end's last success (issue 28).
  await expect(page.getByTestId('last-success').locator('[data-source="cli"]')).toBeVisible();
  await expect(page.getByTestId('last-success').locator('[data-source="lambda"]')).toBeVisible();
  await page.getByTestId('open-apply').click();
  await page.getByLabel(/Type the bucket name/).fill(bucket);
  await page.getByTestId('confirm-apply').click();
  await expect(page.getByTestId('report')).toContainText('from 1 deployment');

  // Something under runs/ that is no readable run: listed on the page, the rest still shown.
  // (dated a minute ahead: the newest on record, so on the first page however many runs the
  // shared audit log holds)
  const damaged = `${new Date(Date.now() + 60_000).toISOString().replace(/[-:.]/g, '')}-0badcafe`;
  putBody(bucket, `.s3-prune/runs/${damaged}/end.json`, '{not json');
  await page.goto(s.at('/history'));
  const rows = page.locator('tr.run', { hasText: bucket });
  await expect(rows).toHaveCount(3);
  await expect(page.getByTestId('unreadable-runs')).toContainText(`${damaged}: end.json is not a run record`);
  await expect(rows.nth(0)).toContainText('dashboard');
  await expect(page.locator(`tr.run[data-run="${lambdaRunId}"]`)).toContainText('lambda');
  const cliRow = page.locator(`tr.run[data-run="${cliRun}"]`);
  await expect(cliRow).toContainText('cli');
  await expect(cliRow.getByTestId('undo-note')).toHaveText('can be restored');
  // The page carries one line a run; opened, a row fetches its details.
  await cliRow.getByTestId('run-details').locator('summary').click();
  await expect(cliRow.getByTestId('run-details')).toContainText('j1 (2 objects');
  await expect(cliRow.getByTestId('run-details')).toContainText('policy: {');
  await expect(async () => {
    await cliRow.getByRole('button', { name: /Restore run/ }).click({ timeout: 1000 });
    await expect(cliRow.getByTestId('restore-confirm')).toBeVisible({ timeout: 1000 });
  }).toPass();
  await cliRow.getByTestId('restore-confirm').fill(bucket);
  await cliRow.locator('button[type="submit"]').click();
  await expect(page.getByTestId('restore-result')).toContainText('restored 2 objects of 1 deployment');
  await expect(cliRow.getByTestId('undo-note')).toHaveText(/^restored by #\d+$/);
  await expect(rows.first().getByTestId('undo-note')).toHaveText(`restore of ${cliRun}`);
  // j1 is back; j2 and j3, deleted by the scheduled job's and the dashboard's runs, are not.
  expect(keys(bucket)).toEqual(before.filter((k) => !k.startsWith('j2/') && !k.startsWith('j3/')));
  expect(errors).toEqual([]);
});

test('An apply running elsewhere is named before Apply, and Delete waits until its lease ends', async ({ page }) => {
  const bucket = bucketName('lease');
  seed(bucket, 6);
  // Another apply (the CLI on another machine) holds the bucket's lease.
  const now = Date.now();
  const holder = {
    run: '20261204T080000000Z-0badcafe', who: 'alice@laptop', source: 'cli', host: 'laptop',
    since: new Date(now - 60_000).toISOString(), expires: new Date(now + 10 * 60_000).toISOString(), pid: 1,
  };
  putBody(bucket, '.s3-prune/lease', JSON.stringify(holder));
  const s = await serve([bucket]);
  servers.push(s);
  const errors = watchConsole(page);
  await page.goto(s.at(`/?bucket=${bucket}&retain=2`));
  await ready(page);
  const notice = page.getByTestId('lease-holder').first();
  await expect(notice).toContainText('Another apply is running on this bucket: alice@laptop from the CLI on laptop');
  await expect(page.getByTestId('open-apply')).toBeDisabled();
  // Its run ends (the lease is removed): the page looks again and Delete comes back.
  remove(bucket, '.s3-prune/lease');
  await expect(page.getByTestId('lease-holder')).toHaveCount(0, { timeout: 15_000 });
  await expect(page.getByTestId('open-apply')).toBeEnabled();
  expect(errors).toEqual([]);
});

test('History sends a page of runs at a time and fetches older ones when asked', async ({ page }) => {
  const bucket = bucketName('pages');
  seed(bucket, 2);
  journalRuns(bucket, 60);
  // A log of its own: the page shows this bucket's 60 runs and nothing else.
  const log = path.join(os.tmpdir(), `s3p-e2e-pages-${process.pid}-${Date.now()}.sqlite`);
  const s = await serve([bucket], { S3_PRUNE_AUDIT_DB: log });
  servers.push(s);
  const errors = watchConsole(page);
  await page.goto(s.at('/history'));
  const rows = page.locator('tr.run', { hasText: bucket });
  await expect(rows).toHaveCount(50);
  // newest first: the run of a minute ago heads the page
  await expect(rows.first()).toContainText('1 deployment · 2 objects');
  await expect(rows.first().locator('code')).toHaveText('fp59');
  await page.getByTestId('older-runs').click();
  await expect(rows).toHaveCount(60);
  await expect(rows.last().locator('code')).toHaveText('fp0');
  await expect(page.getByTestId('older-runs')).toHaveCount(0);
  // an older page's row opens like any other
  await rows.last().getByTestId('run-details').locator('summary').click();
  await expect(rows.last().getByTestId('run-details')).toContainText('old0 (2 objects');
  expect(errors).toEqual([]);
});
