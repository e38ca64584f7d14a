// Rules in the dashboard: edit them in the browser (add a grouped rule, reorder, change retain)
// and see lanes, reasons and counts change with no request; the URL and the downloaded file
// carry them; apply deletes exactly what the preview showed (checked through boto3).
import { test, expect } from '@playwright/test';
import * as fs from 'node:fs';
import {
  bucketName, createEmpty, put, keys, deploymentsOf, serve, watchConsole, ready, Server,
} from './harness';

let servers: Server[] = [];
test.afterEach(() => { servers.forEach((s) => s.stop()); servers = []; });

const DAY = 86_400_000;
/** id -> days ago, each one object with its deploy time in metadata. */
const DEPLOYMENTS: Record<string, number> = {
  'main-1': 40, 'main-2': 30, 'main-3': 20, 'main-4': 1,
  'pr-7-a': 20, 'pr-7-b': 10, 'pr-7-c': 2, 'pr-8-a': 15, hotfix: 90,
};

function seedRules(bucket: string) {
  createEmpty(bucket);
  for (const [id, days] of Object.entries(DEPLOYMENTS)) {
    put(bucket, `${id}/index.html`, new Date(Date.now() - days * DAY).toISOString());
  }
}

const reason = (page: import('@playwright/test').Page, id: string) =>
  page.locator(`tbody tr.row[data-id="${id}"] td[data-col="reason"]`);

async function setField(page: import('@playwright/test').Page, rule: number, field: string, value: string) {
  await page.locator(`li.rule >> nth=${rule - 1}`).locator(`input[data-field="${field}"]`).fill(value);
}

test('rules edited in the browser re-plan per group with no request, and apply deletes exactly that', async ({ page }) => {
  const bucket = bucketName('rules');
  seedRules(bucket);
  const before = deploymentsOf(keys(bucket));
  const s = await serve([bucket]);
  servers.push(s);
  const errors = watchConsole(page);
  await page.goto(s.at(`/?bucket=${bucket}&retain=5`));
  await ready(page);
  await expect(page.locator('tbody tr.row')).toHaveCount(9);

  const requests: string[] = [];
  page.on('request', (r) => requests.push(`${r.method()} ${r.url()}`));

  // one rule that says what the simple controls said, then made specific
  await page.getByTestId('mode-rules').check();
  await expect(page.locator('li.rule')).toHaveCount(1);
  await setField(page, 1, 'name', 'production');
  await setField(page, 1, 'match', 'main-*');
  await setField(page, 1, 'retain', '2');
  await page.getByTestId('add-rule').click();
  // typed key by key, as a person types: the editor keeps its focus and every character
  const name2 = page.locator('li.rule >> nth=1').locator('input[data-field="name"]');
  await name2.fill('');
  await name2.pressSequentially('previews');
  await expect(name2).toHaveValue('previews');
  await expect(name2).toBeFocused();
  await setField(page, 2, 'match', 'pr-*');
  await setField(page, 2, 'group', '^(pr-\\d+)-');
  await setField(page, 2, 'retain', '1');

  await expect(page.getByTestId('delete-count')).toHaveText('4 deployments');
  await expect(reason(page, 'main-2')).toHaveText('delete: rank 3 > 2 (production)');
  await expect(reason(page, 'main-3')).toHaveText('keep: newest 2 of 2 (production)');
  await expect(reason(page, 'pr-7-a')).toHaveText('delete: rank 3 > 1 in pr-7 (previews)');
  await expect(reason(page, 'pr-8-a')).toHaveText('keep: newest 1 of 1 in pr-8 (previews)');
  await expect(reason(page, 'hotfix')).toHaveText('keep: no rule matches');
  await expect(page.locator('tbody tr.row[data-id="pr-7-a"] td[data-col="group"]')).toHaveText('pr-7');
  await expect(page.locator('tbody tr.row[data-id="main-1"] td[data-col="rule"]')).toHaveText('production');
  // one lane per rule, split per group for a rule with a few groups, and one for what no
  // rule decides
  await expect(page.locator('svg.marks g.lane')).toHaveCount(4);
  await expect(page.locator('svg.marks text.lane-label')).toHaveText(
    ['production', 'previews · pr-7', 'previews · pr-8', 'no rule, pinned, excluded']);
  // each deployment is in its lane: hovering its row names the lane in the mark's details
  const laneOf = async (id: string) => {
    const row = page.locator(`tbody tr.row[data-id="${id}"]`);
    await row.hover();
    const detail = (await page.getByTestId('mark-detail').textContent())!;
    return detail.slice(detail.indexOf(' · lane: ') + ' · lane: '.length);
  };
  expect(await laneOf('main-1')).toBe('production');
  expect(await laneOf('pr-7-a')).toBe('previews · pr-7');
  expect(await laneOf('pr-7-c')).toBe('previews · pr-7');
  expect(await laneOf('pr-8-a')).toBe('previews · pr-8');
  expect(await laneOf('hotfix')).toBe('no rule, pinned, excluded');
  // and every lane has marks drawn in its band (40 viewBox units each, from 8)
  const bands = new Set<number>();
  for (const path of await page.locator('svg.marks path.mark').all()) {
    for (const m of ((await path.getAttribute('d')) ?? '').matchAll(/M[\d.]+ ([\d.]+)a/g)) {
      bands.add(Math.floor((Number(m[1]) - 8) / 40));
    }
  }
  expect([...bands].sort()).toEqual([0, 1, 2, 3]);
  await expect(page.getByTestId('per-rule').locator('tr[data-rule="previews"] td[data-col="delete"]')).toHaveText('2');

  // a catch-all rule: order decides (the first matching rule wins)
  await page.getByTestId('add-rule').click();
  await setField(page, 3, 'name', 'rest');
  await setField(page, 3, 'retain', '1');
  await expect(reason(page, 'hotfix')).toHaveText('keep: newest 1 of 1 (rest)');
  await page.getByRole('button', { name: 'Move rule 3 up' }).click();
  await page.getByRole('button', { name: 'Move rule 2 up' }).click();

  await expect(page.locator('li.rule input[data-field="name"]').first()).toHaveValue('rest');
  await expect(page.getByTestId('delete-count')).toHaveText('8 deployments');
  await page.getByRole('button', { name: 'Move rule 1 down' }).click();
  await page.getByRole('button', { name: 'Move rule 2 down' }).click();
  await expect(page.getByTestId('delete-count')).toHaveText('4 deployments');

  // keep two previews per group
  await setField(page, 2, 'retain', '2');
  await expect(reason(page, 'pr-7-b')).toHaveText('keep: newest 2 of 2 in pr-7 (previews)');
  await expect(page.getByTestId('delete-count')).toHaveText('3 deployments');

  // a bad group pattern is explained, and nothing can be applied
  await setField(page, 2, 'group', '^pr-\\d+');
  await expect(page.getByTestId('policy-error')).toContainText('Rule 2: ');
  await expect(page.getByTestId('open-apply')).toBeDisabled();
  await setField(page, 2, 'group', '^(pr-\\d+)-');

  // the filter narrows the table to a rule or a group
  await page.getByTestId('filter').fill('pr-7');
  await expect(page.locator('tbody tr.row')).toHaveCount(3);
  await page.getByTestId('filter').fill('');
  await expect(page.locator('tbody tr.row')).toHaveCount(9);

  expect(requests, 'editing rules makes no request').toEqual([]);

  // the URL carries the rules: the link shows the same preview
  // (the URL follows the controls 150 ms after the last change)
  await expect.poll(() => decodeURIComponent(page.url())).toContain('-,2,;rest,*,,1,');
  const link = page.url();
  const other = await page.context().newPage();
  await other.goto(link);
  await ready(other);
  await expect(other.getByTestId('delete-count')).toHaveText('3 deployments');
  await expect(other.locator('li.rule')).toHaveCount(3);
  await expect(reason(other, 'pr-7-a')).toHaveText('delete: rank 3 > 2 in pr-7 (previews)');
  await other.close();

  // the rules as a policy file
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-policy').click()]);
  expect(download.suggestedFilename()).toBe('policy.toml');
  const text = fs.readFileSync((await download.path())!, 'utf8');
  expect(text).toContain("name = 'previews'");
  expect(text).toContain("group = '^(pr-\\d+)-'");
  expect(text).toContain('retain = 2');

  const doomed = await page.locator('tbody tr.row.delete').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')!));
  expect(doomed.sort()).toEqual(['main-1', 'main-2', 'pr-7-a']);
  await page.getByTestId('open-apply').click();
  await page.getByLabel(/Type the bucket name/).fill(bucket);
  await page.getByTestId('confirm-apply').click();
  await expect(page.getByTestId('report')).toContainText('from 3 deployments');
  const after = deploymentsOf(keys(bucket));
  for (const id of doomed) expect(after.has(id)).toBe(false);
  for (const [id, n] of before) if (!doomed.includes(id)) expect(after.get(id)).toBe(n);
  expect(errors).toEqual([]);
});

test('a policy file loads into the editor, a bad one is explained, and serve --policy starts with it', async ({ page }) => {
  const bucket = bucketName('rulefile');
  seedRules(bucket);
  const dir = fs.mkdtempSync('/tmp/s3p-e2e-policy-');
  const file = `${dir}/policy.toml`;
  fs.writeFileSync(file, "[[rule]]\nname = 'previews'\nmatch = 'pr-*'\ngroup = '^(pr-\\d+)-'\nretain = 1\n");
  const s = await serve([bucket], {}, ['--policy', file]);
  servers.push(s);
  const errors = watchConsole(page);
  await page.goto(s.at(`/?bucket=${bucket}`));
  await ready(page);
  await expect(page.locator('li.rule')).toHaveCount(1);
  await expect(page.getByTestId('delete-count')).toHaveText('2 deployments');
  await expect(reason(page, 'main-1')).toHaveText('keep: no rule matches');

  await page.getByTestId('load-policy').setInputFiles({
    name: 'policy.toml', mimeType: 'text/plain',
    buffer: Buffer.from("[[rule]]\nname = 'all'\nmatch = '*'\nretain = 3\n"),
  });
  await expect(page.locator('li.rule input[data-field="name"]')).toHaveValue('all');
  await expect(page.getByTestId('delete-count')).toHaveText('6 deployments');

  await page.getByTestId('load-policy').setInputFiles({
    name: 'bad.toml', mimeType: 'text/plain',
    buffer: Buffer.from("[[rule]]\nname = 'all'\nmatch = '*'\nretain = 0\n"),
  });
  await expect(page.getByRole('alert').filter({ hasText: 'line 4' })).toContainText('rule[1].retain');
  // the rules in the editor are unchanged
  await expect(page.getByTestId('delete-count')).toHaveText('6 deployments');
  expect(errors).toEqual([]);
});

test('a rules link whose pattern has commas and braces opens with that pattern', async ({ page }) => {
  const bucket = bucketName('rulelink');
  seedRules(bucket);
  const s = await serve([bucket]);
  servers.push(s);
  const errors = watchConsole(page);
  // as the page writes it: each field percent-encoded, then the whole value once more
  const field = (f: string) => f.replace(/[^A-Za-z0-9\-_.*?^$()[\]\\]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  const rules = ['previews', 'pr-*', '^(pr-\\d{1,3})-', '1', ''].map(field).join(',');
  await page.goto(s.at(`/?bucket=${bucket}&rules=${encodeURIComponent(rules)}`));
  await ready(page);
  await expect(page.locator('li.rule')).toHaveCount(1);
  await expect(page.locator('li.rule input[data-field="group"]')).toHaveValue('^(pr-\\d{1,3})-');
  await expect(reason(page, 'pr-7-a')).toHaveText('delete: rank 3 > 1 in pr-7 (previews)');
  await expect(page.getByTestId('delete-count')).toHaveText('2 deployments');
  expect(errors).toEqual([]);
});
