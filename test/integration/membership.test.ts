// Membership that follows the operator's IM server (docs/membership.md), through the real HTTP
// API: bulk push (versions, join times, 100,000 members), signed events (401 with nothing
// applied, 400 naming the bad event, all or nothing, out of order, duplicates), history
// visibility both ways, and asking a real loopback IM server (join just now, leave by TTL and by
// event, down / slow / garbage / 500 → stale window then 60040, one ask for 20 downloads).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestFerry, type TestFerry } from '../helpers/ferry.ts';
import { chatSlot, putRaw, withCreds, type Creds, type Envelope } from '../helpers/client.ts';
import { uploadChat } from '../helpers/jwt.ts';
import { sendEvents, startImServer, type FakeImServer } from '../helpers/im-server.ts';
import { Codes } from '../../src/errors.ts';
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import { importMembers } from '../../src/cli/members-import.ts';

async function read(url: string, creds: Creds): Promise<{ ok: true } | { ok: false; code: number; message: string }> {
  const res = await fetch(withCreds(url, creds));
  assert.ok(res.status < 500, `never a 5xx (got ${res.status})`);
  if (res.headers.get('content-type')?.startsWith('application/json')) {
    const b = (await res.json()) as Envelope<unknown>;
    return { ok: false, code: b.code, message: String(b.message) };
  }
  await res.arrayBuffer();
  return { ok: true };
}
async function allowed(url: string, creds: Creds): Promise<void> {
  const r = await read(url, creds);
  assert.ok(r.ok, `expected access, got ${JSON.stringify(r)}`);
}
async function refused(url: string, creds: Creds, code: number): Promise<string> {
  const r = await read(url, creds);
  assert.ok(!r.ok, 'expected a refusal, got the bytes');
  assert.equal(r.code, code, r.message);
  return r.message;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('bulk push, events and history (no IM server)', () => {
  let f: TestFerry;
  let app: { appId: string; secret: string };
  const t: Record<string, Creds> = {};
  const creds = async (u: string) => (t[u] ??= { appId: app.appId, token: await f.token(app.appId, u) });

  before(async () => {
    f = await startTestFerry();
    app = await f.createApp('mem');
  });
  after(() => f.close());

  test('PUT replaces the whole list with roles and join times; GET lists it; versions guard against stale pushes', async () => {
    const path = `/admin/apps/${app.appId}/groups/700/members`;
    let r = await f.admin('PUT', path, { members: [{ user_id: '1', role: 'owner', joined_at: 1000 }, { user_id: 2 }, { user_id: '9223372036854775807', role: 'admin' }], version: 3 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, { app_id: app.appId, group_id: '700', applied: true, version: 3, count: 3 });
    r = await f.admin('GET', path);
    assert.deepEqual(r.body.members, [
      { user_id: '1', role: 'owner', joined_at: 1000 },
      { user_id: '2', role: 'member', joined_at: null },
      { user_id: '9223372036854775807', role: 'admin', joined_at: null },
    ]);
    assert.equal(r.body.version, 3);
    assert.equal(r.body.history_visible, true, 'history is visible by default');

    // Same or lower version: nothing changes, and the answer says so.
    for (const version of [3, 2]) {
      r = await f.admin('PUT', path, { members: [{ user_id: '5' }], version });
      assert.equal(r.status, 200);
      assert.equal(r.body.applied, false);
      assert.match(String(r.body.message), /not above the stored version 3: nothing changed/);
    }
    assert.equal(((await f.admin('GET', path)).body.members as unknown[]).length, 3);
    // A higher one replaces: 2 is gone.
    r = await f.admin('PUT', path, { members: [{ user_id: '1', role: 'owner' }, { user_id: '5' }], version: 4 });
    assert.equal(r.body.applied, true);
    const users = ((await f.admin('GET', path)).body.members as Array<{ user_id: string }>).map((m) => m.user_id);
    assert.deepEqual(users, ['1', '5']);
  });

  test('pushed membership decides access at once: joined reads, removed is refused', async () => {
    const path = `/admin/apps/${app.appId}/groups/701/members`;
    await f.admin('PUT', path, { members: [{ user_id: '1', role: 'owner' }, { user_id: '2' }] });
    const url = await uploadChat(f.url, await creds('1'), { to_id: '701', to_type: 2 });
    await allowed(url, await creds('2'));
    await refused(url, await creds('3'), Codes.NO_PERMISSION);
    await f.admin('PUT', path, { members: [{ user_id: '1', role: 'owner' }, { user_id: '3' }] });
    await refused(url, await creds('2'), Codes.NO_PERMISSION);
    await allowed(url, await creds('3'));
    // sending needs membership too
    const slot = await fetch(`${f.url}/file/upload/chat?app_id=${app.appId}&file_type=100&to_id=701&to_type=2&access-token=${(await creds('2')).token}`);
    assert.equal(((await slot.json()) as Envelope).code, Codes.NOT_GROUP_MEMBER);
  });

  test('bad pushes get a clear 400 and change nothing', async () => {
    const path = `/admin/apps/${app.appId}/groups/702/members`;
    await f.admin('PUT', path, { members: [{ user_id: '1', role: 'owner' }] });
    const cases: Array<[unknown, RegExp]> = [
      [{ members: [{ user_id: '1' }, { user_id: 'abc' }] }, /members\[1\]\.user_id must be a positive 64-bit integer/],
      [{ members: [{ user_id: '1', joined_at: Date.now() + 86400_000 }] }, /members\[0\]\.joined_at .* is in the future/],
      [{ members: [{ user_id: '1', joined_at: 'yesterday' }] }, /members\[0\]\.joined_at must be a time in ms/],
      [{ members: [{ user_id: '1', role: 'king' }] }, /members\[0\]\.role must be/],
      [{ members: [{ user_id: '1' }, { user_id: 1 }] }, /listed twice/],
      [{ members: [{ user_id: '1', role: 'owner' }, { user_id: 2, role: 'owner' }] }, /one owner/],
      [{ members: [], version: 1.5 }, /version must be a whole number/],
      [{ members: 'all' }, /members/],
      [{ members: Array.from({ length: 200_001 }, (_, i) => ({ user_id: i + 1 })) }, /at most 200000 per push/],
      ['{"members": [', /not valid JSON/],
    ];
    for (const [body, message] of cases) {
      const r = await f.admin('PUT', path, body);
      assert.equal(r.status, 400, JSON.stringify(r.body).slice(0, 200));
      assert.match(String(r.body.error), message);
    }
    assert.deepEqual(((await f.admin('GET', path)).body.members as Array<{ user_id: string }>).map((m) => m.user_id), ['1']);
    assert.equal((await f.admin('PUT', `/admin/apps/nope/groups/702/members`, { members: [] })).status, 404);
    assert.equal((await f.admin('PUT', `/admin/apps/${app.appId}/groups/x1/members`, { members: [] })).status, 400);
    assert.equal((await f.admin('GET', `/admin/apps/${app.appId}/groups/999999/members`)).status, 404);
  });

  test('a push of 100,000 members is accepted, listed and in force', async () => {
    const members = Array.from({ length: 100_000 }, (_, i) => ({ user_id: String(1_000_000 + i), joined_at: 1000 + i }));
    const started = Date.now();
    const r = await f.admin('PUT', `/admin/apps/${app.appId}/groups/703/members`, { members, version: 1 });
    assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 300));
    assert.equal(r.body.count, 100_000);
    const listed = await f.admin('GET', `/admin/apps/${app.appId}/groups/703/members`);
    assert.equal((listed.body.members as unknown[]).length, 100_000);
    const url = await uploadChat(f.url, { appId: app.appId, token: await f.token(app.appId, '1000000', { role: 'admin' }) }, { to_id: '703', to_type: 2 });
    await allowed(url, await creds('1099999'));
    await refused(url, await creds('1100000'), Codes.NO_PERMISSION);
    assert.ok(Date.now() - started < 60_000, 'well within a minute');
  });

  test('DELETE dissolves a group: members refused, sending refused; PATCH needs a live group', async () => {
    await f.admin('PUT', `/admin/apps/${app.appId}/groups/704/members`, { members: [{ user_id: '1', role: 'owner' }, { user_id: '2' }] });
    const url = await uploadChat(f.url, await creds('1'), { to_id: '704', to_type: 2 });
    await allowed(url, await creds('2'));
    const d = await f.admin('DELETE', `/admin/apps/${app.appId}/groups/704`);
    assert.deepEqual(d.body, { app_id: app.appId, group_id: '704', dissolved: true });
    await refused(url, await creds('2'), Codes.NO_PERMISSION);
    await allowed(url, await creds('1')); // the sender keeps their own file
    assert.equal((await f.admin('DELETE', `/admin/apps/${app.appId}/groups/704`)).status, 404);
    assert.equal((await f.admin('PATCH', `/admin/apps/${app.appId}/groups/704`, { history_visible: false })).status, 404);
    assert.equal((await f.admin('GET', `/admin/apps/${app.appId}/groups/704/members`)).status, 404);
  });

  test('history visibility both ways: a later joiner reads earlier files only while history_visible', async () => {
    const g = '705';
    await f.admin('PUT', `/admin/apps/${app.appId}/groups/${g}/members`, { members: [{ user_id: '1', role: 'owner', joined_at: 1 }] });
    const early = await uploadChat(f.url, await creds('1'), { to_id: g, to_type: 2 });
    await sleep(5);
    const joined = Date.now();
    await f.admin('PUT', `/admin/apps/${app.appId}/groups/${g}/members`, {
      members: [{ user_id: '1', role: 'owner', joined_at: 1 }, { user_id: '2', joined_at: joined }, { user_id: '3', joined_at: 1 }],
    });
    await sleep(5);
    const late = await uploadChat(f.url, await creds('1'), { to_id: g, to_type: 2 });
    await allowed(early, await creds('2')); // default: visible
    const p = await f.admin('PATCH', `/admin/apps/${app.appId}/groups/${g}`, { history_visible: false });
    assert.deepEqual(p.body, { app_id: app.appId, group_id: g, history_visible: false });
    const why = await refused(early, await creds('2'), Codes.NO_PERMISSION);
    assert.match(why, /before you joined/);
    await allowed(late, await creds('2'));
    await allowed(early, await creds('3')); // joined before it was sent
    await allowed(early, await creds('1'));
    assert.equal((await f.admin('PATCH', `/admin/apps/${app.appId}/groups/${g}`, { history_visible: 'no' })).status, 400);
    await f.admin('PATCH', `/admin/apps/${app.appId}/groups/${g}`, { history_visible: true });
    await allowed(early, await creds('2'));
  });

  test('signed events: joined, role, left, settings, dismissed; in order per (group, user); duplicates change nothing', async () => {
    const g = '710';
    const url = await uploadChat(f.url, { appId: app.appId, token: await f.token(app.appId, '99', { role: 'admin' }) }, { to_id: g, to_type: 2 }).catch(() => null);
    assert.equal(url, null, 'the group does not exist yet');
    const T = Date.now() - 60_000;
    let r = await sendEvents(f.url, app.appId, app.secret, {
      events: [
        { type: 'member.joined', group_id: g, user_id: '1', role: 'owner', at: T },
        { type: 'member.joined', group_id: g, user_id: '2', at: T + 1 },
        { type: 'member.role', group_id: g, user_id: '2', role: 'admin', at: T + 2 },
      ],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual((r.body.results as Array<{ result: string }>).map((x) => x.result), ['applied', 'applied', 'applied']);
    const file = await uploadChat(f.url, await creds('1'), { to_id: g, to_type: 2 });
    await allowed(file, await creds('2'));
    // the same body again: nothing changes
    r = await sendEvents(f.url, app.appId, app.secret, { events: [{ type: 'member.joined', group_id: g, user_id: '2', at: T + 1 }] });
    assert.deepEqual((r.body.results as Array<{ result: string }>).map((x) => x.result), ['unchanged']);
    // left at T+10, then a join from T+5 arriving late: still out
    r = await sendEvents(f.url, app.appId, app.secret, {
      events: [
        { type: 'member.left', group_id: g, user_id: '2', at: T + 10 },
        { type: 'member.joined', group_id: g, user_id: '2', at: T + 5 },
      ],
    });
    assert.deepEqual((r.body.results as Array<{ result: string }>).map((x) => x.result), ['applied', 'unchanged']);
    await refused(file, await creds('2'), Codes.NO_PERMISSION);
    const listed = await f.admin('GET', `/admin/apps/${app.appId}/groups/${g}/members`);
    assert.deepEqual((listed.body.members as Array<{ user_id: string }>).map((m) => m.user_id), ['1']);
    // settings and dismissal
    r = await sendEvents(f.url, app.appId, app.secret, { events: [{ type: 'group.settings', group_id: g, history_visible: false, at: T + 20 }] });
    assert.equal((await f.admin('GET', `/admin/apps/${app.appId}/groups/${g}/members`)).body.history_visible, false);
    r = await sendEvents(f.url, app.appId, app.secret, { events: [{ type: 'group.dismissed', group_id: g, at: T + 30 }] });
    assert.deepEqual((r.body.results as Array<{ result: string }>).map((x) => x.result), ['applied']);
    assert.equal((await f.admin('GET', `/admin/apps/${app.appId}/groups/${g}/members`)).status, 404);
    // a join from before the dismissal cannot bring the group back
    r = await sendEvents(f.url, app.appId, app.secret, { events: [{ type: 'member.joined', group_id: g, user_id: '3', at: T + 25 }] });
    assert.deepEqual((r.body.results as Array<{ result: string }>).map((x) => x.result), ['unchanged']);
  });

  test('message.recalled deletes the URLs it names, user.deleted everything the user sent; both take effect once, and user.deleted leaves every group', async () => {
    await f.admin('PUT', `/admin/apps/${app.appId}/groups/720/members`, { members: [{ user_id: '1', role: 'owner' }, { user_id: '8' }] });
    await f.admin('PUT', `/admin/apps/${app.appId}/groups/721/members`, { members: [{ user_id: '1', role: 'owner' }, { user_id: '8' }] });
    const one = await creds('1');
    const eight = await creds('8');
    const recalled = await uploadChat(f.url, one, { to_id: '9' });
    const kept = await uploadChat(f.url, one, { to_id: '9' });
    const byEight = await uploadChat(f.url, eight, { to_id: '720', to_type: 2 });
    await allowed(recalled, one);
    await allowed(byEight, one);
    // A slot user 8 got before being deleted, not used yet.
    const unused = await chatSlot(f.url, eight, { file_type: 100, to_id: '9' });
    const body = {
      events: [
        { type: 'message.recalled', urls: [recalled], at: Date.now() - 1000 },
        { type: 'user.deleted', user_id: '8', at: Date.now() - 1000 },
      ],
    };
    let r = await sendEvents(f.url, app.appId, app.secret, body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const results = r.body.results as Array<{ type: string; result: string; note?: string }>;
    assert.deepEqual(results.map((x) => x.result), ['applied', 'applied']);
    await refused(recalled, one, Codes.FILE_DELETED);
    await allowed(kept, one);
    await refused(byEight, one, Codes.FILE_DELETED);
    // user.deleted revokes the user's tokens, and with them the slots handed out before.
    const late = await putRaw(unused.upload_url, Buffer.from('sent after the user was deleted'));
    assert.equal(late.body.code, Codes.BAD_TOKEN, JSON.stringify(late.body));
    assert.match(late.body.message ?? '', /handed out before the user's tokens were revoked/);
    const again = await fetch(withCreds(`${f.url}/file/upload/chat?file_type=100&to_id=9`, eight));
    assert.equal(((await again.json()) as Envelope).code, Codes.BAD_TOKEN, "the deleted user's token is refused");
    for (const g of ['720', '721']) {
      const users = ((await f.admin('GET', `/admin/apps/${app.appId}/groups/${g}/members`)).body.members as Array<{ user_id: string }>).map((m) => m.user_id);
      assert.deepEqual(users, ['1']);
    }
    const recorded = await f.ferry.services.meta.listRecordedEvents(app.appId, 10);
    assert.deepEqual(recorded.map((e) => e.type).sort(), ['message.recalled', 'user.deleted']);
    r = await sendEvents(f.url, app.appId, app.secret, body);
    assert.deepEqual((r.body.results as Array<{ result: string }>).map((x) => x.result), ['unchanged', 'unchanged']);
    assert.equal((await f.ferry.services.meta.listRecordedEvents(app.appId, 10)).length, 2, 'recorded once');
    const audit = (await f.admin('GET', `/admin/apps/${app.appId}/audit`)).body;
    assert.ok(JSON.stringify(audit).includes('"event"'), 'the audit log names the event as the actor');
  });

  test('group.dismissed with purge_files deletes every file sent to the group; without it the files stay for their senders', async () => {
    const one = await creds('1');
    const two = await creds('2');
    for (const g of ['730', '731']) await f.admin('PUT', `/admin/apps/${app.appId}/groups/${g}/members`, { members: [{ user_id: '1', role: 'owner' }, { user_id: '2' }] });
    const purged = await uploadChat(f.url, two, { to_id: '730', to_type: 2 });
    const kept = await uploadChat(f.url, two, { to_id: '731', to_type: 2 });
    const elsewhere = await uploadChat(f.url, two, { to_id: '9' });
    const r = await sendEvents(f.url, app.appId, app.secret, {
      events: [
        { type: 'group.dismissed', group_id: '730', purge_files: true, at: Date.now() - 1000 },
        { type: 'group.dismissed', group_id: '731', at: Date.now() - 1000 },
      ],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await refused(purged, two, Codes.FILE_DELETED);
    await allowed(kept, two);
    await allowed(elsewhere, two);
    await refused(kept, one, Codes.NO_PERMISSION);
  });

  test('members import (the work of the CLI): NDJSON and CSV, many groups interleaved, batches, progress; a bad line writes nothing', async () => {
    const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'ferry-import-'));
    try {
      const nd = nodePath.join(dir, 'm.ndjson');
      const lines: string[] = [];
      for (let i = 0; i < 12_000; i++) lines.push(JSON.stringify({ group_id: i % 2 ? '741' : '740', user_id: String(5000 + i), ...(i === 0 ? { role: 'owner', joined_at: 5 } : {}) }));
      fs.writeFileSync(nd, lines.join('\n') + '\n');
      await f.admin('PUT', `/admin/apps/${app.appId}/groups/740/members`, { members: [{ user_id: '1', role: 'owner' }] });
      const progress: string[] = [];
      const report = await importMembers(f.ferry.services.meta, app.appId, nd, (m) => progress.push(m));
      assert.deepEqual(report, { app_id: app.appId, groups: 2, members: 12_000 });
      assert.ok(progress.some((p) => /all lines valid/.test(p)) && progress.some((p) => /^done/.test(p)), progress.join('|'));
      const g740 = (await f.admin('GET', `/admin/apps/${app.appId}/groups/740/members`)).body.members as Array<{ user_id: string; role: string; joined_at: number | null }>;
      assert.equal(g740.length, 6000, 'replaced: user 1 from the earlier push is gone');
      assert.deepEqual(g740.find((m) => m.user_id === '5000'), { user_id: '5000', role: 'owner', joined_at: 5 });
      assert.equal(((await f.admin('GET', `/admin/apps/${app.appId}/groups/741/members`)).body.members as unknown[]).length, 6000);

      const csv = nodePath.join(dir, 'm.csv');
      fs.writeFileSync(csv, 'group_id,user_id,role,joined_at\n742,1,owner,10\n743,2,,\n742,3,admin,\n');
      assert.deepEqual(await importMembers(f.ferry.services.meta, app.appId, csv, () => {}), { app_id: app.appId, groups: 2, members: 3 });
      assert.deepEqual((await f.admin('GET', `/admin/apps/${app.appId}/groups/742/members`)).body.members, [
        { user_id: '1', role: 'owner', joined_at: 10 },
        { user_id: '3', role: 'admin', joined_at: null },
      ]);

      const bad = nodePath.join(dir, 'bad.csv');
      fs.writeFileSync(bad, '744,1,owner\n744,2,member,tomorrow\n');
      await assert.rejects(importMembers(f.ferry.services.meta, app.appId, bad, () => {}), /line 2\.joined_at must be a time in ms/);
      assert.equal((await f.admin('GET', `/admin/apps/${app.appId}/groups/744/members`)).status, 404, 'nothing written');
      await assert.rejects(importMembers(f.ferry.services.meta, 'nope', csv, () => {}), /app nope not found/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('bad or missing signature: 401 and nothing applied; bad events: 400 naming the event, nothing of the body applied', async () => {
    const g = '730';
    const join = { events: [{ type: 'member.joined', group_id: g, user_id: '4', at: Date.now() - 10 }] };
    let r = await sendEvents(f.url, app.appId, app.secret, join, { signature: null });
    assert.equal(r.status, 401);
    assert.match(String(r.body.error), /x-ferry-signature header is required/);
    r = await sendEvents(f.url, app.appId, app.secret, join, { signature: 'sha256=' + '0'.repeat(64) });
    assert.equal(r.status, 401);
    r = await sendEvents(f.url, app.appId, 'not-the-secret', join);
    assert.equal(r.status, 401);
    assert.equal((await f.admin('GET', `/admin/apps/${app.appId}/groups/${g}/members`)).status, 404, 'nothing applied');

    const good = { type: 'member.joined', group_id: g, user_id: '4', at: Date.now() - 10 };
    const cases: Array<[unknown, RegExp]> = [
      [{ events: [good, { type: 'member.kicked', group_id: g, user_id: '5', at: 1 }] }, /events\[1\] \(member\.kicked\): unknown type "member\.kicked"/],
      [{ events: [good, { type: 'member.left', group_id: 'abc', user_id: '5', at: 1 }] }, /events\[1\] \(member\.left\): "group_id" must be a positive 64-bit integer/],
      [{ events: [good, { type: 'member.left', group_id: g, user_id: '5', at: 'now' }] }, /events\[1\].*"at" must be a time in ms/],
      [{ events: [good, { type: 'member.left', group_id: g, user_id: '5', at: Date.now() + 86400_000 }] }, /is in the future/],
      [{ events: [good, { type: 'group.settings', group_id: g, at: 1 }] }, /history_visible/],
      [{ events: [good, { type: 'message.recalled', urls: [], at: 1 }] }, /urls/],
      [{ events: [] }, /empty/],
      [{ nothing: 1 }, /"events": an array/],
      ['{"events": [', /not valid JSON/],
    ];
    for (const [body, message] of cases) {
      r = await sendEvents(f.url, app.appId, app.secret, body);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.match(String(r.body.error), message);
    }
    assert.equal((await f.admin('GET', `/admin/apps/${app.appId}/groups/${g}/members`)).status, 404, 'the valid event of a refused body was not applied');
    r = await sendEvents(f.url, 'no-such-app', app.secret, join);
    assert.equal(r.status, 404);
  });
});

describe('asking the IM server', () => {
  let im: FakeImServer;
  let f: TestFerry;
  let app: { appId: string; secret: string };
  const t: Record<string, Creds> = {};
  const creds = async (u: string) => (t[u] ??= { appId: app.appId, token: await f.token(app.appId, u) });
  let admin: Creds;

  before(async () => {
    im = await startImServer();
    f = await startTestFerry({ FERRY_MEMBERSHIP_URL: im.url, FERRY_MEMBERSHIP_TTL_S: '1', FERRY_MEMBERSHIP_STALE_S: '3', FERRY_MEMBERSHIP_TIMEOUT_MS: '300' });
    app = await f.createApp('ask');
    im.secrets.set(app.appId, app.secret);
    admin = { appId: app.appId, token: await f.token(app.appId, '99', { role: 'admin' }) };
  });
  after(async () => {
    await f.close();
    await im.close();
  });

  test('an unknown member is asked about (signed), served, and the yes is kept: no second ask within the TTL', async () => {
    im.join('800', '1', { role: 'owner' });
    im.join('800', '2');
    // sending to a group Ferry never heard of: the IM server says who is in it
    const url = await uploadChat(f.url, await creds('1'), { to_id: '800', to_type: 2 });
    assert.equal(im.asksFor('800', '1'), 1);
    assert.ok(im.asks.every((a) => a.signed), 'every ask carries a valid signature');
    await allowed(url, await creds('2'));
    await allowed(url, await creds('2'));
    assert.equal(im.asksFor('800', '2'), 1, 'the answer was kept');
    // a non-member: asked twice (a no is asked again once before any refusal), then refused
    const before = im.asksFor('800', '3');
    await refused(url, await creds('3'), Codes.NO_PERMISSION);
    assert.equal(im.asksFor('800', '3') - before, 2);
    const slot = await fetch(`${f.url}/file/upload/chat?app_id=${app.appId}&file_type=100&to_id=800&to_type=2&access-token=${(await creds('3')).token}`);
    assert.equal(((await slot.json()) as Envelope).code, Codes.NOT_GROUP_MEMBER);
  });

  test('a user who joined a moment ago is served at once; one who left is refused after the TTL, or at once by event', async () => {
    im.join('801', '1', { role: 'owner' });
    const url = await uploadChat(f.url, await creds('1'), { to_id: '801', to_type: 2 });
    await refused(url, await creds('4'), Codes.NO_PERMISSION);
    im.join('801', '4');
    await allowed(url, await creds('4')); // the cached "no" is asked again before refusing
    im.leave('801', '4');
    await allowed(url, await creds('4')); // within the TTL (1 s here)
    await sleep(1100);
    await refused(url, await creds('4'), Codes.NO_PERMISSION);
    // at once by event
    im.join('801', '5');
    await allowed(url, await creds('5'));
    im.leave('801', '5');
    const r = await sendEvents(f.url, app.appId, app.secret, { events: [{ type: 'member.left', group_id: '801', user_id: '5', at: Date.now() }] });
    assert.equal(r.status, 200);
    await refused(url, await creds('5'), Codes.NO_PERMISSION);
  });

  test('20 simultaneous downloads by one unknown member cause exactly one ask', async () => {
    im.join('802', '1', { role: 'owner' });
    im.join('802', '6');
    const url = await uploadChat(f.url, admin, { to_id: '802', to_type: 2 });
    const c = await creds('6');
    const results = await Promise.all(Array.from({ length: 20 }, () => read(url, c)));
    assert.ok(results.every((r) => r.ok), JSON.stringify(results.find((r) => !r.ok)));
    assert.equal(im.asksFor('802', '6'), 1);
  });

  for (const behaviour of ['slow', 'garbage', 'error500', 'reset'] as const) {
    test(`IM server ${behaviour}: known answers serve within the stale window, then 60040 (never "not a member", never a 5xx)`, async () => {
      const g = String(810 + ['slow', 'garbage', 'error500', 'reset'].indexOf(behaviour));
      im.behaviour = 'answer';
      im.join(g, '1', { role: 'owner' });
      im.join(g, '7');
      const url = await uploadChat(f.url, admin, { to_id: g, to_type: 2 });
      await allowed(url, await creds('7'));
      im.behaviour = behaviour;
      await sleep(1100); // past the TTL: Ferry asks, the IM server fails, the stale answer serves
      await allowed(url, await creds('7'));
      // someone never asked about: no answer to fall back on
      const msg = await refused(url, await creds('70'), Codes.MEMBERSHIP_UNAVAILABLE);
      assert.match(msg, /membership unavailable/);
      await sleep(2100); // past the stale window (3 s)
      await refused(url, await creds('7'), Codes.MEMBERSHIP_UNAVAILABLE);
      im.behaviour = 'answer';
      await allowed(url, await creds('7'));
    });
  }
});
