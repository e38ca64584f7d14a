// One place that starts what a test needs: a fresh bucket, a real `s3-prune serve`, and an
// independent view of the bucket through the S3 API.
import { spawn, execFileSync, ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as os from 'node:os';
import * as fs from 'node:fs';
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import { Page, expect } from '@playwright/test';

const root = path.resolve(__dirname, '..', '..');
const built = path.join(root, 'target', 'debug', 's3-prune');

/**
 * The binary as a user installs it: copied alone into an empty directory outside the repo,
 * which is also its working directory, so the dashboard can only come from what is built in.
 */
const lone = fs.mkdtempSync(path.join(os.tmpdir(), 's3p-e2e-'));
const bin = path.join(lone, 's3-prune');
const cwd = path.join(lone, 'empty');
fs.copyFileSync(built, bin);
fs.chmodSync(bin, 0o755);
fs.mkdirSync(cwd);
process.on('exit', () => fs.rmSync(lone, { recursive: true, force: true }));
const cache = process.env.S3P_CACHE || path.join(os.homedir(), '.cache', 's3-prune');
const python = path.join(cache, 'localstack', 'bin', 'python');
const s3tool = path.join(__dirname, '..', 's3tool.py');

let counter = 0;
export function bucketName(hint: string): string {
  counter += 1;
  return `e2e-${hint}-${process.pid}-${counter}-${Date.now().toString(36)}`.slice(0, 63);
}

/** Fills a new bucket with `n` demo deployments spread over ~6 months (meta:deployed-at). */
export function seed(bucket: string, n: number): void {
  execFileSync(bin, ['demo', bucket, '--deployments', String(n), '--localstack'], { stdio: 'pipe' });
}

/** Runs the CLI as a user would (`s3-prune ARGS… --localstack`) with its own audit log; its stdout. */
export function cli(args: string[]): string {
  const env = { ...process.env, S3_PRUNE_AUDIT_DB: path.join(lone, 'cli-audit.sqlite') };
  return execFileSync(bin, [...args, '--localstack'], { stdio: 'pipe', cwd, env }).toString();
}

/**
 * One run of the scheduled job: the binary started as AWS Lambda starts it, against a minimal
 * Runtime API served here that hands it one event (`{}`), with the function's environment
 * (`S3_PRUNE_*`). Resolves to the function's answer; rejects with its error.
 */
export async function lambdaRun(bucket: string, env: Record<string, string>): Promise<any> {
  let events = ['{}'];
  let answer: (a: { ok: boolean; body: string }) => void = () => {};
  const answered = new Promise<{ ok: boolean; body: string }>((r) => { answer = r; });
  const server = http.createServer((req, res) => {
    if (req.url === '/2018-06-01/runtime/invocation/next') {
      const ev = events.shift();
      if (ev === undefined) return; // no second event: the function waits until it is stopped
      res.writeHead(200, {
        'Lambda-Runtime-Aws-Request-Id': 'e2e-1',
        'Lambda-Runtime-Deadline-Ms': String(Date.now() + 600_000),
        'Lambda-Runtime-Invoked-Function-Arn': 'arn:aws:lambda:us-east-1:123456789012:function:s3-prune',
      });
      res.end(ev);
      return;
    }
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      res.writeHead(202);
      res.end();
      answer({ ok: (req.url || '').endsWith('/response'), body });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const child = spawn(bin, [], {
    cwd,
    stdio: 'ignore',
    env: {
      ...process.env,
      AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${port}`,
      AWS_LAMBDA_FUNCTION_NAME: 's3-prune',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      S3_PRUNE_LOCALSTACK: '1',
      S3_PRUNE_BUCKET: bucket,
      ...env,
    },
  });
  try {
    const out = await answered;
    if (!out.ok) throw new Error(`the function failed: ${out.body}`);
    return JSON.parse(out.body);
  } finally {
    events = [];
    child.kill();
    server.close();
  }
}

export function createEmpty(bucket: string): void {
  execFileSync(python, [s3tool, 'create', bucket]);
}

/** A new bucket with versioning enabled (deletes leave delete markers: restorable). */
export function createVersioned(bucket: string): void {
  execFileSync(python, [s3tool, 'versioned', bucket]);
}

/** s3-prune's own bookkeeping, written by every apply and restore: the run journal, approvals, the lease and the last-success notes. */
export function isBookkeeping(key: string): boolean {
  return key.includes('.s3-prune/runs/') || key.includes('.s3-prune/approvals/') || key.endsWith('.s3-prune/lease')
    || key.includes('.s3-prune/last-success-') || key.endsWith('.s3-prune/live-seen.json')
    || key.endsWith('.s3-prune/dates.json') || key.endsWith('.s3-prune/pins.json');
}

/** Every current key of the bucket, s3-prune's journal and lease left out. */
export function keys(bucket: string): string[] {
  const all: string[] = JSON.parse(execFileSync(python, [s3tool, 'keys', bucket]).toString());
  return all.filter((k) => !isBookkeeping(k));
}

export function put(bucket: string, key: string, deployedAt?: string): void {
  execFileSync(python, [s3tool, 'put', bucket, key, ...(deployedAt ? [deployedAt] : [])]);
}

export function putBody(bucket: string, key: string, body: string): void {
  execFileSync(python, [s3tool, 'putbody', bucket, key, body]);
}

/** `n` finished runs in the bucket's journal, one a minute, as another machine's CLI records them. */
export function journalRuns(bucket: string, n: number): void {
  execFileSync(python, [s3tool, 'runs', bucket, String(n)]);
}

export function remove(bucket: string, key: string): void {
  execFileSync(python, [s3tool, 'rm', bucket, key]);
}

export function deploymentsOf(ks: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of ks) {
    const i = k.indexOf('/');
    if (i > 0) m.set(k.slice(0, i), (m.get(k.slice(0, i)) || 0) + 1);
  }
  return m;
}

export interface Server {
  url: string;
  token: string;
  proc: ChildProcess;
  stop: () => void;
  /** `path` with the access token added: the first visit signs the browser in. */
  at: (path: string) => string;
}

/** Starts `s3-prune serve` on a free port for the given buckets. */
/**
 * A dashboard's own audit log, in this test worker's folder (its approval key beside it, shared
 * by the worker's dashboards): never the machine's, whose records — another run's, or one dated
 * by a wrong clock — would show on History before the test's own.
 */
function ownAuditDb(tag: string): string {
  const dir = path.join(os.tmpdir(), `s3p-e2e-${process.pid}`);
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, `audit-${tag.slice(0, 8)}.sqlite`);
}

export async function serve(buckets: string[], env: Record<string, string> = {}, extra: string[] = []): Promise<Server> {
  const token = crypto.randomBytes(24).toString('hex');
  const tokenFile = path.join(os.tmpdir(), `s3p-e2e-token-${process.pid}-${token.slice(0, 8)}`);
  fs.writeFileSync(tokenFile, token, { mode: 0o600 });
  const args = ['serve', '--addr', '127.0.0.1:0', '--localstack', '--date-source', 'meta:deployed-at',
    '--token-file', tokenFile, ...extra];
  for (const b of buckets) args.push('--bucket', b);
  const childEnv: Record<string, string | undefined> = { ...process.env, S3_PRUNE_AUDIT_DB: ownAuditDb(token), ...env };
  delete childEnv.LEPTOS_SITE_ROOT;
  const proc = spawn(bin, args, { cwd, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${err}`)), 20_000);
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = err.match(/dashboard on (http:\/\/[0-9.:]+)\r?\n/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited ${code}: ${err}`)); });
  });
  const at = (p: string) => `${url}${p}${p.includes('?') ? '&' : '?'}token=${token}`;
  return { url, token, proc, stop: () => proc.kill('SIGTERM'), at };
}

/** Collects console errors and page errors; tests assert there are none. */
export function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}

/** Waits until the page is hydrated: `data-ready` is set only by client code. */
export async function ready(page: Page): Promise<void> {
  await expect(page.locator('[data-ready="true"]')).toBeVisible();
}

export const screenshotDir = path.join(__dirname, '..', 'screenshots');

/** A free loopback port (the provider must know the dashboard's callback before both start). */
async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function waitForLine(proc: ChildProcess, stream: 'stdout' | 'stderr', re: RegExp, what: string): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${seen}`)), 20_000);
    proc[stream]!.on('data', (d: Buffer) => {
      seen += d.toString();
      const m = seen.match(re);
      if (m) { clearTimeout(timer); resolve(m); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${what} exited ${code}: ${seen}`)); });
  });
}

export interface TeamServer {
  url: string;
  issuer: string;
  /** What the provider answers: `normal`, `tampered`, `wrong-aud`, `down` or `rotated`. */
  mode: (m: string) => Promise<void>;
  stop: () => void;
}

/**
 * `s3-prune serve` signing people in through a real OpenID Provider (npm `oidc-provider`, see
 * ../oidc-provider.mjs): release-managers are deployers, staff are viewers.
 */
export async function serveTeam(buckets: string[], extra: string[] = []): Promise<TeamServer> {
  // The port is chosen before either process binds it (each must know the other's address):
  // another process may take it meanwhile, and the dashboard then exits at start. Tried anew.
  for (let attempt = 1; ; attempt++) {
    try {
      return await serveTeamOnce(buckets, extra);
    } catch (e) {
      if (attempt >= 3 || !/exited[\s\S]*(address already in use|AddrInUse)/i.test(String(e))) throw e;
    }
  }
}

async function serveTeamOnce(buckets: string[], extra: string[]): Promise<TeamServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const secret = crypto.randomBytes(24).toString('hex');
  const op = spawn(process.execPath, [path.join(__dirname, '..', 'oidc-provider.mjs'), `${url}/auth/callback`, url, secret],
    { cwd: path.join(__dirname, '..'), stdio: ['ignore', 'pipe', 'pipe'] });
  const issuer = (await waitForLine(op, 'stdout', /issuer (http:\/\/[0-9.:]+)\n/, 'the OpenID provider'))[1];
  const secretFile = path.join(os.tmpdir(), `s3p-e2e-oidc-${process.pid}-${port}`);
  fs.writeFileSync(secretFile, secret, { mode: 0o600 });
  const args = ['serve', '--addr', `127.0.0.1:${port}`, '--localstack', '--date-source', 'meta:deployed-at',
    '--oidc-issuer', issuer, '--oidc-client-id', 's3-prune', '--oidc-client-secret-file', secretFile,
    '--role', 'deployer=release-managers', '--role', 'viewer=staff', ...extra];
  for (const b of buckets) args.push('--bucket', b);
  const childEnv: Record<string, string | undefined> = { ...process.env, S3_PRUNE_AUDIT_DB: ownAuditDb(secret) };
  delete childEnv.LEPTOS_SITE_ROOT;
  const proc = spawn(bin, args, { cwd, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await waitForLine(proc, 'stderr', /dashboard on http:\/\/[0-9.:]+\r?\n/, 's3-prune serve');
  } catch (e) {
    op.kill();
    proc.kill();
    fs.rmSync(secretFile, { force: true });
    throw e;
  }
  const mode = async (m: string) => {
    const r = await fetch(`${issuer}/test/mode/${m}`, { method: 'POST' });
    if (!r.ok) throw new Error(`provider mode ${m}: ${r.status}`);
  };
  return { url, issuer, mode, stop: () => { proc.kill('SIGTERM'); op.kill(); fs.rmSync(secretFile, { force: true }); } };
}

/** Signs `who` in on the provider's own login page, starting from `url` on the dashboard. */
export async function signIn(page: Page, url: string, who: string): Promise<void> {
  await page.goto(url);
  await page.locator('input[name="login"]').fill(who);
  await page.locator('input[name="password"]').fill('any password');
  await page.locator('button[type="submit"]').click();
}

/** Calls a server function as the page's signed-in person would (same origin, the session cookie). */
export async function callServerFn(page: Page, name: string, body: unknown): Promise<number> {
  const origin = new URL(page.url()).origin;
  const r = await page.request.post(`${origin}/api/${name}`, { headers: { origin }, data: body });
  return r.status();
}
