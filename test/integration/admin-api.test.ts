// The admin HTTP API, the operator's fixed contract: x-admin-key, plain JSON, real HTTP statuses.
// Each operation is checked for its answer and for its effect on the Lanying endpoints.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestFerry, type TestFerry } from '../helpers/ferry.ts';
import { api, type Slot } from '../helpers/client.ts';
import { decodeJwt, nowSeconds, signClaims, uploadChat } from '../helpers/jwt.ts';

let f: TestFerry;

before(async () => {
  f = await startTestFerry();
  await f.createApp('adm');
  await f.group('adm', '10', '1');
});
after(() => f.close());

/** An admin request with full control over headers and the raw body. */
async function raw(method: string, urlPath: string, opts: { key?: string | null; body?: string; type?: string } = {}) {
  const headers: Record<string, string> = {};
  const key = opts.key === undefined ? f.adminKey : opts.key;
  if (key !== null) headers['x-admin-key'] = key;
  if (opts.body !== undefined) headers['content-type'] = opts.type ?? 'application/json';
  const res = await fetch(`${f.url}${urlPath}`, { method, headers, body: opts.body });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

const ROUTES: [string, string, string][] = [
  ['POST', '/admin/apps', '{"app_id":"never-created"}'],
  ['POST', '/admin/apps/adm/tokens', '{"user_id":"1"}'],
  ['PUT', '/admin/apps/adm/groups/10', '{"owner_id":"1"}'],
  ['PUT', '/admin/apps/adm/groups/10/members/2', '{}'],
  ['DELETE', '/admin/apps/adm/groups/10/members/2', ''],
];

test('every admin route: a missing or wrong x-admin-key is 401 and changes nothing', async () => {
  for (const [method, p, body] of ROUTES) {
    for (const key of [null, '', 'wrong', `${f.adminKey}x`, f.adminKey.slice(0, -1), f.adminKey.toUpperCase() === f.adminKey ? 'x' : f.adminKey.toUpperCase()]) {
      const r = await raw(method, p, { key, ...(body ? { body } : {}) });
      assert.equal(r.status, 401, `${method} ${p} with key ${JSON.stringify(key)}`);
      assert.equal(typeof r.body.error, 'string');
    }
    const bearer = await fetch(`${f.url}${p}`, { method, headers: { authorization: `Bearer ${f.adminKey}` } });
    assert.equal(bearer.status, 401, 'the key only counts in x-admin-key');
    await bearer.arrayBuffer();
  }
  const created = await raw('POST', '/admin/apps', { body: '{"app_id":"never-created"}' });
  assert.equal(created.status, 201, 'the refused call did not create the app');
});

test('POST /admin/apps creates an app: 201 {app_id, secret}; 409 when it exists', async () => {
  const r = await raw('POST', '/admin/apps', { body: '{"app_id":"new_app-1"}' });
  assert.equal(r.status, 201);
  assert.deepEqual(Object.keys(r.body).sort(), ['app_id', 'secret']);
  assert.equal(r.body.app_id, 'new_app-1');
  assert.ok(typeof r.body.secret === 'string' && r.body.secret.length >= 32, 'a long secret');
  const again = await raw('POST', '/admin/apps', { body: '{"app_id":"new_app-1"}' });
  assert.equal(again.status, 409);
  assert.match(String(again.body.error), /exists/);
});

test('POST /admin/apps without app_id picks a random one; secrets differ', async () => {
  const a = await raw('POST', '/admin/apps', { body: '{}' });
  const b = await raw('POST', '/admin/apps');
  assert.equal(a.status, 201);
  assert.equal(b.status, 201);
  assert.match(String(a.body.app_id), /^[A-Za-z0-9_-]{1,64}$/);
  assert.notEqual(a.body.app_id, b.body.app_id);
  assert.notEqual(a.body.secret, b.body.secret);
  // The new app works at once.
  const token = await f.token(String(a.body.app_id), '1');
  assert.equal((await api(f.url, '/file/upload/avatar/user', {}, { appId: String(a.body.app_id), token })).body.code, 200);
});

test('POST /admin/apps: bad app_id or bad body is 400', async () => {
  const bodies = [
    '{"app_id":""}',
    '{"app_id":"has space"}',
    '{"app_id":"a/b"}',
    `{"app_id":"${'a'.repeat(65)}"}`,
    '{"app_id":5}',
    '{"app_id":null}',
    '{"app_id":["x"]}',
    '{',
    '[{"app_id":"arr"}]',
    'null',
    '"text"',
    '42',
  ];
  for (const body of bodies) {
    const r = await raw('POST', '/admin/apps', { body });
    assert.equal(r.status, 400, `${body} → ${r.status} ${JSON.stringify(r.body)}`);
    assert.equal(typeof r.body.error, 'string');
  }
  // curl -d without a content type must not quietly create an app with a random id.
  const text = await raw('POST', '/admin/apps', { body: '{"app_id":"plain"}', type: 'text/plain' });
  assert.equal(text.status, 400);
  const form = await raw('POST', '/admin/apps', { body: 'app_id=form', type: 'application/x-www-form-urlencoded' });
  assert.ok(form.status === 400 || form.status === 415, `form body → ${form.status}`);
  assert.equal((await raw('POST', '/admin/apps', { body: '{"app_id":"plain"}' })).status, 201, 'neither attempt created it');
  assert.equal((await raw('POST', '/admin/apps', { body: '{"app_id":"form"}' })).status, 201, 'neither attempt created it');
});

test('POST …/tokens mints a JWT: claims app, sub, role, iat, exp; default 7 days', async () => {
  const r = await raw('POST', '/admin/apps/adm/tokens', { body: '{"user_id":"1001"}' });
  assert.equal(r.status, 201);
  assert.deepEqual(Object.keys(r.body), ['token']);
  const { header, payload } = decodeJwt(String(r.body.token));
  assert.ok(header.alg === 'HS256' || header.alg === 'HS512', String(header.alg));
  assert.equal(payload.app, 'adm');
  assert.equal(payload.sub, '1001');
  assert.equal(payload.role, 1);
  assert.ok(Math.abs((payload.iat as number) - nowSeconds()) < 60);
  assert.equal((payload.exp as number) - (payload.iat as number), 7 * 86400);

  const admin = decodeJwt(String((await raw('POST', '/admin/apps/adm/tokens', { body: '{"user_id":"5","role":"admin","ttl_s":120}' })).body.token)).payload;
  assert.equal(admin.role, 2);
  assert.equal((admin.exp as number) - (admin.iat as number), 120);
  const user = decodeJwt(String((await raw('POST', '/admin/apps/adm/tokens', { body: '{"user_id":"5","role":"user"}' })).body.token)).payload;
  assert.equal(user.role, 1);
});

test('POST …/tokens keeps int64 user ids exact, given as JSON numbers or strings', async () => {
  for (const body of ['{"user_id": 9223372036854775807}', '{"user_id":"9223372036854775807"}', '{ "role" : "user" , "user_id" :\n9223372036854775807 }']) {
    const r = await raw('POST', '/admin/apps/adm/tokens', { body });
    assert.equal(r.status, 201, body);
    assert.equal(decodeJwt(String(r.body.token)).payload.sub, '9223372036854775807', body);
  }
  const r = await raw('POST', '/admin/apps/adm/tokens', { body: '{"user_id": 9007199254740993}' });
  assert.equal(decodeJwt(String(r.body.token)).payload.sub, '9007199254740993');
  const small = await raw('POST', '/admin/apps/adm/tokens', { body: '{"user_id": 42}' });
  assert.equal(decodeJwt(String(small.body.token)).payload.sub, '42');
  // A string field that merely contains digits after a colon is left alone.
  const note = await raw('POST', '/admin/apps/adm/tokens', { body: '{"user_id":"7","note":"at:12345678901234567,ok"}' });
  assert.equal(note.status, 201, JSON.stringify(note.body));
});

test('POST …/tokens: a bad user_id, role or ttl_s is 400; an unknown app is 404', async () => {
  const bad = [
    '{}',
    '{"user_id":0}',
    '{"user_id":-1}',
    '{"user_id":"abc"}',
    '{"user_id":1.5}',
    '{"user_id":9223372036854775808}',
    '{"user_id":"12345678901234567890"}',
    '{"user_id":null}',
    '{"user_id":true}',
    '{"user_id":"1","role":"superuser"}',
    '{"user_id":"1","role":2}',
    '{"user_id":"1","ttl_s":0}',
    '{"user_id":"1","ttl_s":-5}',
    '{"user_id":"1","ttl_s":"60"}',
    '{"user_id":"1","ttl_s":1.5}',
    '{"user_id":"1","ttl_s":1e12}',
  ];
  for (const body of bad) {
    const r = await raw('POST', '/admin/apps/adm/tokens', { body });
    assert.equal(r.status, 400, `${body} → ${r.status} ${JSON.stringify(r.body)}`);
  }
  assert.equal((await raw('POST', '/admin/apps/nope/tokens', { body: '{"user_id":"1"}' })).status, 404);
  assert.equal((await raw('POST', '/admin/apps/bad%20id/tokens', { body: '{"user_id":"1"}' })).status, 404);
});

test('a minted token works on the Lanying endpoints; an admin one acts as user_id', async () => {
  const user = String((await raw('POST', '/admin/apps/adm/tokens', { body: '{"user_id":"1"}' })).body.token);
  const admin = String((await raw('POST', '/admin/apps/adm/tokens', { body: '{"user_id":"2","role":"admin"}' })).body.token);
  const r = await api<Slot>(f.url, '/file/upload/chat', { file_type: 100, to_id: '3' }, { appId: 'adm', token: user });
  assert.equal(signClaims(r.body.data.download_url).from_id, '1');
  const a = await api<Slot>(f.url, '/file/upload/chat', { file_type: 100, to_id: '3', user_id: '77' }, { appId: 'adm', token: admin });
  assert.equal(signClaims(a.body.data.download_url).from_id, '77');
});

test('PUT …/groups/:group_id creates the group with its owner as a member', async () => {
  const r = await raw('PUT', '/admin/apps/adm/groups/20', { body: '{"owner_id":"5"}' });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { app_id: 'adm', group_id: '20', owner_id: '5' });
  const owner = { appId: 'adm', token: await f.token('adm', '5') };
  assert.equal((await api(f.url, '/file/upload/chat', { file_type: 100, to_id: '20', to_type: 2 }, owner)).body.code, 200);
  assert.equal((await api(f.url, '/file/upload/avatar/group', { group_id: '20' }, owner)).body.code, 200, 'the owner sets the avatar');
  // Idempotent.
  assert.equal((await raw('PUT', '/admin/apps/adm/groups/20', { body: '{"owner_id":"5"}' })).status, 200);
});

test('PUT …/groups/:group_id with a new owner: the old owner stays a plain member', async () => {
  await raw('PUT', '/admin/apps/adm/groups/21', { body: '{"owner_id":"5"}' });
  const r = await raw('PUT', '/admin/apps/adm/groups/21', { body: '{"owner_id":"6"}' });
  assert.deepEqual(r.body, { app_id: 'adm', group_id: '21', owner_id: '6' });
  const five = { appId: 'adm', token: await f.token('adm', '5') };
  const six = { appId: 'adm', token: await f.token('adm', '6') };
  assert.equal((await api(f.url, '/file/upload/chat', { file_type: 100, to_id: '21', to_type: 2 }, five)).body.code, 200);
  assert.equal((await api(f.url, '/file/upload/avatar/group', { group_id: '21' }, five)).body.code, 10010);
  assert.equal((await api(f.url, '/file/upload/avatar/group', { group_id: '21' }, six)).body.code, 200);
  assert.equal((await raw('DELETE', '/admin/apps/adm/groups/21/members/5')).status, 200, 'the old owner may leave now');
  assert.equal((await raw('DELETE', '/admin/apps/adm/groups/21/members/6')).status, 409, 'the new owner may not');
});

test('PUT …/groups keeps int64 ids exact', async () => {
  const r = await raw('PUT', '/admin/apps/adm/groups/9223372036854775807', { body: '{"owner_id": 9223372036854775806}' });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { app_id: 'adm', group_id: '9223372036854775807', owner_id: '9223372036854775806' });
  const owner = { appId: 'adm', token: await f.token('adm', '9223372036854775806') };
  const neighbour = { appId: 'adm', token: await f.token('adm', '9223372036854775807') };
  assert.equal((await api(f.url, '/file/upload/chat', { file_type: 100, to_id: '9223372036854775807', to_type: 2 }, owner)).body.code, 200);
  assert.equal((await api(f.url, '/file/upload/chat', { file_type: 100, to_id: '9223372036854775807', to_type: 2 }, neighbour)).body.code, 20002);
});

test('PUT …/groups: bad ids or body are 400, an unknown app is 404', async () => {
  for (const [p, body] of [
    ['/admin/apps/adm/groups/abc', '{"owner_id":"1"}'],
    ['/admin/apps/adm/groups/0', '{"owner_id":"1"}'],
    ['/admin/apps/adm/groups/-3', '{"owner_id":"1"}'],
    ['/admin/apps/adm/groups/9223372036854775808', '{"owner_id":"1"}'],
    ['/admin/apps/adm/groups/22', '{}'],
    ['/admin/apps/adm/groups/22', '{"owner_id":"x"}'],
    ['/admin/apps/adm/groups/22', '{"owner_id":0}'],
    ['/admin/apps/adm/groups/22', '[]'],
    ['/admin/apps/adm/groups/22', '{"owner_id":'],
  ] as const) {
    const r = await raw('PUT', p, { body });
    assert.equal(r.status, 400, `${p} ${body} → ${r.status} ${JSON.stringify(r.body)}`);
  }
  assert.equal((await raw('PUT', '/admin/apps/nope/groups/22', { body: '{"owner_id":"1"}' })).status, 404);
  assert.equal((await raw('PUT', '/admin/apps/adm/groups/22')).status, 400, 'no body: owner_id missing');
});

test('PUT …/members/:user_id adds a member (default role member) who can then read group files', async () => {
  const file = await uploadChat(f.url, { appId: 'adm', token: await f.token('adm', '1') }, { to_id: '10', to_type: 2 });
  const seven = { appId: 'adm', token: await f.token('adm', '7') };
  const before = await fetch(`${file}&access-token=${seven.token}&app_id=adm`);
  assert.equal(((await before.json()) as { code: number }).code, 10010);
  const r = await raw('PUT', '/admin/apps/adm/groups/10/members/7');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { app_id: 'adm', group_id: '10', user_id: '7', role: 'member' });
  const after = await fetch(`${file}&access-token=${seven.token}&app_id=adm`);
  assert.equal(after.status, 200);
  assert.equal(after.headers.get('content-type')?.startsWith('application/json'), false);
  await after.arrayBuffer();
  assert.equal((await api(f.url, '/file/upload/avatar/group', { group_id: '10' }, seven)).body.code, 10010);
});

test('PUT …/members with role admin lets the member set the avatar; role owner moves ownership', async () => {
  const eight = { appId: 'adm', token: await f.token('adm', '8') };
  assert.deepEqual((await raw('PUT', '/admin/apps/adm/groups/10/members/8', { body: '{"role":"admin"}' })).body, {
    app_id: 'adm',
    group_id: '10',
    user_id: '8',
    role: 'admin',
  });
  assert.equal((await api(f.url, '/file/upload/avatar/group', { group_id: '10' }, eight)).body.code, 200);
  assert.equal((await raw('PUT', '/admin/apps/adm/groups/10/members/8', { body: '{"role":"member"}' })).status, 200);
  assert.equal((await api(f.url, '/file/upload/avatar/group', { group_id: '10' }, eight)).body.code, 10010);

  await raw('PUT', '/admin/apps/adm/groups/30', { body: '{"owner_id":"1"}' });
  assert.equal((await raw('PUT', '/admin/apps/adm/groups/30/members/8', { body: '{"role":"owner"}' })).status, 200);
  assert.equal((await raw('DELETE', '/admin/apps/adm/groups/30/members/8')).status, 409, 'the new owner cannot leave');
  assert.equal((await raw('DELETE', '/admin/apps/adm/groups/30/members/1')).status, 200, 'the old owner can');
});

test('PUT …/members cannot demote the owner (409): ownership moves only by naming a new owner', async () => {
  await raw('PUT', '/admin/apps/adm/groups/31', { body: '{"owner_id":"1"}' });
  for (const role of ['member', 'admin']) {
    const r = await raw('PUT', '/admin/apps/adm/groups/31/members/1', { body: JSON.stringify({ role }) });
    assert.equal(r.status, 409, `${role}: ${JSON.stringify(r.body)}`);
  }
  assert.equal((await raw('PUT', '/admin/apps/adm/groups/31/members/1')).status, 409, 'the default role is member');
  assert.equal((await raw('PUT', '/admin/apps/adm/groups/31/members/1', { body: '{"role":"owner"}' })).status, 200, 'idempotent');
  const one = { appId: 'adm', token: await f.token('adm', '1') };
  assert.equal((await api(f.url, '/file/upload/avatar/group', { group_id: '31' }, one)).body.code, 200, 'the owner keeps the avatar right');
});

test('PUT …/members: bad role or ids are 400; unknown group or app are 404', async () => {
  for (const [p, body] of [
    ['/admin/apps/adm/groups/10/members/9', '{"role":"king"}'],
    ['/admin/apps/adm/groups/10/members/9', '{"role":1}'],
    ['/admin/apps/adm/groups/10/members/abc', '{}'],
    ['/admin/apps/adm/groups/10/members/0', '{}'],
    ['/admin/apps/adm/groups/x/members/9', '{}'],
    ['/admin/apps/adm/groups/10/members/9', '"member"'],
  ] as const) {
    const r = await raw('PUT', p, { body });
    assert.equal(r.status, 400, `${p} ${body} → ${r.status} ${JSON.stringify(r.body)}`);
  }
  assert.equal((await raw('PUT', '/admin/apps/adm/groups/999/members/9', { body: '{}' })).status, 404);
  assert.equal((await raw('PUT', '/admin/apps/nope/groups/10/members/9', { body: '{}' })).status, 404);
});

test('DELETE …/members/:user_id removes a member, who loses access at once', async () => {
  await f.member('adm', '10', '11');
  const eleven = { appId: 'adm', token: await f.token('adm', '11') };
  const file = await uploadChat(f.url, { appId: 'adm', token: await f.token('adm', '1') }, { to_id: '10', to_type: 2 });
  const ok = await fetch(`${file}&access-token=${eleven.token}&app_id=adm`);
  assert.equal(ok.headers.get('content-type')?.startsWith('application/json'), false);
  await ok.arrayBuffer();
  const r = await raw('DELETE', '/admin/apps/adm/groups/10/members/11');
  assert.equal(r.status, 200);
  assert.equal(r.body.user_id, '11');
  const gone = await fetch(`${file}&access-token=${eleven.token}&app_id=adm`);
  assert.equal(((await gone.json()) as { code: number }).code, 10010);
  assert.equal((await raw('DELETE', '/admin/apps/adm/groups/10/members/11')).status, 404, 'not a member any more');
});

test('DELETE …/members: the owner is 409, bad ids 400, unknown group or app 404', async () => {
  assert.equal((await raw('DELETE', '/admin/apps/adm/groups/10/members/1')).status, 409);
  assert.equal((await raw('DELETE', '/admin/apps/adm/groups/10/members/abc')).status, 400);
  assert.equal((await raw('DELETE', '/admin/apps/adm/groups/0/members/2')).status, 400);
  assert.equal((await raw('DELETE', '/admin/apps/adm/groups/999/members/2')).status, 404);
  assert.equal((await raw('DELETE', '/admin/apps/nope/groups/10/members/2')).status, 404);
});

test('no admin request answers 5xx, whatever the body', async () => {
  const bodies = ['', '{', '}', '{"a":', '\u0000', '{"user_id":' + '9'.repeat(5000) + '}', '{"user_id":"1","x":' + '['.repeat(2000) + ']'.repeat(2000) + '}', 'x'.repeat(70 * 1024)];
  for (const [method, p] of ROUTES) {
    for (const body of bodies) {
      const r = await fetch(`${f.url}${p}`, { method, headers: { 'x-admin-key': f.adminKey, 'content-type': 'application/json' }, body: body || undefined });
      assert.ok(r.status < 500, `${method} ${p} with ${body.slice(0, 30)} → ${r.status}`);
      await r.arrayBuffer();
    }
  }
});

test('bad bodies get a 400 whose message names the field and what is expected', async () => {
  const cases: [string, string, string, RegExp][] = [
    ['POST', '/admin/apps', '{"app_id":5}', /app_id must be string/],
    ['POST', '/admin/apps', `{"app_id":"${'a'.repeat(65)}"}`, /app_id must not have more than 64 characters/],
    ['POST', '/admin/apps', '[{"app_id":"arr"}]', /body must be a JSON object/],
    ['POST', '/admin/apps/adm/tokens', '{}', /user_id/],
    ['POST', '/admin/apps/adm/tokens', '{"user_id":true}', /user_id must be either string or integer/],
    ['POST', '/admin/apps/adm/tokens', '{"user_id":1.5}', /user_id must be either string or integer/],
    ['POST', '/admin/apps/adm/tokens', '{"user_id":0}', /user_id must be >= 1/],
    ['POST', '/admin/apps/adm/tokens', '{"user_id":"1","role":"superuser"}', /role .*"user", "admin"/],
    ['POST', '/admin/apps/adm/tokens', '{"user_id":"1","ttl_s":"60"}', /ttl_s must be integer/],
    ['POST', '/admin/apps/adm/tokens', '{"user_id":9223372036854775808}', /user_id must be a positive 64-bit integer/],
    ['POST', '/admin/apps/adm/tokens', '{"user_id":"1","user_id":"2"}', /not valid JSON: Duplicate key 'user_id'/],
    ['PUT', '/admin/apps/adm/groups/22', '{"owner_id":[1]}', /owner_id must be either string or integer/],
    ['PUT', '/admin/apps/adm/groups/22', 'null', /body must be a JSON object/],
    ['PUT', '/admin/apps/adm/groups/abc', '{"owner_id":"1"}', /group_id must be a positive 64-bit integer/],
    ['PUT', '/admin/apps/adm/groups/10/members/9', '{"role":1}', /role .*"member", "admin", "owner"/],
    ['PUT', '/admin/apps/adm/groups/10/members/9', '"member"', /body must be a JSON object/],
    ['DELETE', '/admin/apps/adm/groups/10/members/abc', '', /user_id must be a positive 64-bit integer/],
  ];
  for (const [method, p, body, message] of cases) {
    const r = await raw(method, p, body ? { body } : {});
    assert.equal(r.status, 400, `${method} ${p} ${body} → ${r.status} ${JSON.stringify(r.body)}`);
    assert.deepEqual(Object.keys(r.body), ['error']);
    assert.match(String(r.body.error), message, `${method} ${p} ${body}`);
  }
});

test('ids are accepted as JSON numbers or strings, in bodies and paths alike', async () => {
  assert.deepEqual((await raw('PUT', '/admin/apps/adm/groups/40', { body: '{"owner_id": 5}' })).body, { app_id: 'adm', group_id: '40', owner_id: '5' });
  assert.deepEqual((await raw('PUT', '/admin/apps/adm/groups/40', { body: '{"owner_id": "6"}' })).body, { app_id: 'adm', group_id: '40', owner_id: '6' });
  assert.deepEqual((await raw('PUT', '/admin/apps/adm/groups/40', { body: '{"owner_id": 9007199254740993}' })).body, {
    app_id: 'adm',
    group_id: '40',
    owner_id: '9007199254740993',
  });
  // Unknown keys are ignored.
  assert.equal((await raw('POST', '/admin/apps/adm/tokens', { body: '{"user_id": 12, "comment": "for the bot", "n": [1, 2]}' })).status, 201);
});

test('prototype-poisoning bodies are refused with 400 and change nothing', async () => {
  for (const [method, p, body] of [
    ['POST', '/admin/apps', '{"__proto__": {"app_id": "poisoned"}}'],
    ['POST', '/admin/apps', '{"\\u005f_proto__": {"app_id": "poisoned"}}'],
    ['POST', '/admin/apps', '{"constructor": {"prototype": {"app_id": "poisoned"}}}'],
    ['POST', '/admin/apps/adm/tokens', '{"user_id": "1", "__proto__": {"role": "admin"}}'],
    ['PUT', '/admin/apps/adm/groups/41', '{"x": [{"__proto__": {"owner_id": "1"}}], "owner_id": "1"}'],
  ] as const) {
    const r = await raw(method, p, { body });
    assert.equal(r.status, 400, `${body} → ${r.status} ${JSON.stringify(r.body)}`);
    assert.match(String(r.body.error), /__proto__/);
  }
  assert.equal((await raw('POST', '/admin/apps', { body: '{"app_id":"poisoned"}' })).status, 201, 'no app was created');
  assert.equal((await raw('DELETE', '/admin/apps/adm/groups/41/members/2')).status, 404, 'no group was created');
});

test('adversarial 64 KiB bodies are answered promptly with 400 (the reader is linear)', async () => {
  const n = 64 * 1024 - 64;
  const bodies = [
    '{"user_id":"' + '\\"'.repeat(n / 2),
    '\\"'.repeat(n / 2),
    '{"user_id":"1","note":"' + 'x\\"1234567890123456,'.repeat(n / 21),
    '{"user_id":' + '1'.repeat(n) + 'x',
    '{"user_id":"1","a":[' + '"a",'.repeat(n / 4),
    ('1'.repeat(20) + '"').repeat(n / 21),
    '{"user_id":' + ' '.repeat(n / 2) + '1'.repeat(n / 2),
    '['.repeat(n),
  ];
  for (const body of bodies) {
    const started = performance.now();
    const r = await raw('POST', '/admin/apps/adm/tokens', { body });
    const ms = performance.now() - started;
    assert.equal(r.status, 400, `${body.slice(0, 30)}… → ${r.status}`);
    assert.match(String(r.body.error), /not valid JSON/);
    assert.ok(ms < 500, `${body.slice(0, 30)}… took ${ms.toFixed(0)} ms`);
  }
});
