// Who is asking, on every Lanying endpoint: app_id and access-token from headers, query or both;
// tokens minted by anyone holding the app secret (HS256 and HS512) and forgeries that must fail;
// every id and type parameter checked; duplicated and unknown query keys as real clients send them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestFerry, type TestFerry } from '../helpers/ferry.ts';
import { api, apiUrl, getJson, type Creds, type Envelope } from '../helpers/client.ts';
import { accessToken, decodeJwt, mintJwt, nonCanonicalVariants, nowSeconds, signClaims, signOf, uploadChat, withPayload } from '../helpers/jwt.ts';

let f: TestFerry;
let appA: { appId: string; secret: string };
let appB: { appId: string; secret: string };
let userA: Creds;
let adminA: Creds;
let avatarName: string;
let chatUrl: string;

const INT64_MAX = '9223372036854775807';
const ABOVE_2_53 = '9007199254740993';

before(async () => {
  f = await startTestFerry();
  appA = await f.createApp('cred-a');
  appB = await f.createApp('cred-b');
  userA = { appId: appA.appId, token: await f.token(appA.appId, '1001') };
  adminA = { appId: appA.appId, token: await f.token(appA.appId, '9', { role: 'admin' }) };
  await f.group(appA.appId, '500', '1001');
  chatUrl = await uploadChat(f.url, userA, { to_id: '1002' });
  const slot = await api<{ download_url: string; upload_url: string }>(f.url, '/file/upload/avatar/user', {}, userA);
  avatarName = new URL(slot.body.data.download_url).searchParams.get('object_name')!;
});
after(() => f.close());

/** A business error: HTTP 200, the envelope, a message, no data. */
function assertRefused(r: { status: number; body: Envelope<unknown> }, code: number, messagePart?: RegExp): void {
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.code, code, JSON.stringify(r.body));
  assert.equal(r.body.data, null);
  assert.equal(typeof r.body.message, 'string');
  if (messagePart) assert.match(r.body.message!, messagePart);
}

function assertOk(r: { status: number; body: Envelope<unknown> }): void {
  assert.equal(r.status, 200);
  assert.equal(r.body.code, 200, JSON.stringify(r.body));
}

/** Each of the six endpoints with parameters that are fine apart from the credentials. */
function endpoints(): { name: string; path: string; params: Record<string, string> }[] {
  const sign = chatUrl.split('file_sign=')[1]!;
  return [
    { name: 'chat slot', path: '/file/upload/chat', params: { file_type: '100', to_id: '1002' } },
    { name: 'user avatar slot', path: '/file/upload/avatar/user', params: {} },
    { name: 'group avatar slot', path: '/file/upload/avatar/group', params: { group_id: '500' } },
    { name: 'chat download', path: '/file/download/chat', params: { file_sign: sign } },
    { name: 'avatar download', path: '/file/download/avatar', params: { object_name: avatarName } },
    { name: 'forward', path: '/file/upload/forward', params: { file_sign: sign, to_id: '1003', to_type: '1' } },
  ];
}

/** Chat and avatar downloads answer with bytes (or 60002 for the avatar never uploaded). */
async function call(path: string, params: Record<string, string>, creds: Creds | undefined, headers: Record<string, string> = {}) {
  const res = await fetch(apiUrl(f.url, path, params, creds), { headers: { ...(creds?.asHeaders ? { app_id: creds.appId, ...(creds.token ? { 'access-token': creds.token } : {}) } : {}), ...headers } });
  const type = res.headers.get('content-type') ?? '';
  const text = await res.text();
  return { status: res.status, json: type.startsWith('application/json') ? (JSON.parse(text) as Envelope<unknown>) : null };
}

test('every endpoint: no app_id is 10002, an unknown app_id is 40000', async () => {
  for (const e of endpoints()) {
    const missing = await getJson(apiUrl(f.url, e.path, { ...e.params, 'access-token': userA.token! }));
    assertRefused(missing, 10002, /app_id/);
    const unknown = await api(f.url, e.path, e.params, { appId: 'no-such-app', token: userA.token! });
    assertRefused(unknown, 40000);
    const badChars = await api(f.url, e.path, e.params, { appId: 'cred a/..', token: userA.token! });
    assertRefused(badChars, 40000);
  }
});

test('every endpoint: no token is 10003, a malformed token is 10008', async () => {
  for (const e of endpoints()) {
    assertRefused(await api(f.url, e.path, e.params, { appId: appA.appId }), 10003);
    assertRefused(await api(f.url, e.path, e.params, { appId: appA.appId, token: 'not-a-jwt' }), 10008);
    assertRefused(await api(f.url, e.path, e.params, { appId: appA.appId, token: 'a.b.c' }), 10008);
  }
});

test('every endpoint accepts credentials as headers, as query parameters, and in both places', async () => {
  for (const e of endpoints()) {
    for (const creds of [userA, { ...userA, asHeaders: true }]) {
      const r = await call(e.path, e.params, creds);
      // The avatar was never uploaded: getting that far means the credentials were accepted.
      if (e.name === 'avatar download') assert.equal(r.json?.code, 60002, `${e.name} ${JSON.stringify(r.json)}`);
      else if (e.name === 'chat download') assert.equal(r.status, 200);
      else assert.equal(r.json?.code, 200, `${e.name} ${JSON.stringify(r.json)}`);
    }
    const both = await call(e.path, e.params, userA, { app_id: appA.appId, 'access-token': userA.token! });
    if (e.name === 'chat download') assert.equal(both.status, 200);
    else assert.notEqual(both.json?.code, 10008, e.name);
  }
});

test('a valid header token wins over a broken copy in the query', async () => {
  const r = await call('/file/upload/chat', { file_type: '100', to_id: '1002', app_id: appA.appId, 'access-token': 'garbage' }, undefined, {
    app_id: appA.appId,
    'access-token': userA.token!,
  });
  assert.equal(r.json?.code, 200, JSON.stringify(r.json));
});

test('an empty credential header does not hide the credentials in the query', async () => {
  const r = await call('/file/upload/chat', { file_type: '100', to_id: '1002' }, userA, { app_id: '', 'access-token': '' });
  assert.equal(r.json?.code, 200, JSON.stringify(r.json));
});

test('app_id in a header and the token in the query work together', async () => {
  const r = await call('/file/upload/chat', { file_type: '100', to_id: '1002', 'access-token': userA.token! }, undefined, { app_id: appA.appId });
  assert.equal(r.json?.code, 200, JSON.stringify(r.json));
});

test('user_id and group_id as headers, as the server-side lanying-connector sends them', async () => {
  const headers = (token: string, extra: Record<string, string>) => ({ app_id: appA.appId, 'access-token': token, ...extra });
  const chat = `${f.url}/file/upload/chat?file_type=100&to_type=1&to_id=1002`;
  const asUser = await getJson<{ download_url: string }>(chat, headers(adminA.token!, { user_id: ABOVE_2_53 }));
  assertOk(asUser);
  assert.equal(signClaims(asUser.body.data.download_url).from_id, ABOVE_2_53, 'the admin acts as the user_id header');

  const groupChat = `${f.url}/file/upload/chat?file_type=100&to_type=2&to_id=500`;
  assertOk(await getJson(groupChat, headers(adminA.token!, { group_id: '500' })));
  assertRefused(await getJson(chat, headers(adminA.token!, { group_id: '500' })), 10010, /group/);

  // The admin reads as that user: allowed for the receiver, refused for a stranger.
  const dl = chatUrl;
  const asReceiver = await fetch(dl, { headers: headers(adminA.token!, { user_id: '1002' }) });
  assert.equal(asReceiver.status, 200);
  assert.equal(await asReceiver.text(), 'chat file for 1002\n');
  assertRefused(await getJson(dl, headers(adminA.token!, { user_id: '1003' })), 10010);

  // A user token gains nothing from the headers either.
  assertRefused(await getJson(chat, headers(userA.token!, { user_id: '1003' })), 10010);
  assertRefused(await getJson(groupChat, headers(userA.token!, { group_id: '500' })), 10010);
  assertRefused(await getJson(chat, headers(adminA.token!, { user_id: 'abc' })), 10002, /user_id/);
});

test('tokens minted with the app secret by node:crypto work, HS256 and HS512, user and admin', async () => {
  const slot = (token: string, extra: Record<string, string> = {}) =>
    api<{ download_url: string }>(f.url, '/file/upload/chat', { file_type: 100, to_id: '1002', ...extra }, { appId: appA.appId, token });
  const hs256 = accessToken(appA.secret, { app: appA.appId, sub: '2001', role: 1 });
  const r1 = await slot(hs256);
  assertOk(r1);
  assert.equal(signClaims(r1.body.data.download_url).from_id, '2001');

  const hs512 = accessToken(appA.secret, { app: appA.appId, sub: '2002', role: 2 }, 'HS512');
  assert.equal(decodeJwt(hs512).header.alg, 'HS512');
  const r2 = await slot(hs512, { user_id: '2003' });
  assertOk(r2);
  assert.equal(signClaims(r2.body.data.download_url).from_id, '2003', 'an HS512 admin token acts as user_id');

  const numericSub = accessToken(appA.secret, { app: appA.appId, sub: 2004 });
  const r4 = await slot(numericSub);
  assertOk(r4);
  assert.equal(signClaims(r4.body.data.download_url).from_id, '2004', 'sub may be a safe JSON number');

  const bigSub = accessToken(appA.secret, { app: appA.appId, sub: INT64_MAX });
  const r3 = await slot(bigSub);
  assertOk(r3);
  assert.equal(signClaims(r3.body.data.download_url).from_id, INT64_MAX);
});

test('forged, expired and foreign tokens are refused with 10008', async () => {
  const now = nowSeconds();
  const good = accessToken(appA.secret, { app: appA.appId, sub: '2001' });
  const cases: Record<string, string> = {
    expired: accessToken(appA.secret, { app: appA.appId, sub: '2001', iat: now - 7200, exp: now - 60 }),
    'not yet valid (nbf)': mintJwt(appA.secret, { app: appA.appId, sub: '2001', role: 1, iat: now, nbf: now + 3600, exp: now + 7200 }),
    'alg none': accessToken('', { app: appA.appId, sub: '2001', role: 2 }, 'none'),
    'alg none with the real signature': `${accessToken('', { app: appA.appId, sub: '2001', role: 2 }, 'none')}${good.split('.')[2]}`,
    'HS384 (not an allowed algorithm)': accessToken(appA.secret, { app: appA.appId, sub: '2001' }, 'HS384'),
    "signed with app B's secret": accessToken(appB.secret, { app: appA.appId, sub: '2001', role: 2 }),
    "app A's secret but claims app B": accessToken(appA.secret, { app: appB.appId, sub: '2001' }),
    'payload edited to role 2': withPayload(good, { app: appA.appId, sub: '2001', role: 2, iat: now, exp: now + 3600 }),
    'payload edited to another sub': withPayload(good, { app: appA.appId, sub: '1001', role: 1, iat: now, exp: now + 3600 }),
    'signature truncated': good.slice(0, -3),
    'signature removed': good.split('.').slice(0, 2).join('.') + '.',
    'role 3': accessToken(appA.secret, { app: appA.appId, sub: '2001', role: 3 }),
    'sub 0': accessToken(appA.secret, { app: appA.appId, sub: '0' }),
    'sub not a number': accessToken(appA.secret, { app: appA.appId, sub: 'alice' }),
    'sub above int64': accessToken(appA.secret, { app: appA.appId, sub: '9223372036854775808' }),
    // As a JSON number, 2^53+1 reaches any JS verifier as 2^53: refused, never rounded to a neighbour.
    'sub an unsafe JSON number': mintJwt(appA.secret, `{"app":"${appA.appId}","sub":9007199254740993,"role":1,"iat":${now},"exp":${now + 600}}`),
  };
  for (const [name, token] of Object.entries(cases)) {
    const r = await api(f.url, '/file/upload/chat', { file_type: 100, to_id: '1002' }, { appId: appA.appId, token });
    assert.equal(r.body.code, 10008, `${name}: ${JSON.stringify(r.body)}`);
    assertRefused(r, 10008);
  }
  const expired = await api(f.url, '/file/upload/chat', { file_type: 100, to_id: '1002' }, { appId: appA.appId, token: cases.expired! });
  assert.match(expired.body.message!, /expired/);
});

test('only the canonical spelling of a token or file_sign signature is accepted', async () => {
  const slot = (token: string) => api(f.url, '/file/upload/chat', { file_type: 100, to_id: '1002' }, { appId: appA.appId, token });
  for (const alg of ['HS256', 'HS512'] as const) {
    const good = accessToken(appA.secret, { app: appA.appId, sub: '2001' }, alg);
    assertOk(await slot(good));
    const variants = nonCanonicalVariants(good);
    // The unused bits of the last character: 3 other spellings for HS256, 15 for HS512.
    assert.ok(variants.length >= (alg === 'HS256' ? 4 : 16), `${alg}: ${variants.length} variants`);
    for (const v of variants) assertRefused(await slot(v), 10008, /canonical|invalid/);
  }
  const sign = signOf(chatUrl);
  const download = (s: string) => getJson(apiUrl(f.url, '/file/download/chat', { file_sign: s }, userA));
  const ok = await fetch(apiUrl(f.url, '/file/download/chat', { file_sign: sign }, userA));
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), 'chat file for 1002\n');
  for (const v of nonCanonicalVariants(sign)) assertRefused(await download(v), 60001);
});

test('a token without exp is refused by default, with a message that says how to fix it', async () => {
  // The documented Lanying admin token: HS512, no exp, role 2, sub a decimal string.
  const lanying = mintJwt(appA.secret, { app: appA.appId, sub: '20', role: 2, iat: nowSeconds() }, 'HS512');
  assertRefused(await api(f.url, '/file/upload/chat', { file_type: 100, to_id: '1002' }, { appId: appA.appId, token: lanying }), 10008, /no expiry \(exp\).*FERRY_ALLOW_TOKENS_WITHOUT_EXP/);
});

test('tokens that live longer than FERRY_TOKEN_MAX_TTL_S (default 30 days) are refused', async () => {
  const now = nowSeconds();
  const slot = (token: string) => api(f.url, '/file/upload/chat', { file_type: 100, to_id: '1002' }, { appId: appA.appId, token });
  assertOk(await slot(accessToken(appA.secret, { app: appA.appId, sub: '2001', iat: now, exp: now + 30 * 86400 })));
  assertRefused(await slot(accessToken(appA.secret, { app: appA.appId, sub: '2001', iat: now, exp: now + 30 * 86400 + 1 })), 10008, /too long/);
  // Without iat, the lifetime counts from now.
  assertOk(await slot(mintJwt(appA.secret, { app: appA.appId, sub: '2001', role: 1, exp: now + 29 * 86400 })));
  assertRefused(await slot(mintJwt(appA.secret, { app: appA.appId, sub: '2001', role: 1, exp: now + 31 * 86400 })), 10008, /too long/);
  // An iat in the past does not stretch it: exp − iat is what counts.
  assertRefused(await slot(accessToken(appA.secret, { app: appA.appId, sub: '2001', iat: now - 31 * 86400, exp: now + 60 })), 10008, /too long/);
  // The admin API never mints what the server would refuse.
  const tooLong = await f.admin('POST', `/admin/apps/${appA.appId}/tokens`, { user_id: '1001', ttl_s: 30 * 86400 + 1 });
  assert.equal(tooLong.status, 400);
  assert.match(String(tooLong.body.error), /FERRY_TOKEN_MAX_TTL_S/);
});

test('an operator can allow exp-less tokens (Lanying\'s admin token) and shorten the longest lifetime', async () => {
  const g = await startTestFerry({ FERRY_ALLOW_TOKENS_WITHOUT_EXP: 'true', FERRY_TOKEN_MAX_TTL_S: '3600' });
  try {
    const app = await g.createApp('lanying-compat');
    const slot = (token: string) => api(g.url, '/file/upload/chat', { file_type: 100, to_id: '1002' }, { appId: app.appId, token });
    const lanying = mintJwt(app.secret, { app: app.appId, sub: '20', role: 2, iat: nowSeconds() }, 'HS512');
    assertOk(await slot(lanying));
    const now = nowSeconds();
    assertRefused(await slot(accessToken(app.secret, { app: app.appId, sub: '2001', iat: now, exp: now + 3601 })), 10008, /at most 3600 s/);
    // Minted without ttl_s: the 7-day default is cut to the operator's maximum.
    const minted = decodeJwt(await g.token(app.appId, '1001')).payload;
    assert.equal((minted.exp as number) - (minted.iat as number), 3600);
    assert.equal((await g.admin('POST', `/admin/apps/${app.appId}/tokens`, { user_id: '1001', ttl_s: 3601 })).status, 400);
  } finally {
    await g.close();
  }
});

test("app A's token is worthless with app_id B, and B's token with app_id A", async () => {
  const tokenB = await f.token(appB.appId, '1001', { role: 'admin' });
  assertRefused(await api(f.url, '/file/upload/chat', { file_type: 100, to_id: '1002' }, { appId: appB.appId, token: userA.token! }), 10008);
  assertRefused(await api(f.url, '/file/upload/chat', { file_type: 100, to_id: '1002' }, { appId: appA.appId, token: tokenB }), 10008);
});

test('an admin-minted token with a ttl expires (exp = iat + ttl_s)', async () => {
  const token = await f.token(appA.appId, '1001', { ttl_s: 60 });
  const { payload } = decodeJwt(token);
  assert.equal((payload.exp as number) - (payload.iat as number), 60);
  assertOk(await api(f.url, '/file/upload/chat', { file_type: 100, to_id: '1002' }, { appId: appA.appId, token }));
});

test('bad ids are 10002: 0, negative, 2^63, "abc", 20 digits, decimals, empty, missing', async () => {
  const bad = ['0', '-1', '9223372036854775808', 'abc', '12345678901234567890', '1.5', '1e3', '0x10', ' ', '9'.repeat(41)];
  for (const toId of bad) {
    const r = await api(f.url, '/file/upload/chat', { file_type: 100, to_id: toId }, userA);
    assertRefused(r, 10002);
    const fwd = await api(f.url, '/file/upload/forward', { file_sign: chatUrl.split('file_sign=')[1]!, to_id: toId }, userA);
    assertRefused(fwd, 10002);
    const avatar = await api(f.url, '/file/upload/avatar/group', { group_id: toId }, userA);
    assertRefused(avatar, 10002);
    const asUser = await api(f.url, '/file/upload/chat', { file_type: 100, to_id: '1002', user_id: toId }, adminA);
    assertRefused(asUser, 10002);
    const asGroup = await api(f.url, '/file/upload/chat', { file_type: 100, to_id: '500', to_type: 2, group_id: toId }, adminA);
    assertRefused(asGroup, 10002);
  }
  assertRefused(await api(f.url, '/file/upload/chat', { file_type: 100 }, userA), 10002, /to_id/);
  assertRefused(await api(f.url, '/file/upload/chat', { file_type: 100, to_id: '' }, userA), 10002, /to_id/);
  assertRefused(await api(f.url, '/file/upload/avatar/group', {}, userA), 10002, /group_id/);
});

test('ids above 2^53 come back exactly in the sign claims (strings; to_type a number)', async () => {
  for (const toId of [ABOVE_2_53, INT64_MAX]) {
    const r = await api<{ download_url: string }>(f.url, '/file/upload/chat', { file_type: 100, to_id: toId, to_type: 1 }, userA);
    assertOk(r);
    const claims = signClaims(r.body.data.download_url);
    assert.equal(claims.to_id, toId);
    assert.equal(claims.from_id, '1001');
    assert.equal(claims.to_type, 1);
  }
});

test('a file sent to user 2^63-1 can be read by that user and no neighbour', async () => {
  const url = await uploadChat(f.url, userA, { to_id: INT64_MAX });
  const receiver = { appId: appA.appId, token: await f.token(appA.appId, INT64_MAX) };
  const neighbour = { appId: appA.appId, token: await f.token(appA.appId, '9223372036854775806') };
  const ok = await fetch(`${url}&access-token=${receiver.token}&app_id=${appA.appId}`);
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), `chat file for ${INT64_MAX}\n`);
  const no = await getJson(`${url}&access-token=${neighbour.token}&app_id=${appA.appId}`);
  assertRefused(no, 10010);
});

test('a file sent to user 2^53+1 is not readable by 2^53 (no double rounding)', async () => {
  const url = await uploadChat(f.url, userA, { to_id: ABOVE_2_53 });
  const exact = { appId: appA.appId, token: await f.token(appA.appId, ABOVE_2_53) };
  const rounded = { appId: appA.appId, token: await f.token(appA.appId, '9007199254740992') };
  assert.equal((await fetch(`${url}&access-token=${exact.token}&app_id=${appA.appId}`)).status, 200);
  assertRefused(await getJson(`${url}&access-token=${rounded.token}&app_id=${appA.appId}`), 10010);
});

test('file_type: unknown values are 10002; 99 names the shared types; 200–203 need to_type=2', async () => {
  for (const ft of ['', '0', '1', '105', '199', '204', '300', 'abc', '1000', '100.0', '-100']) {
    assertRefused(await api(f.url, '/file/upload/chat', { file_type: ft, to_id: '1002' }, userA), 10002, /file_type/);
  }
  assertRefused(await api(f.url, '/file/upload/chat', { to_id: '1002' }, userA), 10002, /file_type/);
  assertRefused(await api(f.url, '/file/upload/chat', { file_type: 99, to_id: '500', to_type: 2 }, userA), 10002, /200/);
  for (const ft of [200, 201, 202, 203]) {
    assertRefused(await api(f.url, '/file/upload/chat', { file_type: ft, to_id: '1002', to_type: 1 }, userA), 10002, /to_type=2/);
    assertRefused(await api(f.url, '/file/upload/chat', { file_type: ft, to_id: '1002' }, userA), 10002, /to_type=2/);
    const r = await api<{ download_url: string }>(f.url, '/file/upload/chat', { file_type: ft, to_id: '500', to_type: 2 }, userA);
    assertOk(r);
    assert.equal(signClaims(r.body.data.download_url).to_type, 2);
  }
  for (const ft of [100, 101, 102, 103, 104]) {
    assertOk(await api(f.url, '/file/upload/chat', { file_type: ft, to_id: '1002' }, userA));
  }
});

test('to_type: 1, 2 or absent (1); anything else is 10002, on slots and forwards', async () => {
  const sign = chatUrl.split('file_sign=')[1]!;
  for (const tt of ['0', '3', '99', 'x', '1.0', '-1', '01']) {
    assertRefused(await api(f.url, '/file/upload/chat', { file_type: 100, to_id: '1002', to_type: tt }, userA), 10002, /to_type/);
    assertRefused(await api(f.url, '/file/upload/forward', { file_sign: sign, to_id: '1003', to_type: tt }, userA), 10002, /to_type/);
  }
  const r = await api<{ download_url: string }>(f.url, '/file/upload/chat', { file_type: 100, to_id: '1002' }, userA);
  assert.equal(signClaims(r.body.data.download_url).to_type, 1);
});

test('duplicated query keys: the first one wins', async () => {
  const base = `${f.url}/file/upload/chat?app_id=${appA.appId}&access-token=${userA.token}`;
  const r1 = await getJson<{ download_url: string }>(`${base}&file_type=100&file_type=abc&to_id=1005&to_id=x&to_type=1&to_type=9`);
  assertOk(r1);
  assert.equal(signClaims(r1.body.data.download_url).to_id, '1005');
  const r2 = await getJson(`${f.url}/file/upload/chat?app_id=${appA.appId}&app_id=cred-b&access-token=${userA.token}&access-token=junk&file_type=100&to_id=1005`);
  assertOk(r2);
  const r3 = await getJson(`${f.url}/file/upload/chat?app_id=${appA.appId}&access-token=junk&access-token=${userA.token}&file_type=100&to_id=1005`);
  assertRefused(r3, 10008);
  const r4 = await getJson(`${base}&file_type=abc&file_type=100&to_id=1005`);
  assertRefused(r4, 10002, /file_type/);
});

test('unknown keys such as imgage_type are ignored', async () => {
  assertOk(await api(f.url, '/file/upload/chat', { file_type: 102, to_id: '1002', imgage_type: 2, foo: 'bar', 'x-y': '' }, userA));
  const dl = await fetch(`${chatUrl}&access-token=${userA.token}&app_id=${appA.appId}&imgage_type=2&unknown=1`);
  assert.equal(dl.status, 200);
  await dl.arrayBuffer();
});

test('over-long credential values are 10002, not a crash', async () => {
  assertRefused(await api(f.url, '/file/upload/chat', { file_type: 100, to_id: '1002' }, { appId: 'a'.repeat(65), token: userA.token! }), 10002);
  assertRefused(await api(f.url, '/file/upload/chat', { file_type: 100, to_id: '1002' }, { appId: appA.appId, token: 'a'.repeat(5000) }), 10002);
  assertRefused(
    await api(f.url, '/file/upload/chat', { file_type: 100, to_id: '1002' }, { appId: appA.appId, token: 'a'.repeat(5000), asHeaders: true }),
    10002,
  );
});

test('a value longer than its schema allows is 10002 naming the key and the limit', async () => {
  const sign = chatUrl.split('file_sign=')[1]!;
  assertRefused(await api(f.url, '/file/upload/chat', { file_type: 100, to_id: '1'.repeat(41) }, userA), 10002, /querystring\/to_id .*40 characters/);
  assertRefused(await api(f.url, '/file/upload/chat', { file_type: '1'.repeat(9), to_id: '1002' }, userA), 10002, /querystring\/file_type .*8 characters/);
  assertRefused(await api(f.url, '/file/upload/forward', { file_sign: 'a'.repeat(8193), to_id: '1003' }, userA), 10002, /querystring\/file_sign .*8192 characters/);
  assertRefused(await api(f.url, '/file/upload/forward', { file_sign: sign, to_id: '1003', to_type: '12345' }, userA), 10002, /querystring\/to_type .*4 characters/);
  assertRefused(await api(f.url, '/file/upload/avatar/group', { group_id: '5'.repeat(41) }, adminA), 10002, /querystring\/group_id .*40 characters/);
  // Limits count UTF-16 units: three emoji are six, over to_type's four.
  assertRefused(await api(f.url, '/file/upload/chat', { file_type: 100, to_id: '1002', to_type: '\u{1F600}'.repeat(3) }, userA), 10002, /querystring\/to_type .*4 characters/);
  assertRefused(
    await api(f.url, '/file/upload/avatar/user', {}, { appId: appA.appId, token: 'a'.repeat(5000), asHeaders: true }),
    10002,
    /headers\/access-token .*4096 characters/,
  );
});

test('garbage query strings on the six endpoints get an envelope, never a 5xx', async () => {
  const token = userA.token!;
  const garbage = [
    'app_id=%zz&access-token=%',
    `app_id=${appA.appId}&access-token=${token}&to_id=%E0%A4%A&file_type=%00&file_sign=%%%&group_id=%FF&object_name=%2e%2e%2f`,
    `app_id=${appA.appId}&access-token=${token}&to_id[]=1&file_type[x]=2&file_sign=a.b.c&object_name=..`,
    `app_id=${appA.appId}&access-token=${token}&${'x=1&'.repeat(3000)}`,
    `app_id=${appA.appId}&access-token=${token}&file_sign=${'a'.repeat(8000)}&to_id=1`,
  ];
  for (const e of endpoints()) {
    for (const q of garbage) {
      const res = await fetch(`${f.url}${e.path}?${q}`);
      const body = (await res.json()) as Envelope<unknown>;
      assert.equal(res.status, 200, `${e.name} ${q.slice(0, 60)}`);
      assert.equal(typeof body.code, 'number');
      assert.ok(body.code === 200 || body.data === null, `${e.name}: ${JSON.stringify(body).slice(0, 200)}`);
    }
  }
});
