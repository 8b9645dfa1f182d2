// `ferry file delete|quarantine|release|lookup`, `ferry usage` and `ferry app set`, run from the
// build as a child process against the data folder (and, scale-out, the database and bucket) of
// a running Ferry: the answers are the admin API's, and what they do is seen by that Ferry (at
// once; an app's settings within about a second) and in the store itself.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestFerry, type TestFerry } from '../helpers/ferry.ts';
import { api, postMultipart, withCreds, type Creds, type Envelope, type Slot } from '../helpers/client.ts';
import { signClaims, signOf, uploadChat } from '../helpers/jwt.ts';
import { plainImage } from '../helpers/media.ts';
import { buildDist } from '../helpers/build.ts';
import { cliJson, cliRefused, runCli } from '../helpers/cli.ts';

let f: TestFerry;
let appId: string;
const t: Record<string, Creds> = {};

before(async () => {
  buildDist();
  f = await startTestFerry();
  ({ appId } = await f.createApp('cli-files'));
  for (const u of ['1', '2', '3']) t[u] = { appId, token: await f.token(appId, u) };
});
after(() => f.close());

/** `node bin/ferry.mjs …` with the running Ferry's FERRY_* settings and nothing of the caller's. */
const ferry = (...args: string[]) => runCli(args, { ...f.env, FERRY_PUBLIC_URL: f.url });
const ok = <T = Record<string, unknown>>(...args: string[]) => cliJson<T>(ferry(...args), args);
const fails = (expectedCode: number, stderrPart: RegExp, ...args: string[]) => cliRefused(ferry(...args), args, expectedCode, stderrPart);

const unique = (label: string) => Buffer.from(`${label} ${Math.random()}\n`.repeat(30));

async function codeOf(url: string, creds: Creds): Promise<number> {
  const res = await fetch(withCreds(url, creds));
  if (res.headers.get('content-type')?.startsWith('application/json')) return ((await res.json()) as Envelope).code;
  await res.arrayBuffer();
  return res.status === 200 ? 200 : res.status;
}

async function keyOf(url: string): Promise<string> {
  const row = (await f.inspect.files()).find((r) => r.id === signClaims(url).fid);
  assert.ok(row);
  return row.storage_key;
}

type Results = { results: Array<{ url: string; result: string; copies?: number; bytes_removed?: boolean; error?: string }> };

test('file delete: one URL keeps its forward and the bytes; --all-copies takes every copy and the bytes', async () => {
  const original = await uploadChat(f.url, t['1']!, { to_id: '2' }, unique('cli delete'));
  const fwd = await api<string>(f.url, '/file/upload/forward', { file_sign: signOf(original), to_id: '3', to_type: 1 }, t['2']!);
  assert.equal(fwd.body.code, 200);
  const key = await keyOf(original);

  const one = await ok<Results>('file', 'delete', original);
  assert.deepEqual(one.results, [{ url: original, result: 'deleted', copies: 1, bytes_removed: false }]);
  assert.equal(await codeOf(original, t['2']!), 60050, 'the running Ferry refuses it at once');
  assert.equal(await codeOf(fwd.body.data, t['3']!), 200, 'the forward stays');
  assert.ok((await f.inspect.objectKeys()).includes(key));

  const again = await ok<Results>('file', 'delete', original, fwd.body.data, 'not a url', '--all-copies');
  assert.deepEqual(
    again.results.map((r) => [r.result, r.copies ?? null, r.bytes_removed ?? null]),
    [
      ['deleted', 1, true], // the original's other copy: the forward
      ['already-deleted', 0, false],
      ['invalid', null, null],
    ],
  );
  assert.equal(await codeOf(fwd.body.data, t['3']!), 60050);
  assert.equal((await f.inspect.objectKeys()).includes(key), false, 'the bytes left the store');

  const log = await f.admin('GET', `/admin/apps/${appId}/audit`);
  const entries = log.body.entries as Array<{ actor: string; action: string }>;
  assert.ok(entries.some((e) => e.action === 'file.delete-all-copies' && e.actor === 'admin-key'));
});

test('file delete of an avatar object_name needs --app; with it the avatar is gone', async () => {
  const r = await api<Slot>(f.url, '/file/upload/avatar/user', {}, t['1']!);
  assert.equal((await postMultipart(r.body.data.upload_url, await plainImage('png', 32, 32), { filename: 'a.png' })).body.code, 200);
  const name = new URL(r.body.data.download_url).searchParams.get('object_name')!;
  // Names are base64url and may start with "-": after "--" they are never read as options.
  await fails(2, /name the app with --app/, 'file', 'delete', '--', name);
  const out = await ok<Results>('file', 'delete', '--app', appId, '--', name);
  assert.equal(out.results[0]!.result, 'deleted');
  assert.equal(out.results[0]!.bytes_removed, true);
  assert.equal(await codeOf(r.body.data.download_url, t['2']!), 60050);
});

test('a name that starts with "-" is read as an option unless it comes after "--", and the refusal says so', async () => {
  await fails(1, /unknown option '-Abc123'.*goes after "--"/, 'file', 'delete', '--app', appId, '-Abc123');
  const out = await ok<Results>('file', 'delete', '--app', appId, '--', '-Abc123');
  assert.equal(out.results.length, 1);
  assert.equal(out.results[0]!.url, '-Abc123');
  assert.notEqual(out.results[0]!.result, 'deleted');
});

test('file quarantine and release: every copy refused with 60051, then served again', async () => {
  const url = await uploadChat(f.url, t['1']!, { to_id: '2' }, unique('cli quarantine'));
  await fails(1, /--reason/, 'file', 'quarantine', url);
  await fails(2, /--reason must be 1 to 1000 characters/, 'file', 'quarantine', url, '--reason', ' ');
  assert.deepEqual((await ok<Results>('file', 'quarantine', url, '--reason', 'reported as spam')).results, [{ url, result: 'quarantined' }]);
  assert.equal(await codeOf(url, t['2']!), 60051);
  assert.equal((await ok<Results>('file', 'quarantine', url, '--reason', 'again')).results[0]!.result, 'already-quarantined');
  assert.deepEqual((await ok<Results>('file', 'release', url)).results, [{ url, result: 'released' }]);
  assert.equal(await codeOf(url, t['2']!), 200);
  assert.equal((await ok<Results>('file', 'release', url)).results[0]!.result, 'not-quarantined');
});

test('file lookup prints what the admin API answers; an unknown file exits 3', async () => {
  const url = await uploadChat(f.url, t['1']!, { to_id: '2' }, unique('cli lookup'));
  await api<string>(f.url, '/file/upload/forward', { file_sign: signOf(url), to_id: '3', to_type: 1 }, t['2']!);
  const viaCli = await ok('file', 'lookup', url);
  const viaApi = await f.admin('GET', `/admin/apps/${appId}/files?url=${encodeURIComponent(url)}`);
  assert.equal(viaApi.status, 200);
  assert.deepEqual(viaCli, viaApi.body);
  assert.equal((viaCli.other_urls as unknown[]).length, 1);
  await fails(3, /url: no such file in this app/, 'file', 'lookup', 'nosuchavatar', '--app', appId);
  await fails(3, /app no-such-app not found/, 'file', 'lookup', url, '--app', 'no-such-app');
  await fails(2, /url must be a download_url/, 'file', 'lookup', 'https://example.com/x', '--app', appId);
  await fails(2, /name the app with --app/, 'file', 'lookup', 'plainly not a url');
});

test('a quota the CLI sets (another process) binds the running Ferry within about a second; clearing it frees slots again', async () => {
  const slotCode = async () => (await api<Slot>(f.url, '/file/upload/chat', { file_type: 100, to_id: '2' }, t['1']!)).body.code;
  assert.equal(await slotCode(), 200);
  await ok('app', 'set', '--app', appId, '--quota', 'app_bytes=1');
  // The running Ferry reuses an app's settings for up to a second (SETTINGS_TTL_MS).
  const until = async (code: number) => {
    const start = Date.now();
    while ((await slotCode()) !== code) {
      assert.ok(Date.now() - start < 3_000, `still not ${code} after 3 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await until(60052);
  await ok('app', 'set', '--app', appId, '--quota', 'app_bytes=none');
  await until(200);
});

test('usage --app prints the admin API usage; an unknown app exits 3', async () => {
  const viaCli = await ok('usage', '--app', appId);
  const viaApi = await f.admin('GET', `/admin/apps/${appId}/usage`);
  assert.deepEqual(viaCli, viaApi.body);
  assert.ok((viaCli.files as number) > 0);
  await fails(3, /app nope not found/, 'usage', '--app', 'nope');
  await fails(1, /--app/, 'usage');
});

test('app set --retention and --quota change the settings as PATCH does; bad values exit 2 with one line', async () => {
  const set = await ok<{ app_id: string; settings: Record<string, unknown> }>(
    'app', 'set', '--app', appId, '--retention', 'chat=180', '--retention', 'image=30', '--quota', 'app_bytes=10M', '--quota', 'user_daily_bytes=1048576',
  );
  assert.deepEqual(set.settings.retention_days, { chat: 180, image: 30 });
  assert.deepEqual(set.settings.quota, { app_bytes: 10 * 1024 * 1024, user_daily_bytes: 1048576 });
  const viaApi = await f.admin('GET', `/admin/apps/${appId}`);
  assert.deepEqual(viaApi.body, set, 'the server reads the same settings');

  const cleared = await ok<{ settings: Record<string, unknown> }>('app', 'set', '--app', appId, '--retention', 'chat=0', '--quota', 'app_bytes=none');
  assert.deepEqual(cleared.settings.retention_days, { image: 30 });
  assert.deepEqual(cleared.settings.quota, { user_daily_bytes: 1048576 });
  const log = await f.admin('GET', `/admin/apps/${appId}/audit`);
  assert.ok((log.body.entries as Array<{ action: string; actor: string }>).some((e) => e.action === 'app.settings' && e.actor === 'admin-key'));

  await fails(2, /--retention must be KIND=DAYS/, 'app', 'set', '--app', appId, '--retention', 'chat=abc');
  await fails(2, /--retention must be KIND=DAYS/, 'app', 'set', '--app', appId, '--retention', 'movies=3');
  await fails(2, /--retention must be KIND=DAYS/, 'app', 'set', '--app', appId, '--retention', 'chat=99999');
  await fails(2, /--quota app_bytes must be a size/, 'app', 'set', '--app', appId, '--quota', 'app_bytes=lots');
  await fails(2, /--quota must be app_bytes=BYTES/, 'app', 'set', '--app', appId, '--quota', 'disk=5');
  await fails(2, /nothing to set/, 'app', 'set', '--app', appId);
  await fails(3, /app nope not found/, 'app', 'set', '--app', 'nope', '--retention', 'chat=1');
  assert.deepEqual((await f.admin('GET', `/admin/apps/${appId}`)).body, { ...set, settings: cleared.settings }, 'nothing changed by the refusals');
});
