// The start page with several buckets: one row each with its figures, a missing bucket's error
// in its own row, and each row opening that bucket's dashboard.
import { test, expect } from '@playwright/test';
import { bucketName, seed, createEmpty, serve, watchConsole, ready, Server } from './harness';

let servers: Server[] = [];
test.afterEach(() => { servers.forEach((s) => s.stop()); servers = []; });

test('the start page shows every bucket, a failing one in its own row, and opens each', async ({ page }) => {
  const full = bucketName('ov-full');
  const empty = bucketName('ov-empty');
  const missing = bucketName('ov-missing');
  seed(full, 6);
  createEmpty(empty);
  const s = await serve([full, empty, missing], {}, ['--schedule', 'cron(0 3 * * ? *)', '--schedule-retain', '2']);
  servers.push(s);
  const errors = watchConsole(page);
  await page.goto(s.at('/'));
  const table = page.getByTestId('overview');
  await expect(table.locator('tbody tr')).toHaveCount(3);
  const row = (b: string) => table.locator(`tr[data-bucket="${b}"]`);
  await expect(row(full).locator('[data-col="deployments"]')).toHaveText('6');
  await expect(row(full).locator('[data-col="forecast"]')).toContainText('4 deployments');
  // Seeded months ago and never cleaned: behind its policy, and no run on record (issue 28).
  await expect(row(full).getByTestId('overdue')).toContainText('overdue');
  await expect(row(full).locator('[data-col="success"]')).toHaveText('none on record');
  await expect(row(full).locator('[data-col="undo"]')).toHaveText('no undo: the bucket is not versioned');
  await expect(row(empty).locator('[data-col="deployments"]')).toHaveText('0');
  await expect(row(missing).locator('[data-col="error"]')).toContainText('does not exist');
  await expect(row(missing).locator('[data-col="last"]')).toHaveText('none on record');
  await row(full).getByRole('link', { name: full }).click();
  await ready(page);
  await expect(page.getByTestId('bucket-name')).toHaveText(full);
  expect(errors).toEqual([]);
});
