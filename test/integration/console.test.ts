// The operator console end to end: a real Ferry serving /console, driven in Debian's Chromium
// through playwright-core. Logs in (a wrong key refused, nothing shown), creates an app, mints
// a token, creates a group, uploads a JPEG through "Try it" (cross-origin, so the browser
// preflights the POST) and sees its thumbnail, forwards it; pages whose API this Ferry lacks
// show a "not available" notice, never a broken page. Every page is screenshotted into
// test-artifacts/console/ (git-ignored), every control has a label, 360 px needs no sideways
// scrolling, and the browser logs no error the run did not expect.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestFerry, type TestFerry } from '../helpers/ferry.ts';
import { buildDist } from '../helpers/build.ts';
import { plainImage } from '../helpers/media.ts';
import { consoleRoutes } from '../../src/http/routes/console.ts';
import type { Services } from '../../src/services.ts';
import sharp from 'sharp';

const ARTIFACTS = path.resolve('test-artifacts/console');
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

let f: TestFerry;
let browser: Browser;
let page: Page;
/** the console's own origin: localhost, while Ferry's public URL says 127.0.0.1 */
let consoleUrl: string;
const problems: string[] = [];
/** admin/service paths this Ferry does not have (the parallel branches add them) */
const absent = new Set<string>();

before(async () => {
  buildDist();
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  f = await startTestFerry();
  const port = new URL(f.url).port;
  consoleUrl = `http://localhost:${port}/console/`;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    const url = msg.location().url;
    // The browser logs every refused fetch; these are the answers the run provokes on purpose:
    // the wrong key (401), the app created twice (409) and the calls of APIs this Ferry lacks
    // (404, shown as a notice).
    const status = /^Failed to load resource: the server responded with a status of (\d{3})/.exec(text)?.[1];
    const where = url ? new URL(url).pathname : '';
    const expected =
      ((status === '401' || status === '409') && where === '/admin/apps') || (status === '404' && [...absent].some((p) => where.startsWith(p)));
    if (!expected) problems.push(`console.error: ${text} (${url})`);
  });
});

after(async () => {
  await browser?.close();
  await f?.close();
});

async function shot(name: string) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Every input, select and textarea on the page has a label (or an aria-label). */
async function assertLabelled(where: string) {
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll('input, select, textarea')]
      .filter((el) => (el as HTMLInputElement).labels?.length === 0 && !el.getAttribute('aria-label'))
      .map((el) => el.outerHTML.slice(0, 120)),
  );
  assert.deepEqual(unlabelled, [], `${where}: controls without a label`);
}

async function probeAbsent(method: string, p: string, prefix: string) {
  const res = await fetch(`${f.url}${p}`, { method, headers: { 'x-admin-key': f.adminKey } });
  await res.arrayBuffer();
  if (res.status === 404) {
    const body = await (await fetch(`${f.url}${p}`, { method, headers: { 'x-admin-key': f.adminKey } })).text();
    if (!body.includes('"error"')) absent.add(prefix);
  }
}

test('GET /console: the built page under a strict CSP, no cookie; /console redirects; a missing build says to run npm run build', async () => {
  const res = await fetch(`${f.url}/console/`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
  const csp = res.headers.get('content-security-policy') ?? '';
  for (const part of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'", 'img-src ', 'media-src ', "connect-src 'self'"]) {
    assert.ok(csp.includes(part), `CSP has ${part}: ${csp}`);
  }
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
  assert.match(csp, new RegExp(`connect-src 'self' ${f.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')};`), "Ferry's own public origin beside 'self'");
  assert.match(csp, /img-src 'self' \S+ blob: data:/);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(res.headers.get('set-cookie'), null);
  const html = await res.text();
  assert.doesNotMatch(html, /<script>|<script(?![^>]*\bsrc=)[^>]*>|style=|https?:\/\//, 'no inline script or style, nothing from elsewhere');
  const js = await fetch(`${f.url}/console/app.js`);
  assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.ok(js.headers.get('content-security-policy'));
  assert.ok((await js.text()).length > 1000);
  const css = await fetch(`${f.url}/console/style.css`);
  assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
  await css.arrayBuffer();
  const redirect = await fetch(`${f.url}/console`, { redirect: 'manual' });
  assert.equal(redirect.status, 302);
  assert.equal(redirect.headers.get('location'), '/console/');
  for (const bad of ['/console/..%2fpackage.json', '/console/nope.js', '/console/admin.key']) {
    const r = await fetch(`${f.url}${bad}`);
    assert.equal(r.status, 404, bad);
    await r.arrayBuffer();
  }

  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-console-'));
  const app = Fastify();
  await app.register(consoleRoutes, { services: { urls: { base: 'http://127.0.0.1:1' } } as unknown as Services, dir: path.join(empty, 'console') });
  const missing = await app.inject({ url: '/console/' });
  assert.equal(missing.statusCode, 503);
  assert.match(missing.body, /not built .*run `npm run build`/);
  await app.close();
  fs.rmSync(empty, { recursive: true, force: true });
});

test('the console in Chromium: log in, apps, token, groups, try it, files, usage and health', async () => {
  await probeAbsent('GET', '/admin/apps/console-e2e', '/admin/apps/console-e2e');
  await probeAbsent('GET', '/admin/apps/console-e2e/groups/500/members', '/admin/apps/console-e2e/groups/500/members');
  await probeAbsent('GET', '/admin/apps/console-e2e/files?url=x', '/admin/apps/console-e2e/files');
  await probeAbsent('GET', '/admin/apps/console-e2e/audit', '/admin/apps/console-e2e/audit');
  await probeAbsent('GET', '/admin/apps/console-e2e/usage', '/admin/apps/console-e2e/usage');
  for (const p of ['/readyz', '/metrics']) {
    const r = await fetch(`${f.url}${p}`);
    await r.arrayBuffer();
    if (r.status === 404) absent.add(p);
  }
  // probed before console-e2e exists: a 404 {error: "app … not found"} is not an absent route,
  // so ask again for the app routes once the app is there (below).

  // ── log in: a wrong key is refused with the API's message and shows no data
  await page.goto(consoleUrl);
  await page.getByLabel('Admin key').fill('not-the-key');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('alert').filter({ hasText: 'missing or wrong x-admin-key' }).waitFor();
  assert.equal(await page.getByRole('navigation', { name: 'Pages' }).count(), 0, 'no page behind a wrong key');
  assert.equal(await page.getByRole('heading', { name: 'Apps' }).count(), 0);
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'a refused key is not kept');
  await shot('login-refused');

  // an empty key never leaves the page
  await page.getByLabel('Admin key').fill('');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('alert').filter({ hasText: 'Enter the admin key' }).waitFor();

  await page.getByLabel('Admin key').fill(f.adminKey);
  await page.getByLabel('Admin key').press('Enter');
  await page.getByRole('heading', { name: 'Apps', exact: true }).waitFor();
  const cookies = await page.context().cookies();
  assert.deepEqual(cookies, [], 'no cookie: the key travels in x-admin-key only');
  await assertLabelled('apps');

  // ── create an app: a bad app_id is refused before sending; a good one shows its secret once
  await page.getByLabel('app_id (optional)').fill('bad id!');
  await page.getByRole('button', { name: 'Create app' }).click();
  await page.getByRole('alert').filter({ hasText: 'app_id must be 1–64 letters' }).waitFor();
  assert.equal((await f.admin('GET', '/admin/apps')).body.apps instanceof Array && ((await f.admin('GET', '/admin/apps')).body.apps as unknown[]).length, 0, 'nothing was created');
  await page.getByLabel('app_id (optional)').fill('console-e2e');
  await page.getByRole('button', { name: 'Create app' }).click();
  const secret = await page.getByLabel('Secret of console-e2e').inputValue();
  assert.ok(secret.length >= 32, 'the new secret is shown');
  await page.getByRole('list', { name: 'Apps' }).getByRole('button', { name: 'console-e2e' }).waitFor();
  const listed = await f.admin('GET', '/admin/apps');
  assert.deepEqual((listed.body.apps as { app_id: string }[]).map((a) => a.app_id), ['console-e2e']);
  // the same id again: the API's own message, verbatim
  await page.getByLabel('app_id (optional)').fill('console-e2e');
  await page.getByRole('button', { name: 'Create app' }).click();
  await page.getByRole('alert').filter({ hasText: 'app console-e2e already exists' }).waitFor();

  absent.delete('/admin/apps/console-e2e');
  await probeAbsent('GET', '/admin/apps/console-e2e', '/admin/apps/console-e2e');
  absent.delete('/admin/apps/console-e2e/usage');
  await probeAbsent('GET', '/admin/apps/console-e2e/usage', '/admin/apps/console-e2e/usage');
  absent.delete('/admin/apps/console-e2e/audit');
  await probeAbsent('GET', '/admin/apps/console-e2e/audit', '/admin/apps/console-e2e/audit');
  absent.delete('/admin/apps/console-e2e/files');
  await probeAbsent('GET', '/admin/apps/console-e2e/files?url=x', '/admin/apps/console-e2e/files');
  await page.reload();
  await page.getByRole('heading', { name: 'App console-e2e' }).waitFor();
  if (absent.has('/admin/apps/console-e2e')) {
    await page.getByText('App settings is not available on this Ferry').waitFor();
  } else {
    await page.getByText('Retention (days; 0 keeps)').waitFor();
  }

  // ── mint a token: validated first, then a real token of this app and user
  await page.getByLabel('user_id').fill('abc');
  await page.getByRole('button', { name: 'Mint token' }).click();
  await page.getByRole('alert').filter({ hasText: 'user_id must be a positive whole number' }).waitFor();
  await page.getByLabel('user_id').fill('1001');
  await page.getByRole('button', { name: 'Mint token' }).click();
  const token = await page.getByLabel('Access token').inputValue();
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  assert.equal(claims.app, 'console-e2e');
  assert.equal(claims.sub, '1001');
  await shot('apps');

  // ── readable at 360 px: nothing wider than the screen
  await page.setViewportSize({ width: 360, height: 800 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(overflow <= 360, `the apps page is ${overflow} px wide at a 360 px viewport`);
  await shot('apps-360px');
  await page.setViewportSize({ width: 1280, height: 900 });

  // ── groups: create one, it is listed, found by id; members from the membership API
  await page.getByRole('link', { name: 'Groups' }).click();
  await page.getByRole('heading', { name: 'Groups of console-e2e' }).waitFor();
  await page.getByText('No groups in this app.').waitFor();
  const create = page.getByRole('form', { name: 'Create a group' });
  await create.getByLabel('group_id').fill('500');
  await create.getByLabel('owner user_id').fill('1001');
  await create.getByRole('button', { name: 'Create group' }).click();
  await page.getByRole('list', { name: 'Groups' }).getByRole('button', { name: '500' }).waitFor();
  await page.getByRole('heading', { name: 'Group 500' }).waitFor();
  if (absent.has('/admin/apps/console-e2e/groups/500/members')) {
    await page.getByText('The member list (GET …/members) is not available on this Ferry').waitFor();
  } else {
    await page.getByText('1 member').waitFor();
  }
  const find = page.getByRole('form', { name: 'Find a group' });
  await find.getByLabel('group_id').fill('501');
  await find.getByRole('button', { name: 'Find' }).click();
  await page.getByText('No group 501 in this app.').waitFor();
  await assertLabelled('groups');
  await shot('groups');

  // ── try it: a JPEG from the browser through slot + multipart POST, cross-origin
  await page.getByRole('link', { name: 'Try it' }).click();
  await page.getByRole('heading', { name: 'Try it' }).waitFor();
  const jpeg = await sharp(await plainImage('png', 900, 600)).jpeg().toBuffer();
  await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'photo.jpg', mimeType: 'image/jpeg', buffer: jpeg });
  await page.getByRole('button', { name: 'Upload' }).click();
  const thumb = page.getByRole('img', { name: 'Thumbnail of photo.jpg' });
  await thumb.waitFor();
  await page.waitForFunction(() => {
    const img = document.querySelector('img.preview') as HTMLImageElement | null;
    return img !== null && img.complete && img.naturalWidth > 0;
  });
  const size = await thumb.evaluate((img) => [(img as HTMLImageElement).naturalWidth, (img as HTMLImageElement).naturalHeight]);
  assert.deepEqual(size, [400, 267], 'a real thumbnail (400 px box), decoded by the browser');
  await page.getByText('the browser preflighted the POST and Ferry answered CORS').waitFor();
  const downloadUrl = await page.getByLabel('download_url').inputValue();
  assert.match(downloadUrl, new RegExp(`^${f.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/file/download/chat\\?file_sign=`));
  const original = await fetch(`${downloadUrl}&access-token=${encodeURIComponent(token)}&app_id=console-e2e`);
  assert.equal(original.status, 200);
  assert.deepEqual(Buffer.from(await original.arrayBuffer()), jpeg, 'the bytes the browser sent');

  const fwd = page.getByRole('form', { name: 'Forward it' });
  await fwd.getByRole('button', { name: 'Forward' }).click();
  await page.getByRole('alert').filter({ hasText: 'The target id must be a positive whole number' }).waitFor();
  await fwd.getByLabel('user_id').fill('1003');
  await fwd.getByRole('button', { name: 'Forward' }).click();
  const forwarded = await page.getByLabel('New download_url').inputValue();
  assert.match(forwarded, /\/file\/download\/chat\?file_sign=/);
  assert.notEqual(forwarded, downloadUrl);
  const reader = await f.token('console-e2e', '1003');
  const asReceiver = await fetch(`${forwarded}&access-token=${encodeURIComponent(reader)}&app_id=console-e2e`);
  assert.equal(asReceiver.status, 200, 'the forward reached user 1003');
  await asReceiver.arrayBuffer();
  await assertLabelled('try it');
  await shot('try-it');

  // ── files: the lookup by URL (or the notice, on a Ferry without the files API)
  await page.getByRole('link', { name: 'Files' }).click();
  await page.getByRole('heading', { name: 'Files of console-e2e' }).waitFor();
  await page.getByLabel('download_url, file_sign or object_name').fill(downloadUrl);
  await page.getByRole('button', { name: 'Look up' }).click();
  if (absent.has('/admin/apps/console-e2e/files')) {
    await page.getByText('File lookup is not available on this Ferry').waitFor();
  } else {
    await page.getByRole('heading', { name: 'File record' }).waitFor();
  }
  if (absent.has('/admin/apps/console-e2e/audit')) await page.getByText('The audit log is not available on this Ferry').waitFor();
  await assertLabelled('files');
  await shot('files');

  // ── usage and health
  await page.getByRole('link', { name: 'Usage and health' }).click();
  await page.getByRole('heading', { name: 'Usage and health' }).waitFor();
  if (absent.has('/readyz')) await page.getByText('The readiness check (GET /readyz) is not available on this Ferry').waitFor();
  if (absent.has('/metrics')) await page.getByText('Metrics (GET /metrics) is not available on this Ferry').waitFor();
  if (absent.has('/admin/apps/console-e2e/usage')) await page.getByText('Usage (GET …/usage) is not available on this Ferry').waitFor();
  await assertLabelled('usage and health');
  await shot('usage-health');

  // ── keyboard: the skip link comes first, the page links are reachable by Tab
  await page.keyboard.press('Tab');
  const first = await page.evaluate(() => document.activeElement?.textContent);
  assert.equal(first, 'Skip to content');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Apps', exact: true }).waitFor();

  // ── log out forgets the key
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByLabel('Admin key').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('ferry.console.adminKey')), null);

  assert.deepEqual(problems, [], 'no unexpected console errors or page errors');
});
