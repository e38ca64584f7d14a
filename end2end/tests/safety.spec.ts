import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { bucketName, seed, serve, keys, putBody, deploymentsOf, ready, Server } from './harness';

const bin = path.resolve(__dirname, '..', '..', 'target', 'debug', 's3-prune');
let servers: Server[] = [];
test.afterEach(() => { servers.forEach((s) => s.stop()); servers = []; });
async function start(buckets: string[], extra: string[] = []) {
  const s = await serve(buckets, {}, extra);
  servers.push(s);
  return s;
}

test('a visitor without the token sees nothing of the bucket', async ({ page }) => {
  const bucket = bucketName('noauth');
  seed(bucket, 3);
  const s = await start([bucket]);
  const res = await page.goto(`${s.url}/?bucket=${bucket}`);
  expect(res!.status()).toBe(401);
  await expect(page.locator('body')).toContainText('Sign in to s3-prune');
  await expect(page.locator('body')).not.toContainText(bucket);
  const wrong = await page.goto(`${s.url}/?token=not-the-token-at-all`);
  expect(wrong!.status()).toBe(401);
});

test('read-only serves the preview but offers no apply', async ({ page }) => {
  const bucket = bucketName('ro');
  seed(bucket, 6);
  const s = await start([bucket], ['--read-only']);
  await page.goto(s.at(`/?bucket=${bucket}&retain=2`));
  await ready(page);
  await expect(page.getByTestId('read-only')).toBeVisible();
  await expect(page.getByTestId('delete-count')).toHaveText('4 deployments');
  await expect(page.getByTestId('open-apply')).toBeDisabled();
});

test('the blast-radius guard blocks apply in the preview', async ({ page }) => {
  const bucket = bucketName('guard');
  seed(bucket, 12);
  const s = await start([bucket], ['--max-delete', '5']);
  await page.goto(s.at(`/?bucket=${bucket}&retain=2`));
  await ready(page);
  await expect(page.getByTestId('blocked')).toContainText('more than this server lets one apply delete (5)');
  await expect(page.getByTestId('open-apply')).toBeDisabled();
  await page.fill('#retain', '7');
  await expect(page.getByTestId('blocked')).toHaveCount(0);
  await expect(page.getByTestId('open-apply')).toBeEnabled();
});

test('the live deployment is kept, and a pin set in the dashboard is seen by the CLI', async ({ page }) => {
  const bucket = bucketName('live');
  seed(bucket, 6);
  const ids = [...deploymentsOf(keys(bucket)).keys()];
  // the oldest deployment is the live one (say, after a rollback)
  const rows = JSON.parse(execFileSync(bin, ['plan', bucket, '1', '--localstack', '--json', '--date-source', 'meta:deployed-at']).toString());
  const oldest: string = rows.deployments[5].id;
  const secondOldest: string = rows.deployments[4].id;
  expect(ids).toContain(oldest);
  putBody(bucket, 'current', `${oldest}\n`);
  const s = await start([bucket], ['--live-pointer', 'current']);
  await page.goto(s.at(`/?bucket=${bucket}&retain=1`));
  await ready(page);
  await expect(page.locator(`tr[data-id="${oldest}"] td.reason`)).toHaveText('keep: live');
  await expect(page.getByTestId('delete-count')).toHaveText('4 deployments');

  page.once('dialog', (d) => d.accept('audit evidence'));
  await page.getByRole('button', { name: `Pin ${secondOldest}` }).click();
  await expect(page.locator(`tr[data-id="${secondOldest}"] td.reason`)).toHaveText('keep: pinned (audit evidence)');
  await expect(page.getByTestId('delete-count')).toHaveText('3 deployments');

  const cli = JSON.parse(execFileSync(bin, ['plan', bucket, '1', '--localstack', '--json', '--date-source', 'meta:deployed-at', '--live-pointer', 'current']).toString());
  const byId = new Map<string, string>(cli.deployments.map((d: { id: string; reason: string }) => [d.id, d.reason]));
  expect(byId.get(secondOldest)).toBe('keep: pinned (audit evidence)');
  expect(byId.get(oldest)).toBe('keep: live');
  // the pins file is never taken for a deployment
  expect(byId.has('.s3-prune')).toBe(false);
});

test('the previous live deployment is kept for the live grace, and the timeline draws the live spans', async ({ page }) => {
  const bucket = bucketName('grace');
  seed(bucket, 6);
  const planned = (extra: string[]) => JSON.parse(execFileSync(bin, ['plan', bucket, '1', '--localstack', '--json', '--date-source', 'meta:deployed-at', ...extra]).toString());
  const rows = planned([]);
  const newest: string = rows.deployments[0].id;
  const oldest: string = rows.deployments[5].id;
  // A scan sees the oldest live (a rollback); then the pointer moves to the newest.
  putBody(bucket, 'current', `${oldest}\n`);
  planned(['--live-pointer', 'current']);
  putBody(bucket, 'current', `${newest}\n`);
  const s = await start([bucket], ['--live-pointer', 'current']);
  await page.goto(s.at(`/?bucket=${bucket}&retain=1`));
  await ready(page);
  await expect(page.locator(`tr[data-id="${oldest}"] td.reason`)).toContainText('keep: was live until');
  await expect(page.locator('svg.marks line.live-span')).toHaveCount(2);
  await expect(page.locator('svg.marks line.live-span.current')).toHaveCount(1);
});

test('out-of-range and malformed values in the URL get a clear message and no apply', async ({ page }) => {
  const bucket = bucketName('query');
  seed(bucket, 6);
  const s = await start([bucket]);
  const cases: [string, string][] = [
    ['retain=0', 'RETAIN must be at least 1'],
    ['retain=-3', 'RETAIN must be at least 1'],
    ['retain=two', 'RETAIN must be a whole number'],
    ['retain=2&days=-1', 'Minimum age must be a whole number'],
    ['retain=2&days=x', 'Minimum age must be a whole number'],
    ['retain=2&price=abc', 'Price per GB-month must be a number'],
  ];
  for (const [q, msg] of cases) {
    await page.goto(s.at(`/?bucket=${bucket}&${q}`));
    await ready(page);
    await expect(page.getByTestId('policy-error')).toContainText(msg);
    if (!q.includes('price')) await expect(page.getByTestId('open-apply')).toBeDisabled();
  }
  await page.goto(s.at(`/?bucket=${bucket}&retain=1000000000000&days=1000000000`));
  await ready(page);
  await expect(page.getByTestId('delete-count')).toHaveText('0 deployments');
  await page.goto(s.at(`/?bucket=not-configured-bucket`));
  await expect(page.getByTestId('scan-error')).toContainText('is not one this server was started with');
});

test('a typo in the minimum age is refused, not read as no minimum age', async ({ page }) => {
  const bucket = bucketName('daystypo');
  seed(bucket, 6);
  const s = await start([bucket]);
  await page.goto(s.at(`/?bucket=${bucket}&retain=2&days=3650`));
  await ready(page);
  await expect(page.getByTestId('delete-count')).toHaveText('0 deployments');
  // Typed as a person types: "30" then a stray "-". Read as empty (off), every deployment
  // beyond the newest 2 would be previewed for deletion, whatever its age.
  await page.locator('#days').fill('');
  await page.locator('#days').pressSequentially('30-');
  await expect(page.getByTestId('policy-error')).toContainText('Minimum age must be a whole number');
  await expect(page.getByTestId('open-apply')).toBeDisabled();
  await expect(page.getByTestId('delete-count')).not.toHaveText('4 deployments');
});

test('a signed-in visit drops the token from the address bar, and Sign out ends the session', async ({ page }) => {
  const bucket = bucketName('signout');
  seed(bucket, 3);
  const s = await start([bucket]);
  await page.goto(s.at(`/?bucket=${bucket}`));
  await ready(page);
  expect(page.url()).not.toContain('token=');
  // a second visit of the shared link while signed in: redirected to the clean URL
  await page.goto(s.at(`/?bucket=${bucket}&retain=2`));
  await ready(page);
  expect(page.url()).not.toContain('token=');
  expect(page.url()).toContain('retain=2');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Signed out' })).toBeVisible();
  const after = await page.goto(`${s.url}/?bucket=${bucket}`);
  expect(after!.status()).toBe(401);
});
