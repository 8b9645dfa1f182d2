// Usage by kind and user, kept at upload and delete; quotas refuse a slot, or an upload that
// would cross the line while it streams, with nothing stored; the app's settings.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestFerry, type TestFerry } from '../helpers/ferry.ts';
import { api, chatSlot, postMultipart, type Creds } from '../helpers/client.ts';

let f: TestFerry;
before(async () => {
  f = await startTestFerry();
});
after(() => f.close());

const bytes = (n: number, fill = 'q') => Buffer.alloc(n, fill);

async function upload(creds: Creds, n: number, fill?: string) {
  const slot = await api<{ upload_url: string; download_url: string }>(f.url, '/file/upload/chat', { file_type: 100, to_id: '9' }, creds);
  if (slot.body.code !== 200) return { code: slot.body.code, stage: 'slot' as const, url: '' };
  const up = await postMultipart(slot.body.data.upload_url, bytes(n, fill));
  return { code: up.body.code, stage: 'upload' as const, url: slot.body.data.download_url };
}

test('app_bytes: exactly at the line is allowed, then slots are refused; one byte over is refused while streaming, nothing stored', async () => {
  const { appId } = await f.createApp('quota-app');
  const u1 = { appId, token: await f.token(appId, '1') };
  const u2 = { appId, token: await f.token(appId, '2') };
  const set = await f.admin('PATCH', `/admin/apps/${appId}`, { quota: { app_bytes: 1000 } });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  assert.deepEqual((set.body.settings as { quota: unknown }).quota, { app_bytes: 1000 });

  const a = await upload(u1, 600, 'a');
  assert.equal(a.code, 200);
  assert.equal((await upload(u2, 400, 'b')).code, 200, 'exactly at the quota');
  const full = await upload(u1, 1);
  assert.deepEqual([full.stage, full.code], ['slot', 60052], 'no room: the slot is refused');

  const usage = await f.admin('GET', `/admin/apps/${appId}/usage`);
  assert.equal(usage.body.bytes, 1000);
  assert.equal(usage.body.files, 2);
  assert.deepEqual(usage.body.by_kind, { chat: { bytes: 1000, files: 2 } });
  assert.deepEqual(usage.body.heaviest_users, [
    { user_id: '1', bytes: 600, files: 1 },
    { user_id: '2', bytes: 400, files: 1 },
  ]);

  // Deleting gives the room back (usage is kept at delete, not by scanning the store).
  await f.admin('POST', `/admin/apps/${appId}/files/delete`, { urls: [a.url] });
  assert.equal((await f.admin('GET', `/admin/apps/${appId}/usage`)).body.bytes, 400);
  const keys = await f.inspect.objectKeys();
  const over = await upload(u1, 601);
  assert.deepEqual([over.stage, over.code], ['upload', 60052], 'one byte over is refused while streaming');
  assert.deepEqual(await f.inspect.objectKeys(), keys, 'nothing was stored');
  assert.deepEqual(await f.inspect.stagedUploads(), []);
  assert.equal((await upload(u1, 600)).code, 200, 'exactly the room left fits');

  // Removing the quota lifts it.
  await f.admin('PATCH', `/admin/apps/${appId}`, { quota: { app_bytes: null } });
  assert.equal((await upload(u1, 700)).code, 200);
});

test('user_daily_bytes counts each user per day', async () => {
  const { appId } = await f.createApp('quota-daily');
  const u1 = { appId, token: await f.token(appId, '1') };
  const u2 = { appId, token: await f.token(appId, '2') };
  await f.admin('PATCH', `/admin/apps/${appId}`, { quota: { user_daily_bytes: 100 } });
  assert.equal((await upload(u1, 100)).code, 200);
  const again = await upload(u1, 1);
  assert.deepEqual([again.stage, again.code], ['slot', 60053]);
  const slot = await chatSlot(f.url, u2, { file_type: 100, to_id: '9' });
  assert.equal((await postMultipart(slot.upload_url, bytes(101))).body.code, 60053, 'over the daily line while streaming');
  assert.equal((await postMultipart(slot.upload_url, bytes(100))).body.code, 200, 'the refused slot stays usable');
});

test('settings: GET shows them; bad values are refused and change nothing', async () => {
  const { appId } = await f.createApp('settings');
  const ok = await f.admin('PATCH', `/admin/apps/${appId}`, { retention_days: { chat: 180, voice: 30 }, membership_url: 'https://im.example/members' });
  assert.equal(ok.status, 200);
  for (const bad of [
    { quota: { app_bytes: 'lots' } },
    { quota: { app_bytes: -1 } },
    { quota: { user_daily_bytes: 1.5 } },
    { retention_days: { music: 3 } },
    { retention_days: { chat: 'forever' } },
    { membership_url: 'ftp://x' },
    { colour: 'blue' },
  ]) {
    const r = await f.admin('PATCH', `/admin/apps/${appId}`, bad);
    assert.equal(r.status, 400, JSON.stringify(bad));
  }
  await f.admin('PATCH', `/admin/apps/${appId}`, { retention_days: { voice: 0 } });
  const got = await f.admin('GET', `/admin/apps/${appId}`);
  assert.deepEqual(got.body.settings, { retention_days: { chat: 180 }, quota: {}, membership_url: 'https://im.example/members' });
  assert.equal((await f.admin('GET', '/admin/apps/nope')).status, 404);
  assert.equal((await f.admin('PATCH', '/admin/apps/nope', {})).status, 404);
});

test('usage history: uploads of two kinds and a delete show in today\'s row per kind, exactly; ?days= is checked', async () => {
  const { appId } = await f.createApp('history-app');
  const u1 = { appId, token: await f.token(appId, '1') };
  const today = () => new Date().toISOString().slice(0, 10);
  const before = today();
  const a = await upload(u1, 300, 'h');
  const b = await upload(u1, 200, 'i');
  assert.deepEqual([a.code, b.code], [200, 200]);
  const voice = Buffer.concat([Buffer.from('#!AMR\n'), Buffer.alloc(94, 'v')]);
  const slot = await api<{ upload_url: string }>(f.url, '/file/upload/chat', { file_type: 101, to_id: '9' }, u1);
  assert.equal((await postMultipart(slot.body.data.upload_url, voice)).body.code, 200);
  const del = await f.admin('POST', `/admin/apps/${appId}/files/delete`, { urls: [a.url] });
  assert.equal(del.status, 200, JSON.stringify(del.body));

  const usage = await f.admin('GET', `/admin/apps/${appId}/usage`);
  assert.equal(usage.status, 200);
  // (at midnight UTC the uploads and the delete may fall on two days; then the test says so)
  assert.equal(today(), before, 'the test ran across midnight UTC: run it again');
  assert.deepEqual(usage.body.history, [
    { day: before, kind: 'chat', bytes_added: 500, files_added: 2, bytes_removed: 300, files_removed: 1 },
    { day: before, kind: 'voice', bytes_added: 100, files_added: 1, bytes_removed: 0, files_removed: 0 },
  ]);
  assert.deepEqual(usage.body.by_kind, { chat: { bytes: 200, files: 1 }, voice: { bytes: 100, files: 1 } }, 'the totals agree with the history');
  for (const ok of ['1', '366']) {
    const r = await f.admin('GET', `/admin/apps/${appId}/usage?days=${ok}`);
    assert.equal(r.status, 200, ok);
    assert.deepEqual(r.body.history, usage.body.history, `days=${ok} includes today`);
  }
  for (const bad of ['0', '367', '-1', '1.5', 'x', '', '1000000']) {
    const r = await f.admin('GET', `/admin/apps/${appId}/usage?days=${encodeURIComponent(bad)}`);
    assert.equal(r.status, 400, `days=${bad}`);
    assert.match(String(r.body.error), /^days must be a whole number from 1 to 366$/, `days=${bad}`);
  }
  const none = await f.admin('GET', `/admin/apps/${appId}/usage?days=abcdefghij`);
  assert.equal(none.status, 400);
  assert.match(String(none.body.error), /days/, 'a value the schema refuses is named too');
  const doc = (await (await fetch(`${f.url}/openapi.json`)).json()) as { paths: Record<string, { get?: { parameters?: Array<{ name: string; in: string; description?: string }> } }> };
  const days = doc.paths['/admin/apps/{app_id}/usage']?.get?.parameters?.find((p) => p.name === 'days');
  assert.equal(days?.in, 'query', '/openapi.json lists ?days=');
  assert.match(String(days?.description), /1-366 \(default 30\)/);
  const fresh = await f.createApp('history-empty');
  assert.deepEqual((await f.admin('GET', `/admin/apps/${fresh.appId}/usage`)).body.history, [], 'an app with nothing has no history');
});
