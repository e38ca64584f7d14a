// Undo from the History page: an apply on a versioned bucket is restored after typing the
// bucket's name, and every deleted key is back (checked through boto3).
import { test, expect } from '@playwright/test';
import {
  bucketName, createVersioned, put, keys, serve, watchConsole, ready, Server,
} from './harness';

let servers: Server[] = [];
test.afterEach(() => { servers.forEach((s) => s.stop()); servers = []; });

const DAY = 86_400_000;

test('a run on a versioned bucket is restored from History, and every key is back', async ({ page }) => {
  const bucket = bucketName('restore');
  createVersioned(bucket);
  for (const [id, days] of [['r1', 30], ['r2', 20], ['r3', 10], ['r4', 1]] as const) {
    const at = new Date(Date.now() - days * DAY).toISOString();
    put(bucket, `${id}/index.html`, at);
    put(bucket, `${id}/app.js`, at);
  }
  const before = keys(bucket);
  const s = await serve([bucket]);
  servers.push(s);
  const errors = watchConsole(page);
  await page.goto(s.at(`/?bucket=${bucket}&retain=2`));
  await ready(page);
  await page.getByTestId('open-apply').click();
  // The dialog says what the Undo line says: this run can be undone.
  await expect(page.locator('#confirm-desc')).toContainText('History can undo it');
  await expect(page.locator('#confirm-desc')).not.toContainText('cannot be undone');
  await page.getByLabel(/Type the bucket name/).fill(bucket);
  await page.getByTestId('confirm-apply').click();
  await expect(page.getByTestId('report')).toContainText('from 2 deployments');
  expect(keys(bucket)).toEqual(before.filter((k) => !k.startsWith('r1/') && !k.startsWith('r2/')));

  await page.goto(s.at('/history'));
  const row = page.locator('tr.run', { hasText: bucket }).first();
  await expect(row.getByTestId('undo-note')).toHaveText('can be restored');
  // hydrated: the button works only once client code runs
  await expect(async () => {
    await row.getByRole('button', { name: /Restore run/ }).click({ timeout: 1000 });
    await expect(row.getByTestId('restore-confirm')).toBeVisible({ timeout: 1000 });
  }).toPass();
  const go = row.locator('button[type="submit"]');
  await expect(go).toBeDisabled();
  await row.getByTestId('restore-confirm').fill('not-the-bucket');
  await expect(go).toBeDisabled();
  await row.getByTestId('restore-confirm').fill(bucket);
  await go.click();
  await expect(page.getByTestId('restore-result')).toContainText('restored 4 objects of 2 deployments');
  await expect(page.getByTestId('restore-result')).toContainText('pinned, so the next run keeps it');
  expect(keys(bucket)).toEqual(before);
  // the restore is on record, and the run says it was restored
  const newest = page.locator('tr.run', { hasText: bucket }).first();
  await expect(newest.getByTestId('undo-note')).toHaveText(/^restore of #\d+$/);
  await expect(page.locator('tr.run', { hasText: bucket }).nth(1).getByTestId('undo-note')).toHaveText(/^restored by #\d+$/);
  expect(errors).toEqual([]);
});
