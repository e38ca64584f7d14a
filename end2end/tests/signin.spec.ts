// People instead of a shared token: sign-in through a real OpenID Provider (npm oidc-provider,
// its own login page), roles from the groups claim enforced by the server, a bad ID token
// refused, and sign-out ending the session on the server.
import { test, expect, Browser, Page } from '@playwright/test';
import { bucketName, seed, serveTeam, signIn, callServerFn, ready, watchConsole, keys, isBookkeeping, TeamServer } from './harness';

let servers: TeamServer[] = [];
test.afterEach(() => { servers.forEach((s) => s.stop()); servers = []; });

async function personPage(browser: Browser, s: TeamServer, who: string, path: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, `${s.url}${path}`, who);
  await ready(page);
  return page;
}

test('A deployer signs in through the provider and applies; a viewer sees no Delete and the server refuses them', async ({ browser }) => {
  const bucket = bucketName('team');
  seed(bucket, 6);
  const s = await serveTeam([bucket]);
  servers.push(s);

  const alice = await personPage(browser, s, 'alice', `/?bucket=${bucket}&retain=5`);
  const errors = watchConsole(alice);
  await expect(alice.getByTestId('person')).toHaveText('alice@example.com · deployer');
  await alice.getByTestId('open-apply').click();
  await alice.getByLabel(/Type the bucket name/).fill(bucket);
  await alice.getByTestId('confirm-apply').click();
  await expect(alice.getByTestId('report')).toContainText('from 1 deployment');
  // The record names the person, not a token.
  await alice.goto(`${s.url}/history`);
  await expect(alice.locator('tr.run', { hasText: bucket }).first()).toContainText('alice@example.com');
  expect(errors).toEqual([]);

  const victor = await personPage(browser, s, 'victor', `/?bucket=${bucket}&retain=2`);
  await expect(victor.getByTestId('person')).toHaveText('victor@example.com · viewer');
  await expect(victor.getByTestId('delete-count')).toBeVisible();
  await expect(victor.getByTestId('open-apply')).toHaveCount(0);
  // Not only a hidden button: the server refuses what a viewer's role does not allow.
  const before = keys(bucket).length;
  expect(await callServerFn(victor, 'whoami', {})).toBe(200);
  expect(await callServerFn(victor, 'start_apply', {
    request: { bucket, retain: 1, min_days: null, policy: null, confirmed: [] },
  })).toBe(403);
  expect(await callServerFn(victor, 'set_pin', { bucket, id: 'x', reason: 'r', pin: true })).toBe(403);
  expect(await callServerFn(victor, 'scan_bucket', { bucket, rescan: true })).toBe(403);
  expect(keys(bucket).length).toBe(before);

  // An address the provider has not verified names nobody: mallory set alice's on their own
  // account, and is still mallory.
  const mallory = await personPage(browser, s, 'mallory', `/?bucket=${bucket}&retain=2`);
  await expect(mallory.getByTestId('person')).toHaveText('mallory · viewer');

  // No groups claim at all, where `viewer` names groups (--role viewer=staff): not let in.
  const nobody = await browser.newPage();
  await signIn(nobody, `${s.url}/?bucket=${bucket}`, 'nogroups');
  await expect(nobody.locator('h1')).toHaveText('Sign-in failed');
  await expect(nobody.locator('body')).toContainText('nogroups is in no group this dashboard lets in');
  expect(await callServerFn(nobody, 'whoami', {})).toBe(401);
  await nobody.close();
});

test('A tampered ID token, one for another audience and a provider failing mid-sign-in end on a retry page, never in a session', async ({ page }) => {
  const bucket = bucketName('team-bad');
  seed(bucket, 3);
  const s = await serveTeam([bucket]);
  servers.push(s);
  await s.mode('tampered');
  await signIn(page, `${s.url}/?bucket=${bucket}`, 'alice');
  await expect(page.locator('h1')).toHaveText('Sign-in failed');
  await expect(page.locator('body')).toContainText('ID token was refused');
  expect(await callServerFn(page, 'whoami', {})).toBe(401);

  await s.mode('wrong-aud');
  await page.getByRole('link', { name: 'Try again' }).click();
  // The provider remembers alice: no login form this time, straight back with a token.
  await expect(page.locator('h1')).toHaveText('Sign-in failed');
  await expect(page.locator('body')).toContainText(/audience/i);
  expect(await callServerFn(page, 'whoami', {})).toBe(401);

  // The provider fails mid-sign-in (its token endpoint is down): an error page with a retry.
  await s.mode('down');
  await page.getByRole('link', { name: 'Try again' }).click();
  await expect(page.locator('h1')).toHaveText('Sign-in failed');
  await expect(page.locator('body')).toContainText('identity provider refused the sign-in');
  expect(await callServerFn(page, 'whoami', {})).toBe(401);

  await s.mode('normal');
  await page.getByRole('link', { name: 'Try again' }).click();
  await ready(page);
  await expect(page.getByTestId('person')).toHaveText('alice@example.com · deployer');
});

test('After the provider rotates its signing keys people still sign in: the dashboard reads its keys again', async ({ page }) => {
  const bucket = bucketName('team-rotate');
  seed(bucket, 3);
  const s = await serveTeam([bucket]);
  servers.push(s);
  // Discovered at start; now every token is signed by a key published only since.
  await s.mode('rotated');
  await signIn(page, `${s.url}/?bucket=${bucket}`, 'alice');
  await ready(page);
  await expect(page.getByTestId('person')).toHaveText('alice@example.com · deployer');
});

test('Sign-out ends the session on the server, not only in the browser', async ({ page }) => {
  const bucket = bucketName('team-out');
  seed(bucket, 3);
  const s = await serveTeam([bucket]);
  servers.push(s);
  await signIn(page, `${s.url}/?bucket=${bucket}`, 'bob');
  await ready(page);
  await expect(page.getByTestId('person')).toHaveText('bob@example.com · deployer');
  const sid = (await page.context().cookies()).find((c) => c.name === 's3p_session')!.value;
  const asBob = () => fetch(`${s.url}/api/whoami`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: s.url, cookie: `s3p_session=${sid}` },
    body: '{}',
  }).then((r) => r.status);
  expect(await asBob()).toBe(200);
  await page.getByRole('button', { name: 'Sign out' }).click();
  // RP-initiated logout: the provider asks to confirm ending its own session too.
  await page.getByRole('button', { name: /Yes, sign me out/i }).click();
  // Back on the dashboard with no session, which sends the browser to the provider: its login
  // form again (its own session ended too, or it would have signed bob straight back in).
  await expect(page.locator('input[name="login"]')).toBeVisible();
  expect(await asBob()).toBe(401);
});

const deployed = (bucket: string) => keys(bucket).filter((k) => !isBookkeeping(k)).length;

test('A large apply waits for a second deployer, who approves it and it runs; the requester and a viewer cannot', async ({ browser }) => {
  const bucket = bucketName('team-approve');
  seed(bucket, 6);
  const s = await serveTeam([bucket], ['--approval-over', '1']);
  servers.push(s);
  const before = deployed(bucket);

  const alice = await personPage(browser, s, 'alice', `/?bucket=${bucket}&retain=2`);
  await alice.getByTestId('open-apply').click();
  await alice.getByLabel(/Type the bucket name/).fill(bucket);
  await alice.getByTestId('confirm-apply').click();
  await expect(alice.locator('.notice')).toContainText('it needs a second deployer');
  const mine = alice.getByTestId('approval');
  await expect(mine).toContainText('alice@example.com asks to delete 4 deployments');
  await expect(mine).toContainText('Yours: another deployer approves it.');
  await expect(mine.getByTestId('approve')).toBeHidden();
  const id = (await mine.getAttribute('data-id'))!;
  // Not by a direct call either.
  expect(await callServerFn(alice, 'decide_request', { bucket, id, approve: true, confirm: bucket })).not.toBe(200);
  expect(deployed(bucket)).toBe(before);

  const victor = await personPage(browser, s, 'victor', `/?bucket=${bucket}&retain=2`);
  await expect(victor.getByTestId('approval')).toContainText('alice@example.com asks to delete 4 deployments');
  await expect(victor.getByTestId('approve')).toBeHidden();
  expect(await callServerFn(victor, 'decide_request', { bucket, id, approve: true, confirm: bucket })).toBe(403);
  expect(deployed(bucket)).toBe(before);

  const bob = await personPage(browser, s, 'bob', `/?bucket=${bucket}&retain=2`);
  // Bob types the bucket's name, as every apply asks: without it Approve stays disabled, and a
  // direct call without it is refused.
  const request = bob.getByTestId('approval');
  await expect(request.getByTestId('approve')).toBeDisabled();
  expect(await callServerFn(bob, 'decide_request', { bucket, id, approve: true })).not.toBe(200);
  expect(deployed(bucket)).toBe(before);
  await request.getByLabel(/Type the bucket name/).fill(bucket);
  await request.getByTestId('approve').click();
  await expect(bob.getByTestId('report')).toContainText('from 4 deployments');
  await expect(bob.getByTestId('approvals')).toHaveCount(0);
  await bob.goto(`${s.url}/history`);
  await expect(bob.locator('tr.run', { hasText: bucket }).first()).toContainText('alice@example.com (approved by bob@example.com)');
});

test('An approval whose reply is lost is never called undecided: the page says the approved apply may have started', async ({ browser }) => {
  const bucket = bucketName('team-lostdecision');
  seed(bucket, 6);
  const s = await serveTeam([bucket], ['--approval-over', '1']);
  servers.push(s);
  const alice = await personPage(browser, s, 'alice', `/?bucket=${bucket}&retain=2`);
  await alice.getByTestId('open-apply').click();
  await alice.getByLabel(/Type the bucket name/).fill(bucket);
  await alice.getByTestId('confirm-apply').click();
  await expect(alice.locator('.notice')).toContainText('it needs a second deployer');

  const bob = await personPage(browser, s, 'bob', `/?bucket=${bucket}&retain=2`);
  const doomed = await bob.locator('tbody tr.row.delete').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')!));
  expect(doomed.length).toBe(4);
  // Bob's decision reaches the server (which starts the apply); its reply never reaches the page.
  await bob.route('**/api/decide_request', async (route) => {
    await route.fetch();
    await route.abort('connectionreset');
  });
  const request = bob.getByTestId('approval');
  await request.getByLabel(/Type the bucket name/).fill(bucket);
  await request.getByTestId('approve').click();
  const notice = bob.locator('.notice');
  await expect(notice).toContainText('the approved apply may have started');
  await expect(notice).toContainText('History');
  await expect(notice).not.toContainText('Not decided');
  // and it did: the requested deployments go
  await expect.poll(() => doomed.filter((id) => keys(bucket).some((k) => k.startsWith(`${id}/`))).length, { timeout: 20_000 }).toBe(0);
});

test('A bucket can give a group more: a viewer everywhere deploys on the one bucket that says so', async ({ browser }) => {
  const a = bucketName('team-a');
  const b = bucketName('team-b');
  seed(a, 3);
  seed(b, 3);
  const s = await serveTeam([a, b], ['--role', `deployer=staff@${b}`]);
  servers.push(s);
  const victor = await personPage(browser, s, 'victor', `/?bucket=${b}&retain=2`);
  await expect(victor.getByTestId('open-apply')).toBeEnabled();
  expect(await callServerFn(victor, 'set_pin', { bucket: a, id: 'x', reason: 'r', pin: true })).toBe(403);
  await victor.goto(`${s.url}/?bucket=${a}&retain=2`);
  await ready(victor);
  await expect(victor.getByTestId('delete-count')).toBeVisible();
  await expect(victor.getByTestId('open-apply')).toHaveCount(0);
});

test('Visits without a session, however many, do not push out a sign-in in progress', async ({ page }) => {
  const bucket = bucketName('team-flood');
  seed(bucket, 3);
  const s = await serveTeam([bucket]);
  servers.push(s);
  // alice is on the provider's login page; meanwhile anyone who reaches the port sends 10,100
  // visits without a session, each starting a sign-in. Before: each was kept in a table of
  // 10,000, the oldest pushed out, and alice's sign-in failed as "unknown or too old".
  await page.goto(`${s.url}/?bucket=${bucket}`);
  await expect(page.locator('input[name="login"]')).toBeVisible();
  for (let i = 0; i < 101; i++) {
    const answers = await Promise.all(Array.from({ length: 100 }, () => fetch(`${s.url}/`, { redirect: 'manual' })));
    expect(answers.every((a) => a.status === 303)).toBe(true);
  }
  await page.locator('input[name="login"]').fill('alice');
  await page.locator('input[name="password"]').fill('any password');
  await page.locator('button[type="submit"]').click();
  await ready(page);
  await expect(page.getByTestId('person')).toHaveText('alice@example.com · deployer');
});
