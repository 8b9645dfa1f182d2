// The access rules of the design brief, each one allowed and refused through the real HTTP API:
// sender, receiving user, group members (not after leaving), admin tokens as themselves, as a
// user and as a group admin, user tokens that try user_id/group_id, tokens and signs of another
// app, expired or tampered tokens and signs, and group avatars.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestFerry, type TestFerry } from '../helpers/ferry.ts';
import { api, getJson, postMultipart, withCreds, type Creds, type Envelope, type Slot } from '../helpers/client.ts';
import { accessToken, decodeJwt, mintJwt, nowSeconds, signOf, uploadChat, withPayload } from '../helpers/jwt.ts';

let f: TestFerry;
let app: { appId: string; secret: string };
let other: { appId: string; secret: string };
const t: Record<string, Creds> = {};
/** a file from 1 to user 2, and one from 11 to group 50 */
let direct: string;
let inGroup: string;

const GROUP = '50';
const OTHER_GROUP = '51';

before(async () => {
  f = await startTestFerry();
  app = await f.createApp('acc');
  other = await f.createApp('acc-other');
  for (const u of ['1', '2', '3', '10', '11', '12', '13']) t[u] = { appId: app.appId, token: await f.token(app.appId, u) };
  t.admin = { appId: app.appId, token: await f.token(app.appId, '99', { role: 'admin' }) };
  t.otherUser2 = { appId: other.appId, token: await f.token(other.appId, '2') };
  t.otherAdmin = { appId: other.appId, token: await f.token(other.appId, '99', { role: 'admin' }) };
  await f.group(app.appId, GROUP, '10');
  await f.member(app.appId, GROUP, '11');
  await f.member(app.appId, GROUP, '12', 'admin');
  await f.group(app.appId, OTHER_GROUP, '3');
  direct = await uploadChat(f.url, t['1']!, { to_id: '2' }, Buffer.from('direct'));
  inGroup = await uploadChat(f.url, t['11']!, { to_id: GROUP, to_type: 2 }, Buffer.from('group'));
});
after(() => f.close());

/** Download as a client does: download_url + "&access-token=…&app_id=…" + extra. */
async function read(url: string, creds: Creds, extra = ''): Promise<{ ok: true; text: string } | { ok: false; body: Envelope<unknown> }> {
  const res = await fetch(withCreds(url, creds, extra));
  if (res.headers.get('content-type')?.startsWith('application/json')) {
    assert.equal(res.status, 200);
    return { ok: false, body: (await res.json()) as Envelope<unknown> };
  }
  assert.equal(res.status, 200);
  return { ok: true, text: await res.text() };
}

async function allowed(url: string, creds: Creds, extra = ''): Promise<void> {
  const r = await read(url, creds, extra);
  assert.ok(r.ok, `expected access, got ${JSON.stringify(!r.ok && r.body)}`);
}

async function refused(url: string, creds: Creds, code: number, extra = ''): Promise<void> {
  const r = await read(url, creds, extra);
  assert.ok(!r.ok, 'expected a refusal, got the bytes');
  assert.equal(r.body.code, code, JSON.stringify(r.body));
  assert.equal(r.body.data, null);
}

const slot = (creds: Creds, params: Record<string, string | number>) => api<Slot>(f.url, '/file/upload/chat', { file_type: 100, ...params }, creds);

test('the sender reads their file', async () => {
  await allowed(direct, t['1']!);
});

test('the receiving user reads it', async () => {
  const r = await read(direct, t['2']!);
  assert.deepEqual(r, { ok: true, text: 'direct' });
});

test('a user who is neither sender nor receiver is refused (10010)', async () => {
  await refused(direct, t['3']!, 10010);
  await refused(direct, t['10']!, 10010);
});

test('group members read a group file; the sender does too', async () => {
  await allowed(inGroup, t['10']!);
  await allowed(inGroup, t['11']!);
  await allowed(inGroup, t['12']!);
});

test('non-members are refused a group file (10010)', async () => {
  await refused(inGroup, t['1']!, 10010);
  await refused(inGroup, t['3']!, 10010);
});

test('a member who leaves loses access, and gets it back on rejoining', async () => {
  await f.member(app.appId, GROUP, '13');
  const file = await uploadChat(f.url, t['10']!, { to_id: GROUP, to_type: 2 });
  await allowed(file, t['13']!);
  await f.removeMember(app.appId, GROUP, '13');
  await refused(file, t['13']!, 10010);
  assert.equal((await slot(t['13']!, { to_id: GROUP, to_type: 2 })).body.code, 20002, 'a former member cannot send to the group');
  await f.member(app.appId, GROUP, '13');
  await allowed(file, t['13']!);
  await f.removeMember(app.appId, GROUP, '13');
});

test('sending to a group needs membership (20002) of a group that exists (20001)', async () => {
  assert.equal((await slot(t['11']!, { to_id: GROUP, to_type: 2 })).body.code, 200);
  const r = await slot(t['1']!, { to_id: GROUP, to_type: 2 });
  assert.equal(r.body.code, 20002, JSON.stringify(r.body));
  assert.equal(r.body.data, null);
  assert.equal((await slot(t['1']!, { to_id: '777', to_type: 2 })).body.code, 20001);
  assert.equal((await slot(t.admin!, { to_id: '777', to_type: 2 })).body.code, 20001);
});

test('any user may send to any user', async () => {
  assert.equal((await slot(t['3']!, { to_id: '123456', to_type: 1 })).body.code, 200);
});

test('an admin token reads everything in its app and sends anywhere in it', async () => {
  await allowed(direct, t.admin!);
  await allowed(inGroup, t.admin!);
  assert.equal((await slot(t.admin!, { to_id: GROUP, to_type: 2 })).body.code, 200);
  assert.equal((await slot(t.admin!, { to_id: '5', to_type: 1 })).body.code, 200);
});

test('an admin token with user_id is that user: allowed where the user is, refused where not', async () => {
  await allowed(direct, t.admin!, '&user_id=2');
  await refused(direct, t.admin!, 10010, '&user_id=3');
  await allowed(inGroup, t.admin!, '&user_id=11');
  await refused(inGroup, t.admin!, 10010, '&user_id=1');
  const s = await slot(t.admin!, { to_id: GROUP, to_type: 2, user_id: '12' });
  assert.equal(s.body.code, 200);
  assert.equal(decodeJwt(signOf(s.body.data.download_url)).payload.from_id, '12', 'the file is from the user acted as');
  assert.equal((await slot(t.admin!, { to_id: GROUP, to_type: 2, user_id: '1' })).body.code, 20002);
});

test("an admin token with group_id is that group's admin: its files only", async () => {
  await allowed(inGroup, t.admin!, `&group_id=${GROUP}`);
  await refused(inGroup, t.admin!, 10010, `&group_id=${OTHER_GROUP}`);
  await refused(direct, t.admin!, 10010, `&group_id=${GROUP}`);
  await refused(inGroup, t.admin!, 20001, '&group_id=777');
  assert.equal((await slot(t.admin!, { to_id: GROUP, to_type: 2, group_id: GROUP })).body.code, 200);
  assert.equal((await slot(t.admin!, { to_id: OTHER_GROUP, to_type: 2, group_id: GROUP })).body.code, 10010);
  assert.equal((await slot(t.admin!, { to_id: '2', to_type: 1, group_id: GROUP })).body.code, 10010);
  assert.equal((await slot(t.admin!, { to_id: GROUP, to_type: 2, group_id: GROUP, user_id: '11' })).body.code, 10002, 'not both');
});

test('a user token that sends user_id or group_id gains nothing', async () => {
  await refused(direct, t['3']!, 10010, '&user_id=2');
  await refused(direct, t['3']!, 10010, '&user_id=1');
  await refused(inGroup, t['3']!, 10010, `&group_id=${GROUP}`);
  await refused(inGroup, t['1']!, 10010, '&user_id=11');
  // Naming oneself is harmless.
  await allowed(direct, t['2']!, '&user_id=2');
  assert.equal((await slot(t['1']!, { to_id: GROUP, to_type: 2, user_id: '11' })).body.code, 10010);
  assert.equal((await slot(t['1']!, { to_id: GROUP, to_type: 2, group_id: GROUP })).body.code, 10010);
  const avatar = await api<Slot>(f.url, '/file/upload/avatar/group', { group_id: GROUP, user_id: '10' }, t['11']!);
  assert.equal(avatar.body.code, 10010);
});

test("app A's token and app A's signs are worthless in app B", async () => {
  // A's token under B's app_id: not a token of B.
  await refused(direct, { appId: other.appId, token: t['2']!.token! }, 10008);
  // B's own user 2 and B's admin with A's sign: the sign is not B's.
  await refused(direct, t.otherUser2!, 60001);
  await refused(direct, t.otherAdmin!, 60001);
  // B's token under A's app_id.
  await refused(direct, { appId: app.appId, token: t.otherAdmin!.token! }, 10008);
});

test('expired and tampered tokens are refused on download (10008)', async () => {
  const now = nowSeconds();
  const expired = accessToken(app.secret, { app: app.appId, sub: '2', iat: now - 100, exp: now - 10 });
  await refused(direct, { appId: app.appId, token: expired }, 10008);
  const fresh = accessToken(app.secret, { app: app.appId, sub: '3', iat: now, exp: now + 600 });
  await allowed(direct, { appId: app.appId, token: accessToken(app.secret, { app: app.appId, sub: '2', iat: now, exp: now + 600 }) });
  const becomes2 = withPayload(fresh, { app: app.appId, sub: '2', role: 1, iat: now, exp: now + 600 });
  await refused(direct, { appId: app.appId, token: becomes2 }, 10008);
  const becomesAdmin = withPayload(fresh, { app: app.appId, sub: '3', role: 2, iat: now, exp: now + 600 });
  await refused(direct, { appId: app.appId, token: becomesAdmin }, 10008);
});

test('tampered, forged and truncated file_signs are refused (60001)', async () => {
  const sign = signOf(direct);
  const { payload } = decodeJwt(sign);
  const base = direct.slice(0, direct.indexOf('file_sign=') + 'file_sign='.length);
  // User 3 rewrites the conversation to include themselves.
  await refused(`${base}${withPayload(sign, { ...payload, to_id: '3' })}`, t['3']!, 60001);
  // A token holder knows the app secret but not the sign key: a sign made with it is no sign.
  await refused(`${base}${mintJwt(app.secret, { ...payload, to_id: '3' })}`, t['3']!, 60001);
  await refused(`${base}${mintJwt('', { ...payload, to_id: '3' }, 'none')}`, t['3']!, 60001);
  await refused(`${base}${sign.slice(0, -4)}`, t['2']!, 60001);
  await refused(`${base}not-a-sign`, t['2']!, 60001);
  // An admin is refused a broken sign too: reading everything does not mean reading anything.
  await refused(`${base}${withPayload(sign, { ...payload, fid: 'AAAAAAAAAAAAAAAAAAAAAA' })}`, t.admin!, 60001);
  await allowed(direct, t['2']!);
});

test('a sign for a slot never uploaded is 60002 for those who may read it', async () => {
  const s = await slot(t['1']!, { to_id: '2' });
  await refused(s.body.data.download_url, t['2']!, 60002);
  await refused(s.body.data.download_url, t['3']!, 10010);
});

test('group avatar: the owner and group admins may set it, plain members and outsiders not', async () => {
  const avatar = (creds: Creds, groupId: string, extra: Record<string, string> = {}) =>
    api<Slot>(f.url, '/file/upload/avatar/group', { group_id: groupId, ...extra }, creds);
  assert.equal((await avatar(t['10']!, GROUP)).body.code, 200, 'owner');
  assert.equal((await avatar(t['12']!, GROUP)).body.code, 200, 'group admin');
  assert.equal((await avatar(t['11']!, GROUP)).body.code, 10010, 'plain member');
  assert.equal((await avatar(t['1']!, GROUP)).body.code, 20002, 'outsider');
  assert.equal((await avatar(t['10']!, OTHER_GROUP)).body.code, 20002, "owner of another group");
  assert.equal((await avatar(t['10']!, '777')).body.code, 20001, 'no such group');
  assert.equal((await avatar(t.admin!, GROUP)).body.code, 200, 'admin token');
  assert.equal((await avatar(t.admin!, GROUP, { user_id: '11' })).body.code, 10010, 'admin acting as a plain member');
  assert.equal((await avatar(t.admin!, GROUP, { user_id: '12' })).body.code, 200, 'admin acting as a group admin');
});

test('a group avatar set by the owner is readable across the app, not from another app', async () => {
  const s = await api<Slot>(f.url, '/file/upload/avatar/group', { group_id: GROUP }, t['10']!);
  assert.equal(s.body.code, 200);
  const png = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
    'base64',
  );
  const up = await postMultipart(s.body.data.upload_url, png, { filename: 'a.png' });
  assert.deepEqual(up.body, { code: 200, message: null, data: true });
  const res = await fetch(withCreds(s.body.data.download_url, t['3']!));
  assert.equal(res.status, 200);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), png);
  const foreign = await getJson(withCreds(s.body.data.download_url, t.otherAdmin!));
  assert.equal(foreign.body.code, 60011);
});

test('user avatars: any user of the app gets a slot for their own avatar', async () => {
  const r = await api<Slot>(f.url, '/file/upload/avatar/user', {}, t['3']!);
  assert.equal(r.body.code, 200);
  assert.match(r.body.data.download_url, /\/file\/download\/avatar\?object_name=[A-Za-z0-9_-]+$/);
  assert.equal((await api(f.url, '/file/upload/avatar/user', { user_id: '2' }, t['3']!)).body.code, 10010);
  assert.equal((await api(f.url, '/file/upload/avatar/user', { user_id: '2' }, t.admin!)).body.code, 200);
});
