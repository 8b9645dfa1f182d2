// `ferry migrate-store --from DATA_DIR` moves an embedded Ferry into PostgreSQL + S3: afterwards
// a scale-out Ferry serves the same apps, tokens, groups, files, avatars and thumbnails with the
// same access rules; a second run changes nothing; bytes that do not match their SHA-256 are
// refused, never moved.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { startTestFerry, type TestFerry } from '../helpers/ferry.ts';
import { api, getJson, withCreds, type Creds, type Slot } from '../helpers/client.ts';
import { uploadChat, uploadUserAvatar } from '../helpers/media.ts';
import { provision, type Provisioned } from '../helpers/storage-mode.ts';
import { inspect } from '../helpers/inspect.ts';
import { scaleOutEnv } from './cluster.ts';
import { buildDist } from '../helpers/build.ts';
import { runCli } from '../helpers/cli.ts';

/** an embedded Ferry even in the scale-out pass: empty settings mean SQLite and the data folder */
const EMBEDDED = { FERRY_DATABASE_URL: '', FERRY_STORE: '' };

const cli = (env: Record<string, string>, ...args: string[]) =>
  runCli(args, { ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }, { timeoutMs: 120_000 });

const picture = (w: number, h: number) => sharp({ create: { width: w, height: h, channels: 3, background: { r: 10, g: 150, b: 90 } } }).jpeg().toBuffer();

let embedded: TestFerry;
let dataDir: string;
let target: Provisioned;
let u1: Creds;
let u2: Creds;
let u3: Creds;
let outsider: Creds;
const files: { slot: Slot; bytes: Buffer; reader: () => Creds }[] = [];
let avatar: { slot: Slot; bytes: Buffer };
/** a group-78 file sent before 1003 joined, and when 1003 joined */
let history: { slot: Slot; bytes: Buffer };
let lateJoin: number;
let sharedEntry: number;
let banned: { slot: Slot; bytes: Buffer };
let usageBefore: Record<string, unknown>;
let auditBefore: number;

before(async () => {
  buildDist();
  target = await provision(scaleOutEnv());
  embedded = await startTestFerry(EMBEDDED);
  dataDir = embedded.dataDir;
  await embedded.createApp('moving');
  u1 = { appId: 'moving', token: await embedded.token('moving', '1001', { ttl_s: 3600 }) };
  u2 = { appId: 'moving', token: await embedded.token('moving', '1002', { ttl_s: 3600 }) };
  u3 = { appId: 'moving', token: await embedded.token('moving', '1003', { ttl_s: 3600 }) };
  outsider = { appId: 'moving', token: await embedded.token('moving', '1009', { ttl_s: 3600 }) };
  await embedded.group('moving', '77', '1001');
  await embedded.member('moving', '77', '1003');
  // Group 78: pushed with a version and join times, history hidden from later joiners: 1002
  // was there before the file was sent, 1003 joined after it.
  let push = await embedded.admin('PUT', '/admin/apps/moving/groups/78/members', { members: [{ user_id: '1001', role: 'owner', joined_at: 1 }, { user_id: '1002', joined_at: 2 }], version: 6 });
  assert.equal(push.status, 200, JSON.stringify(push.body));
  const early = await api<Slot>(embedded.url, '/file/upload/chat', { file_type: 200, to_id: '78', to_type: 2 }, u1);
  history = { slot: early.body.data, bytes: Buffer.from('sent to group 78 before 1003 joined\n') };
  const { postMultipart: post } = await import('../helpers/client.ts');
  assert.equal((await post(history.slot.upload_url, history.bytes, { filename: 'h.txt' })).body.code, 200);
  await new Promise((r) => setTimeout(r, 5));
  lateJoin = Date.now();
  push = await embedded.admin('PUT', '/admin/apps/moving/groups/78/members', {
    members: [{ user_id: '1001', role: 'owner', joined_at: 1 }, { user_id: '1002', joined_at: 2 }, { user_id: '1003', joined_at: lateJoin }],
    version: 7,
  });
  assert.equal(push.body.applied, true, JSON.stringify(push.body));
  assert.equal((await embedded.admin('PATCH', '/admin/apps/moving/groups/78', { history_visible: false })).status, 200);
  // A second app asks its own IM server: its membership_url moves with it.
  await embedded.createApp('asking');
  assert.equal((await embedded.admin('PATCH', '/admin/apps/asking', { membership_url: 'http://127.0.0.1:9/im' })).status, 200);
  const chat = Buffer.from('a chat file from the embedded days\n'.repeat(3000));
  files.push({ slot: await uploadChat(embedded.url, u1, 100, chat, '1002', 'old.txt'), bytes: chat, reader: () => u2 });
  const photo = await picture(900, 600);
  files.push({ slot: await uploadChat(embedded.url, u1, 102, photo, '1002', 'photo.jpg'), bytes: photo, reader: () => u2 });
  const slot = await api<Slot>(embedded.url, '/file/upload/chat', { file_type: 200, to_id: '77', to_type: 2 }, u1);
  const shared = Buffer.from('shared in group 77\n'.repeat(100));
  const { postMultipart } = await import('../helpers/client.ts');
  assert.equal((await postMultipart(slot.body.data.upload_url, shared, { filename: 'g.txt' })).body.code, 200);
  files.push({ slot: slot.body.data, bytes: shared, reader: () => u3 });
  // The lifecycle moves too: the group's shared-file entry, the app's settings, a quarantine
  // (the file is refused and its bytes are refused again), usage and the audit log.
  const registered = await fetch(`${embedded.url}/group/file/upload`, {
    method: 'POST',
    headers: { app_id: 'moving', 'access-token': u1.token!, 'content-type': 'application/json' },
    body: `{"group_id":77,"name":"g.txt","size":1,"type":200,"url":${JSON.stringify(slot.body.data.download_url)}}`,
  });
  sharedEntry = ((await registered.json()) as { code: number; data: { file_id: number } }).data.file_id;
  assert.ok(sharedEntry > 0);
  assert.equal((await embedded.admin('PATCH', '/admin/apps/moving', { retention_days: { chat: 180 }, quota: { user_daily_bytes: 50_000_000 } })).status, 200);
  banned = { bytes: Buffer.from('moderated before the move\n'.repeat(10)) } as typeof banned;
  banned.slot = await uploadChat(embedded.url, u1, 100, banned.bytes, '1002', 'banned.txt');
  const q = await embedded.admin('POST', '/admin/apps/moving/files/quarantine', { urls: [banned.slot.download_url], reason: 'spam' });
  assert.equal(q.status, 200, JSON.stringify(q.body));
  const face = await picture(200, 200);
  avatar = { slot: await uploadUserAvatar(embedded.url, u1, face), bytes: face };
  // A thumbnail made in the embedded days moves too.
  const thumb = await fetch(withCreds(files[1]!.slot.download_url, u2, '&image_type=2'));
  assert.equal(thumb.status, 200);
  await thumb.arrayBuffer();
  usageBefore = (await embedded.admin('GET', '/admin/apps/moving/usage')).body;
  auditBefore = ((await embedded.admin('GET', '/admin/apps/moving/audit')).body.entries as unknown[]).length;
  assert.ok(auditBefore >= 2);
  await embedded.ferry.close();
});

after(async () => {
  await embedded.close();
  await target.release();
});

test('migrate-store needs PostgreSQL and S3 settings and an embedded data folder', async () => {
  const noTarget = await cli({}, 'migrate-store', '--from', dataDir);
  assert.equal(noTarget.code, 2);
  assert.match(noTarget.stderr, /FERRY_DATABASE_URL and FERRY_STORE/);
  const noSource = await cli(target.env, 'migrate-store', '--from', path.join(dataDir, 'nope'));
  assert.equal(noSource.code, 2);
  assert.match(noSource.stderr, /ferry\.sqlite does not exist/);
});

test('everything moves, a scale-out Ferry serves it with the same rules, and a second run changes nothing', async () => {
  const first = await cli(target.env, 'migrate-store', '--from', dataDir);
  assert.equal(first.code, 0, first.stderr);
  const report = JSON.parse(first.stdout) as {
    apps: number;
    groups: number;
    members: number;
    membership: { urls: number; groupStates: number };
    files: { copied: number; alreadyThere: number };
    derivatives: { copied: number };
    mismatched: string[];
    lifecycle: Record<string, number>;
  };
  assert.deepEqual([report.apps, report.groups, report.members], [2, 2, 5]);
  assert.deepEqual([report.membership.urls, report.membership.groupStates], [1, 1]);
  assert.deepEqual(report.files, { copied: 6, alreadyThere: 0 });
  assert.equal(report.derivatives.copied, 1);
  assert.deepEqual(report.mismatched, []);
  // Both apps' settings (the second one's membership_url change wrote its document too).
  assert.deepEqual([report.lifecycle.app_settings, report.lifecycle.quarantine, report.lifecycle.shared_files], [2, 1, 1]);
  assert.ok(report.lifecycle.audit_log! >= auditBefore && report.lifecycle.usage! > 0 && report.lifecycle.usage_history! > 0, JSON.stringify(report.lifecycle));

  const again = await cli(target.env, 'migrate-store', '--from', dataDir);
  assert.equal(again.code, 0, again.stderr);
  const second = JSON.parse(again.stdout) as typeof report;
  assert.deepEqual(second.files, { copied: 0, alreadyThere: 6 });

  const f = await startTestFerry(target.env);
  try {
    // Tokens minted by the embedded Ferry still work: the app secret moved with the app.
    for (const { slot, bytes, reader } of files) {
      const res = await fetch(onto(f, withCreds(slot.download_url, reader())));
      assert.equal(res.status, 200);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
      assert.equal((await getJson(onto(f, withCreds(slot.download_url, outsider)))).body.code, 10010, 'outsiders stay out');
    }
    // Group 78's membership state moved: version, join times, history hidden, and the rule they make.
    const g78 = await f.admin('GET', '/admin/apps/moving/groups/78/members');
    assert.equal(g78.body.version, 7);
    assert.equal(g78.body.history_visible, false);
    assert.deepEqual(g78.body.members, [
      { user_id: '1001', role: 'owner', joined_at: 1 },
      { user_id: '1002', role: 'member', joined_at: 2 },
      { user_id: '1003', role: 'member', joined_at: lateJoin },
    ]);
    const early = await fetch(onto(f, withCreds(history.slot.download_url, u2)));
    assert.deepEqual(Buffer.from(await early.arrayBuffer()), history.bytes, 'a member from before the file reads it');
    const late = await getJson(onto(f, withCreds(history.slot.download_url, u3)));
    assert.equal(late.body.code, 10010, 'a later joiner does not: history stays hidden');
    assert.match(String(late.body.message), /before you joined/);
    assert.equal((await f.admin('PUT', '/admin/apps/moving/groups/78/members', { members: [{ user_id: '1001', role: 'owner' }], version: 7 })).body.applied, false, 'the push version moved');
    assert.equal(await f.ferry.services.meta.getMembershipUrl('asking'), 'http://127.0.0.1:9/im');
    const face = await fetch(onto(f, withCreds(avatar.slot.download_url, outsider)));
    assert.deepEqual(Buffer.from(await face.arrayBuffer()), avatar.bytes, 'avatars stay readable app-wide');
    // The lifecycle moved: shared-file entry, settings, quarantine, usage, audit log.
    const list = await fetch(onto(f, `${f.url}/group/file/list?group_id=77&app_id=moving&access-token=${encodeURIComponent(u3.token!)}`));
    const listed = (await list.json()) as { code: number; data: Array<{ file_id: number; name: string }> };
    assert.equal(listed.code, 200, JSON.stringify(listed));
    assert.deepEqual(listed.data.map((d) => [d.file_id, d.name]), [[sharedEntry, 'g.txt']]);
    const settings = (await f.admin('GET', '/admin/apps/moving')).body.settings as Record<string, unknown>;
    assert.deepEqual([settings.retention_days, settings.quota], [{ chat: 180 }, { user_daily_bytes: 50_000_000 }]);
    assert.equal((await getJson(onto(f, withCreds(banned.slot.download_url, u2)))).body.code, 60051, 'still quarantined');
    const again = await uploadChat(f.url, u1, 100, banned.bytes, '1002', 'again.txt').catch((err: unknown) => err as Error);
    assert.ok(again instanceof Error && /60051|quarantin/.test(again.message), `the same bytes are refused again: ${String(again)}`);
    assert.deepEqual((await f.admin('GET', '/admin/apps/moving/usage')).body.by_kind, usageBefore.by_kind, 'usage by kind as before');
    assert.equal(((await f.admin('GET', '/admin/apps/moving/audit')).body.entries as unknown[]).length, auditBefore, 'the audit log moved');
    const made = f.ferry.services.media.stats.derivativesMade;
    const thumb = await fetch(onto(f, withCreds(files[1]!.slot.download_url, u2, '&image_type=2')));
    assert.equal(thumb.status, 200);
    await thumb.arrayBuffer();
    assert.equal(f.ferry.services.media.stats.derivativesMade, made, 'the moved thumbnail is served, not made again');
  } finally {
    await f.close();
  }
});

test('bytes that do not match their SHA-256 are not moved, and the command says so', async () => {
  const damaged = await provision(scaleOutEnv());
  try {
    const source = inspect(dataDir, {});
    const row = (await source.files()).find((r) => r.file_name === 'old.txt')!;
    await source.close();
    const objectPath = path.join(dataDir, 'objects', row.storage_key);
    const original = fs.readFileSync(objectPath);
    fs.writeFileSync(objectPath, Buffer.from(original).fill(0x21, 0, 10));
    try {
      const run = await cli(damaged.env, 'migrate-store', '--from', dataDir);
      assert.equal(run.code, 4, run.stderr);
      assert.deepEqual((JSON.parse(run.stdout) as { mismatched: string[] }).mismatched, [row.storage_key]);
      const moved = inspect(dataDir, damaged.env);
      try {
        assert.equal((await moved.files()).find((r) => r.id === row.id), undefined, 'no record for the damaged file');
        assert.equal(await moved.readObject(row.storage_key), null, 'no object for it either');
      } finally {
        await moved.close();
      }
    } finally {
      fs.writeFileSync(objectPath, original);
    }
  } finally {
    await damaged.release();
  }
});

const onto = (f: TestFerry, url: string) => url.replace(/^http:\/\/[^/]+/, f.url);
