// Forward: a new download_url for another conversation, the same bytes, nothing copied. It needs
// read access to the source and, for a group target, membership of that group.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startTestFerry, type TestFerry } from '../helpers/ferry.ts';
import { api, getJson, withCreds, type Creds, type Envelope } from '../helpers/client.ts';
import { signClaims, signOf, uploadChat } from '../helpers/jwt.ts';

let f: TestFerry;
let appId: string;
const t: Record<string, Creds> = {};
const BYTES = Buffer.from('forward me, do not copy me\n'.repeat(50));
let source: string;

const GROUP = '70';

before(async () => {
  f = await startTestFerry();
  ({ appId } = await f.createApp('fwd'));
  for (const u of ['1', '2', '3', '4', '20', '21', '9223372036854775807']) t[u] = { appId, token: await f.token(appId, u) };
  t.admin = { appId, token: await f.token(appId, '99', { role: 'admin' }) };
  await f.group(appId, GROUP, '20');
  await f.member(appId, GROUP, '21');
  await f.member(appId, GROUP, '2');
  source = await uploadChat(f.url, t['1']!, { to_id: '2' }, BYTES);
});
after(() => f.close());

function forward(creds: Creds, fileSign: string, toId: string, toType?: number, extra: Record<string, string> = {}) {
  return api<string>(f.url, '/file/upload/forward', { file_sign: fileSign, to_id: toId, to_type: toType, ...extra }, creds);
}

function forwarded(r: { status: number; body: Envelope<string> }): string {
  assert.equal(r.status, 200);
  assert.equal(r.body.code, 200, JSON.stringify(r.body));
  assert.equal(typeof r.body.data, 'string');
  return r.body.data;
}

async function bytesFor(url: string, creds: Creds): Promise<{ status: number; body: Buffer; etag: string | null; type: string | null }> {
  const res = await fetch(withCreds(url, creds));
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()), etag: res.headers.get('etag'), type: res.headers.get('content-type') };
}

function countObjects(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
}

test('the receiver forwards to another user: a new URL, same bytes, no copy', async () => {
  const objectsDir = path.join(f.dataDir, 'objects');
  const before = countObjects(objectsDir);
  const url = forwarded(await forward(t['2']!, signOf(source), '3', 1));
  assert.notEqual(url, source);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/file\/download\/chat\?file_sign=[A-Za-z0-9_.-]+$/, 'file_sign is the only and last parameter');
  const claims = signClaims(url);
  assert.deepEqual(
    { from_id: claims.from_id, to_id: claims.to_id, to_type: claims.to_type },
    { from_id: '2', to_id: '3', to_type: 1 },
    'the forwarder sends it to the new conversation',
  );
  assert.equal(claims.fid, signClaims(source).fid, 'the new sign points at the same stored file');
  const got = await bytesFor(url, t['3']!);
  assert.equal(got.status, 200);
  assert.deepEqual(got.body, BYTES);
  const original = await bytesFor(source, t['2']!);
  assert.equal(got.etag, original.etag);
  assert.equal(countObjects(objectsDir), before, 'forwarding stored no new object');
});

test('the new receiver reads the forwarded file; outsiders still cannot', async () => {
  const url = forwarded(await forward(t['1']!, signOf(source), '4', 1));
  assert.equal((await bytesFor(url, t['4']!)).status, 200);
  const stranger = await getJson(withCreds(url, t['3']!));
  assert.equal(stranger.body.code, 10010);
  // The forwarded sign opens the new conversation only, not the original one.
  const viaOld = await getJson(withCreds(source, t['4']!));
  assert.equal(viaOld.body.code, 10010);
});

test('forwarding needs read access to the source (10010)', async () => {
  const r = await forward(t['3']!, signOf(source), '3', 1);
  assert.equal(r.body.code, 10010, JSON.stringify(r.body));
  assert.equal(r.body.data, null);
  const viaUserId = await forward(t['3']!, signOf(source), '3', 1, { user_id: '2' });
  assert.equal(viaUserId.body.code, 10010, 'a user token cannot borrow the receiver');
});

test('forwarding to a group needs membership of it (20002) and the group (20001)', async () => {
  const toGroup = forwarded(await forward(t['2']!, signOf(source), GROUP, 2));
  assert.deepEqual(
    { to_id: signClaims(toGroup).to_id, to_type: signClaims(toGroup).to_type, from_id: signClaims(toGroup).from_id },
    { to_id: GROUP, to_type: 2, from_id: '2' },
  );
  const member = await bytesFor(toGroup, t['21']!);
  assert.equal(member.status, 200);
  assert.deepEqual(member.body, BYTES);

  const notMember = await forward(t['1']!, signOf(source), GROUP, 2);
  assert.equal(notMember.body.code, 20002, JSON.stringify(notMember.body));
  assert.equal((await forward(t['2']!, signOf(source), '777', 2)).body.code, 20001);
});

test('a member who left the group can no longer forward its files; the others can', async () => {
  await f.member(appId, GROUP, '4');
  const groupFile = await uploadChat(f.url, t['20']!, { to_id: GROUP, to_type: 2 });
  forwarded(await forward(t['4']!, signOf(groupFile), '3', 1));
  await f.removeMember(appId, GROUP, '4');
  assert.equal((await forward(t['4']!, signOf(groupFile), '3', 1)).body.code, 10010);
  forwarded(await forward(t['21']!, signOf(groupFile), '3', 1));
});

test('a group file a member forwarded to themselves stays readable to them after they leave; the group link does not', async () => {
  const me: Creds = { appId, token: await f.token(appId, '6') };
  await f.member(appId, GROUP, '6');
  const groupFile = await uploadChat(f.url, t['20']!, { to_id: GROUP, to_type: 2 }, BYTES);
  const kept = forwarded(await forward(me, signOf(groupFile), '6', 1));
  assert.deepEqual({ from_id: signClaims(kept).from_id, to_id: signClaims(kept).to_id }, { from_id: '6', to_id: '6' });
  await f.removeMember(appId, GROUP, '6');
  // They could have saved the bytes while they were a member: the copy in their own chat stays theirs.
  const mine = await bytesFor(kept, me);
  assert.equal(mine.status, 200);
  assert.deepEqual(mine.body, BYTES);
  // The group's own link follows membership, and so does forwarding from it.
  const viaGroup = await getJson(withCreds(groupFile, me));
  assert.equal(viaGroup.body.code, 10010, JSON.stringify(viaGroup.body));
  assert.equal((await forward(me, signOf(groupFile), '6', 1)).body.code, 10010);
  // Their own copy can still go on to someone else, as any file they sent can.
  const onward = forwarded(await forward(me, signOf(kept), '3', 1));
  assert.deepEqual((await bytesFor(onward, t['3']!)).body, BYTES);
});

test('a forwarded file can be forwarded again by its new receiver', async () => {
  const hop1 = forwarded(await forward(t['2']!, signOf(source), '3', 1));
  const hop2 = forwarded(await forward(t['3']!, signOf(hop1), '4', 1));
  assert.equal(signClaims(hop2).from_id, '3');
  assert.deepEqual((await bytesFor(hop2, t['4']!)).body, BYTES);
});

test('admin tokens forward: as themselves, as a user, as a group admin', async () => {
  const asAdmin = forwarded(await forward(t.admin!, signOf(source), '4', 1));
  assert.equal(signClaims(asAdmin).from_id, '99');
  const asUser = forwarded(await forward(t.admin!, signOf(source), '4', 1, { user_id: '2' }));
  assert.equal(signClaims(asUser).from_id, '2');
  assert.equal((await forward(t.admin!, signOf(source), '4', 1, { user_id: '3' })).body.code, 10010);
  const groupFile = await uploadChat(f.url, t['21']!, { to_id: GROUP, to_type: 2 });
  forwarded(await forward(t.admin!, signOf(groupFile), GROUP, 2, { group_id: GROUP }));
  assert.equal((await forward(t.admin!, signOf(groupFile), '4', 1, { group_id: GROUP })).body.code, 10010);
});

test('ids above 2^53 survive a forward and open access for exactly that user', async () => {
  const big = '9223372036854775807';
  const url = forwarded(await forward(t['2']!, signOf(source), big, 1));
  assert.equal(signClaims(url).to_id, big);
  assert.deepEqual((await bytesFor(url, t[big]!)).body, BYTES);
  const back = forwarded(await forward(t[big]!, signOf(url), '9007199254740993', 1));
  assert.equal(signClaims(back).from_id, big);
  assert.equal(signClaims(back).to_id, '9007199254740993');
});

test('the sign as the web forward code sends it back: re-encoded, or with the credentials dragged along', async () => {
  const sign = signOf(source);
  // The web SDK takes everything after "sign=" and re-encodes it.
  const tail = `${sign}&access-token=${t['2']!.token}&app_id=${appId}`;
  const url1 = `${f.url}/file/upload/forward?app_id=${appId}&access-token=${t['2']!.token}&to_id=3&to_type=1&file_sign=${encodeURIComponent(tail)}`;
  const r1 = await getJson<string>(url1);
  assert.equal(r1.body.code, 200, JSON.stringify(r1.body));
  const url2 = `${f.url}/file/upload/forward?app_id=${appId}&access-token=${t['2']!.token}&to_id=3&to_type=1&file_sign=${encodeURIComponent(encodeURIComponent(sign))}`;
  const r2 = await getJson<string>(url2);
  assert.equal(r2.body.code, 200, JSON.stringify(r2.body));
});

test('bad forwards: no sign 10002, a broken sign 60001, a slot not uploaded 60002, bad to_id/to_type 10002', async () => {
  assert.equal((await api(f.url, '/file/upload/forward', { to_id: '3', to_type: 1 }, t['2']!)).body.code, 10002);
  assert.equal((await forward(t['2']!, '', '3', 1)).body.code, 10002);
  assert.equal((await forward(t['2']!, 'garbage', '3', 1)).body.code, 60001);
  assert.equal((await forward(t['2']!, `${signOf(source).slice(0, -2)}xx`, '3', 1)).body.code, 60001);
  const pending = await api<{ download_url: string }>(f.url, '/file/upload/chat', { file_type: 100, to_id: '2' }, t['1']!);
  assert.equal((await forward(t['2']!, signOf(pending.body.data.download_url), '3', 1)).body.code, 60002);
  for (const toId of ['0', '-5', 'abc', '9223372036854775808', '12345678901234567890']) {
    assert.equal((await forward(t['2']!, signOf(source), toId, 1)).body.code, 10002, toId);
  }
  assert.equal((await api(f.url, '/file/upload/forward', { file_sign: signOf(source), to_type: 1 }, t['2']!)).body.code, 10002);
  for (const toType of ['99', '0', '3', 'x']) {
    const r = await api(f.url, '/file/upload/forward', { file_sign: signOf(source), to_id: '3', to_type: toType }, t['2']!);
    assert.equal(r.body.code, 10002, toType);
  }
});

test('to_type defaults to 1 on forward', async () => {
  const url = forwarded(await forward(t['2']!, signOf(source), '3'));
  assert.equal(signClaims(url).to_type, 1);
});

test("a group's shared file forwarded to a user becomes the plain kind; to a group it stays shared", async () => {
  const shared = await uploadChat(f.url, t['21']!, { to_id: GROUP, to_type: 2, file_type: 200 });
  assert.equal(signClaims(shared).ft, 200);
  const toUser = forwarded(await forward(t['21']!, signOf(shared), '3', 1));
  assert.equal(signClaims(toUser).ft, 100, 'a 200 sent to a user would be refused by the slot endpoint: it becomes 100');
  assert.deepEqual((await bytesFor(toUser, t['3']!)).body.length > 0, true);
  const toGroup = forwarded(await forward(t['21']!, signOf(shared), GROUP, 2));
  assert.equal(signClaims(toGroup).ft, 200);
});
