// The operator console end to end: a real Ferry (downloads answered by a 302 to its own
// /file/blob/… URLs, FERRY_DOWNLOAD=redirect) serving /console, driven in Debian's Chromium
// through playwright-core. Logs in (a wrong key refused, nothing shown, also when kept in the
// tab), creates an app, changes its settings (persisted, read back from the API), rotates the
// secret (shown once; the old one works in the grace), mints a token, imports members into a
// group (paged), dissolves it, uploads a JPEG through "Try it" (cross-origin, so the browser
// preflights the POST) and sees its thumbnail, forwards it, finds the file by its URL, deletes
// it (its download refused with 60050), quarantines and releases another (60051, then served
// again), and reads readiness and a moving chart. One failing action per page shows the API's
// message verbatim and leaves the page as it was. Every page is screenshotted into
// test-artifacts/console/ (git-ignored), at 1280 and 360 px; every control has a label, 360 px
// needs no sideways scrolling, and the browser logs no error but the ones listed in EXPECTED.
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
import { accessToken, uploadChat } from '../helpers/jwt.ts';
import { withCreds, type Creds } from '../helpers/client.ts';
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

/**
 * The refusals this run provokes on purpose, each logged by Chromium as "Failed to load
 * resource": [status, path]. Anything else the browser logs is a failure.
 */
const EXPECTED: [string, string][] = [
  ['401', '/admin/apps'], // a wrong key, typed and kept in the tab
  ['409', '/admin/apps'], // the same app created twice
  ['400', '/admin/apps/console-e2e'], // a membership_url the API refuses
  ['400', '/admin/apps/console-e2e/groups/500/members'], // a member file the API refuses
  ['404', '/admin/apps/console-e2e/files'], // looking up a name that is no file
];

before(async () => {
  buildDist();
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  f = await startTestFerry({ FERRY_DOWNLOAD: 'redirect' });
  const port = new URL(f.url).port;
  consoleUrl = `http://localhost:${port}/console/`;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    const url = msg.location().url;
    const status = /^Failed to load resource: the server responded with a status of (\d{3})/.exec(text)?.[1];
    const where = url ? new URL(url).pathname : '';
    if (!EXPECTED.some(([s, p]) => s === status && p === where)) problems.push(`console.error: ${text} (${url})`);
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

/** A download as a client makes it (a 302 to /file/blob/… is followed): bytes, or the envelope's code. */
async function read(downloadUrl: string, creds: Creds): Promise<{ code: number; bytes?: Buffer }> {
  const res = await fetch(withCreds(downloadUrl, creds));
  const bytes = Buffer.from(await res.arrayBuffer());
  if (res.headers.get('content-type')?.startsWith('application/json')) return { code: (JSON.parse(bytes.toString('utf8')) as { code: number }).code };
  assert.equal(res.status, 200);
  return { code: 200, bytes };
}

/** An image element has loaded and decoded: its natural size. */
async function loaded(name: string): Promise<[number, number]> {
  const img = page.getByRole('img', { name });
  await img.waitFor();
  await page.waitForFunction((alt) => {
    const el = [...document.querySelectorAll('img')].find((i) => i.alt === alt);
    return el !== undefined && el.complete && el.naturalWidth > 0;
  }, name);
  return img.evaluate((el) => [(el as HTMLImageElement).naturalWidth, (el as HTMLImageElement).naturalHeight] as [number, number]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

const APP = 'console-e2e';
/** what the run learns on one page and uses on the next */
let secret = '';
let token = '';
let downloadUrl = '';
let forwarded = '';
let second = '';
const jpeg = sharp(await plainImage('png', 900, 600)).jpeg().toBuffer();
const otherJpeg = sharp(await plainImage('png', 640, 480)).jpeg({ quality: 70 }).toBuffer();

test('log in: a wrong key is refused and shows no data, typed or kept in the tab; the right key opens the console', async () => {
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

  // a wrong key left in the tab's storage is checked again and dropped: the login form, no data
  await page.evaluate(() => sessionStorage.setItem('ferry.console.adminKey', 'stale-key'));
  await page.reload();
  await page.getByLabel('Admin key').waitFor();
  assert.equal(await page.getByRole('navigation', { name: 'Pages' }).count(), 0);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('ferry.console.adminKey')), null);

  await page.getByLabel('Admin key').fill(f.adminKey);
  await page.getByLabel('Admin key').press('Enter');
  await page.getByRole('heading', { name: 'Apps', exact: true }).waitFor();
  assert.deepEqual(await page.context().cookies(), [], 'no cookie: the key travels in x-admin-key only');
  await assertLabelled('apps');
});

test('apps: create (secret shown once), settings changed and persisted, a refused setting leaves them as they were, token, rotation', async () => {
  // a bad app_id is refused before sending
  await page.getByLabel('app_id (optional)').fill('bad id!');
  await page.getByRole('button', { name: 'Create app' }).click();
  await page.getByRole('alert').filter({ hasText: 'app_id must be 1–64 letters' }).waitFor();
  assert.deepEqual((await f.admin('GET', '/admin/apps')).body.apps, [], 'nothing was created');
  await page.getByLabel('app_id (optional)').fill(APP);
  await page.getByRole('button', { name: 'Create app' }).click();
  secret = await page.getByLabel(`Secret of ${APP}`).inputValue();
  assert.ok(secret.length >= 32, 'the new secret is shown');
  await page.getByRole('list', { name: 'Apps' }).getByRole('button', { name: APP }).waitFor();
  assert.deepEqual(((await f.admin('GET', '/admin/apps')).body.apps as { app_id: string }[]).map((a) => a.app_id), [APP]);
  // the same id again: the API's own message, verbatim (failing action of this page)
  await page.getByLabel('app_id (optional)').fill(APP);
  await page.getByRole('button', { name: 'Create app' }).click();
  await page.getByRole('alert').filter({ hasText: `app ${APP} already exists` }).waitFor();

  // ── settings: retention per kind, quotas, membership URL
  await page.getByRole('heading', { name: `App ${APP}` }).waitFor();
  await page.getByText('Retention (days; 0 keeps)').waitFor();
  const form = page.getByRole('form', { name: 'Change settings' });
  await form.getByLabel('image').fill('abc');
  await form.getByRole('button', { name: 'Save settings' }).click();
  await page.getByRole('alert').filter({ hasText: 'Retention for image must be a whole number of days' }).waitFor();
  await form.getByLabel('image').fill('30');
  await form.getByLabel('voice').fill('7');
  await form.getByLabel('App quota (bytes, empty for none)').fill('50000000');
  await form.getByLabel('Per user per day (bytes, empty for none)').fill('20000000');
  await form.getByLabel('Membership URL (empty for none)').fill('https://im.example.com/ferry/members');
  await form.getByRole('button', { name: 'Save settings' }).click();
  await form.getByText('Saved.').waitFor();
  const want = { retention_days: { image: 30, voice: 7 }, quota: { app_bytes: 50000000, user_daily_bytes: 20000000 }, membership_url: 'https://im.example.com/ferry/members' };
  assert.deepEqual((await f.admin('GET', `/admin/apps/${APP}`)).body.settings, want, 'persisted: the API answers what the page sent');
  await page.getByText('image 30, video 0').waitFor();
  // a URL the API refuses (a query string): its message verbatim, nothing changed anywhere
  await form.getByLabel('Membership URL (empty for none)').fill('https://im.example.com/members?x=1');
  await form.getByRole('button', { name: 'Save settings' }).click();
  await form.getByRole('alert').filter({ hasText: 'membership_url must not carry a query or fragment: Ferry adds app_id, group_id and user_id' }).waitFor();
  assert.deepEqual((await f.admin('GET', `/admin/apps/${APP}`)).body.settings, want);
  await page.getByRole('definition').filter({ hasText: 'https://im.example.com/ferry/members' }).waitFor();
  // clear the membership URL again (uploads to groups would otherwise ask that host)
  await form.getByLabel('Membership URL (empty for none)').fill('');
  await form.getByRole('button', { name: 'Save settings' }).click();
  await form.getByText('Saved.').waitFor();
  assert.equal((await f.admin('GET', `/admin/apps/${APP}`)).body.settings && ((await f.admin('GET', `/admin/apps/${APP}`)).body.settings as Record<string, unknown>).membership_url, undefined);

  // ── mint a token: validated first, then a real token of this app and user
  const mint = page.getByRole('form', { name: 'Mint a token for testing' });
  await mint.getByLabel('user_id').fill('abc');
  await mint.getByRole('button', { name: 'Mint token' }).click();
  await page.getByRole('alert').filter({ hasText: 'user_id must be a positive whole number' }).waitFor();
  await mint.getByLabel('user_id').fill('1001');
  await mint.getByRole('button', { name: 'Mint token' }).click();
  token = await page.getByLabel('Access token').inputValue();
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  assert.equal(claims.app, APP);
  assert.equal(claims.sub, '1001');
  await shot('apps');

  // ── rotate the secret: the grace is checked, the new secret shown once, the old one still works
  await page.getByLabel('Grace for the old secret (seconds)').fill('31 days');
  await page.getByRole('button', { name: 'Rotate secret' }).click();
  await page.getByRole('button', { name: 'Yes, rotate' }).click();
  await page.getByRole('alert').filter({ hasText: 'The grace period must be a whole number of seconds' }).waitFor();
  assert.equal(await page.getByLabel('New secret').count(), 0);
  await page.getByLabel('Grace for the old secret (seconds)').fill('600');
  await page.getByRole('button', { name: 'Rotate secret' }).click();
  await page.getByRole('button', { name: 'Yes, rotate' }).click();
  const rotated = await page.getByLabel('New secret').inputValue();
  assert.ok(rotated.length >= 32 && rotated !== secret);
  await page.getByText(/The old secret works until \d{4}-/).waitFor();
  await shot('apps-rotated');
  // the IM server still signs with the old secret for a while: it works, and so does the new one
  const oldCreds: Creds = { appId: APP, token: accessToken(secret, { app: APP, sub: '1002' }) };
  second = await uploadChat(f.url, oldCreds, { to_id: '1001', file_type: 102 }, await otherJpeg);
  const newCreds: Creds = { appId: APP, token: accessToken(rotated, { app: APP, sub: '1002' }) };
  assert.equal((await read(second, newCreds)).code, 200);
  // shown once: after leaving the page and coming back it is gone
  await page.getByRole('link', { name: 'Groups' }).click();
  await page.getByRole('link', { name: 'Apps' }).click();
  await page.getByRole('heading', { name: `App ${APP}` }).waitFor();
  assert.equal(await page.getByLabel('New secret').count(), 0, 'the new secret is not shown again');
});

test('groups: create, import members from a file (paged), a refused import changes nothing, history, find, dissolve', async () => {
  await page.getByRole('link', { name: 'Groups' }).click();
  await page.getByRole('heading', { name: `Groups of ${APP}` }).waitFor();
  await page.getByText('No groups in this app.').waitFor();
  const create = page.getByRole('form', { name: 'Create a group' });
  await create.getByLabel('group_id').fill('500');
  await create.getByLabel('owner user_id').fill('1001');
  await create.getByRole('button', { name: 'Create group' }).click();
  await page.getByRole('list', { name: 'Groups' }).getByRole('button', { name: '500' }).waitFor();
  await page.getByRole('heading', { name: 'Group 500' }).waitFor();
  await page.getByText('1 member', { exact: true }).waitFor();

  // import 120 members from a CSV: the page shows them 50 at a time
  const rows = ['user_id,role,joined_at', '1001,owner,', ...Array.from({ length: 119 }, (_, i) => `${2000 + i},member,${Date.now() - 86_400_000}`)];
  const importer = page.getByRole('form', { name: 'Import members' });
  // a bad line is named, and nothing is sent
  await importer.getByLabel('Member file').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('user_id\n1001\nalice\n') });
  await importer.getByRole('button', { name: 'Check file' }).click();
  await importer.getByRole('alert').filter({ hasText: 'bad.csv: line 3: user_id must be a positive whole number. Nothing was sent.' }).waitFor();
  await importer.getByLabel('Member file').setInputFiles({ name: 'members.csv', mimeType: 'text/csv', buffer: Buffer.from(rows.join('\n')) });
  await importer.getByRole('button', { name: 'Check file' }).click();
  await importer.getByRole('button', { name: 'Replace with 120 members' }).click();
  await importer.getByText('imported 120 members').waitFor();
  await page.getByText('120 members').first().waitFor();
  await page.getByText('Page 1 of 3', { exact: true }).waitFor();
  await page.getByRole('navigation', { name: 'Member pages' }).getByRole('button', { name: 'Next' }).click();
  await page.getByText('Page 2 of 3', { exact: true }).waitFor();
  await page.getByRole('cell', { name: '2049', exact: true }).waitFor();
  assert.equal(((await f.admin('GET', `/admin/apps/${APP}/groups/500/members`)).body.members as unknown[]).length, 120);

  // a joined_at in the future: the API refuses it with its own message; the list stays as it was
  const later = Date.now() + 86_400_000;
  await importer.getByLabel('Member file').setInputFiles({ name: 'future.ndjson', mimeType: 'application/x-ndjson', buffer: Buffer.from(`{"user_id": "1001", "role": "owner"}\n{"user_id": 3001, "joined_at": ${later}}\n`) });
  await importer.getByRole('button', { name: 'Check file' }).click();
  await importer.getByRole('button', { name: 'Replace with 2 members' }).click();
  await importer.getByRole('alert').filter({ hasText: `HTTP 400 members[1].joined_at (${later}) is in the future` }).waitFor();
  await page.getByText('Page 2 of 3', { exact: true }).waitFor();
  assert.equal(((await f.admin('GET', `/admin/apps/${APP}/groups/500/members`)).body.members as unknown[]).length, 120);

  // history_visible: off, read back from the API
  // the box follows the API's answer (it stays checked until the PATCH succeeds)
  await page.getByLabel('New members see earlier files (history_visible)').click();
  await page.waitForFunction(() => [...document.querySelectorAll('input[type=checkbox]')].some((c) => (c as HTMLInputElement).labels?.[0]?.textContent?.includes('history_visible') && !(c as HTMLInputElement).checked));
  for (let i = 0; i < 50 && (await f.admin('GET', `/admin/apps/${APP}/groups/500/members`)).body.history_visible !== false; i++) await sleep(100);
  assert.equal((await f.admin('GET', `/admin/apps/${APP}/groups/500/members`)).body.history_visible, false);

  const find = page.getByRole('form', { name: 'Find a group' });
  await find.getByLabel('group_id').fill('501');
  await find.getByRole('button', { name: 'Find' }).click();
  await page.getByText('No group 501 in this app.').waitFor();
  await assertLabelled('groups');
  await shot('groups');

  // a second group, dissolved from the page
  await create.getByLabel('group_id').fill('600');
  await create.getByLabel('owner user_id').fill('1001');
  await create.getByRole('button', { name: 'Create group' }).click();
  await page.getByRole('heading', { name: 'Group 600' }).waitFor();
  await page.getByRole('button', { name: 'Dissolve group' }).click();
  await page.getByRole('button', { name: 'Yes, dissolve' }).click();
  await page.getByRole('heading', { name: 'Group 600' }).waitFor({ state: 'detached' });
  const gone = await f.admin('GET', `/admin/apps/${APP}/groups/600/members`);
  assert.equal(gone.status, 404, JSON.stringify(gone.body));
  await page.getByRole('list', { name: 'Groups' }).getByRole('button', { name: '600' }).waitFor({ state: 'detached' });
});

test('try it: a JPEG from the browser through slot + multipart POST (cross-origin), its thumbnail through the 302, a forward; a refused slot shows its message', async () => {
  await page.getByRole('link', { name: 'Try it' }).click();
  await page.getByRole('heading', { name: 'Try it' }).waitFor();
  const upload = page.getByRole('form', { name: 'Upload a file' });
  await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'photo.jpg', mimeType: 'image/jpeg', buffer: await jpeg });

  // failing action: a group the sender is not in; the envelope's message, verbatim
  await upload.getByLabel('Send to').selectOption('2');
  await upload.getByLabel('group_id').fill('999');
  await upload.getByRole('button', { name: 'Upload' }).click();
  const refusal = await fetch(`${f.url}/file/upload/chat?access-token=${encodeURIComponent(token)}&app_id=${APP}&file_type=102&to_id=999&to_type=2`);
  const envelope = (await refusal.json()) as { code: number; message: string };
  assert.notEqual(envelope.code, 200);
  await upload.getByRole('alert').filter({ hasText: `${envelope.message} (code ${envelope.code})` }).waitFor();
  assert.equal(await page.getByRole('heading', { name: 'Uploaded' }).count(), 0);

  await upload.getByLabel('Send to').selectOption('1');
  await upload.getByLabel('Receiving user_id').fill('1002');
  const blob = page.waitForResponse((r) => new URL(r.url()).pathname.startsWith('/file/blob/'));
  await upload.getByRole('button', { name: 'Upload' }).click();
  assert.deepEqual(await loaded('Thumbnail of photo.jpg'), [400, 267], 'a real thumbnail (400 px box), decoded by the browser');
  assert.equal((await blob).status(), 200, 'the thumbnail came through the 302 to /file/blob/…, which the CSP allows');
  await page.getByText('the browser preflighted the POST and Ferry answered CORS').waitFor();
  downloadUrl = await page.getByLabel('download_url').inputValue();
  assert.match(downloadUrl, new RegExp(`^${f.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/file/download/chat\\?file_sign=`));
  assert.deepEqual((await read(downloadUrl, { appId: APP, token })).bytes, await jpeg, 'the bytes the browser sent');

  const fwd = page.getByRole('form', { name: 'Forward it' });
  await fwd.getByRole('button', { name: 'Forward' }).click();
  await page.getByRole('alert').filter({ hasText: 'The target id must be a positive whole number' }).waitFor();
  await fwd.getByLabel('user_id').fill('1003');
  await fwd.getByRole('button', { name: 'Forward' }).click();
  forwarded = await page.getByLabel('New download_url').inputValue();
  assert.match(forwarded, /\/file\/download\/chat\?file_sign=/);
  assert.notEqual(forwarded, downloadUrl);
  assert.equal((await read(forwarded, { appId: APP, token: await f.token(APP, '1003') })).code, 200, 'the forward reached user 1003');
  await assertLabelled('try it');
  await shot('try-it');
});

test('files: find by URL (record, references, derivatives, previews), delete (60050), quarantine and release (60051, then served), the queue, the audit log', async () => {
  await page.getByRole('link', { name: 'Files' }).click();
  await page.getByRole('heading', { name: `Files of ${APP}` }).waitFor();
  const find = page.getByRole('form', { name: 'Find a file' });
  await find.getByLabel('download_url, file_sign or object_name').fill(downloadUrl);
  await find.getByRole('button', { name: 'Look up' }).click();
  await page.getByRole('heading', { name: 'File record' }).waitFor();
  await page.getByRole('definition').filter({ hasText: 'photo.jpg' }).waitFor();
  // the forward is one of its references (its URL is minted again, so found by its conversation)
  await page.getByRole('cell', { name: 'to_id 1003, to_type 1' }).waitFor();
  await page.getByText(/^thumb-400x400: image\/\w+/).waitFor();
  await loaded('Thumbnail of photo.jpg');
  await loaded('Cover of photo.jpg');
  await assertLabelled('files');
  await shot('files');

  // failing action: a name that is no file; the API's message, and the record shown stays
  await find.getByLabel('download_url, file_sign or object_name').fill('not-a-url');
  await find.getByRole('button', { name: 'Look up' }).click();
  const lookedUp = await f.admin('GET', `/admin/apps/${APP}/files?url=not-a-url`);
  assert.equal(lookedUp.status, 404);
  await find.getByRole('alert').filter({ hasText: `HTTP 404 ${String(lookedUp.body.error)}` }).waitFor();
  await page.getByRole('definition').filter({ hasText: 'photo.jpg' }).waitFor();

  // delete: the record says deleted, and a client's download is refused with 60050
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  await page.getByRole('button', { name: 'Yes, delete' }).click();
  await page.getByRole('list', { name: 'Results', exact: true }).getByText('deleted', { exact: true }).waitFor();
  await page.locator('strong.state').filter({ hasText: 'deleted' }).waitFor();
  await page.getByText('No preview: the file is deleted.').waitFor();
  assert.equal((await read(downloadUrl, { appId: APP, token })).code, 60050);
  assert.equal((await read(forwarded, { appId: APP, token: await f.token(APP, '1003') })).code, 200, 'the forward is a URL of its own');

  // failing action: URLs that name nothing: the API's result per URL, verbatim
  const bulk = page.getByRole('form', { name: 'Act on several URLs' });
  await bulk.getByRole('button', { name: 'Apply' }).click();
  await bulk.getByRole('alert').filter({ hasText: 'Paste at least one download_url' }).waitFor();
  const unknown = `${f.url}/file/download/chat?file_sign=nope`;
  await bulk.getByLabel('URLs, one per line').fill(`${unknown}\nhttps://elsewhere.example/x`);
  await bulk.getByRole('button', { name: 'Apply' }).click();
  const answer = await f.admin('POST', `/admin/apps/${APP}/files/delete`, { urls: [unknown, 'https://elsewhere.example/x'] });
  const results = page.getByRole('list', { name: 'Results of the URLs' });
  for (const r of answer.body.results as { url: string; result: string; error?: string }[]) {
    assert.notEqual(r.result, 'deleted');
    await results.getByText(`${r.url}: ${r.result}${r.error ? ` (${r.error})` : ''}`).waitFor();
  }

  // quarantine another file (uploaded with the rotated-out secret) by its bare file_sign
  const sign = second.slice(second.indexOf('file_sign=') + 'file_sign='.length);
  await find.getByLabel('download_url, file_sign or object_name').fill(sign);
  await find.getByRole('button', { name: 'Look up' }).click();
  const record = (await f.admin('GET', `/admin/apps/${APP}/files?url=${encodeURIComponent(sign)}`)).body;
  // the lookup by a bare sign answers a full download_url of the same reference (signed anew)
  assert.match(String(record.download_url), /\/file\/download\/chat\?file_sign=/);
  assert.deepEqual((await read(String(record.download_url), { appId: APP, token })).bytes, await otherJpeg);
  await page.getByRole('definition').filter({ hasText: String(record.download_url) }).waitFor();
  await loaded(`Thumbnail of ${typeof record.file_name === 'string' ? record.file_name : 'the file'}`);
  await page.getByRole('button', { name: 'Quarantine', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: 'Give a reason for the quarantine' }).waitFor();
  await page.getByLabel('Quarantine reason').fill('reported by user 1001');
  await page.getByRole('button', { name: 'Quarantine', exact: true }).click();
  await page.getByText('No preview: the file is quarantined.').waitFor();
  const reader: Creds = { appId: APP, token: await f.token(APP, '1001') };
  assert.equal((await read(second, reader)).code, 60051);
  const queue = page.getByRole('list', { name: 'Quarantined files' });
  await queue.getByText(sign).waitFor();
  await queue.getByText(/reported by user 1001/).waitFor();
  await shot('files-quarantine');
  // released from the queue: served again, the same bytes
  await queue.getByRole('button', { name: 'Release' }).click();
  await page.getByText('Nothing is in quarantine.').waitFor();
  assert.deepEqual((await read(second, reader)).bytes, await otherJpeg);

  // the audit log names every action of the run
  const audit = page.getByRole('region', { name: 'Audit log' });
  for (const action of ['app.settings', 'file.delete', 'file.quarantine', 'file.release']) await audit.getByRole('cell', { name: action, exact: true }).first().waitFor();
  await shot('files-audit');
});

test('usage and health: readiness ok, a chart that moves, usage by kind and the heaviest users', async () => {
  await page.getByRole('link', { name: 'Usage and health' }).click();
  await page.getByRole('heading', { name: 'Usage and health' }).waitFor();
  const ready = page.getByRole('region', { name: 'Readiness' });
  await ready.getByText('Ready', { exact: true }).waitFor();
  assert.equal(await ready.getByText('ok', { exact: true }).count(), 2, 'database and store');
  const chart = page.locator('svg[data-series="Requests"] path');
  const pathOf = () => chart.getAttribute('d');
  await page.waitForFunction(() => (document.querySelector('svg[data-series="Requests"] path')?.getAttribute('d') ?? '').includes('L'), undefined, { timeout: 15_000 });
  const first = await pathOf();
  // some traffic, and the chart moves with it
  for (let i = 0; i < 20; i++) await (await fetch(`${f.url}/healthz`)).arrayBuffer();
  await page.waitForFunction((was) => document.querySelector('svg[data-series="Requests"] path')?.getAttribute('d') !== was, first, { timeout: 15_000 });
  assert.notEqual(await pathOf(), first);
  await page.locator('svg[data-series="Mean latency"] path[d^="M"]').waitFor();
  await page.getByText(/waiting or running/).waitFor();
  const usage = page.getByRole('region', { name: `Usage of ${APP}` });
  const api = (await f.admin('GET', `/admin/apps/${APP}/usage`)).body as { by_kind: Record<string, { files: number }>; heaviest_users: { user_id: string }[] };
  assert.ok(api.by_kind.image && api.heaviest_users.length > 0);
  await usage.getByRole('table', { name: 'By kind' }).getByRole('cell', { name: 'image', exact: true }).waitFor();
  for (const u of api.heaviest_users) await usage.getByRole('cell', { name: u.user_id, exact: true }).waitFor();
  // usage over time: today's bar and table row hold the two JPEGs this run uploaded (Try it, and
  // the one sent with the old secret), to the byte
  const today = new Date().toISOString().slice(0, 10);
  const imageBytes = (await jpeg).length + (await otherJpeg).length;
  const todayImage = usage.getByRole('row').filter({ has: page.getByRole('cell', { name: today, exact: true }) }).filter({ has: page.getByRole('cell', { name: 'image', exact: true }) });
  const cells = await todayImage.getByRole('cell').allInnerTexts();
  assert.deepEqual([cells[0], cells[1], cells[2], cells[4], cells[5]], [today, 'image', '2', '0', '0 B'], cells.join(' | '));
  assert.match(String(cells[3]), new RegExp(` KiB \\(${imageBytes} B\\)$`), 'bytes added, exact');
  const bar = usage.locator(`svg.usage-history rect[data-day="${today}"][data-kind="image"]`);
  assert.equal(await bar.count(), 1, "today's image bar");
  assert.match(String(await bar.locator('title').textContent()), new RegExp(`^${today} image: .* \\(${imageBytes} B\\)$`));
  assert.ok(Number(await bar.getAttribute('height')) > 0);
  await usage.getByRole('img', { name: /^Bytes added per day by kind from \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2}/ }).waitFor();
  await assertLabelled('usage and health');
  await shot('usage-health');
});

test('every page readable at 360 px: no sideways scrolling; keyboard; log out forgets the key; no unexpected console error', async () => {
  await page.setViewportSize({ width: 360, height: 800 });
  for (const [link, name] of [
    ['Apps', 'apps'],
    ['Groups', 'groups'],
    ['Files', 'files'],
    ['Usage and health', 'usage-health'],
    ['Try it', 'try-it'],
  ] as const) {
    await page.getByRole('link', { name: link, exact: true }).click();
    await page.waitForTimeout(300);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 360, `${name} is ${width} px wide at a 360 px viewport`);
    await shot(`${name}-360px`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });

  // keyboard: on a fresh load the skip link comes first, the page links next
  await page.getByRole('link', { name: 'Usage and health' }).click();
  await page.reload();
  await page.getByRole('heading', { name: 'Usage and health' }).waitFor();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Apps', exact: true }).waitFor();

  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByLabel('Admin key').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('ferry.console.adminKey')), null);

  assert.deepEqual(problems, [], 'no console errors or page errors but the listed ones');
});
